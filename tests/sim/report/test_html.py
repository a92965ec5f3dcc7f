from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sim.report import ReportData, RunSeries, write_report
from sim.report.html import max_drawdown


def run(label: str, slope: float) -> RunSeries:
    hours = np.linspace(0, 24, 50)
    nav = 1e6 * (1 + slope * hours / 24)
    return RunSeries(
        label,
        hours,
        3000 * (1 - 0.35 * hours / 24),
        nav,
        nav / 1e6,
        np.sin(hours),
        np.full(50, 0.8),
        np.linspace(2.0, 1.5, 50),
        np.linspace(40, 20, 50),
        liquidations=0,
        rebalances=7,
        gas_used=1_234_567,
    )


def test_write_report__series__self_contained_html_and_pngs(tmp_path: Path) -> None:
    data = ReportData(
        scenario="crash",
        description="−35 % in 24 h",
        hedged=run("hedged", 0.01),
        unhedged=run("unhedged", -0.2),
        health_factor_floor=1.2,
        attribution_days=np.arange(3),
        attribution_usd={
            "delta": np.array([100.0, -50, 20]),
            "gamma": np.array([-30.0, -40, -10]),
            "theta": np.array([15.0, 15, 15]),
        },
        spot_shocks=np.linspace(-0.5, 0.5, 11),
        vol_shocks=np.linspace(-0.5, 1.0, 7),
        stress_pnl_usd=np.outer(np.linspace(-1, 2, 7), np.linspace(-5e4, 1e4, 11)),
        payoff_spot_usd=np.linspace(1000, 5000, 41),
        payoff_at_expiry_usd=np.linspace(-1e5, 1e4, 41),
        payoff_now_usd=np.linspace(-9e4, 1.2e4, 41),
        notes=("no liquidation in the hedged run",),
    )
    path = write_report(data, tmp_path)
    page = path.read_text()
    assert page.count("data:image/png;base64,") == 7
    assert 'src="http' not in page  # nothing fetched from outside
    assert "<td>rebalances</td><td>7</td>" in page
    assert re.search(r"<td>max drawdown</td><td>0\.00%</td><td>\d+\.\d+%</td>", page)
    assert 'id="series"' in page
    for name in ("nav", "delta", "health", "liquidation", "attribution", "stress", "payoff"):
        assert (tmp_path / f"{name}.png").read_bytes().startswith(b"\x89PNG")


def test_max_drawdown__peak_then_trough__fraction_of_peak() -> None:
    assert max_drawdown(np.array([100.0, 120, 90, 110])) == pytest.approx(0.25)
    assert max_drawdown(np.array([1.0, 2, 3])) == 0.0
