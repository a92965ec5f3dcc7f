"""The Monte Carlo report: ``montecarlo.html`` (self-contained, plots inline) with PNG copies, ``summary.json``
and ``montecarlo.prom`` (the headline figures as Prometheus gauges, in the text format a node-exporter textfile
collector or a Pushgateway takes)."""

from __future__ import annotations

import base64
import html
import io
import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; must precede pyplot
import matplotlib.pyplot as plt
import numpy as np
from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

from sim.montecarlo.job import ChunkResult


def write_outputs(out_dir: Path, result: ChunkResult, summary: dict[str, Any]) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {
        "mc_pnl_histogram": _histogram(
            100 * (result.final_nav_ratio - 1), "final NAV change over the horizon (%)", "PnL distribution"
        ),
        "mc_drawdown_histogram": _histogram(100 * result.max_drawdown, "max drawdown (%)", "drawdown distribution"),
        "mc_nav_fan": _fan(summary),
        "mc_p_liquidation": _p_liq(summary),
    }
    paths = {}
    for name, png in figures.items():
        paths[name] = out_dir / f"{name}.png"
        paths[name].write_bytes(png)
    paths["summary"] = out_dir / "summary.json"
    paths["summary"].write_text(json.dumps({"montecarlo": _strict(summary)}, indent=2, allow_nan=False))
    paths["html"] = out_dir / "montecarlo.html"
    paths["html"].write_text(_html(summary, figures))
    paths["prometheus"] = out_dir / "montecarlo.prom"
    write_prometheus(paths["prometheus"], summary)
    return paths


def _strict(value: Any) -> Any:
    """``value`` as strict JSON: numpy scalars as Python numbers, a non-finite number as null (an infinite health
    factor: no Aave debt on those paths). ``json.dumps`` would write the NaN/Infinity that JSON parsers refuse."""
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_prometheus(path: Path, summary: dict[str, Any]) -> None:
    r = CollectorRegistry()
    horizon = str(summary["days"])
    g = {
        "hv_mc_p_liquidation": ("P(any Aave liquidation) over the horizon", summary["p_liquidation"]["p"]),
        "hv_mc_p_liquidation_ci95_high": ("upper 95 % bound of P(liquidation)", summary["p_liquidation"]["ci95_high"]),
        "hv_mc_max_drawdown_q99": ("99th percentile of max drawdown", summary["max_drawdown"]["q99"]["value"]),
        "hv_mc_expected_shortfall_99": (
            "expected shortfall 99 % of NAV loss (fraction)",
            summary["expected_shortfall"]["es99"]["es"],
        ),
        "hv_mc_hedging_cost_usd": (
            "mean swap cost of the keeper's batches, USD",
            summary["hedging_cost_usd"]["swap"]["mean"],
        ),
        "hv_mc_paths": ("paths simulated", float(summary["paths"])),
    }
    for name, (doc, value) in g.items():
        Gauge(name, doc, ["horizon_days"], registry=r).labels(horizon).set(value)
    write_to_textfile(str(path), r)


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _histogram(x: np.ndarray, xlabel: str, title: str) -> bytes:
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.hist(x, bins=min(80, max(10, x.size // 20)), color="#4477aa", edgecolor="white", linewidth=0.3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("paths")
    ax.set_title(f"{title} ({x.size:,} paths)")
    return _png(fig)


def _fan(summary: dict[str, Any]) -> bytes:
    fan = np.asarray(summary["nav_fan"]["by_day"]) * summary["nav0_usd"] / 1e6
    qs = summary["nav_fan"]["quantiles"]
    days = np.arange(fan.shape[0])
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    for lo, hi, alpha in ((0, -1, 0.15), (1, -2, 0.25), (2, -3, 0.4)):
        ax.fill_between(
            days, fan[:, lo], fan[:, hi], color="#4477aa", alpha=alpha, lw=0, label=f"{qs[lo]:.0%}–{qs[hi]:.0%}"
        )
    ax.plot(days, fan[:, len(qs) // 2], color="#223355", label="median")
    ax.set_xlabel("day")
    ax.set_ylabel("NAV (M USD)")
    ax.set_title("NAV fan chart")
    ax.legend(fontsize=8, loc="lower left")
    return _png(fig)


def _p_liq(summary: dict[str, Any]) -> bytes:
    rows = summary["p_liquidation_by_day"]
    days = np.arange(1, len(rows) + 1)
    p = np.array([r["p"] for r in rows])
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.fill_between(
        days,
        [r["ci95_low"] for r in rows],
        [r["ci95_high"] for r in rows],
        color="#cc6677",
        alpha=0.3,
        lw=0,
        label="95 % CI (Wilson)",
    )
    ax.plot(days, p, color="#882255", marker=".", label="P(liquidated by day d)")
    ax.set_xlabel("day")
    ax.set_ylabel("probability")
    ax.set_ylim(bottom=0)
    ax.set_title("P(liquidation) by day")
    ax.legend(fontsize=8, loc="upper left")
    return _png(fig)


def _fmt(stat: dict[str, float], pct: bool = True) -> str:
    scale, unit = (100, " %") if pct else (1, "")
    return f"{stat['value'] * scale:.2f}{unit} ± {stat['se'] * scale:.2f}"


def _change(stat: dict[str, float]) -> str:
    return f"{(stat['value'] - 1) * 100:+.2f} % ± {stat['se'] * 100:.2f}"


def _html(summary: dict[str, Any], figures: dict[str, bytes]) -> str:
    p = summary["p_liquidation"]
    es = summary["expected_shortfall"]
    rows = [
        ("paths × days", f"{summary['paths']:,} × {summary['days']}"),
        ("P(any liquidation)", f"{p['p']:.2%} (95 % CI {p['ci95_low']:.2%} – {p['ci95_high']:.2%})"),
        (
            "final NAV change, 1 % / 5 % / median",
            " / ".join(_change(summary["final_nav_ratio"][k]) for k in ("q01", "q05", "q50")),
        ),
        (
            "max drawdown, median / 95 % / 99 %",
            " / ".join(_fmt(summary["max_drawdown"][k]) for k in ("q50", "q95", "q99")),
        ),
        (
            "expected shortfall 95 % / 99 % (NAV loss)",
            " / ".join(f"{es[k]['es'] * 100:.2f} % ± {es[k]['se'] * 100:.2f}" for k in ("es95", "es99")),
        ),
        (
            "keeper rebalances per path",
            f"{summary['rebalances_per_path']['mean']:.2f} ± {summary['rebalances_per_path']['se']:.2f}",
        ),
        (
            "hedging cost per path (swaps, gas), USD",
            f"{summary['hedging_cost_usd']['swap']['mean']:,.0f} / {summary['hedging_cost_usd']['gas']['mean']:,.2f}",
        ),
    ]
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    imgs = "".join(
        f'<figure><img src="data:image/png;base64,{base64.b64encode(png).decode()}" alt="{name}"></figure>'
        for name, png in figures.items()
    )
    meta = html.escape(
        f"scenario {summary.get('scenario', '')}, book {summary.get('book', '')}, seed {summary.get('seed', '')}; "
        "± is one Monte Carlo standard error"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Hedgevault Monte Carlo</title>"
        "<style>body{font-family:sans-serif;max-width:900px;margin:auto}th{text-align:left;padding-right:1em}"
        "figure{display:inline-block;margin:4px}img{max-width:430px}</style></head><body>"
        f"<h1>Monte Carlo: the book under the keeper's policy</h1><p>{meta}</p><table>{table}</table>{imgs}"
        "</body></html>"
    )
