"""``keeper simulate --scenario NAME``: a scenario end to end on the embedded devnet, hedged vs unhedged, with
a live dashboard and a self-contained HTML report (plus PNGs and a JSON summary)."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from devnet.devnet import Devnet
from sim.demo.attribution import bucketed, payoff_curves, snap
from sim.demo.book import Book, LeveredLongBook, ShortVolBook
from sim.demo.costs import SeriesInfo, run_costs
from sim.demo.dashboard import Dashboard
from sim.demo.market import ScenarioMarket
from sim.demo.run import RunResult, run_scenario, summary_row, tail_budget_record
from sim.demo.settings import keeper_settings
from sim.demo.world import build_world, write_record
from sim.report.html import ReportData, write_report
from sim.scenarios import generate_path, load_scenario

BOOKS: dict[str, type] = {"short-vol": ShortVolBook, "levered-long": LeveredLongBook}
PREDICTIVE = "predictive (tail budget)"
REACTIVE = "reactive (delta, HF, margin)"


@dataclass(frozen=True)
class SimulationResult:
    scenario: str
    hedged: RunResult
    unhedged: RunResult
    report_path: Path
    summary_path: Path
    seconds: float
    predictive: RunResult | None = None


def simulate(
    scenario: str,
    out_dir: Path,
    *,
    book_name: str = "short-vol",
    every: int | None = None,
    console: Console | None = None,
    predictive: bool = True,
    sizing: str = "fixed",
    overrides: tuple[dict[str, Any], dict[str, Any]] = ({}, {}),
) -> SimulationResult:
    """Build the world, open the book, run it three times from the same state on the same path — predictive
    (the tail-budget rule on: ``policy.tail.enabled``), reactive (the delta/HF/margin rules alone) and unhedged —
    and write the report (``predictive=False``: the reactive and unhedged runs only). ``sizing`` (short-vol book):
    ``fixed`` contracts a side, or ``tail_budget`` — sized at the open by the keeper's rule; the three books then
    hold the same, budget-sized strangle. ``overrides``: (policy, ``policy.tail``) settings over the book's
    (:func:`sim.demo.settings.parse_overrides`; the tail ones reach the predictive run and the sizing)."""
    t0 = time.perf_counter()
    console = console or Console()
    spec = load_scenario(scenario)
    path = generate_path(spec)
    default = spec.keeper_step_seconds // spec.step_seconds if spec.keeper_step_seconds else spec.steps // 240
    every = every or max(1, default)  # the scenario's keeper step, else ~240 keeper ticks per run
    if book_name not in BOOKS:
        raise ValueError(f"book={book_name!r} is not a demo book; choose one of {', '.join(BOOKS)}")
    book: Book = BOOKS[book_name]()
    if sizing != "fixed":
        if not isinstance(book, ShortVolBook):
            raise ValueError(f"sizing={sizing!r} applies to the short-vol book only (book={book_name!r})")
        book.sizing = sizing
    extra, tail_extra = overrides
    if isinstance(book, ShortVolBook):
        book.overrides = overrides
    # a bad setting is refused before any devnet starts (the error names the field)
    keeper_settings(book, out_dir / "keeper.sqlite", "http://127.0.0.1:8545", **extra, tail={**tail_extra})
    out_dir.mkdir(parents=True, exist_ok=True)
    with Devnet.start() as devnet:
        console.print(f"devnet ready in {devnet.ready_seconds:.2f} s at {devnet.url}")
        world = build_world(devnet)
        book.open(world)
        write_record(world, out_dir / "deployment.json")
        console.print(f"vault {world.vault.address}: {book.description}")
        if isinstance(book, ShortVolBook) and book.sizing_reason:
            console.print(f"sized by the tail budget: {book.contracts:,.0f} a side ({book.sizing_reason})")
        start = world.snapshot()
        shorts = {
            int(p.series_id[i])
            for v in world.lens_state().options
            for p in [v.positions]
            for i in range(len(p.series_id))
            if p.size[i] < 0
        }
        settings = keeper_settings(book, out_dir / "keeper.sqlite", devnet.url, **extra)
        (out_dir / "keeper.sqlite").unlink(missing_ok=True)
        runs: dict[bool, RunResult] = {}
        costs: dict[str, dict[str, Any]] = {}
        predicted: RunResult | None = None
        with Dashboard(spec.name, console) as dash:
            if predictive:
                store = out_dir / "keeper-predictive.sqlite"
                store.unlink(missing_ok=True)
                tail_settings = keeper_settings(book, store, devnet.url, **extra, tail={"enabled": True, **tail_extra})
                market = ScenarioMarket(world, path, every, vol_poster=lambda m: book.post_market(world, m))
                predicted = run_scenario(
                    world, market, book, tail_settings, hedged=True, on_step=dash.update, label=PREDICTIVE
                )
                costs["predictive"] = _costs(world, tail_settings, shorts)
                world.revert(start)
                start = world.snapshot()
            for hedged in (True, False):
                if not hedged:
                    world.revert(start)
                    start = world.snapshot()
                market = ScenarioMarket(world, path, every, vol_poster=lambda m: book.post_market(world, m))
                label = REACTIVE if hedged and predictive else None
                runs[hedged] = run_scenario(
                    world, market, book, settings, hedged=hedged, on_step=dash.update, label=label
                )
                if hedged:
                    final = _final_book(world, settings, runs[True])
                    listing = keeper_settings(
                        book, out_dir / "keeper.sqlite", devnet.url, **extra, tail={"enabled": True, **tail_extra}
                    )
                    costs["reactive" if predictive else "hedged"] = _costs(world, listing, shorts)
        report = write_report(_report_data(spec, runs[True], runs[False], final, settings, predicted), out_dir)
    seconds = time.perf_counter() - t0
    summary: dict[str, Any] = {
        "scenario": spec.name,
        "book": book.name,
        "contracts": getattr(book, "contracts", None),
        "sizing": getattr(book, "sizing_reason", "") or "fixed",
        "every": every,
        "steps": path.steps // every,
        "hedged": summary_row(runs[True]),
        "unhedged": summary_row(runs[False]),
        "liquidation_events": {"hedged": runs[True].liquidation_events, "unhedged": runs[False].liquidation_events},
        "seconds": seconds,
    }
    if predicted is not None:
        summary["predictive"] = summary_row(predicted)
        summary["liquidation_events"]["predictive"] = predicted.liquidation_events
        summary["tail_budget"] = tail_budget_record(predicted)
    unhedged_nav = summary["unhedged"]["final_nav_usd"]
    for name, c in costs.items():
        row = summary.get(name if name != "reactive" else "hedged", {})
        c["nav_gap_vs_unhedged_usd"] = unhedged_nav - row.get("final_nav_usd", math.nan)
        c["spot_hedge_and_other_usd"] = c["nav_gap_vs_unhedged_usd"] - c["total_usd"]
    summary["costs"] = costs
    summary_path = out_dir / "summary.json"
    summary_path.write_text(json.dumps(summary, indent=2, default=float))
    return SimulationResult(spec.name, runs[True], runs[False], report, summary_path, seconds, predicted)


def _final_book(world: Any, settings: Any, run: RunResult) -> dict[str, Any]:
    """Stress grid (the keeper's risk engine, full revaluation with liquidation flags) and payoff of the book at
    the end of the hedged run."""
    runtime = world.keeper_runtime(settings, read_only=True)
    try:
        assessor = runtime.keeper.assessor
        assessment = assessor.assess(runtime.keeper.reader.read())
        assessor.deep(force=True)
    finally:
        runtime.close()
    grid, pnl = assessor.last_stress, assessor.last_stress_pnl_usd
    spot = assessment.book.underlyings[0].spot_usd
    spots = spot * np.linspace(0.5, 1.5, 41)
    final = run.final or snap(assessor, assessment.nav_usd)
    now, expiry = payoff_curves(final, spots) if final is not None else (np.zeros(41), np.zeros(41))
    return {
        "spot_shocks": grid.spot_shocks,
        "vol_shocks": grid.vol_shocks,
        "stress_pnl_usd": pnl,
        "payoff_spot_usd": spots,
        "payoff_now_usd": assessment.nav_usd + now,
        "payoff_at_expiry_usd": assessment.nav_usd + expiry,
    }


def _costs(world: Any, settings: Any, shorts: set[int]) -> dict[str, Any]:
    """Where the run's cost went (:mod:`sim.demo.costs`), from its store and the chain at the end of the run."""
    from devnet.venue_reads import market_at
    from keeper.policy.aave import slippage

    runtime = world.keeper_runtime(settings, read_only=True)
    try:
        store = runtime.store
        records = [r for r in reversed(store.recent_plans(100_000))]
        mined = [r for r in records if r.status == "confirmed"]
        ticks = store.last_ticks(100_000)
        spot_at = {
            int(t["block_number"]): {
                k.partition(":")[2]: float(v) for k, v in (t.get("risk") or {}).items() if k.startswith("spot_usd:")
            }
            for t in ticks
        }
        time_at = {int(t["block_number"]): int(t["block_timestamp"]) for t in ticks}
        gas_price = int(world.w3.eth.gas_price)  # the devnet's (constant) base fee; the store keeps gas used only
        gas_wei = sum((tx.gas_used or 0) * gas_price for r in mined for tx in store.txs_for_plan(r.id))
        assessment = runtime.keeper.assessor.assess(runtime.keeper.reader.read())
        venue = world.record["venue"]
        market = market_at(world.w3, venue["OptionMarket"])
        spot = {u.symbol: u.spot_usd for u in assessment.book.underlyings}
        marks = {o.series_id: o.mark_usd for o in assessment.book.listed if o.t_years > 0}
        series: dict[int, SeriesInfo] = {}
        end_value: dict[int, float] = {}
        now = world.driver.latest_timestamp()
        for x in venue["series"]:
            info = SeriesInfo(x["underlying"], int(x["expiry"]), float(x["strike_usd"]), bool(x["is_call"]))
            series[int(x["id"])] = info
            if info.expiry_s <= now:
                fixed = market.functions.settlementPrice(venue["underlyings"][info.underlying], info.expiry_s).call()
                price = fixed / 1e18 if fixed else spot.get(info.underlying, 0.0)
                payoff = price - info.strike_usd if info.is_call else info.strike_usd - price
                end_value[int(x["id"])] = max(0.0, payoff)
            else:
                end_value[int(x["id"])] = marks.get(int(x["id"]), 0.0)
        options = runtime.keeper.assessor.last_options
        params = options.venues[0].market if options is not None and options.venues else None
        return run_costs(
            [(r.block_number, r.plan) for r in mined],
            spot_at,
            time_at,
            series,
            end_value,
            shorts,
            gas_wei / 1e18 * spot.get("WETH", 0.0),
            spot_fee=params.spot_fee if params else 0.0,
            price_fee=params.price_fee if params else 0.0,
            slippage=slippage(settings.policy),
            failed_batches=sum(r.status == "failed" for r in records),
        )
    finally:
        runtime.close()


def _tail_series(run: RunResult) -> dict[str, np.ndarray]:
    """The predictive run's tail figures per step (NaN where the rule did not report)."""

    def col(key: str) -> np.ndarray:
        return np.array([r.risk.get(key, math.nan) for r in run.steps], dtype=np.float64)

    nav = np.array([r.nav_usd for r in run.steps])
    return {
        "hours": np.array([r.point.hours for r in run.steps]),
        "worst_before_usd": col("tail_worst_loss_before_usd"),
        "worst_after_usd": col("tail_worst_loss_usd"),
        "budget_usd": col("tail_budget_usd"),
        "cost_usd": np.nancumsum(
            np.where(np.array([r.outcome.endswith("mined") for r in run.steps]), col("tail_cost_usd"), 0.0)
        ),
        "realised_loss_usd": np.maximum.accumulate(nav) - nav,
        "regime_probability": col("regime_high_vol_probability"),
    }


def _report_data(
    spec: Any,
    hedged: RunResult,
    unhedged: RunResult,
    final: dict[str, Any],
    settings: Any,
    predictive: RunResult | None = None,
) -> ReportData:
    hours = np.array([r.point.hours for r in hedged.steps])
    days, attribution, unit = bucketed(hours, hedged.pnl)
    every = hedged.steps[1].point.path_index if len(hedged.steps) > 1 else 1
    notes = [
        f"{len(hedged.steps) - 1} keeper steps of {spec.step_seconds * every} s each (every {every} path points)",
        *hedged.liquidation_events,
        *(f"unhedged: {e}" for e in unhedged.liquidation_events),
    ]
    return ReportData(
        scenario=spec.name,
        description=spec.description,
        hedged=hedged.series(),
        unhedged=unhedged.series(),
        health_factor_floor=1.3,
        attribution_days=days,
        attribution_unit=unit,
        attribution_usd=attribution,
        spot_shocks=final["spot_shocks"],
        vol_shocks=final["vol_shocks"],
        stress_pnl_usd=final["stress_pnl_usd"],
        payoff_spot_usd=final["payoff_spot_usd"],
        payoff_at_expiry_usd=final["payoff_at_expiry_usd"],
        payoff_now_usd=final["payoff_now_usd"],
        notes=[n for n in notes if n and not (isinstance(n, float) and math.isnan(n))],
        predictive=predictive.series() if predictive is not None else None,
        tail=_tail_series(predictive) if predictive is not None else None,
    )
