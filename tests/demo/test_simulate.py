"""The demo end to end on a short path: the world is built on the devnet, the book opened, the scenario run
hedged and unhedged from the same state, and the report written with its series."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from keeper.demo.simulate import simulate

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


def test_simulate__unknown_book__names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="choose one of levered-long"):
        simulate("crash", tmp_path, book_name="yolo", console=Console(quiet=True))
