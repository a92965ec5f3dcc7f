"""The cross-chain risk view: sums, the fleet stress of the summed grid, and the 80-column rendering."""

from __future__ import annotations

import math

import numpy as np
import pytest

from keeper.fleet.view import VaultView, aggregate, render

SPOT = np.array([-0.2, 0.0, 0.2])
VOL = np.array([0.0, 0.5])


def vault(name: str, pnl: list[list[float]], delta: float, hf: float = 1.5, liq: float = 0.3) -> VaultView:
    v = VaultView(name, "l1", 1, "leading", 100, nav_usd=1e6, health_factor=hf, liquidation_distance_pct=liq,
                  stress_worst_loss_usd=-min(0.0, float(np.min(pnl))),
                  greeks={"WETH": {"net_delta_usd": delta, "net_vega_usd_per_vol_pt": 10.0}})  # fmt: skip
    v.stress_pnl_usd, v.spot_shocks, v.vol_shocks = np.array(pnl), SPOT, VOL
    return v


def test_aggregate__opposite_books__fleet_worst_is_the_summed_grid_not_the_sum_of_worsts() -> None:
    long = vault("long", [[-200.0, 0.0, 180.0], [-260.0, -10.0, 150.0]], 1_000.0)
    short = vault("short", [[150.0, 0.0, -170.0], [120.0, -5.0, -190.0]], -700.0, hf=1.2, liq=-0.12)
    view = aggregate([long, short])
    assert view.net["WETH"]["net_delta_usd"] == 300.0
    assert view.net["WETH"]["net_vega_usd_per_vol_pt"] == 20.0
    assert view.worst_stress_loss_usd == 140.0  # summed grid: min(-50, 0, 10, -140, -15, -40)
    assert view.worst_scenario == (-0.2, 0.5)
    assert view.sum_of_worst_usd == 260.0 + 190.0
    assert view.min_health_factor == 1.2
    assert view.nearest_liquidation_pct == 0.12


def test_aggregate__a_grid_with_other_shocks__refused() -> None:
    a, b = vault("a", [[0.0] * 3] * 2, 0.0), vault("b", [[0.0] * 3] * 2, 0.0)
    b.spot_shocks = SPOT * 2
    with pytest.raises(ValueError, match="vault b: its stress grid has other shocks"):
        aggregate([a, b])


def test_render__extreme_and_missing_figures__fit_80_columns() -> None:
    debt_free = vault("a-very-long-vault-name", [[-1e9, 0, 1], [0, 0, 0]], 3e7, hf=5.0e9, liq=1.67e7)
    down = VaultView("down", "l2", 2, "down", note="x" * 200)
    lines = render(aggregate([debt_free, down, vault("v", [[-5.0, 0, 0], [0, 0, 0]], 1.0, hf=math.inf)]))
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    row = next(line for line in lines if line.startswith("a-very-long"))
    assert "≥100" in row
    assert ">999%" in row
    assert row.endswith(" -1.00B")
    header = lines[1]
    assert len(row) == len(header)  # every column in its place
    assert row.index("≥100") + len("≥100") == header.index("HF") + len("HF")
