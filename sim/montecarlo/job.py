"""A Monte Carlo job: what to simulate (validated at the edge), and one chunk of it run in one process.

A chunk is paths ``first … first + n − 1``; it returns per-path outcomes (a few numbers per path) and per-day
NAV histograms, never the paths themselves (``ChunkResult``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from keeper.config import KeeperSettings
from keeper.model.exceptions import ConfigError
from sim.montecarlo.books import StartBook
from sim.montecarlo.market import Market
from sim.montecarlo.paths import SCENARIOS, PathModel, generate
from sim.montecarlo.world import BLOCK_SECONDS, StepOutcome

#: NAV / NAV₀ histogram bins per day (the fan chart and per-day quantiles): [0, 5) in steps of 0.25 % (a levered
#: book can more than double in a month; above 5× is counted in the last bin).
NAV_BINS = np.linspace(0.0, 5.0, 2001)
#: Bytes of path arrays a chunk holds per path and step (normals, uniforms, jumps, σ, returns, prices, IV).
BYTES_PER_PATH_STEP = 16 * 8
MAX_DAYS = 3_650


@dataclass(frozen=True)
class Job:
    scenario: str
    paths: int
    days: float
    seed: int
    step_seconds: int
    book: StartBook
    market: Market
    settings: KeeperSettings
    memory_mb: float = 1_024.0
    path_model: PathModel | None = None  # the scenario calibrated (``calibrate``); None: ``SCENARIOS[scenario]``
    #: Block numbers as the devnet replay mines them (``replay_block``) instead of 12-second blocks: the chain
    #: validation compresses an hour into a few blocks, and the policy's cooldown counts blocks.
    replay_blocks: bool = False
    #: False: no keeper at all — the book as opened, marked, margined, liquidated and settled by the venue and
    #: Aave alone (the demo's unhedged run); the policy's three books compare on the same paths.
    keeper: bool = True

    @property
    def model(self) -> PathModel:
        return self.path_model if self.path_model is not None else SCENARIOS[self.scenario]

    @property
    def steps(self) -> int:
        return round(self.days * 86_400 / self.step_seconds)

    @property
    def steps_per_day(self) -> int:
        return round(86_400 / self.step_seconds)


def make_job(
    scenario: str,
    paths: int,
    days: float,
    *,
    book: StartBook,
    market: Market,
    settings: KeeperSettings,
    seed: int = 16,
    step_minutes: float = 60.0,
    memory_mb: float = 1_024.0,
    path_model: PathModel | None = None,
) -> Job:
    """A validated job; a bad input raises ``ConfigError`` naming the field, the value and the fix."""
    if scenario not in SCENARIOS:
        raise ConfigError(
            f"scenario={scenario!r} is not a Monte Carlo path model; choose one of {', '.join(SCENARIOS)}"
        )
    if paths <= 0:
        raise ConfigError(f"paths={paths} must be a positive number of paths (e.g. --paths 1000)")
    if not 0 < days <= MAX_DAYS:
        raise ConfigError(f"days={days} must be in (0, {MAX_DAYS}] (e.g. --days 30)")
    step_seconds = round(step_minutes * 60)
    if step_seconds < BLOCK_SECONDS or 86_400 % step_seconds:
        raise ConfigError(
            f"step_minutes={step_minutes} must be at least one block (0.2 min) and divide a day (e.g. 60, 30, 15)"
        )
    if memory_mb <= 0:
        raise ConfigError(f"memory_mb={memory_mb} must be positive (MB of path arrays per worker)")
    job = Job(scenario, paths, days, seed, step_seconds, book, market, settings, memory_mb, path_model)
    if job.steps % job.steps_per_day:
        raise ConfigError(f"days={days} must be a whole number of keeper steps of {step_minutes} min")
    per_path_mb = job.steps * BYTES_PER_PATH_STEP / 2**20
    if per_path_mb > memory_mb:
        raise ConfigError(
            f"days={days} at {step_minutes}-minute steps needs {per_path_mb:,.0f} MB per path, over memory_mb="
            f"{memory_mb:,.0f}; lower --days, lengthen --step-minutes or raise --memory-mb"
        )
    return job


def chunk_paths(job: Job, workers: int) -> int:
    """Paths per chunk: about 4 chunks per worker (load balance), within the memory budget."""
    by_memory = max(1, int(job.memory_mb * 2**20 // (job.steps * BYTES_PER_PATH_STEP)))
    return max(1, min(by_memory, math.ceil(job.paths / (4 * max(1, workers))), 500))


@dataclass
class ChunkResult:
    """Per-path outcomes of paths ``first …`` and per-day NAV histograms (counts, ``NAV_BINS``)."""

    first: int
    final_nav_ratio: np.ndarray
    max_drawdown: np.ndarray
    min_health_factor: np.ndarray
    first_liquidation_day: np.ndarray  # day index of the first liquidation, −1 when none
    liquidations: np.ndarray  # Aave and venue liquidations
    venue_liquidations: np.ndarray
    option_trades: np.ndarray
    rebalances: np.ndarray
    refused: np.ndarray
    swap_cost_usd: np.ndarray
    gas_usd: np.ndarray
    nav_histogram: np.ndarray  # (days + 1, bins)


def run_chunk(job: Job, first: int, n: int) -> ChunkResult:
    """Paths ``first … first + n − 1`` through the model world with the keeper's policy."""
    batch = generate(job.model, job.seed, first, n, job.steps, job.step_seconds)
    days = job.steps // job.steps_per_day
    out: dict[str, Any] = {
        k: np.zeros(n) for k in ("final_nav_ratio", "max_drawdown", "min_health_factor", "swap_cost_usd", "gas_usd")
    }
    for k in ("first_liquidation_day", "liquidations", "venue_liquidations", "option_trades", "rebalances", "refused"):
        out[k] = np.zeros(n, dtype=np.int64)
    hist: np.ndarray = np.zeros((days + 1, NAV_BINS.size - 1), dtype=np.int64)
    p0 = np.asarray(job.book.prices_usd)
    for path in range(n):
        row = simulate_path(job, p0, batch.price_ratio[path], batch.iv_multiplier[path])
        for name, value in row.items():
            if name != "nav_by_day":
                out[name][path] = value
        idx = np.clip(np.searchsorted(NAV_BINS, row["nav_by_day"], side="right") - 1, 0, NAV_BINS.size - 2)
        hist[np.arange(days + 1), idx] += 1
    return ChunkResult(first=first, nav_histogram=hist, **out)


