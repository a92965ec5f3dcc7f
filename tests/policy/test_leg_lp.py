"""The tail rule's warm-started HiGHS model (``keeper.policy.leg_lp``): every re-solve on one model — relaxation,
sizing of a subset, a retry without the band, the dust re-sizing, an unreachable bound — has the optimum of the
same problem written out and solved cold by scipy's ``linprog`` (an independent formulation: gas folded into the
scenario rows and costs, no gas column)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from keeper.policy.leg_lp import LegLp

K, N = 30, 40


def problem(seed: int) -> dict[str, np.ndarray]:
    """A random book losing up to ~1 M in some scenarios, legs that pay in some and cost a little in all."""
    rng = np.random.default_rng(seed)
    pnl = -rng.uniform(0, 1_000_000, K)
    a = rng.normal(0, 1.0, (K, N)) * rng.uniform(50, 2_000, N) + rng.uniform(0, 1, (K, N)) * 800
    cost = rng.uniform(5, 200, N)
    cap = rng.uniform(100, 2_000, N)
    premium = cost * rng.integers(0, 2, N)
    cash = cost * 1.01
    notional = rng.uniform(100, 5_000, N)
    coef = np.vstack([rng.normal(0, 1, N), rng.normal(0, 1, N)])
    return dict(pnl=pnl, a=a, cost=cost, cap=cap, premium=premium, cash=cash, notional=notional, coef=coef)


def cold(
    p: dict[str, np.ndarray],
    bound: float,
    gas: float,
    columns: np.ndarray | None,
    caps: tuple[float, float, float],
    band: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[float, float] | None:
    """linprog over (x, t): the cheapest x with worst loss ≤ bound; None when infeasible. ``columns`` None: the
    relaxation (gas γⱼ = gas / Uⱼ per unit, in costs and rows); else those columns only, gas in full."""
    cap = p["cap"].copy()
    if columns is None:
        gamma = gas / cap
        a, cost, shift = p["a"] - gamma[None, :], p["cost"] + gamma, 0.0
    else:
        keep = np.zeros(N, dtype=bool)
        keep[columns] = True
        cap[~keep] = 0.0
        a, cost, shift = p["a"], p["cost"], gas * len(columns)
    # −(aₖ·x) − t ≤ Pₖ − shift
    rows = [np.hstack([-a, -np.ones((K, 1))])]
    rhs = [p["pnl"] - shift]
    for vec, cap_ in zip((p["premium"], p["cash"], p["notional"]), caps, strict=True):
        rows.append(np.concatenate([vec, [0.0]])[None, :])
        rhs.append(np.array([cap_]))
    if band is not None:
        rows += [np.hstack([p["coef"], np.zeros((2, 1))]), np.hstack([-p["coef"], np.zeros((2, 1))])]
        rhs += [band[1], -band[0]]
    res = linprog(
        np.concatenate([cost, [0.0]]),
        A_ub=np.vstack(rows),
        b_ub=np.concatenate(rhs),
        bounds=[(0.0, c) for c in cap] + [(0.0, bound)],
        method="highs",
    )
    if res.status != 0:
        return None
    return float(res.fun) + shift, float(res.x[-1])


def model(p: dict[str, np.ndarray], gas: float, caps: tuple[float, float, float], band: bool) -> LegLp:
    delta = (p["coef"], np.array([-300.0, -200.0]), np.array([250.0, 400.0])) if band else None
    return LegLp(p["pnl"], p["a"], p["cost"], p["cap"], p["premium"], p["cash"], p["notional"], caps, gas, delta)


def objective(p: dict[str, np.ndarray], units: np.ndarray, gas: float, columns: np.ndarray | None) -> float:
    if columns is None:
        return float((p["cost"] + gas / p["cap"]) @ units)
    return float(p["cost"] @ units) + gas * len(columns)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_every_warm_resolve_has_the_cold_optimum(seed: int) -> None:
    p = problem(seed)
    gas, caps = 40.0, (60_000.0, 80_000.0, 2_000_000.0)
    band = (np.array([-300.0, -200.0]), np.array([250.0, 400.0]))
    bound = 0.5 * -p["pnl"].min()
    lp = model(p, gas, caps, band=True)
    relaxed = lp.relax(bound)
    want = cold(p, bound, gas, None, caps, band)
    assert want is not None
    assert relaxed.optimal
    assert objective(p, relaxed.units, gas, None) == pytest.approx(want[0], rel=1e-7, abs=1e-5)
    support = np.flatnonzero(relaxed.units > 1e-9)
    for columns in (support, support[: max(1, support.size - 2)], support[::2]):
        sized = lp.size(columns, bound)
        want = cold(p, bound, gas, columns, caps, band)
        if want is None:
            assert not sized.optimal
            continue
        assert sized.optimal
        assert np.all(sized.units[np.setdiff1d(np.arange(N), columns)] == 0.0)  # only the given legs trade
        assert objective(p, sized.units, gas, columns) == pytest.approx(want[0], rel=1e-7, abs=1e-5)
    lp.band(False)  # the retry without the band: the same model, rows freed
    sized = lp.size(support, bound)
    want = cold(p, bound, gas, support, caps, None)
    assert want is not None
    assert sized.optimal
    assert objective(p, sized.units, gas, support) == pytest.approx(want[0], rel=1e-7, abs=1e-5)
    relaxed = lp.relax(bound)  # and back to the relaxation, without the band
    want = cold(p, bound, gas, None, caps, None)
    assert want is not None
    assert objective(p, relaxed.units, gas, None) == pytest.approx(want[0], rel=1e-7, abs=1e-5)


@pytest.mark.parametrize("seed", [5, 6])
def test_unreachable_bound__smallest_reachable_worst_loss_then_the_cheapest_trades_at_it(seed: int) -> None:
    p = problem(seed)
    gas, caps = 25.0, (20_000.0, 30_000.0, 500_000.0)  # tight caps: the budget is out of reach
    lp = model(p, gas, caps, band=False)
    assert cold(p, 1.0, gas, None, caps, None) is None
    result = lp.relax(1.0)
    assert not result.optimal
    # the reachable minimum, by linprog: minimise t (relaxation rows and caps)
    gamma = gas / p["cap"]
    rows = np.vstack(
        [np.hstack([-(p["a"] - gamma[None, :]), -np.ones((K, 1))])]
        + [np.concatenate([v, [0.0]])[None, :] for v in (p["premium"], p["cash"], p["notional"])]
    )
    res = linprog(
        np.concatenate([np.zeros(N), [1.0]]),
        A_ub=rows,
        b_ub=np.concatenate([p["pnl"], caps]),
        bounds=[(0.0, c) for c in p["cap"]] + [(0.0, None)],
        method="highs",
    )
    assert res.status == 0
    assert result.worst_usd == pytest.approx(res.x[-1], rel=1e-7)
    after = p["pnl"] + (p["a"] - gamma[None, :]) @ result.units
    assert -after.min() <= res.x[-1] * (1 + 1e-6) + 1e-5  # the units reach it
    cheapest = cold(p, res.x[-1] * (1 + 1e-7) + 1e-6, gas, None, caps, None)
    assert cheapest is not None
    assert objective(p, result.units, gas, None) == pytest.approx(cheapest[0], rel=1e-6, abs=1e-4)
    assert lp.relax(-p["pnl"].min() + 1.0).optimal  # the model's costs restored: a reachable bound solves again
