"""Replay a scenario path on the devnet, one demo step at a time: Uniswap pools moved to the path's price by
real arbitrage swaps, oracle rounds written (unless the scenario's oracle is out), the venue's vol surface
re-posted (if a poster is given), and chain time advanced to the step's end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sim.demo.world import World
from sim.scenarios.paths import ScenarioPath

RISKY = ("WETH", "WBTC")


@dataclass(frozen=True)
class MarketPoint:
    step: int  # demo step (0 = the start)
    path_index: int
    hours: float
    spot_multiplier: float
    vol_multiplier: float
    oracle_live: bool
    prices_usd: dict[str, float]


class ScenarioMarket:
    """Drives the world along ``path`` in steps of ``every`` path points. Both risky underlyings follow the
    path's multiplier (crypto moves together in the tails this demo is about)."""

    def __init__(
        self,
        world: World,
        path: ScenarioPath,
        every: int,
        vol_poster: Callable[[float], None] | None = None,
    ) -> None:
        if every < 1:
            raise ValueError(f"every={every} must be ≥ 1 (path points per demo step)")
        self.world, self.path, self.every = world, path, every
        self.vol_poster = vol_poster
        self.base = {symbol: world.driver.oracle_price(symbol) for symbol in RISKY}
        self.steps = path.steps // every

    def point(self, step: int) -> MarketPoint:
        i = min(step * self.every, self.path.steps)
        m = float(self.path.spot_multiplier[i])
        return MarketPoint(
            step,
            i,
            i * self.path.step_seconds / 3600,
            m,
            float(self.path.vol_multiplier[i]),
            bool(self.path.oracle_live[i]),
            {symbol: self.base[symbol] * m for symbol in RISKY},
        )

    def apply(self, step: int) -> MarketPoint:
        """Move the market to demo step ``step`` and end at the step's time (one block at least)."""
        point = self.point(step)
        driver = self.world.driver
        driver.prepare_pool_moves(point.prices_usd)
        end = driver.latest_timestamp() + self.every * self.path.step_seconds
        with driver.one_block(end):
            for symbol, price in point.prices_usd.items():
                driver.move_pool(symbol, price)  # arbitrageurs keep trading when the oracle is out
                if point.oracle_live:
                    driver.set_price(symbol, price)
            driver.move_cross(point.prices_usd)
            if point.oracle_live:
                driver.set_price("USDC", 1.0)
            if self.vol_poster is not None:
                self.vol_poster(point.vol_multiplier)
        return point
