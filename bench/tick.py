"""``python -m bench.tick``: the keeper's tick latency on the devnet with 10 / 100 / 1,000 option positions.

The vault really holds the positions: venue accounts opened and options bought through its OptionMarketAdapter
(63 series per account, the venue's per-account cap being 64). For each book size:
- VaultLens gas, valued on-chain (``snapshot``) and storage-only (``snapshotUnvalued``);
- idle ticks (nothing to do): the lens round trip (node time), decode, assess + policy (keeper time), RPC calls;
- acting ticks (the vault is pushed out of its delta band before each): new block → signed transaction sent,
  split into node time (lens, simulation, fee/nonce reads, broadcast) and the keeper's own time (decode, risk,
  policy, encode, sign).
Both lens modes (``loop.lens_valuation``: onchain / model) are measured. Medians of the repeats.
Writes ``bench/tick-results.md``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from adapters.vault_lens import snapshot_calldata
from devnet.deployer import Deployer
from devnet.devnet import Devnet
from devnet.venue_reads import market_at
from keeper.chain.anvil import rpc
from keeper.config import KeeperSettings
from keeper.model import MarginDeposit, OptionTrade, VenueAccountOpen
from sim.demo.book import keeper_rebalance
from sim.demo.world import World, build_world

HERE = Path(__file__).resolve().parent
SIZES = (10, 100, 1000)
PER_ACCOUNT = 63
TRADES_PER_TX = 8
IDLE_TICKS = 12
ACTING_TICKS = 8


def _open_positions(world: World, target: int, state: dict[str, Any]) -> None:
    """Grow the vault's venue book to ``target`` positions (0.01-contract longs on distinct series)."""
    market = market_at(world.w3, world.record["venue"]["OptionMarket"])
    live = [int(s) for s in market.functions.liveSeries().call()]
    while state["positions"] < target:
        if state["in_account"] == PER_ACCOUNT or state["account"] == 0:
            account = market.functions.accountCount().call() + 1
            keeper_rebalance(world, VenueAccountOpen(), MarginDeposit(40_000.0, account))
            state.update(account=account, in_account=0)
        n = min(TRADES_PER_TX, PER_ACCOUNT - state["in_account"], target - state["positions"])
        trades = []
        for k in range(n):
            sid = live[(state["in_account"] + k + state["account"]) % len(live)]
            cost = market.functions.quoteBuy(sid, 10**16).call()[0] / 1e6
            trades.append(OptionTrade(sid, 0.01, cost * 1.05 + 0.01, state["account"]))
        keeper_rebalance(world, *trades)
        state["in_account"] += n
        state["positions"] += n
    _refresh(world)


def _refresh(world: World) -> None:
    """Fresh oracle rounds and vol surfaces (the book-building moved chain time)."""
    from devnet.venue import VenueConfig, post_surfaces

    for symbol in ("USDC", "WETH", "WBTC"):
        world.driver.set_price(symbol, world.driver.oracle_price(symbol))
    post_surfaces(world.w3, world.record["venue"], VenueConfig())


def _lens_gas(world: World) -> tuple[int, int]:
    lens, vault = world.record["vault"]["VaultLens"], world.vault.address
    return tuple(  # type: ignore[return-value]
        int(rpc(world.url, "eth_estimateGas", [{"to": lens, "data": snapshot_calldata(vault, v)}]), 16)
        for v in (True, False)
    )


def _settings(url: str, tmp: Path, mode: str) -> KeeperSettings:
    return KeeperSettings(
        network={"rpc_url": url, "poll_interval_s": 0.05},
        store={"path": str(tmp / f"bench-{mode}.sqlite")},
        metrics={"enabled": False},
        policy={"cooldown_blocks": 0, "delta_band_min_usd": 50_000.0},
        loop={"lens_valuation": mode, "deep_risk_every_ticks": 100_000},
    )


