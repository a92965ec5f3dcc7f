"""The book the demo opens before the scenario starts, through the keeper role (as a manager would on day 0).

A book says how it is opened, which policy settings express its intent (e.g. the delta it is meant to carry),
and what it posts to the market every step (the venue's vol surface)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from keeper.app.executor import VaultExecutor
from keeper.app.runtime import protocol_adapters
from keeper.config import PolicyConfig
from keeper.model import (
    AaveBorrow,
    AaveSupply,
    Action,
    BookView,
    MarginDeposit,
    OptionTrade,
    Plan,
    Swap,
    TailCandidate,
    VenueAccountOpen,
)
from keeper.policy.tail import PremiumLeg
from sim.demo.world import World


class Book(Protocol):
    name: str
    description: str

    def open(self, world: World) -> None: ...

    def policy_overrides(self) -> dict[str, Any]: ...

    def post_market(self, world: World, vol_multiplier: float) -> None: ...


def keeper_rebalance(world: World, *actions: Action) -> dict[str, Any]:
    """Send one vault rebalance from the keeper address (anvil-unlocked): how a book is opened."""
    executor = VaultExecutor(None, world.vault.address, protocol_adapters(world.record))  # type: ignore[arg-type]
    data = executor.encode(Plan(0, tuple(actions), ()))
    tx = {"from": world.keeper_address, "to": world.vault.address, "data": data}
    tx_hash = world.w3.eth.send_transaction(tx)  # type: ignore[arg-type]
    receipt = dict(world.w3.eth.wait_for_transaction_receipt(tx_hash))
    if receipt["status"] != 1:
        raise RuntimeError(f"opening the book reverted (tx {tx_hash.hex()})")
    return receipt


def refresh_market(world: World) -> None:
    """Pools back at the oracle (arbitrage), a TWAP window of history, fresh oracle rounds."""
    for symbol in ("WETH", "WBTC"):
        world.driver.move_pool(symbol, world.driver.oracle_price(symbol))
    world.driver.advance(900)
    for symbol in ("USDC", "WETH", "WBTC"):
        world.driver.set_price(symbol, world.driver.oracle_price(symbol))


@dataclass
class LeveredLongBook:
    """A levered long WETH book: the deposits buy WETH, supplied on Aave; USDC is borrowed against it and
    re-invested twice, to an Aave health factor of about 1.5 (a basis-trade or leveraged-staking shape).
    Its intent is to stay long: the keeper's delta target is the opening delta, so it only deleverages."""

    name: str = "levered-long"
    description: str = "levered long WETH on Aave (HF ≈ 1.5); the keeper's delta target is the opening delta"
    target_units: float = 0.0

    def open(self, world: World) -> None:
        nav = world.vault.functions.totalAssets().call() / 1e6
        spot = world.driver.oracle_price("WETH")
        buy = 0.97 * nav
        units = buy / spot * 0.99
        keeper_rebalance(world, Swap("USDC", "WETH", buy, units), AaveSupply("WETH", units))
        for fraction in (0.69, 0.55):  # of NAV, borrowed and re-invested: C/D ≈ 1.8 → HF ≈ 0.83 × 1.8
            refresh_market(world)
            world.driver.advance(86_400)  # each leg in its own turnover-budget period
            refresh_market(world)
            borrow = fraction * nav
            units = borrow / spot * 0.99
            keeper_rebalance(
                world, AaveBorrow("USDC", borrow), Swap("USDC", "WETH", borrow, units), AaveSupply("WETH", units)
            )
        refresh_market(world)
        weth_address = world.record["tokens"]["WETH"]["address"].lower()
        weth = next(t for t in world.lens_state().tokens if t.token.lower() == weth_address)
        self.target_units = (weth.wallet_balance + weth.aave_collateral - weth.aave_variable_debt) / 1e18

    def policy_overrides(self) -> dict[str, Any]:
        return {"delta_target_units": {"WETH": self.target_units}}

    def post_market(self, world: World, vol_multiplier: float) -> None:
        return None


