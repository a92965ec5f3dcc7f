"""One risk view across vaults and chains.

Each vault contributes what its keeper's assessor computed at its last block: net Greeks per underlying (USD),
Aave health factor and the nearest liquidation move, NAV, and the stress PnL grid — every vault revalued over
the *same* spot × vol shocks (``keeper.risk.stress.default_grid``: a spot shock moves every non-stable price of
every chain together). The fleet's stress loss is the worst scenario of the *sum* of the grids, which is what a
desk loses if the move happens everywhere at once; it is at most the sum of the vaults' own worst losses, and
the gap is the diversification across books that hedge in opposite directions.

:func:`render` prints the view in 80 columns for ``keeper fleet status`` and the fleet's log.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

GREEKS = ("net_delta_usd", "net_gamma_usd_per_pct", "net_vega_usd_per_vol_pt", "net_theta_usd_per_day")


@dataclass
class VaultView:
    name: str
    chain: str
    chain_id: int
    status: str  # leading, following, restarting, down, read
    block: int | None = None
    nav_usd: float = math.nan
    health_factor: float = math.nan
    liquidation_distance_pct: float = math.nan
    stress_worst_loss_usd: float = math.nan
    greeks: dict[str, dict[str, float]] = field(default_factory=dict)  # underlying → greek → USD
    stress_pnl_usd: np.ndarray | None = None  # (vol, spot)
    spot_shocks: np.ndarray | None = None
    vol_shocks: np.ndarray | None = None
    restarts: int = 0
    leader: str | None = None
    note: str = ""


def vault_view(name: str, chain: str, chain_id: int, status: str, block: int | None, risk: Mapping[str, float],
               stress: Any | None = None, stress_pnl: np.ndarray | None = None) -> VaultView:  # fmt: skip
    """A vault's view from a tick's ``risk`` summary and its assessor's last stress grid (``StressResult`` and
    the PnL including the Aave leg)."""
    greeks: dict[str, dict[str, float]] = {}
    for key, value in risk.items():
        name_, _, underlying = key.partition(":")
        if underlying and name_ in GREEKS:
            greeks.setdefault(underlying, {})[name_] = float(value)
    view = VaultView(
        name,
        chain,
        chain_id,
        status,
        block,
        nav_usd=float(risk.get("nav_usd", math.nan)),
        health_factor=float(risk.get("health_factor", math.nan)),
        liquidation_distance_pct=float(risk.get("liquidation_distance_pct", math.nan)),
        stress_worst_loss_usd=float(risk.get("stress_worst_loss_usd", math.nan)),
        greeks=greeks,
    )
    if stress is not None and stress_pnl is not None:
        view.stress_pnl_usd = np.asarray(stress_pnl, dtype=np.float64)
        view.spot_shocks, view.vol_shocks = stress.spot_shocks, stress.vol_shocks
    return view


@dataclass(frozen=True)
class FleetView:
    vaults: tuple[VaultView, ...]
    net: dict[str, dict[str, float]]  # underlying → greek → USD, summed over vaults with figures
    nav_usd: float
    worst_stress_loss_usd: float  # of the summed grid; nan when no vault has one
    worst_scenario: tuple[float, float] | None  # (spot shock, vol shock)
    sum_of_worst_usd: float  # Σ of each vault's own worst loss: the undiversified bound
    stress_vaults: int  # vaults whose grid is in the sum
    min_health_factor: float
    nearest_liquidation_pct: float


def aggregate(vaults: Sequence[VaultView]) -> FleetView:
    net: dict[str, dict[str, float]] = {}
    for v in vaults:
        for underlying, greeks in v.greeks.items():
            row = net.setdefault(underlying, dict.fromkeys(GREEKS, 0.0))
            for g, value in greeks.items():
                if math.isfinite(value):
                    row[g] += value
    grids = [v for v in vaults if v.stress_pnl_usd is not None]
    total: np.ndarray | None = None
    shocks: tuple[np.ndarray, np.ndarray] | None = None
    for v in grids:
        assert v.stress_pnl_usd is not None
        assert v.spot_shocks is not None
        assert v.vol_shocks is not None
        if shocks is None:
            shocks, total = (v.spot_shocks, v.vol_shocks), v.stress_pnl_usd.copy()
        elif np.array_equal(shocks[0], v.spot_shocks) and np.array_equal(shocks[1], v.vol_shocks):
            total = total + v.stress_pnl_usd  # type: ignore[operator]
        else:
            raise ValueError(f"vault {v.name}: its stress grid has other shocks; the fleet sums one grid")
    worst, scenario = math.nan, None
    if total is not None and shocks is not None:
        i, j = np.unravel_index(int(np.argmin(total)), total.shape)
        worst = float(-min(0.0, total[i, j]))
        scenario = (float(shocks[0][j]), float(shocks[1][i]))
    finite = [v for v in vaults if math.isfinite(v.nav_usd)]
    hfs = [v.health_factor for v in vaults if not math.isnan(v.health_factor)]
    dists = [abs(v.liquidation_distance_pct) for v in vaults if math.isfinite(v.liquidation_distance_pct)]
    return FleetView(
        tuple(vaults),
        net,
        float(sum(v.nav_usd for v in finite)),
        worst,
        scenario,
        float(sum(v.stress_worst_loss_usd for v in grids if math.isfinite(v.stress_worst_loss_usd))),
        len(grids),
        min(hfs, default=math.nan),
        min(dists, default=math.nan),
    )


def _num(value: float, digits: int = 0, width: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        text = "—"
    elif isinstance(value, float) and math.isinf(value):
        text = "∞"
    else:
        text = f"{value:,.{digits}f}"
    return text.rjust(width) if width else text


def _money(value: float, width: int) -> str:
    """USD compactly: 1.23B, 1.23M, 45.6k, 789."""
    if value is None or not math.isfinite(value):
        return _num(value, 0, width)
    a = abs(value)
    if a >= 1e9:
        text = f"{value / 1e9:,.2f}B"
    elif a >= 1e6:
        text = f"{value / 1e6:,.2f}M"
    else:
        text = f"{value / 1e3:,.1f}k" if a >= 1e4 else f"{value:,.0f}"
    return text.rjust(width)


def _hf(value: float, width: int = 0) -> str:
    """A health factor; no debt (or as good as none) shows as ≥100."""
    text = "≥100" if not math.isnan(value) and value >= 100 else _num(value, 2)
    return text.rjust(width) if width else text


def _move(value: float, width: int = 0) -> str:
    """A liquidation move as a share of spot, unsigned; beyond 999 % it is no risk worth digits."""
    if not math.isfinite(value):
        return "—".rjust(width) if width else "—"
    text = ">999%" if abs(value) >= 10 else f"{abs(value) * 100:.1f}%"
    return text.rjust(width) if width else text


def render(view: FleetView, title: str = "fleet") -> list[str]:
    """The fleet view in at most 80 columns: a row per vault, net Greeks per underlying, the fleet stress."""
    out = [f"{title}: {len(view.vaults)} vaults, NAV {_money(view.nav_usd, 0).strip()} USD"]
    out.append(f"{'vault':<14}{'chain':<9}{'status':<10}{'block':>8}{'NAV':>9}{'HF':>7}{'liq move':>9}{'stress':>9}")
    for v in view.vaults:
        out.append(
            f"{v.name[:13]:<14}{(v.chain or str(v.chain_id))[:8]:<9}{v.status[:9]:<10}"
            f"{_num(float(v.block) if v.block is not None else math.nan, 0, 8)}{_money(v.nav_usd, 9)}"
            f"{_hf(v.health_factor, 7)}{_move(v.liquidation_distance_pct, 9)}{_money(-v.stress_worst_loss_usd, 9)}"
        )
        if v.note:
            out.append(f"  {v.note}"[:80])
    out.append(f"{'net, all chains':<16}{'delta USD':>14}{'gamma /1%':>14}{'vega /pt':>14}{'theta /day':>14}")
    for underlying in sorted(view.net):
        g = view.net[underlying]
        out.append(f"{underlying:<16}" + "".join(_money(g[k], 14) for k in GREEKS))
    if view.worst_scenario is not None:
        s, vol = view.worst_scenario
        out.append(
            f"fleet worst stress {_money(-view.worst_stress_loss_usd, 0).strip()} USD at spot {s * 100:+.0f}% "
            f"vol {vol * 100:+.0f}% ({view.stress_vaults} vaults, same shocks)"
        )
        out.append(
            f"  sum of vault worsts {_money(-view.sum_of_worst_usd, 0).strip()} USD; lowest HF "
            f"{_hf(view.min_health_factor)}; nearest liquidation {_move(view.nearest_liquidation_pct)}"
        )
    return [line[:80] for line in out]
