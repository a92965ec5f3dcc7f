"""``keeper devnet up|down|status``: a devnet in the background for the keeper, scripts and the demo."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from devnet.snapshot import STATE_DIR, anvil_args, ensure_snapshot, prepare_time
from keeper.chain.anvil import AnvilError, AnvilProcess, dev_account, rpc
from keeper.paths import DEVNET_KEEPER_CONFIG as KEEPER_CONFIG
from keeper.paths import DEVNET_RECORD_FILE as RECORD_FILE
from keeper.paths import DEVNET_RUN_FILE as RUN_FILE
from keeper.paths import ROOT

app = typer.Typer(help="The embedded devnet: real Aave v3 + Uniswap v3 on anvil.", no_args_is_help=True)
console = Console()


def _running() -> dict[str, Any] | None:
    if not RUN_FILE.is_file():
        return None
    run = json.loads(RUN_FILE.read_text())
    try:
        os.kill(run["pid"], 0)
    except ProcessLookupError:
        return None
    return run  # type: ignore[no-any-return]


@app.command()
def up(
    port: int = typer.Option(8545, help="loopback port"),
    fresh: bool = typer.Option(False, help="rebuild"),
    chains: int = typer.Option(1, min=1, max=2, help="2: an L1-like (12 s) and an L2-like (2 s) chain for a fleet"),
    vaults: int = typer.Option(1, min=1, max=30, help="with --chains 2: hedged vaults per chain"),
) -> None:
    """Start the devnet from its snapshot (built first if missing), in the background."""
    if (run := _running()) is not None:
        console.print(f"devnet already running at {run['url']} (pid {run['pid']})")
        raise typer.Exit(0)
    if chains > 1:
        _fleet_up(chains, vaults)
        return
    t0 = time.perf_counter()
    if fresh:
        from devnet.snapshot import build_snapshot

        build_snapshot()
    snap = ensure_snapshot()
    t1 = time.perf_counter()
    try:
        node = AnvilProcess(port, load_state=snap.state_path, extra_args=anvil_args()).start()
    except AnvilError as err:
        console.print(f"[red]cannot start the devnet: {err}[/red]")
        raise typer.Exit(1) from err
    prepare_time(node.url)
    pid = node.detach()
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    RUN_FILE.write_text(json.dumps({"pid": pid, "url": node.url, "snapshot_key": snap.key}))
    RECORD_FILE.write_text(snap.record_path.read_text())
    KEEPER_CONFIG.write_text(keeper_config(node.url))
    console.print(
        f"devnet up at {node.url} (pid {pid}); snapshot {snap.key} "
        f"(build/check {t1 - t0:.2f} s, ready {time.perf_counter() - t1:.2f} s); record: {RECORD_FILE}\n"
        f"keeper config: {KEEPER_CONFIG.relative_to(ROOT)} (deploy the vault with `ape run deploy … --keeper TEST::6`, "
        f"then `keeper status -c {KEEPER_CONFIG.relative_to(ROOT)}`; for `keeper run`: "
        f"export {KEEPER_KEY_ENV}=$(keeper devnet key {KEEPER_DEV_ACCOUNT}))"
    )


FLEET_RUN_DIR = STATE_DIR / "fleet" / "run"


def _fleet_up(chains: int, vaults: int) -> None:
    """Several chains (devnet.fleet: distinct chain ids, real block times), ``vaults`` hedged vaults each, and a
    fleet file for ``keeper fleet run`` (SQLite per vault: one replica; add fleet.store_url for replicas)."""
    from devnet.fleet import CHAINS, FleetDevnet, key_env, write_fleet_file

    t0 = time.perf_counter()
    try:
        fleet = FleetDevnet.start(CHAINS[:chains], vaults=vaults)
    except AnvilError as err:
        console.print(f"[red]cannot start the fleet devnet: {err}[/red]")
        raise typer.Exit(1) from err
    path = write_fleet_file(
        fleet.chains, FLEET_RUN_DIR, keeper_config=f'[store]\npath = "{FLEET_RUN_DIR / "keeper.sqlite"}"\n'
    )
    runs = []
    for c in fleet.chains:
        runs.append({"name": c.spec.name, "chain_id": c.spec.chain_id, "url": c.url, "pid": c.anvil.detach()})
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    RUN_FILE.write_text(json.dumps({"pid": runs[0]["pid"], "url": runs[0]["url"], "chains": runs, "fleet": str(path)}))
    keys = FLEET_RUN_DIR / "keys.env"
    keys.write_text(
        "# anvil's public dev keys (devnet only): one keeper key per vault\n"
        + "".join(
            f"export {key_env(f'{c.spec.name}-v{k}')}=0x{bytes(dev_account(i).key).hex()}\n"
            for c in fleet.chains
            for k, i in enumerate(c.keepers)
        )
    )
    for r, c in zip(runs, fleet.chains, strict=True):
        console.print(
            f"{r['name']}: chain {r['chain_id']} at {r['url']} (pid {r['pid']}), {c.spec.block_time_s:g} s blocks"
        )
    console.print(
        f"fleet devnet up in {time.perf_counter() - t0:.1f} s; fleet file {path.relative_to(ROOT)}\n"
        f"  . {keys.relative_to(ROOT)} && keeper fleet run -f {path.relative_to(ROOT)} --log-format text\n"
        f"  keeper fleet status -f {path.relative_to(ROOT)}"
    )


#: The devnet config signs with anvil's dev account 6, the keeper role the README's deploy command grants.
KEEPER_DEV_ACCOUNT = 6
KEEPER_KEY_ENV = "HV_KEEPER_KEY"


def keeper_config(url: str) -> str:
    """A keeper config for the running devnet: its RPC and chain id, its deployment record (the vault section is
    added by ``ape run deploy``), a store and metrics beside it, and the key from an environment variable."""
    return f"""# Written by `keeper devnet up` for the devnet at {url}. Everything else is the keeper's defaults