@dataclass
class ShortVolBook:
    """A short-volatility book: the vault sells a one-month WETH strangle on the venue (calls and puts ~10 % out of
    the money) against posted USDC margin and earns the premium; the keeper hedges its delta through Aave and
    Uniswap, tops up venue margin, and buys back shorts when gamma or vega pass their limits. The vol feeder
    re-posts the surface every step, scaled by the scenario's vol path."""

    name: str = "short-vol"
    description: str = "short one-month WETH strangle on the venue, delta-hedged on Aave/Uniswap by the keeper"
    contracts: float = 1000.0  # a side; with sizing "tail_budget" the cap
    sizing: str = "fixed"  # or "tail_budget": as many a side as keep the tail budget at forecast vol (issue 15 item 3)
    margin_usdc: float = 800_000.0
    moneyness: tuple[float, float] = (0.9, 1.1)
    expiry_index: int = 2  # the first monthly expiry of the devnet venue (≈ 4 weeks out)
    account_id: int = 0
    base_surfaces: dict[tuple[int, int], tuple[int, int, int]] | None = None
    sizing_reason: str = ""
    overrides: tuple[dict[str, Any], dict[str, Any]] = ({}, {})  # (policy, policy.tail) settings, as the demo runs

    def open(self, world: World) -> None:
        from devnet.venue_reads import market_at

        venue = world.record["venue"]
        market = market_at(world.w3, venue["OptionMarket"])
        refresh_market(world)
        self._post(world, 1.0)
        spot = world.driver.oracle_price("WETH")
        expiry = venue["expiries"][self.expiry_index]
        self.account_id = int(market.functions.accountCount().call()) + 1
        trades: list[Action] = [VenueAccountOpen(), MarginDeposit(self.margin_usdc, self.account_id)]
        strikes = [
            min(
                (s for s in venue["series"] if s["underlying"] == "WETH" and s["expiry"] == expiry),
                key=lambda s: abs(s["strike_usd"] - spot * m) + (0 if s["is_call"] == is_call else 1e12),
            )
            for m, is_call in ((self.moneyness[0], False), (self.moneyness[1], True))
        ]
        if self.sizing == "tail_budget":  # the keeper sees the venue's chain once the vault has an account there
            keeper_rebalance(world, *trades)
            trades = []
            self.contracts = self._budget_size(world, [int(s["id"]) for s in strikes])
        for strike in strikes:
            proceeds = market.functions.quoteSell(strike["id"], int(self.contracts * 1e18)).call()[0] / 1e6
            trades.append(OptionTrade(strike["id"], -self.contracts, -proceeds * 0.995, self.account_id))
        keeper_rebalance(world, *trades)

    def _budget_size(self, world: World, series: list[int]) -> float:
        """Contracts a side by the keeper's own sizing rule (``keeper.policy.tail.size_new_premium``) on its view of
        the vault before the open: the stress set at forecast vol, the strangle's legs at the venue's bids; capped at
        ``contracts``. What a manager following issue 15's item 3 would sell, instead of a fixed count."""
        from keeper.policy.tail import size_new_premium

        view, policy = tail_view(world, self, *self.overrides)
        sized = size_new_premium(view, policy, strangle_legs(view, series))
        self.sizing_reason = sized.reason
        return float(min(self.contracts, math.floor(sized.units)))

    def policy_overrides(self) -> dict[str, Any]:
        # The residual delta may cost at most $5k at 1 σ over a day (0.17 % of NAV): a band of ~50 WETH. The
        # strangle opens at ~$110k of gamma per 1 % (1,000 contracts a side): the limit sits above it, so the keeper
        # buys back only when gamma grows (spot nearing a strike, expiry nearing), not on day 0.
        return {
            "idle_reserve_usdc": 100_000.0,
            "delta_risk_budget_usd": 5_000.0,
            "max_net_gamma_usd_per_pct": 200_000.0,
            "max_net_vega_usd_per_vol_pt": 20_000.0,
        }

    def post_market(self, world: World, vol_multiplier: float) -> None:
        self._post(world, vol_multiplier)

    def _post(self, world: World, vol_multiplier: float) -> None:
        """The vol feeder's surfaces: the devnet's base surface per live expiry, ATM vol × ``vol_multiplier``."""
        from devnet.deployer import Deployer
        from devnet.venue_reads import market_at

        venue = world.record["venue"]
        market = market_at(world.w3, venue["OptionMarket"])
        now = world.driver.latest_timestamp()
        if self.base_surfaces is None:
            self.base_surfaces = {}
            for uid in venue["underlyings"].values():
                for expiry in venue["expiries"]:
                    atm, skew, smile, _ = market.functions.volSurface(uid, expiry).call()
                    self.base_surfaces[(uid, expiry)] = (atm, skew, smile)
        feeder = Deployer(world.w3, venue["vol_feeder"])
        batch = world.driver.extra_senders
        if feeder.sender not in [d.sender for d in batch]:
            batch.append(feeder)
        sender = next(d for d in batch if d.sender == feeder.sender)
        for (uid, expiry), (atm, skew, smile) in self.base_surfaces.items():
            if expiry <= now + 3_600:
                continue
            call = market.functions.postVolSurface(uid, expiry, round(atm * vol_multiplier), skew, smile)
            sender.send(call, "post vol surface", gas=200_000)


def tail_view(
    world: World, book: Book, policy: dict[str, Any] | None = None, tail: dict[str, Any] | None = None
) -> tuple[BookView, PolicyConfig]:
    """The keeper's view of the vault now (one lens read, the deep refresh: forecast vol and regime), with the tail
    budget on (and ``policy``/``tail`` settings over the book's), and the policy it was read under."""
    import tempfile
    from pathlib import Path

    from keeper.app.assess import VaultAssessor
    from sim.demo.settings import keeper_settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = keeper_settings(
            book, Path(tmp) / "view.sqlite", world.url, **(policy or {}), tail={"enabled": True, **(tail or {})}
        )
        runtime = world.keeper_runtime(settings, read_only=True)
        try:
            assessor = runtime.keeper.assessor
            assert isinstance(assessor, VaultAssessor)
            assessor.assess(runtime.keeper.reader.read())
            assessor.deep(force=True)
            return assessor.assess(runtime.keeper.reader.read()).book, settings.policy
        finally:
            runtime.close()


def strangle_legs(view: BookView, series: list[int]) -> list[PremiumLeg]:
    """One unit of the strangle per ``series`` (each sold: −1) at the venue's bid, from the keeper's listed chain."""
    listed = {o.series_id: o for o in view.listed}
    missing = [i for i in series if i not in listed]
    if missing:
        raise RuntimeError(f"series {missing} not in the keeper's listed chain: cannot size the strangle")
    return [
        PremiumLeg(
            TailCandidate(o.series_id, o.underlying, o.strike_usd, o.t_years, o.vol, o.is_call, o.ask_usd, 0.0),
            -1.0,
            o.bid_usd,
        )
        for o in (listed[i] for i in series)
    ]
