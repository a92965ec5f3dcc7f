"""Monte Carlo figures for the README: engine wall time (1 worker vs 2, the 10,000 × 30-day target) and the model
vs chain validation table on 20 short paths.

    python -m bench.montecarlo                 # both, writes bench/montecarlo-results.md
    python -m bench.montecarlo --paths 2000    # a smaller engine job
    python -m bench.montecarlo --skip-engine   # the validation tables only
    python -m bench.montecarlo --skip-engine --books short-vol --rows 10   # the short-vol table, 10 paths
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from keeper.config import KeeperSettings
from sim.montecarlo.books import levered_long
from sim.montecarlo.engine import run
from sim.montecarlo.job import make_job, settings_for
from sim.montecarlo.market import devnet_market
from sim.montecarlo.reduce import summarise
from sim.montecarlo.validate import compare, liquidating_paths, table

OUT = Path(__file__).with_name("montecarlo-results.md")


def engine(paths: int, days: float, scenario: str) -> list[str]:
    market = devnet_market()
    book = levered_long(market, KeeperSettings())
    job = make_job(scenario, paths, days, book=book, market=market, settings=settings_for(book))
    lines = [
        f"Engine: {paths:,} paths × {days:g} days at hourly keeper steps ({paths * job.steps:,} policy steps), "
        f"scenario `{scenario}`, levered-long book, {os.cpu_count()} cores (shared).",
        "",
        "| engine | wall (s) | policy steps / s | P(liq) | ES 99 % |",
        "|---|---:|---:|---:|---:|",
    ]
    results = {}
    for workers in (1, 2):
        t0 = time.perf_counter()
        r = run(job, workers=workers)
        wall = time.perf_counter() - t0  # includes starting the LocalCluster
        s = summarise(r.result, 3e6)
        results[workers] = (wall, r)
        lines.append(
            f"| LocalCluster({workers}) | {wall:,.1f} | {paths * job.steps / wall:,.0f} | "
            f"{s['p_liquidation']['p']:.2%} ± {s['p_liquidation']['se']:.2%} | "
            f"{s['expected_shortfall']['es99']['es']:.2%} |"
        )
    same = all(
        (getattr(results[1][1].result, f) == getattr(results[2][1].result, f)).all()
        for f in ("final_nav_ratio", "max_drawdown", "nav_histogram")
    )
    lines += ["", f"Speed-up 2 workers / 1: {results[1][0] / results[2][0]:.2f}×; results identical: {same}."]
    return lines


def validation(scenario: str, seed: int, hours: int, n: int, book: str = "levered-long") -> list[str]:
    liq = liquidating_paths(scenario, seed, hours, 5, book_name=book)
    indices = sorted(set(liq))
    k = 0
    while len(indices) < n:  # the first paths of the run, plus the liquidating ones
        indices = sorted(set(indices) | {k})
        k += 1
    t0 = time.perf_counter()
    rows = compare(scenario, seed, indices, hours, Path(tempfile.mkdtemp()), book=book)
    passed = sum(r.passed for r in rows)
    return [
        f"Validation: {len(rows)} paths of `{scenario}` (seed {seed}) × {hours} h, hourly keeper steps, {book} "
        f"book; chain = devnet with the live keeper (sim.demo), model = sim.montecarlo "
        f"({time.perf_counter() - t0:.0f} s).",
        "",
        table(rows),
        "",
        f"{passed} / {len(rows)} rows within all bounds (final NAV ±0.5 %, same liquidation outcome, rebalances ±10 %, "
        "±1 under 10).",
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--paths", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=30.0)
    parser.add_argument("--scenario", default="gbm")
    parser.add_argument("--skip-engine", action="store_true")
    parser.add_argument("--skip-validation", action="store_true")
    parser.add_argument("--books", default="levered-long,short-vol", help="validation books, comma-separated")
    parser.add_argument("--rows", type=int, default=20, help="validation paths per book")
    args = parser.parse_args()
    lines = [f"# Monte Carlo bench ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", ""]
    if not args.skip_validation:
        for book in args.books.split(","):
            lines += [*validation("crash", 16, 48, args.rows, book), ""]
    if not args.skip_engine:
        lines += engine(args.paths, args.days, args.scenario)
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