def simulate_path(job: Job, p0: np.ndarray, ratio: np.ndarray, iv: np.ndarray | None = None) -> dict[str, Any]:
    """One path (``ratio`` of shape (steps + 1, 2); ``iv`` the implied-vol multiplier per step, shape
    (steps + 1,), used by a book on the venue): per-path outcomes and NAV / NAV₀ at each day end."""
    world = job.book.world(job.market, job.settings)
    prices_path = np.empty((ratio.shape[0], 3))
    prices_path[:, 0] = p0[0]
    prices_path[:, 1:] = p0[1:] * ratio
    rows = prices_path.tolist()
    iv_rows = np.ones(len(rows)).tolist() if iv is None else np.asarray(iv).tolist()
    nav0 = world.nav_usd(rows[0], 0)
    peak, max_dd, min_hf = nav0, 0.0, math.inf
    first_liq, liquidations, venue_liquidations, refused = -1, 0, 0, 0
    nav_by_day = [1.0]
    blocks_per_step = job.step_seconds // BLOCK_SECONDS
    keeper_step = world.keeper_step if job.keeper else (lambda *_: StepOutcome())
    start = keeper_step(rows[0], 0, 0)  # the keeper ticks at the start too, as its loop does
    block, approved = 0, set[int]()  # the replay clock (job.replay_blocks) and the liquidator's approved tokens
    last_acted = start.acted
    rebalances, swap_cost, gas = int(start.acted), start.swap_cost_usd, start.gas_usd
    option_trades = start.option_trades
    for t in range(1, len(rows)):
        prices, ts = rows[t], t * job.step_seconds
        world.accrue(job.step_seconds)
        world.move_venue(prices, ts, iv_rows[t])
        hits = int(world.liquidate(prices))
        venue_hits = world.liquidate_venue(prices, ts)
        if hits + venue_hits:
            liquidations += hits + venue_hits
            venue_liquidations += venue_hits
            if first_liq < 0:
                first_liq = (t - 1) // job.steps_per_day
        if job.replay_blocks:
            block = replay_block(block, last_acted, hits, venue_hits, world.last_liquidated_debt, approved)
        step = keeper_step(prices, ts, block if job.replay_blocks else t * blocks_per_step, rows[t - 1])
        last_acted = step.acted
        rebalances += step.acted
        refused += step.refused
        swap_cost += step.swap_cost_usd
        gas += step.gas_usd
        option_trades += step.option_trades
        nav = world.nav_usd(prices, ts)
        peak = max(peak, nav)
        max_dd = max(max_dd, (peak - nav) / peak if peak > 0 else 0.0)
        min_hf = min(min_hf, world.vault.health_factor(prices, world.lt))
        if t % job.steps_per_day == 0:
            nav_by_day.append(nav / nav0)
    return {
        "final_nav_ratio": nav_by_day[-1],
        "max_drawdown": max_dd,
        "min_health_factor": min_hf,
        "first_liquidation_day": first_liq,
        "liquidations": liquidations,
        "venue_liquidations": venue_liquidations,
        "option_trades": option_trades,
        "rebalances": rebalances,
        "refused": refused,
        "swap_cost_usd": swap_cost,
        "gas_usd": gas,
        "nav_by_day": np.asarray(nav_by_day),
    }


def replay_block(block: int, acted: bool, aave_hits: int, venue_hits: int, debt: int | None, approved: set[int]) -> int:
    """The block the keeper reads at the next step of a devnet replay (``sim.demo``): its own transaction if it acted
    (automine: one block), the market step's block, then the liquidators' transactions — Aave's funds the debt
    token (one transaction), approves it the first time (one) and liquidates (one); the venue's liquidates (one)."""
    block += int(acted) + 1 + venue_hits
    if aave_hits and debt is not None:
        block += 2 + (debt not in approved)
        approved.add(debt)
    return block


def settings_for(book: StartBook, base: KeeperSettings | None = None) -> KeeperSettings:
    """The keeper settings the model runs the policy with: ``base`` (defaults) plus the book's intent."""
    base = base or KeeperSettings()
    policy = {**base.policy.model_dump(), **book.policy_overrides}
    return base.model_copy(update={"policy": type(base.policy)(**policy)})
