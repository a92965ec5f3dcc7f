"""The demo end to end on a short path: the world is built on the devnet, the book opened, the scenario run
hedged and unhedged from the same state, and the report written with its series."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from sim.demo.simulate import simulate

pytestmark = pytest.mark.chain


def test_simulate__crash_levered_long__hedged_not_liquidated_report_written(tmp_path: Path) -> None:
    result = simulate("crash", tmp_path, book_name="levered-long", every=240, console=Console(quiet=True))
    summary = json.loads(result.summary_path.read_text())
    assert summary["steps"] == 30
    assert summary["hedged"]["liquidations"] == 0
    assert summary["hedged"]["min_health_factor"] > 1.3  # the vault's floor
    assert summary["unhedged"]["min_health_factor"] < summary["hedged"]["min_health_factor"]
    assert summary["hedged"]["rebalances"] >= 1
    page = result.report_path.read_text()
    assert 'id="series"' in page
    assert page.count("<tr>") > 30  # the series table holds the run
    for name in ("nav", "delta", "health", "liquidation", "attribution", "stress", "payoff"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
    hedged_nav = [r.nav_usd for r in result.hedged.steps]
    assert len(hedged_nav) == 31
    assert result.hedged.steps[0].nav_usd == pytest.approx(result.unhedged.steps[0].nav_usd, rel=1e-9)


def test_simulate__crash_short_vol__hedged_survives_unhedged_liquidated(tmp_path: Path) -> None:
    """The demo's main job on a coarse path (60 steps): the keeper hedges the short strangle's delta and tops up
    venue margin; the book left alone is liquidated on the venue and draws down further."""
    result = simulate("crash", tmp_path, book_name="short-vol", every=120, console=Console(quiet=True))
    summary = json.loads(result.summary_path.read_text())
    assert summary["hedged"]["liquidations"] == 0
    assert summary["unhedged"]["liquidations"] >= 1
    assert summary["hedged"]["max_drawdown"] < summary["unhedged"]["max_drawdown"]
    assert summary["hedged"]["final_nav_usd"] > summary["unhedged"]["final_nav_usd"]
    assert summary["hedged"]["rebalances"] >= 3
    actions = {a for r in result.hedged.steps for a in r.actions}
    assert {"swap", "aave_borrow"} <= actions  # the short puts' delta sold through Aave
    assert any("venue liquidation" in e for e in summary["liquidation_events"]["unhedged"])
    for run in (result.hedged, result.unhedged):  # both lines of the liquidation plot exist, from the first point
        distance = [r.liquidation_distance_pct for r in run.steps]
        assert all(0 < d < 1 for d in distance), (run.label, distance[:5])  # fractions of spot (plotted × 100)


def test_simulate__unknown_book__names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="choose one of short-vol, levered-long"):
        simulate("crash", tmp_path, book_name="yolo", console=Console(quiet=True))


def test_simulate__crash_month_three_books__predictive_drawdown_smallest_budget_record_written(tmp_path: Path) -> None:
    """The 30-day crash month on a coarse keeper step (daily: 30 ticks a run): the predictive book (tail budget
    on) draws down less than the reactive and the unhedged; summary.json counts the ticks the budget was kept."""
    result = simulate("crash_month", tmp_path, book_name="short-vol", every=24, console=Console(quiet=True))
    summary = json.loads(result.summary_path.read_text())
    assert result.predictive is not None
    assert summary["predictive"]["liquidations"] == 0
    assert summary["predictive"]["max_drawdown"] < summary["hedged"]["max_drawdown"]
    assert summary["predictive"]["max_drawdown"] < summary["unhedged"]["max_drawdown"]
    budget = summary["tail_budget"]
    assert budget["ticks"] == 31
    assert budget["kept"] + len(budget["missed"]) == budget["ticks"]
    assert all(m["worst_loss_usd"] > m["budget_usd"] * 1.05 and m["why"] for m in budget["missed"])
    costs = summary["costs"]["predictive"]  # where the protection went, per the run's mined batches
    assert costs["batches_mined"] == summary["predictive"]["rebalances"]
    assert costs["options_premium_usd"] > costs["options_fee_usd"] > 0
    assert set(summary["costs"]) == {"predictive", "reactive"}
    assert (tmp_path / "tail.png").stat().st_size > 10_000
    assert "predictive (tail budget)" in result.report_path.read_text()
