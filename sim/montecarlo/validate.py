"""Model vs chain: the same Monte Carlo paths replayed on the devnet with the live keeper (the demo's machinery:
``sim.demo`` world, book, market driver, liquidator, ``keeper.app`` loop) and through the model world, compared
on final NAV, liquidation outcome and action counts.

The chain run opens one of the demo's books on a fresh devnet vault (``levered-long``, or ``short-vol``: the
strangle on the venue); the model starts from the positions the vault's lens then reports (so both start from the
same book; the short-vol book through ``live.read_book``, the venue's accounts, series and surfaces included) and
runs the same keeper settings. The demo's market driver moves both risky tokens by the path's WETH multiplier, so
the model is given that path for both; with the short-vol book the demo's vol feeder re-posts the surfaces with
the path's implied-vol multiplier, on chain as in the model.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from keeper.config import KeeperSettings
from sim.montecarlo.books import StartBook, from_positions, lens_budgets
from sim.montecarlo.job import make_job, simulate_path
from sim.montecarlo.market import SYMBOLS, Market, devnet_market
from sim.montecarlo.paths import SCENARIOS, replay

HOUR = 3600


@dataclass(frozen=True)
class Comparison:
    path_index: int
    chain_final_nav_usd: float
    model_final_nav_usd: float
    chain_liquidations: int
    model_liquidations: int
    chain_rebalances: int
    model_rebalances: int
    chain_seconds: float
    chain_error: str = ""  # set when the chain replay itself failed (the row then fails)

    @property
    def nav_error(self) -> float:
        """Relative error of what depositors hold: the vault's NAV is floored at 0 (a book whose debt exceeds its
        assets is worth nothing to shares; the rest is the lender's bad debt), so the model's is compared floored."""
        model = max(0.0, self.model_final_nav_usd)
        if self.chain_final_nav_usd <= 0:
            return 0.0 if model == 0 else math.inf
        return model / self.chain_final_nav_usd - 1.0

    @property
    def same_liquidation_outcome(self) -> bool:
        return (self.chain_liquidations > 0) == (self.model_liquidations > 0)

    @property
    def actions_within_10pct(self) -> bool:
        """Counts within ±10 %; on counts under 10 that is ±1 (one rebalance is the resolution)."""
        return abs(self.model_rebalances - self.chain_rebalances) <= max(1.0, 0.1 * self.chain_rebalances)

    @property
    def passed(self) -> bool:
        if self.chain_error:
            return False
        return abs(self.nav_error) <= 0.005 and self.same_liquidation_outcome and self.actions_within_10pct


def chain_book(world: Any) -> StartBook:
    """The vault's positions as its lens reports them, at the driver's oracle prices."""
    state = world.lens_state()
    symbols = {t["address"].lower(): s for s, t in world.record["tokens"].items()}
    wallet, collateral, debt = {}, {}, {}
    for row in (state.asset, *state.tokens):
        s = symbols[row.token.lower()]
        scale = 10**row.decimals
        wallet[s] = (state.idle_assets if row is state.asset else row.wallet_balance) / scale
        collateral[s] = row.aave_collateral / scale
        debt[s] = row.aave_variable_debt / scale
    prices = {s: world.driver.oracle_price(s) for s in SYMBOLS}
    book = from_positions(wallet, collateral, debt, prices)
    nav = book.vault().nav_usd(list(book.prices_usd))
    return replace(book, budgets=lens_budgets(state, nav))


def model_run(
    book: StartBook,
    settings: KeeperSettings,
    market: Market,
    ratio_weth: np.ndarray,
    days: float,
    iv: np.ndarray | None = None,
) -> dict[str, Any]:
    job = replace(make_job("gbm", 1, days, book=book, market=market, settings=settings), replay_blocks=True)
    out = simulate_path(job, np.asarray(book.prices_usd), np.stack([ratio_weth, ratio_weth], axis=1), iv)
    out["nav0_usd"] = book.world(market, settings).nav_usd(list(book.prices_usd), 0)
    return out


def compare(
    scenario: str, seed: int, indices: list[int], hours: int, store_dir: Path, book: str = "levered-long"
) -> list[Comparison]:
    """Replay paths ``indices`` of run (scenario, seed) on the devnet and in the model, one fresh vault state each."""
    from devnet.devnet import Devnet
    from keeper.chain.rpc import RpcClient
    from sim.demo.book import LeveredLongBook, ShortVolBook
    from sim.demo.market import ScenarioMarket
    from sim.demo.run import run_scenario
    from sim.demo.settings import keeper_settings
    from sim.demo.world import build_world
    from sim.montecarlo.live import read_book
    from sim.scenarios.paths import ScenarioPath

    if book not in ("levered-long", "short-vol"):
        raise ValueError(f"book={book!r}: the validation replays 'levered-long' or 'short-vol'")
    model = SCENARIOS[scenario]
    market = devnet_market()
    rows = []
    with Devnet.start() as devnet:
        world = build_world(devnet)
        demo_book: Any = LeveredLongBook() if book == "levered-long" else ShortVolBook()
        demo_book.open(world)
        if book == "levered-long":
            start_book = chain_book(world)
        else:
            client = RpcClient(devnet.url)
            try:
                start_book = read_book(client, world.lens_state(), world.record)
            finally:
                client.close()
        poster = None if book == "levered-long" else (lambda m: demo_book.post_market(world, m))
        start = world.snapshot()
        for i in indices:
            world.revert(start)
            start = world.snapshot()
            store = store_dir / f"keeper-{i}.sqlite"
            store.unlink(missing_ok=True)
            settings = keeper_settings(demo_book, store, devnet.url)
            drawn = replay(model, seed, i, hours, HOUR)
            ratio = drawn.price_ratio[0, :, 0]
            ones = np.ones(hours + 1)
            iv = drawn.iv_multiplier[0] if poster is not None else ones
            path = ScenarioPath(f"{scenario}-{seed}-{i}", HOUR, ratio, iv, ones[:-1], ones.astype(bool))
            t0 = time.perf_counter()
            m = model_run(start_book, settings, market, ratio, hours / 24, iv)
            try:
                driven = ScenarioMarket(world, path, 1, vol_poster=poster)
                chain = run_scenario(world, driven, demo_book, settings, hedged=True)
            except Exception as err:  # a replay the demo's machinery cannot finish is a row, not a crash
                message = str(err.args[0] if err.args else err).splitlines()[0][:80]
                rows.append(
                    Comparison(
                        i,
                        math.nan,
                        m["final_nav_ratio"] * m["nav0_usd"],
                        -1,
                        int(m["liquidations"]),
                        -1,
                        int(m["rebalances"]),
                        time.perf_counter() - t0,
                        f"{type(err).__name__}: {message}",
                    )
                )
                continue
            seconds = time.perf_counter() - t0
            rows.append(
                Comparison(
                    i,
                    chain.steps[-1].nav_usd,
                    m["final_nav_ratio"] * m["nav0_usd"],
                    chain.liquidations,
                    int(m["liquidations"]),
                    chain.rebalances,
                    int(m["rebalances"]),
                    seconds,
                )
            )
    return rows


def table(rows: list[Comparison]) -> str:
    """The README's validation table (Markdown)."""
    out = [
        "| path | final NAV chain (USD) | model | error | liquidations chain / model | rebalances chain / model | ok |",
        "|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in rows:
        if r.chain_error:
            out.append(
                f"| {r.path_index} | chain replay failed: {r.chain_error} | {r.model_final_nav_usd:,.0f} | | | | NO |"
            )
            continue
        out.append(
            f"| {r.path_index} | {r.chain_final_nav_usd:,.0f} | {r.model_final_nav_usd:,.0f} | {r.nav_error:+.3%} | "
            f"{r.chain_liquidations} / {r.model_liquidations} | {r.chain_rebalances} / {r.model_rebalances} | "
            f"{'yes' if r.passed else 'NO'} |"
        )
    return "\n".join(out)


def liquidating_paths(
    scenario: str, seed: int, hours: int, count: int, search: int = 400, book_name: str = "levered-long"
) -> list[int]:
    """The first ``count`` path indices of run (scenario, seed) that the model liquidates (for the validation's
    liquidation rows), from the demo's book (``levered-long`` or ``short-vol``) opened in the model."""
    from sim.montecarlo.books import levered_long, short_vol
    from sim.montecarlo.job import settings_for

    market = devnet_market()
    book = (levered_long if book_name == "levered-long" else short_vol)(market, KeeperSettings())
    settings = settings_for(book)
    found = []
    for i in range(search):
        drawn = replay(SCENARIOS[scenario], seed, i, hours, HOUR)
        ratio = drawn.price_ratio[0, :, 0]
        iv = drawn.iv_multiplier[0] if book.venue_setup is not None else None
        if model_run(book, settings, market, ratio, hours / 24, iv)["liquidations"] > 0:
            found.append(i)
            if len(found) == count:
                break
    return found
