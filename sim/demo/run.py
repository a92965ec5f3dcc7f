"""Run a scenario twice on the same path from the same chain state: with the keeper live (hedged) and with the
book left alone (unhedged counterfactual). A liquidation bot runs in both. Each step is recorded as the keeper
sees it (one VaultLens read, the risk engine), so the two runs are measured the same way."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from keeper.app.assess import VaultAssessor
from keeper.app.loop import Assessment, TickResult
from keeper.config import KeeperSettings
from sim.demo.attribution import BookSnap, snap, step_pnl
from sim.demo.book import Book
from sim.demo.liquidator import AaveLiquidator, VenueLiquidator
from sim.demo.market import MarketPoint, ScenarioMarket
from sim.demo.world import World
from sim.report.html import RunSeries


@dataclass
class StepRecord:
    """One demo step as recorded (USD, units, ratios)."""

    point: MarketPoint
    nav_usd: float
    share_price: float
    net_delta_units: float
    delta_band_units: float
    health_factor: float
    liquidation_distance_pct: float
    venue_margin_ratio: float
    outcome: str
    actions: tuple[str, ...] = ()
    gas_used: int = 0
    risk: dict[str, float] = field(default_factory=dict)


@dataclass
class RunResult:
    label: str
    steps: list[StepRecord]
    liquidations: int
    liquidation_events: list[str]
    rebalances: int
    gas_used: int
    seconds: float
    delta_target_units: float = 0.0
    pnl: list[dict[str, float]] = field(default_factory=list)  # per step, by Greek (sim.demo.attribution)
    final: BookSnap | None = None

    def series(self) -> RunSeries:
        s = self.steps
        return RunSeries(
            label=self.label,
            hours=np.array([r.point.hours for r in s]),
            spot_usd=np.array([r.point.prices_usd["WETH"] for r in s]),
            nav_usd=np.array([r.nav_usd for r in s]),
            share_price=np.array([r.share_price for r in s]),
            net_delta_units=np.array([r.net_delta_units for r in s]),
            delta_band_units=np.array([r.delta_band_units for r in s]),
            health_factor=np.array([min(r.health_factor, 10.0) for r in s]),
            liquidation_distance_pct=np.array([r.liquidation_distance_pct for r in s]),
            liquidations=self.liquidations,
            rebalances=self.rebalances,
            gas_used=self.gas_used,
            delta_target_units=self.delta_target_units,
        )


OnStep = Callable[[str, StepRecord, int], None]


def _record(point: MarketPoint, assessment: Assessment | None, tick: TickResult | None) -> StepRecord:
    risk = dict(tick.risk if tick is not None else assessment.risk if assessment is not None else {})
    spot = point.prices_usd["WETH"]
    band_usd = risk.get("delta_band_usd:WETH", math.nan)
    execution = tick.execution if tick is not None else None
    acted = tick is not None and tick.plan is not None and execution is not None and execution.status == "mined"
    return StepRecord(
        point=point,
        nav_usd=risk.get("nav_usd", math.nan),
        share_price=risk.get("share_price", math.nan),
        net_delta_units=risk.get("net_delta_units:WETH", math.nan),
        delta_band_units=band_usd / spot,
        health_factor=risk.get("health_factor", math.inf),
        liquidation_distance_pct=risk.get("liquidation_distance_pct", math.nan),
        venue_margin_ratio=risk.get("venue_margin_ratio", math.nan),
        outcome=tick.outcome if tick is not None else "unhedged: no keeper",
        actions=tuple(a.kind for a in tick.plan.actions) if acted and tick is not None and tick.plan else (),
        gas_used=int(execution.gas_used or 0) if execution is not None else 0,
        risk=risk,
    )


def run_scenario(
    world: World,
    market: ScenarioMarket,
    book: Book,
    settings: KeeperSettings,
    *,
    hedged: bool,
    on_step: OnStep | None = None,
    label: str | None = None,
) -> RunResult:
    """Walk the market through every demo step; the keeper ticks after each one when ``hedged``."""
    label = label or ("hedged (keeper live)" if hedged else "unhedged (no keeper)")
    runtime = world.keeper_runtime(settings, read_only=not hedged)
    liquidator = AaveLiquidator(world)
    venue_liquidator = (
        VenueLiquidator(world, liquidator.done) if "OptionMarketAdapter" in world.record["vault"] else None
    )
    steps: list[StepRecord] = []
    pnl: list[dict[str, float]] = []
    previous: BookSnap | None = None
    rebalances = gas = 0
    t0 = time.perf_counter()
    assessor = runtime.keeper.assessor
    assert isinstance(assessor, VaultAssessor)
    assessor.assess(runtime.keeper.reader.read())  # the first point has a liquidation distance too
    assessor.deep(force=True)
    try:
        for step in range(market.steps + 1):
            point = market.apply(step) if step > 0 else market.point(0)
            liquidator.check(point.hours)
            if venue_liquidator is not None:
                venue_liquidator.check(point.hours)
            if hedged:
                tick = runtime.keeper.tick()
                record = _record(point, None, tick)
            else:  # no keeper: the same risk figures, deep ones included (venue liquidation distance), fresh
                snapshot = runtime.keeper.reader.read()
                assessor.assess(snapshot)
                deep = assessor.deep(force=True)
                assessment = assessor.assess(snapshot)  # now with this block's venue moves
                record = _record(point, replace(assessment, risk={**assessment.risk, **deep}), None)
            record.risk.setdefault("share_price", record.share_price)
            current = snap(runtime.keeper.assessor, record.nav_usd)  # type: ignore[arg-type]
            if previous is not None and current is not None:
                pnl.append(step_pnl(previous, current))
            previous = current
            rebalances += bool(record.actions)
            gas += record.gas_used
            steps.append(record)
            if on_step is not None:
                on_step(label, record, market.steps)
    finally:
        runtime.close()
    return RunResult(
        label,
        steps,
        liquidator.done.count,
        liquidator.done.events,
        rebalances,
        gas,
        time.perf_counter() - t0,
        float(settings.policy.delta_target_units.get("WETH", 0.0)),
        pnl,
        previous,
    )


def summary_row(result: RunResult) -> dict[str, Any]:
    """The README's per-scenario figures for one run."""
    nav = np.array([r.nav_usd for r in result.steps])
    peak = np.maximum.accumulate(nav)
    drawdown = float(np.max((peak - nav) / peak)) if nav.size else math.nan
    return {
        "run": result.label,
        "max_drawdown": drawdown,
        "liquidations": result.liquidations,
        "rebalances": result.rebalances,
        "gas_used": result.gas_used,
        "final_nav_usd": float(nav[-1]) if nav.size else math.nan,
        "min_health_factor": float(min(r.health_factor for r in result.steps)),
        "seconds": result.seconds,
    }


def tail_budget_record(result: RunResult, tolerance: float = 1.05) -> dict[str, Any]:
    """The tail budget over a predictive run: per tick the worst stress loss the keeper's plan left (the plan's
    "after" when its batch was mined, else the loss it started from), and the ticks where that exceeded
    ``tolerance`` × budget, with why (the batch blocked or rejected by the vault's guards, or no feasible set)."""
    kept, missed = 0, []
    for r in result.steps:
        budget = r.risk.get("tail_budget_usd")
        if budget is None:
            continue
        mined = r.outcome.endswith("rebalance mined")
        loss = (
            r.risk["tail_worst_loss_usd"]
            if (mined or r.outcome == "no action")
            else r.risk["tail_worst_loss_before_usd"]
        )
        if loss <= tolerance * budget:
            kept += 1
            continue
        why = "no feasible protection" if not r.risk.get("tail_feasible", 1.0) else r.outcome
        missed.append({"hours": r.point.hours, "worst_loss_usd": loss, "budget_usd": budget, "why": why})
    return {"ticks": kept + len(missed), "kept": kept, "missed": missed, "tolerance": tolerance}
