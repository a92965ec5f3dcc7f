"""``make fleet-demo``: two chains, two replica processes, the leader killed during a crash, one risk view.

1. A local PostgreSQL (``devnet.postgres``) and two chains from the devnet snapshot (``devnet.fleet``): an L1-like
   chain (id 31337, 12 s per block) and an L2-like one (id 31338, 2 s per block), each with the demo's levered
   long WETH vault (``sim.demo``: WETH supplied on Aave, USDC borrowed against it, HF ≈ 1.5).
2. Two ``keeper fleet run`` processes on one fleet file (replicas ``host-a`` and ``host-b``): host-a starts first
   and leads both vaults.
3. The crash scenario (spot −35 % with vol doubling; ``scenarios/crash.toml``) is replayed on *both* chains, one L1
   block and six L2 blocks per step. A third of the way in, host-a is killed with SIGKILL (no clean release):
   host-b takes both vaults over when the lease expires and keeps deleveraging.
4. At the end: failover in L1 blocks, on-chain ``Rebalanced`` events against the plans in the shared store (0
   duplicates, 0 lost), and ``keeper fleet status`` — the aggregated view across the two chains.

The demo lives with the benches because it drives the ``sim`` scenario machinery and the devnet together.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

from devnet.devnet import Devnet
from devnet.fleet import CHAINS, FleetDevnet, key_env, write_fleet_file
from devnet.postgres import PostgresServer
from keeper.chain.anvil import dev_account, rpc
from keeper.fleet.config import check_fleet
from keeper.fleet.status import fleet_status
from keeper.fleet.view import render
from keeper.paths import ROOT
from keeper.store.postgres import PostgresStore, engine_url
from sim.demo.book import LeveredLongBook
from sim.demo.market import ScenarioMarket
from sim.demo.world import KEEPER_INDEX, World, build_world
from sim.scenarios.paths import generate_path
from sim.scenarios.spec import load_scenario

L2_BLOCKS_PER_L1 = 6  # 12 s / 2 s
KEEPER_TOML = "[network]\npoll_interval_s = 0.1\n[tx]\nstuck_after_s = 3.0\nreceipt_timeout_s = 30.0\n"


def head(url: str) -> int:
    return int(rpc(url, "eth_blockNumber"), 16)


def leases(url: str, schemas: list[str]) -> dict[str, tuple[str, int] | None]:
    engine = sa.create_engine(engine_url(url))
    out: dict[str, tuple[str, int] | None] = {}
    try:
        with engine.connect() as conn:
            for schema in schemas:
                row = conn.execute(
                    sa.text(f'SELECT holder, token FROM "{schema}".leases WHERE expires_at > clock_timestamp() LIMIT 1')
                ).first()
                out[schema] = (str(row.holder), int(row.token)) if row else None
    except sa.exc.SQLAlchemyError:
        return dict.fromkeys(schemas)
    finally:
        engine.dispose()
    return out


def rebalances(world: World, from_block: int) -> int:
    if head(world.url) < from_block:
        return 0
    return len(world.vault.events.Rebalanced().get_logs(from_block=from_block))


def replica(fleet_file: Path, name: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "keeper.cli", "fleet", "run", "-f", str(fleet_file), "--replica", name]
    argv += ["--metrics-port", "0", "--view-every-s", "3600", "--log-format", "text"]
    return subprocess.Popen(argv, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def main(argv: list[str] | None = None) -> int:
    procs: list[subprocess.Popen[bytes]] = []
    try:
        return _demo(argv, procs)
    finally:
        for p in procs:  # never leave a replica behind, whatever happened
            if p.poll() is None:
                p.kill()
                p.wait(10)


def _demo(argv: list[str] | None, procs: list[subprocess.Popen[bytes]]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=36, help="crash steps replayed (one L1 block each)")
    parser.add_argument("--step-seconds", type=float, default=1.5, help="wall seconds per step")
    parser.add_argument("--kill-at", type=float, default=0.33, help="fraction of the path where host-a dies")
    parser.add_argument("--ttl", type=float, default=3.0, help="lease ttl, wall seconds (2 steps)")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "fleet-demo")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="hv-fleet-demo-"))
    with PostgresServer() as pg, FleetDevnet.start(CHAINS, vaults=0, mining=False) as chains:
        print(
            f"PostgreSQL {pg.url()}; chains: "
            + ", ".join(f"{c.spec.name} id {c.spec.chain_id} at {c.url}" for c in chains.chains)
        )
        worlds: list[World] = []
        configs: dict[str, str] = {}
        for c in chains.chains:
            base = _base_record(c.spec.chain_id, c.spec.name)
            world = build_world(Devnet(c.anvil, base, 0.0))
            book = LeveredLongBook()
            book.open(world)
            worlds.append(world)
            c.records = [world.record]
            targets = ", ".join(f"{k} = {v!r}" for k, v in book.policy_overrides()["delta_target_units"].items())
            configs[f"{c.spec.name}-v0"] = f"[policy]\ndelta_target_units = {{ {targets} }}\n"
            print(
                f"  {c.spec.name}: vault {world.vault.address} opened levered long WETH ({book.target_units:,.1f} WETH)"
            )
        fleet_file = write_fleet_file(
            chains.chains,
            work,
            store_url=pg.url(),
            fleet={"lease_ttl_s": args.ttl, "lease_margin_s": args.ttl / 4, "metrics_port": 0},
            keeper_config=KEEPER_TOML,
            configs=configs,
        )
        fleet = check_fleet(fleet_file)
        schemas = [v.entry.pg_schema for v in fleet.vaults]
        key = "0x" + bytes(dev_account(KEEPER_INDEX).key).hex()  # sim's keeper role: anvil's public dev key 6
        env = {**os.environ, **{key_env(v.entry.name): key for v in fleet.vaults}}
        starts = {w.url: head(w.url) + 1 for w in worlds}
        procs.append(replica(fleet_file, "host-a", env, args.out / "host-a.log"))
        _wait(lambda: all(h and h[0].startswith("host-a") for h in leases(pg.url(), schemas).values()), 60)
        procs.append(replica(fleet_file, "host-b", env, args.out / "host-b.log"))
        print("host-a leads both vaults; host-b follows")
        spec = load_scenario("crash")
        path = generate_path(spec, np.random.default_rng(spec.seed))
        every = path.steps // args.steps
        markets = [ScenarioMarket(w, path, every) for w in worlds]
        kill_step = int(args.steps * args.kill_at)
        killed_l1 = took_l1 = None
        l1 = worlds[0]
        for step in range(1, args.steps + 1):
            t0 = time.monotonic()
            point = markets[0].apply(step)
            markets[1].apply(step)
            for _ in range(L2_BLOCKS_PER_L1 - 1):
                rpc(worlds[1].url, "evm_mine")
            if step == kill_step:
                procs[0].send_signal(signal.SIGKILL)
                procs[0].wait()
                killed_l1 = head(l1.url)
                print(
                    f"step {step}: spot ×{point.spot_multiplier:.3f}; host-a KILLED (SIGKILL) at L1 block {killed_l1}"
                )
            held = leases(pg.url(), schemas)
            if (
                killed_l1 is not None
                and took_l1 is None
                and all(h and h[0].startswith("host-b") for h in held.values())
            ):
                took_l1 = head(l1.url)
                print(f"step {step}: host-b leads both vaults at L1 block {took_l1} ({took_l1 - killed_l1} L1 blocks)")
            if step % 6 == 0 or step == args.steps:
                who = ", ".join(f"{s}: {h[0] if h else '—'}" for s, h in held.items())
                print(
                    f"step {step:>3}: spot ×{point.spot_multiplier:.3f}, vol ×{point.vol_multiplier:.2f}; leaders {who}"
                )
            time.sleep(max(0.0, args.step_seconds - (time.monotonic() - t0)))
        time.sleep(3 * args.step_seconds)
        procs[1].send_signal(signal.SIGTERM)
        procs[1].wait(120)
        print()
        ok = True
        for w, v in zip(worlds, fleet.vaults, strict=True):
            store = PostgresStore(pg.url(), schema=v.entry.pg_schema)
            plans = store.recent_plans(1000)
            store.close()
            confirmed = sum(p.status == "confirmed" for p in plans)
            events = rebalances(w, starts[w.url])
            ok &= confirmed == events
            others = Counter(p.status for p in plans if p.status != "confirmed")
            rest = "".join(f", {n} {status}" for status, n in sorted(others.items()))
            print(f"{v.entry.name}: {events} Rebalanced on chain, {confirmed} confirmed plans in the store{rest}: "
                  f"{'0 duplicates, 0 lost' if confirmed == events else 'MISMATCH'}")  # fmt: skip
        if killed_l1 is not None and took_l1 is not None:
            steps = args.ttl / args.step_seconds
            print(f"failover: {took_l1 - killed_l1} L1 blocks (lease ttl {args.ttl} s = {steps:.0f} steps)")
        print()
        direct = write_fleet_file(chains.chains, work / "status", store_url=pg.url(), configs=configs)
        lines = render(fleet_status(check_fleet(direct)), title="keeper fleet status (after the crash)")
        print("\n".join(lines))
        (args.out / "status.txt").write_text("\n".join(lines) + "\n")
    print(f"\nlogs: {args.out}/host-a.log, host-b.log")
    return 0 if ok else 1


def _base_record(chain_id: int, name: str) -> dict[str, Any]:
    from devnet.snapshot import ensure_snapshot

    return ensure_snapshot().record | {"chain_id": chain_id, "network": f"devnet-{name}"}


def _wait(cond: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise TimeoutError("the replicas did not come up: see var/fleet-demo/*.log")


if __name__ == "__main__":
    raise SystemExit(main())
