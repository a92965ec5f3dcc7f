"""Render a scenario run into ``report.html`` (self-contained: plots embedded as base64 PNG) and ``*.png``.

Input is plain arrays (``RunSeries`` per run, hedged and unhedged on the same path), so the report can be
rebuilt from the keeper's SQLite store or straight from a simulation.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np


@dataclass(frozen=True)
class RunSeries:
    """One run's series, one entry per recorded step. Hours since start; USD; ratios."""

    label: str
    hours: np.ndarray
    spot_usd: np.ndarray
    nav_usd: np.ndarray
    share_price: np.ndarray
    net_delta_units: np.ndarray
    delta_band_units: np.ndarray
    health_factor: np.ndarray
    liquidation_distance_pct: np.ndarray
    liquidations: int = 0
    rebalances: int = 0
    gas_used: int = 0
    delta_target_units: float = 0.0  # the band is centred on the book's intended delta


@dataclass(frozen=True)
class ReportData:
    """Everything in the report. ``attribution_usd`` maps a Greek to its PnL per day (aligned with
    ``attribution_days``); the stress grid is the final book's PnL over ``spot_shocks`` × ``vol_shocks``."""

    scenario: str
    description: str
    hedged: RunSeries
    unhedged: RunSeries
    health_factor_floor: float
    attribution_days: np.ndarray
    attribution_usd: dict[str, np.ndarray]
    spot_shocks: np.ndarray
    vol_shocks: np.ndarray
    stress_pnl_usd: np.ndarray  # shape (len(vol_shocks), len(spot_shocks))
    payoff_spot_usd: np.ndarray
    payoff_at_expiry_usd: np.ndarray
    payoff_now_usd: np.ndarray
    notes: Sequence[str] = field(default_factory=tuple)
    attribution_unit: str = "day"  # the bucket of attribution_days: "day", or "hour" for runs shorter than 3 days
    predictive: RunSeries | None = None  # the third run: the tail-budget rule on (``hedged`` is then the reactive)
    tail: dict[str, np.ndarray] | None = None  # its per-step tail figures (sim.demo.simulate._tail_series)


def max_drawdown(nav: np.ndarray) -> float:
    """Largest peak-to-trough fall of ``nav`` as a fraction (0.12 = −12 %)."""
    peaks = np.maximum.accumulate(nav)
    return float(np.max((peaks - nav) / peaks)) if nav.size else 0.0


def _png(fig: plt.Figure, out_dir: Path, name: str) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    data = buffer.getvalue()
    (out_dir / f"{name}.png").write_bytes(data)
    return base64.b64encode(data).decode()


