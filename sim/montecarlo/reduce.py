"""Chunks → distributions with their Monte Carlo errors.

Merging is exact and order-fixed (chunks sorted by first path; histogram counts are integers), so a run gives the
same bits whether one process or a cluster ran its chunks. Statistics:
- probabilities with a Wilson score 95 % interval and the binomial standard error √(p(1−p)/n);
- quantiles with a distribution-free 95 % interval from order statistics (ranks n·q ± 1.96·√(n·q·(1−q))) and a
  standard error of half its width / 1.96;
- expected shortfall (mean loss beyond the VaR quantile) with the standard error of that tail mean, s/√k;
- means with s/√n.
"""

from __future__ import annotations

import math
from dataclasses import fields
from typing import Any

import numpy as np

from sim.montecarlo.job import NAV_BINS, ChunkResult

Z95 = 1.959963984540054


def merge(chunks: list[ChunkResult]) -> ChunkResult:
    ordered = sorted(chunks, key=lambda c: c.first)
    merged: dict[str, Any] = {"first": ordered[0].first}
    for f in fields(ChunkResult):
        if f.name == "first":
            continue
        parts = [getattr(c, f.name) for c in ordered]
        merged[f.name] = np.sum(parts, axis=0) if f.name == "nav_histogram" else np.concatenate(parts)
    return ChunkResult(**merged)


def probability(hits: int, n: int) -> dict[str, float]:
    p = hits / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return {
        "p": p,
        "se": math.sqrt(p * (1 - p) / n),
        "ci95_low": max(0.0, centre - half),
        "ci95_high": min(1.0, centre + half),
    }


def quantile(x: np.ndarray, q: float) -> dict[str, float]:
    """Linear-interpolated quantile with its order-statistic interval. Infinite values (the health factor of a
    path without Aave debt) are order statistics like any other: where both neighbours are +inf the quantile is
    +inf, not the NaN of inf − inf."""
    s = np.sort(x)
    n = s.size
    half = Z95 * math.sqrt(n * q * (1 - q))
    lo = int(np.clip(math.floor(n * q - half), 0, n - 1))
    hi = int(np.clip(math.ceil(n * q + half), 0, n - 1))
    h = (n - 1) * q  # numpy's default ("linear") position between the order statistics
    below, above = float(s[math.floor(h)]), float(s[math.ceil(h)])
    value = below if below == above else below + (h - math.floor(h)) * (above - below)
    return {
        "q": q,
        "value": value,
        "se": 0.0 if s[hi] == s[lo] else float(s[hi] - s[lo]) / (2 * Z95),
        "ci95_low": float(s[lo]),
        "ci95_high": float(s[hi]),
    }


def expected_shortfall(loss: np.ndarray, level: float) -> dict[str, float]:
    """Mean of the losses at or beyond the ``level`` quantile (loss > 0 is bad)."""
    var = float(np.quantile(loss, level))
    tail = loss[loss >= var]
    se = float(tail.std(ddof=1) / math.sqrt(tail.size)) if tail.size > 1 else math.nan
    return {"level": level, "var": var, "es": float(tail.mean()), "se": se, "tail_paths": int(tail.size)}


def mean(x: np.ndarray) -> dict[str, float]:
    se = float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan
    return {"mean": float(x.mean()), "se": se}


def histogram_quantiles(counts: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """Per-day quantiles of NAV / NAV₀ from the binned counts (linear within a bin), shape (days + 1, len(qs))."""
    out = np.empty((counts.shape[0], len(qs)))
    for d, row in enumerate(counts):
        cdf = np.concatenate([[0.0], np.cumsum(row)]) / max(1, row.sum())
        out[d] = np.interp(qs, cdf, NAV_BINS)
    return out


def summarise(c: ChunkResult, nav0_usd: float) -> dict[str, Any]:
    """The headline figures (summary.json's ``montecarlo`` section)."""
    n = c.final_nav_ratio.size
    days = c.nav_histogram.shape[0] - 1
    liquidated = c.first_liquidation_day >= 0
    by_day = [probability(int(np.sum(liquidated & (c.first_liquidation_day < d))), n) for d in range(1, days + 1)]
    loss = 1.0 - c.final_nav_ratio  # fraction of NAV lost over the horizon
    fan_q = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
    return {
        "paths": n,
        "days": days,
        "nav0_usd": nav0_usd,
        "p_liquidation": probability(int(liquidated.sum()), n),
        "p_liquidation_by_day": by_day,
        "final_nav_ratio": {f"q{int(q * 100):02d}": quantile(c.final_nav_ratio, q) for q in (0.01, 0.05, 0.5, 0.95)},
        "final_nav_mean": mean(c.final_nav_ratio),
        "max_drawdown": {f"q{int(q * 100):02d}": quantile(c.max_drawdown, q) for q in (0.5, 0.95, 0.99)},
        "expected_shortfall": {f"es{int(lv * 100)}": expected_shortfall(loss, lv) for lv in (0.95, 0.99)},
        "min_health_factor": {"q01": quantile(c.min_health_factor, 0.01), "q50": quantile(c.min_health_factor, 0.5)},
        "p_venue_liquidation": probability(int((c.venue_liquidations > 0).sum()), n),
        "option_trades_per_path": mean(c.option_trades.astype(np.float64)),
        "rebalances_per_path": mean(c.rebalances.astype(np.float64)),
        "refused_per_path": mean(c.refused.astype(np.float64)),
        "hedging_cost_usd": {
            "swap": mean(c.swap_cost_usd),
            "gas": mean(c.gas_usd),
        },
        "nav_fan": {"quantiles": list(fan_q), "by_day": histogram_quantiles(c.nav_histogram, fan_q).tolist()},
    }