# (deploy/keeper.example.toml shows every section for a real network).
[network]
rpc_url = "{url}"
chain_id = 31337
deployment_path = "{RECORD_FILE}"

[signer]
# anvil's public dev key {KEEPER_DEV_ACCOUNT}: export {KEEPER_KEY_ENV}=$(keeper devnet key {KEEPER_DEV_ACCOUNT})
private_key_env = "{KEEPER_KEY_ENV}"

[store]
path = "{STATE_DIR / "keeper.sqlite"}"

[metrics]
enabled = true
host = "127.0.0.1"
port = 9464
"""


@app.command()
def key(index: int = typer.Argument(KEEPER_DEV_ACCOUNT, help="anvil dev account index")) -> None:
    """Print anvil's well-known private key ``index`` (public: for the devnet only, never a real network)."""
    typer.echo("0x" + bytes(dev_account(index).key).hex())


@app.command()
def down() -> None:
    """Stop the background devnet."""
    run = _running()
    if run is None:
        console.print("no devnet running")
        RUN_FILE.unlink(missing_ok=True)
        return
    for pid, url in [(c["pid"], c["url"]) for c in run.get("chains", [])] or [(run["pid"], run["url"])]:
        _stop(pid)
        console.print(f"devnet at {url} stopped")
    RUN_FILE.unlink(missing_ok=True)


def _stop(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)


@app.command()
def status() -> None:
    """URL, chain id, block and the main addresses of the running devnet."""
    run = _running()
    if run is None:
        console.print("no devnet running; start one with `keeper devnet up`")
        raise typer.Exit(1)
    if "chains" in run:
        for c in run["chains"]:
            block = int(rpc(c["url"], "eth_blockNumber"), 16)
            console.print(f"{c['name']}: chain {c['chain_id']} at {c['url']} (pid {c['pid']}) · block {block}")
        console.print(f"fleet file: {run['fleet']} (`keeper fleet status -f` it)")
        return
    record = json.loads(Path(RECORD_FILE).read_text())
    block = int(rpc(run["url"], "eth_blockNumber"), 16)
    chain_id = int(rpc(run["url"], "eth_chainId"), 16)
    table = Table(title=f"devnet {run['url']} · chain {chain_id} · block {block} · pid {run['pid']}")
    table.add_column("contract")
    table.add_column("address")
    for name in ("Pool", "AaveOracle", "AaveProtocolDataProvider"):
        table.add_row(f"Aave {name}", record["aave"][name])
    for name in ("SwapRouter", "QuoterV2"):
        table.add_row(f"Uniswap {name}", record["uniswap"][name])
    for pair, pool in record["uniswap"]["pools"].items():
        table.add_row(f"pool {pair}", pool["address"])
    for symbol, token in record["tokens"].items():
        table.add_row(f"token {symbol}", token["address"])
    for symbol, feed in record["feeds"].items():
        table.add_row(f"feed {symbol}/USD", feed)
    console.print(table)
