"""``keeper risk montecarlo`` as a user runs it: mounted on the keeper command, outputs written, bad input refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keeper.cli import app


def test_montecarlo__small_run_in_process__writes_report_summary_and_gauges(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["risk", "montecarlo", "--paths", "12", "--days", "2", "--workers", "0", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "P(any liquidation)" in result.output
    summary = json.loads((tmp_path / "summary.json").read_text())["montecarlo"]
    assert summary["paths"] == 12
    assert summary["days"] == 2
    assert len(summary["p_liquidation_by_day"]) == 2
    assert 'hv_mc_p_liquidation{horizon_days="2"}' in (tmp_path / "montecarlo.prom").read_text()
    assert '<img src="data:image/png;base64,' in (tmp_path / "montecarlo.html").read_text()
    for name in ("mc_pnl_histogram", "mc_drawdown_histogram", "mc_nav_fan", "mc_p_liquidation"):
        assert (tmp_path / f"{name}.png").stat().st_size > 5_000


def test_montecarlo__unknown_scenario__exit_2_names_the_choices(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["risk", "montecarlo", "--scenario", "moon", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "scenario='moon' is not a Monte Carlo path model" in result.output


def test_montecarlo__zero_paths__exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["risk", "montecarlo", "--paths", "0", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "paths=0 must be a positive number" in result.output


def test_montecarlo__short_vol_book__venue_figures_in_the_summary(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["risk", "montecarlo", "--book", "short-vol", "--scenario", "crash", "--paths", "4", "--days", "1",
         "--workers", "0", "--out", str(tmp_path)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "P(venue liquidation)" in result.output
    summary = json.loads((tmp_path / "summary.json").read_text(), parse_constant=_refuse)["montecarlo"]
    assert summary["book"] == "short-vol"
    for q in summary["min_health_factor"].values():  # paths without Aave debt have HF = inf: written as null
        assert q["value"] is None or q["value"] > 0
    assert 0 <= summary["p_venue_liquidation"]["p"] <= summary["p_liquidation"]["p"]
    assert summary["nav0_usd"] == pytest.approx(3_000_000, rel=0.01)  # venue equity counted in NAV


def test_montecarlo__live_book_without_config__exit_2_names_the_fix(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["risk", "montecarlo", "--book", "live", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "the live book needs the vault's keeper.toml" in result.output


def _refuse(name: str) -> None:
    raise AssertionError(f"summary.json is not strict JSON: it holds {name}")