def _figures(d: ReportData, out_dir: Path) -> dict[str, str]:
    figs: dict[str, str] = {}
    h, u = d.hedged, d.unhedged

    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(h.hours, h.share_price, label=f"{h.label} share price")
    ax.plot(u.hours, u.share_price, label=f"{u.label} share price", linestyle="--")
    if d.predictive is not None:
        ax.plot(d.predictive.hours, d.predictive.share_price, label=f"{d.predictive.label} share price")
    ax2 = ax.twinx()
    ax2.plot(h.hours, h.spot_usd, color="grey", alpha=0.4, label="WETH spot (USD, right)")
    ax2.set_ylabel("WETH spot (USD)")
    ax.set_xlabel("hours")
    ax.set_ylabel("assets per share")
    lines = ax.get_legend_handles_labels()
    spot = ax2.get_legend_handles_labels()
    # Below the axes: it hides no line (loc="best" searched 7,200 points × 4 lines per candidate and warned).
    ax.legend(
        lines[0] + spot[0],
        lines[1] + spot[1],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.18),
        ncol=2,
        fontsize="small",
        frameon=False,
    )
    ax.set_title("Share price on the same path")
    figs["nav"] = _png(fig, out_dir, "nav")

    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(h.hours, h.net_delta_units, label="net delta (hedged)")
    centre = h.delta_target_units
    ax.fill_between(h.hours, centre - h.delta_band_units, centre + h.delta_band_units, alpha=0.3, label="no-trade band")
    ax.plot(u.hours, u.net_delta_units, linestyle="--", label="net delta (unhedged)")
    ax.set_xlabel("hours")
    ax.set_ylabel("underlying units")
    ax.legend()
    ax.set_title("Net delta vs band")
    figs["delta"] = _png(fig, out_dir, "delta")

    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(h.hours, np.minimum(h.health_factor, 10), label="hedged")
    ax.plot(u.hours, np.minimum(u.health_factor, 10), linestyle="--", label="unhedged")
    ax.axhline(d.health_factor_floor, color="red", label=f"floor {d.health_factor_floor}")
    ax.axhline(1.0, color="black", linewidth=0.8, label="liquidation (HF = 1)")
    ax.set_xlabel("hours")
    ax.set_ylabel("Aave health factor (capped at 10)")
    ax.legend()
    ax.set_title("Health factor")
    figs["health"] = _png(fig, out_dir, "health")

    fig, ax = plt.subplots(figsize=(8, 3.5))
    # The series hold fractions of spot (0.135 = a 13.5 % move); plotted in percent, as the axis says.
    ax.plot(h.hours, 100 * h.liquidation_distance_pct, label="hedged")
    ax.plot(u.hours, 100 * u.liquidation_distance_pct, linestyle="--", label="unhedged")
    ax.set_xlabel("hours")
    ax.set_ylabel("nearest liquidation, % spot move")
    ax.legend()
    ax.set_title("Liquidation distance")
    figs["liquidation"] = _png(fig, out_dir, "liquidation")

    fig, ax = plt.subplots(figsize=(8, 3.5))
    bottom_pos = np.zeros(d.attribution_days.size)
    bottom_neg = np.zeros(d.attribution_days.size)
    for greek, values in d.attribution_usd.items():
        pos, neg = np.clip(values, 0, None), np.clip(values, None, 0)
        ax.bar(d.attribution_days, pos, bottom=bottom_pos, label=greek)
        ax.bar(d.attribution_days, neg, bottom=bottom_neg, color=ax.patches[-1].get_facecolor())
        bottom_pos += pos
        bottom_neg += neg
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel(d.attribution_unit)
    ax.set_ylabel("PnL, USD")
    ax.legend(ncol=4, fontsize="small")
    ax.set_title(f"PnL attribution by Greek, per {d.attribution_unit}")
    figs["attribution"] = _png(fig, out_dir, "attribution")

    fig, ax = plt.subplots(figsize=(7, 4))
    limit = float(np.max(np.abs(d.stress_pnl_usd))) or 1.0
    mesh = ax.imshow(d.stress_pnl_usd, cmap="RdYlGn", vmin=-limit, vmax=limit, aspect="auto", origin="lower")
    ax.set_xticks(range(d.spot_shocks.size), [f"{s:+.0%}" for s in d.spot_shocks], rotation=90, fontsize="small")
    ax.set_yticks(range(d.vol_shocks.size), [f"{v:+.0%}" for v in d.vol_shocks], fontsize="small")
    ax.set_xlabel("spot shock")
    ax.set_ylabel("vol shock (relative)")
    fig.colorbar(mesh, label="PnL, USD")
    ax.set_title("Stress: final book, full revaluation")
    figs["stress"] = _png(fig, out_dir, "stress")

    if d.tail is not None:
        t = d.tail
        fig, ax = plt.subplots(figsize=(8, 3.8))
        ax.plot(t["hours"], t["budget_usd"], color="red", label="budget")
        ax.plot(t["hours"], t["worst_before_usd"], color="grey", alpha=0.6, label="worst stress loss before the plan")
        ax.plot(t["hours"], t["worst_after_usd"], label="worst stress loss after the plan")
        ax.plot(t["hours"], t["realised_loss_usd"], linestyle="--", label="realised loss from the NAV peak")
        ax.plot(t["hours"], t["cost_usd"], linestyle=":", label="protection bought, cumulative cost")
        ax.set_xlabel("hours")
        ax.set_ylabel("USD")
        top = np.nanmax(
            [
                2.5 * np.nanmax(t["budget_usd"]),
                1.2 * np.nanmax(t["realised_loss_usd"]),
                1.2 * np.nanmax(t["worst_after_usd"]),
            ]
        )
        ax.set_ylim(0, top)  # the book's unprotected loss before the first plan would flatten the rest
        ax2 = ax.twinx()
        ax2.plot(t["hours"], t["regime_probability"], color="purple", alpha=0.4, label="P(high-vol regime), right")
        ax2.set_ylim(0, 1)
        ax2.set_ylabel("P(high-vol regime)")
        lines = ax.get_legend_handles_labels()
        more = ax2.get_legend_handles_labels()
        ax.legend(lines[0] + more[0], lines[1] + more[1], fontsize="small", loc="upper left")
        ax.set_title("Predictive run: budgeted worst loss vs realised loss")
        figs["tail"] = _png(fig, out_dir, "tail")

    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.plot(d.payoff_spot_usd, d.payoff_at_expiry_usd, label="at expiry")
    ax.plot(d.payoff_spot_usd, d.payoff_now_usd, linestyle="--", label="now (mark)")
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xlabel("spot, USD")
    ax.set_ylabel("book value, USD")
    ax.legend()
    ax.set_title("Payoff of the final book")
    figs["payoff"] = _png(fig, out_dir, "payoff")
    return figs


