"""``keeper risk montecarlo -c keeper.toml``: the Monte Carlo starts from the live vault, read by the keeper's own
reader (``KeeperRuntime`` read-only: ``LensReader`` over ``VaultLens``, the venue's listed series), on the devnet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devnet.devnet import Devnet
from keeper.cli import app
from keeper.config import load_settings
from keeper.store.sqlite import Store
from sim.demo.book import ShortVolBook
from sim.demo.world import build_world, write_record
from sim.montecarlo.live import live_start
from tests.sim.montecarlo.test_calibrate import _ticks

pytestmark = pytest.mark.chain


def _toml(path: Path, url: str, deployment: Path, store: Path) -> Path:
    path.write_text(
        f'[network]\nrpc_url = "{url}"\ndeployment_path = "{deployment}"\n\n'
        f'[store]\npath = "{store}"\n\n[metrics]\nenabled = false\n'
    )
    return path


def test_montecarlo_with_config__starts_from_the_live_vaults_book(tmp_path: Path) -> None:
    with Devnet.start() as devnet:
        world = build_world(devnet)
        ShortVolBook().open(world)
        deployment = write_record(world, tmp_path / "deployment.json")
        config = _toml(tmp_path / "keeper.toml", devnet.url, deployment, tmp_path / "keeper.sqlite")
        store = Store(tmp_path / "keeper.sqlite")  # what an earlier keeper run recorded: 2,000 hourly oracle prices
        for k, t in enumerate(reversed(_ticks((0.8, 0.5), 0.6, 2_000))):
            store.record_tick(
                block_number=k + 1,
                block_timestamp=int(t["block_timestamp"]),  # type: ignore[call-overload]
                started_at=0.0,
                latency_ms=1.0,
                rpc_requests=1,
                outcome="no action",
                risk=t["risk"],  # type: ignore[arg-type]
            )
        store.close()
        total_assets = world.vault.functions.totalAssets().call() / 1e6
        start = live_start(load_settings(config))
        result = CliRunner().invoke(
            app,
            ["risk", "montecarlo", "-c", str(config), "--paths", "3", "--days", "1", "--workers", "0",
             "--out", str(tmp_path / "mc")],
        )  # fmt: skip
    book = start.book
    assert book.name == "live"
    assert book.venue_state is not None
    (account,) = book.venue_state.accounts.values()
    assert sorted(round(s) for s in account.sizes.values()) == [-1000, -1000]  # the strangle, read from the lens
    assert book.wallet[0] == pytest.approx(2_200_000, rel=1e-6)
    assert start.market.guards.health_factor_floor == pytest.approx(1.3)  # the vault's own RiskParams
    assert 0 < book.budgets[0].used_usd <= 800_000  # the opening margin deposit (800k) as the lens reports it, drained
    assert result.exit_code == 0, result.output
    assert "start: the live vault at block" in result.output
    summary = json.loads((tmp_path / "mc" / "summary.json").read_text())["montecarlo"]
    assert summary["book"] == "live"
    assert summary["nav0_usd"] == pytest.approx(total_assets, rel=1e-9)  # the model's NAV of the read book
    assert summary["paths"] == 3
    cal = summary["calibration"]  # the scenario (gbm) fitted on the store's history
    assert cal["vol_method"] == {"WETH": "garch", "WBTC": "garch"}
    assert cal["vol_annual"]["WETH"] == pytest.approx(0.8, rel=0.1)
    assert cal["vol_annual"]["WBTC"] == pytest.approx(0.5, rel=0.1)
    assert cal["correlation"] == pytest.approx(0.6, abs=0.06)
    assert "calibrated on 2,00" in result.output