def _measure(world: World, mode: str, tmp: Path) -> dict[str, float]:
    runtime = world.keeper_runtime(_settings(world.url, tmp, mode))
    keeper, reader, executor = runtime.keeper, runtime.keeper.reader, runtime.keeper.executor
    keeper.tick()  # warm: first tick (JIT-compiled kernels, caches)
    idle: list[dict[str, float]] = []
    for _ in range(IDLE_TICKS):
        world.driver.mine()
        before = runtime.client.requests_sent
        t0 = time.perf_counter()
        result = keeper.tick()
        total = time.perf_counter() - t0
        r = reader.timings  # type: ignore[attr-defined]
        idle.append(
            {
                "rpc": r["rpc_s"],
                "decode": r["decode_s"],
                "keeper": total - r["rpc_s"],
                "total": total,
                "calls": runtime.client.requests_sent - before,
                "acted": float(result.execution is not None),
            }
        )
    acting: list[dict[str, float]] = []
    maker = Deployer(world.w3, world.record["accounts"]["market_maker"])
    weth = world.token("WETH")
    world.driver.prepare_pool_moves(["WETH"])  # the maker holds WETH
    for i in range(ACTING_TICKS):
        # 100 WETH sent to the vault by a third party: its delta leaves the band, the keeper sells it.
        maker.send(weth.functions.transfer(world.vault.address, 100 * 10**18), "push delta out of band")
        t0 = time.perf_counter()
        result = keeper.tick()
        if result.execution is None:
            pool, oracle = world.driver.pool_price("WETH"), world.driver.oracle_price("WETH")
            raise RuntimeError(f"acting tick {i} did not act: {result.outcome} (pool {pool:.2f}, oracle {oracle:.2f})")
        world.driver.move_pool("WETH", world.driver.oracle_price("WETH"))  # arbitrage undoes the sale's impact
        r, x = reader.timings, executor.timings  # type: ignore[attr-defined]
        to_sent = x["sent_at"] - t0
        node = r["rpc_s"] + x["simulate_s"] + x["fees_and_nonce_s"] + x["broadcast_s"]
        acting.append({"to_sent": to_sent, "node": node, "keeper": to_sent - node, "sign": x["sign_s"]})
    runtime.close()

    def median(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(row[key] for row in rows)

    return {
        "idle_rpc_ms": 1e3 * median(idle, "rpc"),
        "idle_decode_ms": 1e3 * median(idle, "decode"),
        "idle_keeper_ms": 1e3 * median(idle, "keeper"),
        "idle_total_ms": 1e3 * median(idle, "total"),
        "calls": median(idle, "calls"),
        "sent_ms": 1e3 * median(acting, "to_sent"),
        "sent_node_ms": 1e3 * median(acting, "node"),
        "sent_keeper_ms": 1e3 * median(acting, "keeper"),
        "sign_ms": 1e3 * median(acting, "sign"),
    }


def run() -> str:
    rows = []
    with Devnet.start() as devnet, TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        world = build_world(devnet)
        state = {"positions": 0, "account": 0, "in_account": 0}
        for size in SIZES:
            t0 = time.perf_counter()
            _open_positions(world, size, state)
            build_s = time.perf_counter() - t0
            gas_valued, gas_raw = _lens_gas(world)
            for mode in ("onchain", "model"):
                m = _measure(world, mode, tmp)
                rows.append((size, mode, gas_valued if mode == "onchain" else gas_raw, m))
                print(f"{size} positions, {mode}: {m}", file=sys.stderr)
            print(f"(book of {size} built in {build_s:.0f} s)", file=sys.stderr)
    return _table(rows)


def _table(rows: list[tuple[int, str, int, dict[str, float]]]) -> str:
    lines = [
        "| positions | lens | lens gas | lens call (node) | decode | keeper's own (idle tick) | RPC calls/tick | "
        "block → tx sent | of which node | of which keeper (decode, risk, policy, encode, sign) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, mode, gas, m in rows:
        lines.append(
            f"| {size:,} | {'snapshot (valued on-chain)' if mode == 'onchain' else 'snapshotUnvalued (model)'} | "
            f"{gas:,} | {m['idle_rpc_ms']:.1f} ms | {m['idle_decode_ms']:.2f} ms | {m['idle_keeper_ms']:.1f} ms | "
            f"{m['calls']:.0f} | {m['sent_ms']:.1f} ms | {m['sent_node_ms']:.1f} ms | {m['sent_keeper_ms']:.1f} ms |"
        )
    return "\n".join(lines)


def main() -> None:
    table = run()
    out = HERE / "tick-results.md"
    out.write_text(
        "Keeper tick latency on the devnet (medians; 2-core machine). Targets: keeper's own time ≤ 20 ms and the whole "
        "tick ≤ 100 ms at 1,000 positions; RPC calls per tick independent of the number of positions.\n\n"
        + table
        + "\n"
    )
    print(table)


if __name__ == "__main__":
    main()
