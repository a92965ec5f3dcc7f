"""The Dask engine: a 2-worker LocalCluster on loopback gives the same bits as one process; bad input is refused."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from keeper.config import KeeperSettings
from keeper.model.exceptions import ConfigError
from sim.montecarlo.books import levered_long
from sim.montecarlo.engine import run
from sim.montecarlo.job import ChunkResult, make_job, settings_for
from sim.montecarlo.market import devnet_market
from sim.montecarlo.reduce import probability, quantile, summarise


@pytest.fixture(scope="module")
def job():  # type: ignore[no-untyped-def]
    market = devnet_market()
    book = levered_long(market, KeeperSettings())
    return make_job("merton", 24, 5, book=book, market=market, settings=settings_for(book), seed=3)


def test_local_cluster__two_workers__equals_in_process(job) -> None:  # type: ignore[no-untyped-def]
    single = run(job, workers=0)
    dist = run(job, workers=2, per_chunk=5)
    assert dist.workers == 2
    assert dist.chunks == 5
    for f in fields(ChunkResult):
        assert np.array_equal(getattr(single.result, f.name), getattr(dist.result, f.name)), f.name
    assert summarise(single.result, 3e6) == summarise(dist.result, 3e6)


def test_run__chunking__does_not_change_the_result(job) -> None:  # type: ignore[no-untyped-def]
    a, b = run(job, workers=0, per_chunk=24), run(job, workers=0, per_chunk=7)
    assert np.array_equal(a.result.final_nav_ratio, b.result.final_nav_ratio)
    assert np.array_equal(a.result.nav_histogram, b.result.nav_histogram)
    assert a.result.nav_histogram.sum(axis=1).tolist() == [24] * 6


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"paths": 0}, "paths=0 must be a positive"),
        ({"paths": -5}, "paths=-5 must be a positive"),
        ({"scenario": "moon"}, "scenario='moon' is not a Monte Carlo path model; choose one of gbm"),
        ({"days": 3000, "step_minutes": 1, "memory_mb": 64}, "MB per path, over memory_mb=64; lower --days"),
        ({"days": 5000}, "days=5000 must be in"),
        ({"step_minutes": 7}, "step_minutes=7 must"),
    ],
)
def test_make_job__bad_input__clear_error(kwargs, match) -> None:  # type: ignore[no-untyped-def]
    market = devnet_market()
    book = levered_long(market, KeeperSettings())
    args = {"scenario": "gbm", "paths": 10, "days": 1.0, **kwargs}
    with pytest.raises(ConfigError, match=match):
        make_job(
            args.pop("scenario"),
            args.pop("paths"),
            args.pop("days"),
            book=book,
            market=market,
            settings=settings_for(book),
            **args,
        )


def test_probability__none_of_1000__wilson_upper_bound() -> None:
    p = probability(0, 1000)
    assert p["p"] == 0
    assert p["ci95_low"] == pytest.approx(0, abs=1e-12)
    assert p["ci95_high"] == pytest.approx(0.00383, rel=0.01)  # Wilson: z²/(n+z²)


def test_quantile__uniform__se_matches_the_asymptotic_formula() -> None:
    x = np.random.default_rng(0).random(40_000)
    q = quantile(x, 0.5)
    # density 1: se = √(q(1−q)/n) / f = 0.0025
    assert q["value"] == pytest.approx(0.5, abs=0.01)
    assert q["se"] == pytest.approx(0.0025, rel=0.1)


def test_replay_block__the_devnet_replays_block_count() -> None:
    # The demo's replay mines: the keeper's transaction (if it acted), the market step's block, the liquidators'.
    from sim.montecarlo.job import replay_block

    approved: set[int] = set()
    assert replay_block(10, False, 0, 0, None, approved) == 11
    assert replay_block(10, True, 0, 0, None, approved) == 12  # the policy's 3-block cooldown spans two steps
    assert replay_block(10, False, 1, 0, 0, approved) == 14  # mint, approve (first time), liquidationCall
    assert replay_block(10, False, 1, 0, 0, approved) == 13  # approved already
    assert replay_block(10, True, 0, 2, None, approved) == 14  # two venue liquidations


def test_quantile__no_debt_on_any_path__infinite_health_factor_not_nan() -> None:
    # A book with no Aave debt has HF = inf on every path: np.quantile's interpolation gave inf − inf = NaN.
    q = quantile(np.full(50, np.inf), 0.01)
    assert q["value"] == np.inf
    assert q["se"] == 0.0
    assert q["ci95_low"] == q["ci95_high"] == np.inf
    mixed = quantile(np.array([1.2, 1.5, np.inf, np.inf]), 0.5)
    assert mixed["value"] > 1.5  # between a finite and an infinite order statistic: no NaN
    assert not np.isnan(list(mixed.values())).any()
