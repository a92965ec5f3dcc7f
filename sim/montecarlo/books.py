"""Starting books for the model world: the demo's levered-long book opened in the model exactly as the demo opens
it on the devnet (same batches, same order, a day between legs for the turnover budget), or a book given as
positions (``--from-positions``: what a live vault's lens read says it holds)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from keeper.config import KeeperSettings
from keeper.model import AaveBorrow, AaveSupply, Action, Swap
from sim.montecarlo.market import SYMBOLS, Market
from sim.montecarlo.world import VaultModel, World

DEMO_DEPOSITS_USDC = 3_000_000.0  # what the demo's depositors fund (sim.demo.world.DEPOSITS_USDC)


@dataclass(frozen=True)
class StartBook:
    """A book at t = 0: positions (units, ``SYMBOLS`` order), the prices they were opened at, the policy overrides
    that express its intent (the delta target), and a one-line description."""

    name: str
    wallet: tuple[float, ...]
    collateral: tuple[float, ...]
    debt: tuple[float, ...]
    prices_usd: tuple[float, ...]
    policy_overrides: dict[str, Any]
    description: str

    def vault(self) -> VaultModel:
        return VaultModel(list(self.wallet), list(self.collateral), list(self.debt))


def levered_long(market: Market, settings: KeeperSettings, nav_usdc: float = DEMO_DEPOSITS_USDC) -> StartBook:
    """``sim.demo.book.LeveredLongBook.open`` in the model: buy 0.97 × NAV of WETH and supply it, then twice borrow
    USDC (0.69 and 0.55 × NAV), buy WETH and supply it, a day apart. The delta target is the resulting delta."""
    prices = [r.price0_usd for r in market.reserves]
    world = World(market, settings, VaultModel([nav_usdc, 0.0, 0.0], [0.0] * 3, [0.0] * 3))
    spot = prices[1]
    buy = 0.97 * nav_usdc
    units = buy / spot * 0.99
    legs: list[tuple[Action, ...]] = [(Swap("USDC", "WETH", buy, units), AaveSupply("WETH", units))]
    for fraction in (0.69, 0.55):
        borrow = fraction * nav_usdc
        units = borrow / spot * 0.99
        legs.append((AaveBorrow("USDC", borrow), Swap("USDC", "WETH", borrow, units), AaveSupply("WETH", units)))
    for day, actions in enumerate(legs):
        if world.execute(actions, prices, day * 86_400 * 2) is None:
            raise RuntimeError(f"opening the levered-long book: leg {day} refused by the model vault")
    v = world.vault
    target = v.wallet[1] + v.collateral[1] - v.debt[1]
    return StartBook(
        "levered-long",
        tuple(v.wallet),
        tuple(v.collateral),
        tuple(v.debt),
        tuple(prices),
        {"delta_target_units": {"WETH": target}},
        "levered long WETH on Aave (HF ≈ 1.5); the keeper's delta target is the opening delta",
    )


def from_positions(
    wallet: dict[str, float], collateral: dict[str, float], debt: dict[str, float], prices_usd: dict[str, float]
) -> StartBook:
    """A book from positions by symbol (missing symbols are 0); the delta target is the current delta."""
    for name, rows in (("wallet", wallet), ("collateral", collateral), ("debt", debt), ("prices_usd", prices_usd)):
        unknown = set(rows) - set(SYMBOLS)
        if unknown:
            raise ValueError(f"{name}: unknown symbols {sorted(unknown)}; the model holds {', '.join(SYMBOLS)}")
    w, c, d = (tuple(float(rows.get(s, 0.0)) for s in SYMBOLS) for rows in (wallet, collateral, debt))
    target = {s: w[i] + c[i] - d[i] for i, s in enumerate(SYMBOLS) if i > 0}
    return StartBook(
        "positions",
        w,
        c,
        d,
        tuple(float(prices_usd.get(s, 1.0 if s == "USDC" else 0.0)) for s in SYMBOLS),
        {"delta_target_units": target},
        "the given positions; the keeper's delta target is their current delta",
    )
