"""The fleet on two real chains (an L1-like anvil, 12 s chain time per block, and an L2-like one, 2 s, distinct
chain ids, one hedged vault each): the fleet file refused before anything starts, RPC failover, one chain's RPC
down while the other keeps hedging, the aggregated view, and the fleet's Prometheus endpoint."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from devnet.fleet import FleetDevnet, write_fleet_file
from keeper.chain.anvil import dev_account, free_port, rpc
from keeper.chain.connect import web3_for
from keeper.cli import app
from keeper.fleet.config import FleetConfigError, check_fleet
from keeper.fleet.rpc import FailoverRpcClient
from keeper.fleet.run import FleetRunner
from keeper.fleet.status import fleet_status
from keeper.fleet.view import render

from ..keeper.conftest import FlakyProxy

pytestmark = pytest.mark.chain


@pytest.fixture(scope="module")
def chains() -> Iterator[FleetDevnet]:
    with FleetDevnet.start(vaults=1, speed=6.0) as fleet:  # L1 a block every 2 s, L2 every 0.33 s
        yield fleet


def rebalances(url: str, record: dict[str, Any], from_block: int = 0) -> int:
    w3 = web3_for(url)
    from keeper.chain.artifacts import forge_artifact

    if head(url) < from_block:
        return 0
    vault = w3.eth.contract(address=record["vault"]["HedgedVault"], abi=forge_artifact("HedgedVault").abi)
    return len(vault.events.Rebalanced().get_logs(from_block=from_block))


def head(url: str) -> int:
    return int(rpc(url, "eth_blockNumber"), 16)


def test_fleet_file_refused_before_anything_starts__names_the_entry(chains: FleetDevnet, tmp_path: Path) -> None:
    l1, l2 = chains.chains
    path = write_fleet_file(chains.chains, tmp_path)
    assert len(check_fleet(path).vaults) == 2
    text = path.read_text()
    bad = text.replace(f'rpc_urls = ["{l2.url}"]', f'rpc_urls = ["{l1.url}"]')  # the L2 entry on the L1 node
    bad += f'\n[[vault]]\nname = "again"\nchain = "l1"\nchain_id = 31337\nrpc_urls = ["{l1.url}"]\n'
    bad += 'deployment = "l1-v0.json"\nconfig = "keeper.toml"\n'  # the L1 vault a second time
    bad = bad.replace("[fleet]", f'[fleet]\nstore_url = "postgresql://hv:pw@127.0.0.1:{free_port()}/hv"')
    path.write_text(bad)
    with pytest.raises(FleetConfigError) as err:
        check_fleet(path, timeout_s=1.0)
    message = str(err.value)
    assert "vault[1] ('l2-v0'): rpc " + l1.url + " is chain 31337, the entry says chain_id = 31338" in message
    assert "vault[2] ('again'): duplicate vault" in message
    assert "already vault[0]" in message
    assert "fleet.store_url: database postgresql://hv:***@" in message
    assert "unreachable" in message
    assert "pw@" not in message
    result = CliRunner().invoke(app, ["fleet", "run", "-f", str(path)])
    assert result.exit_code == 2
    assert "nothing started" in result.output
    path.write_text(text.replace('name = "l2-v0"', 'name = "l1-v0"'))
    with pytest.raises(FleetConfigError, match=r"vault\[1\] \('l1-v0'\): duplicate vault name"):
        check_fleet(path)


def test_failover_client_switches_on_outage_and_skips_a_lagging_node(chains: FleetDevnet) -> None:
    l1 = chains.chains[0]
    a, b = FlakyProxy(l1.url), FlakyProxy(l1.url)
    try:
        client = FailoverRpcClient([a.url, b.url], 31337, health_every_s=3600)
        assert client.call("eth_chainId") == hex(31337)
        assert client.url == a.url
        a.down = True
        assert int(client.call("eth_blockNumber"), 16) > 0  # the same request, answered by b
        assert client.url == b.url
        assert client.switches == 1
        a.down = False
        client.check_health()
        assert client.active is not None
        assert client.active.url == a.url
        wrong = FailoverRpcClient([chains.chains[1].url, a.url], 31337)
        wrong.check_health()
        assert "chain 31338, expected 31337" in wrong.endpoints[0].reason
        assert wrong.active.url == a.url
        a.down = b.down = True
        with pytest.raises(Exception, match="no healthy RPC URL for chain 31337"):
            client.call("eth_blockNumber")
        client.close()
        wrong.close()
    finally:
        a.close()
        b.close()


def test_one_chain_rpc_down__the_other_keeps_hedging__failover_and_aggregate(
    chains: FleetDevnet, tmp_path: Path, postgres: Any
) -> None:
    l1, l2 = chains.chains
    p1, p1b, p2 = FlakyProxy(l1.url), FlakyProxy(l1.url), FlakyProxy(l2.url)
    port = free_port()
    path = write_fleet_file(
        chains.chains,
        tmp_path,
        store_url=postgres.url(),
        fleet={"lease_ttl_s": 8.0, "lease_margin_s": 2.0, "rpc_health_every_s": 0.5, "metrics_port": port},
        rpc_urls={"l1": [p1.url, p1b.url], "l2": [p2.url]},
        keeper_config="[network]\npoll_interval_s = 0.1\n[tx]\nstuck_after_s = 3.0\nreceipt_timeout_s = 30.0\n",
    )
    fleet = check_fleet(path)
    accounts = {f"{c.spec.name}-v0": dev_account(c.keepers[0]) for c in chains.chains}
    start = {c.spec.name: head(c.url) + 1 for c in chains.chains}
    runner = FleetRunner(fleet, "host-a", accounts=accounts).start()
    w1, w2 = runner.workers
    try:
        # Both freshly deployed vaults are short 200 WETH: outside the default band, each keeper hedges.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
            rebalances(l1.url, l1.records[0], start["l1"]) and rebalances(l2.url, l2.records[0], start["l2"])
        ):
            time.sleep(0.2)
        assert rebalances(l1.url, l1.records[0], start["l1"]) == 1, (w1.state, w1.last_error)
        assert rebalances(l2.url, l2.records[0], start["l2"]) == 1, (w2.state, w2.last_error)
        assert w1.state == "leading"
        assert w2.state == "leading"
        # Each vault's stress grid comes from the deep pass after its acting tick: on a loaded machine the L2
        # worker may not have run it yet when its RPC goes down, and the fleet's sum would rightly hold one grid.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and runner.view().stress_vaults < 2:
            time.sleep(0.2)

        p2.down = True  # the L2 chain loses its only RPC URL; L1 loses its preferred one
        p1.down = True
        l1_ticks = w1.last.block_number if w1.last else 0
        time.sleep(6.0)
        assert w1.last is not None
        assert w1.last.block_number > l1_ticks
        assert w1.rpc_switches >= 1
        assert w1.runtime is not None
        assert w1.runtime.client.url == p1b.url
        l2_stuck = w2.last.block_number if w2.last else 0
        assert head(l2.url) > l2_stuck + 3  # the L2 chain moves on; its worker cannot see it
        assert w2.state in ("leading", "following")  # waiting, not crashed: one chain never takes the other down
        view = runner.view()
        assert {v.name for v in view.vaults} == {"l1-v0", "l2-v0"}
        assert "WETH" in view.net
        assert view.stress_vaults == 2
        scrape = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert 'hv_aave_health_factor{chain="l1",vault="l1-v0"}' in scrape
        assert 'hv_fleet_worker_state{chain="l2",state="leading",vault="l2-v0"}' in scrape
        assert "hv_fleet_stress_worst_loss_usd" in scrape
        assert 'hv_fleet_net_delta_usd{underlying="WETH"}' in scrape

        p2.down = False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (w2.last is None or w2.last.block_number <= l2_stuck):
            time.sleep(0.2)
        assert w2.last is not None
        assert w2.last.block_number > l2_stuck
    finally:
        runner.stop()
        for p in (p1, p1b, p2):
            p.close()
    assert (w1.restarts, w2.restarts) == (0, 0), (w1.last_error, w2.last_error)
    # 0 duplicates, 0 lost: every confirmed plan in the store is one Rebalanced on its chain.
    from keeper.store.postgres import PostgresStore

    for c in chains.chains:
        store = PostgresStore(postgres.url(), schema=f"v_{c.spec.name}_v0")
        confirmed = sum(p.status == "confirmed" for p in store.recent_plans(100))
        store.close()
        assert confirmed == rebalances(c.url, c.records[0], start[c.spec.name]) >= 1
    direct = write_fleet_file(chains.chains, tmp_path / "direct", store_url=postgres.url())
    lines = render(fleet_status(check_fleet(direct)))
    assert all(len(line) <= 80 for line in lines)
    assert any(line.startswith("fleet worst stress") for line in lines), lines


def test_worker_crashing_at_start__restarts_with_backoff_and_recovers__the_other_runs_on(
    chains: FleetDevnet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    l1, l2 = chains.chains
    path = write_fleet_file(
        chains.chains,
        tmp_path,
        fleet={"restart_backoff_s": 0.2, "restart_backoff_max_s": 0.8, "metrics_port": 0},
        keeper_config="[network]\npoll_interval_s = 0.1\n",
    )
    from devnet.fleet import key_env

    monkeypatch.delenv(key_env("l2-v0"), raising=False)  # the L2 vault's key is missing: its runtime cannot build
    fleet = check_fleet(path)
    runner = FleetRunner(fleet, "host-a", accounts={"l1-v0": dev_account(l1.keepers[0])}).start()
    w1, w2 = runner.workers
    try:
        time.sleep(3.0)
        assert w2.state == "restarting"
        assert "HV_KEEPER_KEY_L2_V0" in (w2.last_error or "")
        assert 2 <= w2.restarts <= 6  # 0.2, 0.4, 0.8, 0.8 … s apart: doubling, capped
        assert w1.state == "leading"
        assert w1.last is not None  # the other vault ticks on
        assert w1.restarts == 0
        monkeypatch.setenv(key_env("l2-v0"), "0x" + bytes(dev_account(l2.keepers[0]).key).hex())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and w2.last is None:
            time.sleep(0.1)
        assert w2.last is not None  # the next restart built it: ticking
        assert w2.state == "leading"
    finally:
        runner.stop()
    assert {w.state for w in runner.workers} == {"stopped"}