def _runs(d: ReportData) -> list[RunSeries]:
    return [r for r in (d.predictive, d.hedged, d.unhedged) if r is not None]


def _summary_rows(d: ReportData) -> list[tuple[str, ...]]:
    runs = _runs(d)
    return [
        ("max drawdown", *(f"{max_drawdown(r.nav_usd):.2%}" for r in runs)),
        ("liquidations", *(str(r.liquidations) for r in runs)),
        ("rebalances", *(str(r.rebalances) for r in runs)),
        ("gas used", *(f"{r.gas_used:,}" for r in runs)),
        ("final NAV (USD)", *(f"{r.nav_usd[-1]:,.0f}" for r in runs)),
        ("final share price", *(f"{r.share_price[-1]:.6f}" for r in runs)),
        ("min health factor", *(f"{np.min(r.health_factor):.3f}" for r in runs)),
    ]


def write_report(data: ReportData, out_dir: Path) -> Path:
    """Write ``report.html`` and one PNG per plot into ``out_dir``; returns the HTML path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figs = _figures(data, out_dir)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in _summary_rows(data)
    )
    heads = "".join(f"<th>{html.escape(r.label)}</th>" for r in _runs(data))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in data.notes)
    images = "".join(
        f'<figure><img alt="{name}" src="data:image/png;base64,{b64}"/></figure>' for name, b64 in figs.items()
    )
    series = _series_table(data.hedged)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>Hedgevault — {html.escape(data.scenario)}</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 10px;text-align:right}}img{{max-width:100%}}</style></head><body>
<h1>Scenario: {html.escape(data.scenario)}</h1><p>{html.escape(data.description)}</p>
<h2>The runs</h2><table><tr><th></th>{heads}</tr>{rows}</table><ul>{notes}</ul>{images}
<h2>Series (hedged run)</h2>{series}</body></html>"""
    path = out_dir / "report.html"
    path.write_text(page)
    return path


def _series_table(run: RunSeries, max_rows: int = 200) -> str:
    step = max(1, run.hours.size // max_rows)
    header = "<tr><th>hours</th><th>spot</th><th>NAV</th><th>share price</th><th>net delta</th><th>HF</th></tr>"
    body = "".join(
        f"<tr><td>{run.hours[i]:.2f}</td><td>{run.spot_usd[i]:,.2f}</td><td>{run.nav_usd[i]:,.0f}</td>"
        f"<td>{run.share_price[i]:.6f}</td><td>{run.net_delta_units[i]:+.4f}</td><td>{run.health_factor[i]:.3f}</td></tr>"
        for i in range(0, run.hours.size, step)
    )
    return f'<table id="series">{header}{body}</table>'
