"""Slicing an order over blocks: the Almgren–Chriss trade-off between impact and the risk of waiting.

Holding ``x`` USD of unhedged exposure for one trading step costs ``λ σ² x²`` in risk (``σ`` the fractional vol
per step, ``λ`` the risk aversion per USD); trading ``n`` USD in one step costs ``η n²`` in temporary impact
beyond fees (``η`` per USD, measured from the router's own exact quotes: ``η = impact(X) / X²``). Minimising
impact + λ·variance over ``N`` steps gives Almgren & Chriss's (2000) trajectory, the exposure still to trade
after step ``j`` being

    x_j = X · sinh(κ (N − j)) / sinh(κ N),   cosh κ = 1 + λ σ² / (2 η)   (discrete time, unit step),

so the first child is ``X · (1 − sinh(κ (N − 1)) / sinh(κ N))``. κ → 0 (no risk aversion, or impact dominating)
is the even schedule X/N; large κ trades almost everything at once. The keeper re-plans every step from what
is left (the policy sees the executed children on chain) with the steps left to the schedule's deadline, which
is the same trajectory: AC's schedule is time-consistent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class SliceParams:
    risk_aversion_per_usd: float  # λ
    sigma_per_step: float  # fractional vol over one trading step
    impact_per_usd: float  # η: temporary impact cost (USD) = η · n² for n USD traded in one step


def kappa(p: SliceParams) -> float:
    """AC's urgency κ per step (inf when there is no impact: trade at once)."""
    if p.impact_per_usd <= 0:
        return math.inf
    if p.risk_aversion_per_usd < 0 or p.sigma_per_step < 0:
        raise ValueError("risk aversion and vol must be ≥ 0")
    return math.acosh(1.0 + p.risk_aversion_per_usd * p.sigma_per_step**2 / (2.0 * p.impact_per_usd))


def first_child_fraction(k: float, steps: int) -> float:
    """The share of what is left to trade now, with ``steps`` trading steps left (1 → everything)."""
    if steps < 1:
        raise ValueError(f"steps must be ≥ 1, got {steps}")
    if steps == 1 or math.isinf(k):
        return 1.0
    if k < 1e-9:
        return 1.0 / steps
    # sinh(k(N−1))/sinh(kN) without overflow for large kN
    ratio = math.exp(-k) * (1 - math.exp(-2 * k * (steps - 1))) / (1 - math.exp(-2 * k * steps))
    return 1.0 - ratio


def trajectory(total: float, k: float, steps: int) -> list[float]:
    """The children of an order of ``total`` over ``steps`` steps (they sum to ``total``)."""
    children, left = [], total
    for remaining in range(steps, 0, -1):
        child = left * first_child_fraction(k, remaining)
        children.append(child)
        left -= child
    return children


def steps_for_impact(total_usd: float, impact_per_usd: float, max_impact_bps: float, max_steps: int) -> int:
    """The fewest steps whose even child ``total/N`` keeps its impact ``η·total/N`` within ``max_impact_bps`` of
    its value (capped at ``max_steps``): how long a schedule must be for one block's impact to be acceptable.
    An infinite η (the order runs past the pool ticks read) takes the longest schedule."""
    if total_usd <= 0 or impact_per_usd <= 0:
        return 1
    if max_impact_bps <= 0:
        raise ValueError(f"max_impact_bps must be > 0, got {max_impact_bps}")
    if not math.isfinite(impact_per_usd):
        return max_steps
    needed = math.ceil(impact_per_usd * total_usd / (max_impact_bps / 1e4) - 1e-12)
    return max(1, min(max_steps, needed))
