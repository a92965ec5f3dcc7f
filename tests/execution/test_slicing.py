"""Almgren–Chriss slicing (keeper.execution.slicing): the closed-form trajectory against a numerical optimum of
impact + λ·variance, its limits, and the schedule length from the impact bound."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from keeper.execution.slicing import SliceParams, first_child_fraction, kappa, steps_for_impact, trajectory


def _optimum(total: float, p: SliceParams, steps: int) -> np.ndarray:
    """The children minimising η·Σn² + λσ²·Σx² (x the exposure left after each step), solved directly: the
    objective is quadratic in x₁…x_{N−1} (x₀ = total, x_N = 0), so its minimum solves one linear system."""
    m = steps - 1
    d = np.zeros((steps, m))  # n = x_{k-1} - x_k = c + D x
    c = np.zeros(steps)
    c[0] = total
    for k in range(steps):
        if k - 1 >= 0:
            d[k, k - 1] += 1.0
        if k < m:
            d[k, k] -= 1.0
    a = p.impact_per_usd * d.T @ d + p.risk_aversion_per_usd * p.sigma_per_step**2 * np.eye(m)
    x = np.linalg.solve(a, -p.impact_per_usd * d.T @ c)
    return c + d @ x


@pytest.mark.parametrize(
    ("lam", "sigma", "eta", "steps"), [(1e-6, 0.004, 2e-10, 6), (1e-5, 0.01, 1e-9, 5), (1e-7, 0.002, 5e-10, 8)]
)
def test_trajectory__equals_the_direct_optimum_of_impact_plus_risk(
    lam: float, sigma: float, eta: float, steps: int
) -> None:
    p = SliceParams(lam, sigma, eta)
    total = 2_000_000.0
    closed = np.array(trajectory(total, kappa(p), steps))
    assert closed.sum() == pytest.approx(total, rel=1e-12)
    assert closed == pytest.approx(_optimum(total, p, steps), rel=1e-9)


def test_limits__no_risk_aversion_is_even__no_impact_is_at_once__front_loaded_in_between() -> None:
    assert trajectory(900.0, 0.0, 9) == pytest.approx([100.0] * 9)
    assert kappa(SliceParams(1e-6, 0.01, 0.0)) == math.inf
    assert first_child_fraction(math.inf, 5) == 1.0
    assert first_child_fraction(0.7, 1) == 1.0
    children = trajectory(1.0, 0.5, 6)
    assert all(a > b for a, b in itertools.pairwise(children))  # urgency front-loads
    assert first_child_fraction(50.0, 20) == pytest.approx(1.0)  # no overflow at large κN


def test_replanning_from_what_is_left__is_the_same_trajectory() -> None:
    k, total = 0.3, 1_000.0
    planned = trajectory(total, k, 7)
    left, replanned = total, []
    for remaining in range(7, 0, -1):
        replanned.append(left * first_child_fraction(k, remaining))
        left -= replanned[-1]
    assert replanned == pytest.approx(planned)


def test_steps_for_impact__fewest_even_slices_within_the_bound_capped() -> None:
    eta = 1e-9  # 1 bp of impact per 100k USD traded in one step
    assert steps_for_impact(100_000.0, eta, 1.0, 10) == 1
    assert steps_for_impact(1_000_000.0, eta, 2.5, 10) == 4  # 10 bp one-shot → 4 slices of 2.5 bp
    assert steps_for_impact(1e8, eta, 1.0, 10) == 10
    with pytest.raises(ValueError, match="max_impact_bps"):
        steps_for_impact(1e6, eta, 0.0, 10)


def test_steps_for_impact__order_past_the_ticks_read__longest_schedule_even_children() -> None:
    # The router's η is inf when the order runs past the pool ticks it read: math.ceil(inf) raised OverflowError
    # and killed the keeper's tick (found in the crash month with top_up_wings).
    assert steps_for_impact(2e6, math.inf, 15.0, 10) == 10
    k = kappa(SliceParams(1e-6, 0.01, math.inf))
    assert k == 0.0
    assert first_child_fraction(k, 10) == pytest.approx(0.1)
