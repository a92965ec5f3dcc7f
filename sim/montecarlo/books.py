"""Starting books for the model world: the demo's levered-long book opened in the model exactly as the demo opens
it on the devnet (same batches, same order, a day between legs for the turnover budget), or a book given as
positions (``--from-positions``: what a live vault's lens read says it holds)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from keeper.config import KeeperSettings
from keeper.model import AaveBorrow, AaveSupply, Action, MarginDeposit, OptionTrade, Swap, VenueAccountOpen
from sim.montecarlo.market import SYMBOLS, Market
from sim.montecarlo.venue import VenueModel, VenueSetup, VenueState, devnet_setup
from sim.montecarlo.world import Budget, VaultModel, World

DEMO_DEPOSITS_USDC = 3_000_000.0  # what the demo's depositors fund (sim.demo.world.DEPOSITS_USDC)
#: The venue clock a model-only short-vol book opens at (a Monday): the devnet venue then lists weeklies on 4 and
#: 11 December and monthlies on 25 December and 29 January; the demo's strangle (expiry index 2) is 25 days out.
SHORT_VOL_START_UNIX_S = int(datetime(2026, 11, 30, tzinfo=UTC).timestamp())


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
    venue_setup: VenueSetup | None = None  # the venue as listed (None: no option book)
    venue_state: VenueState | None = None  # the vault's venue accounts at t = 0
    clock0_s: int = 0  # the venue's unix time at t = 0
    #: The vault's rolling turnover and loss budgets at t = 0 (times relative to t = 0): the opening batches are
    #: charged to them, as on chain (a live vault's lens reports their levels).
    budgets: tuple[Budget, Budget] = (Budget(), Budget())

    def vault(self) -> VaultModel:
        venue = self.venue_state.copy() if self.venue_state is not None else None
        turnover, loss = (replace(b) for b in self.budgets)
        return VaultModel(list(self.wallet), list(self.collateral), list(self.debt), turnover, loss, venue=venue)

    def world(self, market: Market, settings: KeeperSettings) -> World:
        """A fresh model world holding this book (its own venue model: surfaces are re-posted per path)."""
        venue = VenueModel(self.venue_setup, self.clock0_s) if self.venue_setup is not None else None
        return World(market, settings, self.vault(), venue=venue, clock0_s=self.clock0_s)


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
        # The run starts after one more market refresh (900 s) than the last leg.
        budgets=_shifted(v, world_now_s=2 * 2 * 86_400 + 900),
    )


def short_vol(
    market: Market,
    settings: KeeperSettings,
    nav_usdc: float = DEMO_DEPOSITS_USDC,
    start_s: int = SHORT_VOL_START_UNIX_S,
    setup: VenueSetup | None = None,
    prices_usd: dict[str, float] | None = None,
    contracts: float | None = None,
) -> StartBook:
    """``sim.demo.book.ShortVolBook.open`` in the model: open a venue account, deposit 800k USDC of margin and sell
    1,000 (``contracts``) WETH puts at the strike nearest 0.9 × spot and as many calls nearest 1.1 × spot of the
    venue's third expiry, each at its bid with the demo's 0.5 % proceeds bound, in one vault batch. The venue is the
    devnet's listing at ``start_s`` (``venue.devnet_setup``) unless ``setup`` is given; prices are the devnet's initial
    oracle prices unless ``prices_usd`` are given. The policy overrides are the demo book's own
    (``ShortVolBook.policy_overrides``)."""
    from sim.demo.book import ShortVolBook

    demo = ShortVolBook() if contracts is None else ShortVolBook(contracts=contracts)
    prices = [prices_usd[s] for s in SYMBOLS] if prices_usd else [r.price0_usd for r in market.reserves]
    spot = dict(zip(SYMBOLS, prices, strict=True))
    setup = setup or devnet_setup(start_s, spot)
    world = World(
        market,
        settings,
        VaultModel([nav_usdc, 0.0, 0.0], [0.0] * 3, [0.0] * 3),
        venue=VenueModel(setup, start_s),
        clock0_s=start_s,
    )
    assert world.venue is not None
    assert world.vault.venue is not None
    weth = setup.underlyings.index("WETH")
    expiries = sorted({s.expiry_s for s in setup.series if s.underlying_id == weth})
    expiry = expiries[demo.expiry_index]
    state = world.venue_state(prices, 0)
    account = world.vault.venue.next_account_id
    trades: list[Action] = [VenueAccountOpen(), MarginDeposit(demo.margin_usdc, account)]
    for m, is_call in ((demo.moneyness[0], False), (demo.moneyness[1], True)):
        series = min(
            (s for s in setup.series if s.underlying_id == weth and s.expiry_s == expiry),
            key=lambda s: abs(s.strike_usd - spot["WETH"] * m) + (0 if s.is_call == is_call else 1e12),
        )
        mark = world.venue.mark(series, state)
        bid = max(mark - world.venue.fee(series, state, mark), 0.0)
        trades.append(OptionTrade(series.series_id, -demo.contracts, -demo.contracts * bid * 0.995, account))
    if world.execute(tuple(trades), prices, 0) is None:
        raise RuntimeError("opening the short-vol book: the batch was refused by the model vault or venue")
    v = world.vault
    return StartBook(
        "short-vol",
        tuple(v.wallet),
        tuple(v.collateral),
        tuple(v.debt),
        tuple(prices),
        demo.policy_overrides(),
        demo.description,
        setup,
        v.venue,
        start_s,
        _shifted(v, world_now_s=0),  # the opening batch's charges, at t = 0
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


def from_snapshot(state: Any, listed: dict[str, Any], symbol_of: dict[str, str]) -> StartBook:
    """A live vault's book from the keeper's own read (``keeper.app.reader.LensReader``: a ``VaultLens`` snapshot and,
    per venue, its listed series): idle USDC, held tokens, Aave collateral and debt per reserve, oracle prices, and
    the venue accounts with their positions, the venue's parameters, listed series and posted surfaces; the venue
    clock starts at the snapshot's block time. ``symbol_of``: token address (lower case) → symbol. The policy is the
    keeper's own settings (no override: its configured delta target is the book's intent)."""
    from keeper.venue import model as venue_model
    from sim.montecarlo.venue import Account, Series

    rows: dict[str, tuple[float, float, float, float]] = {}
    for row in (state.asset, *state.tokens):
        symbol = symbol_of.get(row.token.lower())
        if symbol not in SYMBOLS:
            raise ValueError(f"vault token {row.token} ({symbol}): the model holds {', '.join(SYMBOLS)} only")
        scale = 10**row.decimals
        wallet = (state.idle_assets if row is state.asset else row.wallet_balance) / scale
        rows[symbol] = (wallet, row.aave_collateral / scale, row.aave_variable_debt / scale, row.price_e8 / 1e8)
    base = from_positions(
        {s: r[0] for s, r in rows.items()},
        {s: r[1] for s, r in rows.items()},
        {s: r[2] for s, r in rows.items()},
        {s: r[3] for s, r in rows.items()},
    )
    budgets = lens_budgets(state, sum(r[0] * r[3] for r in rows.values()))
    if not state.options:
        return StartBook(
            "live",
            base.wallet,
            base.collateral,
            base.debt,
            base.prices_usd,
            {},
            "the live vault's book",
            clock0_s=state.block_timestamp,
            budgets=budgets,
        )
    if len(state.options) > 1:
        raise ValueError(f"the vault trades on {len(state.options)} venues; the model world holds one")
    o = state.options[0]
    underlyings = tuple(symbol_of.get(u.asset.lower(), f"underlying{i}") for i, u in enumerate(o.underlyings))
    series: dict[int, Series] = {}
    surfaces: dict[tuple[int, int], venue_model.Surface] = {
        (s.underlying_id, s.expiry_s): venue_model.Surface(s.atm_vol_wad / 1e18, s.skew_wad / 1e18, s.smile_wad / 1e18)
        for s in o.surfaces
    }
    ls = listed.get(o.market.lower())
    if ls is not None:
        for i in range(len(ls)):
            sid = int(ls.series_id[i])
            series[sid] = Series(
                sid, int(ls.underlying_id[i]), int(ls.expiry_s[i]), float(ls.strike_usd[i]), bool(ls.is_call[i])
            )
        for key, (atm, skew, smile, _) in ls.surfaces.items():
            surfaces[key] = venue_model.Surface(atm / 1e18, skew / 1e18, smile / 1e18)
    p = o.positions
    venue_state = VenueState()
    for a in o.accounts:
        venue_state.accounts[a.account_id] = Account(a.account_id, a.collateral_e6 / 1e6)
    for i in range(len(p)):
        sid = int(p.series_id[i])
        series.setdefault(
            sid, Series(sid, int(p.underlying_id[i]), int(p.expiry_s[i]), float(p.strike_usd[i]), bool(p.is_call[i]))
        )
        account = venue_state.accounts.setdefault(int(p.account_id[i]), Account(int(p.account_id[i])))
        account.sizes[sid] = account.sizes.get(sid, 0.0) + float(p.size[i])
        if p.settlement_usd[i] > 0:
            venue_state.settlement_usd[(int(p.underlying_id[i]), int(p.expiry_s[i]))] = float(p.settlement_usd[i])
    venue_state.next_account_id = max(venue_state.accounts, default=0) + 1
    setup = _with_pool_cash(
        venue_state,
        ls,
        state.block_timestamp,
        {s: r[3] for s, r in rows.items()},
        VenueSetup(
            venue_model.RiskParams.from_chain(o.risk),
            venue_model.MarketParams.from_chain(o.params),
            underlyings,
            tuple(sorted(series.values(), key=lambda s: s.series_id)),
            surfaces,
            o.margin_floor_wad / 1e18,
            max((u.max_price_age_seconds for u in o.underlyings), default=3_600),
        ),
    )
    return StartBook(
        "live",
        base.wallet,
        base.collateral,
        base.debt,
        base.prices_usd,
        {},
        "the live vault's book (lens read), under the keeper's own settings",
        setup,
        venue_state,
        state.block_timestamp,
        budgets,
    )


def _with_pool_cash(
    venue_state: VenueState, listed: Any, now_s: int, prices: dict[str, float], setup: VenueSetup
) -> VenueSetup:
    """The LP pool's cash that, with the mirror of the vault's positions, gives the pool equity the venue reports
    (the model's pool trades with the vault only); the setup's default when the listed read is missing."""
    from dataclasses import replace

    if listed is None:
        return setup
    model = VenueModel(replace(setup, pool_cash_usd=0.0), now_s)
    state = model.state(now_s, prices)
    probe = venue_state.copy()
    probe.pool_cash_usd = 0.0
    positions_value = model.pool_margin(probe, state).equity_usd
    return replace(setup, pool_cash_usd=listed.pool_equity_e6 / 1e6 - positions_value)


def _shifted(v: VaultModel, world_now_s: float) -> tuple[Budget, Budget]:
    """The opening world's budgets with times relative to the run's t = 0 (``world_now_s`` in the opening world)."""
    return tuple(replace(b, at_s=b.at_s - world_now_s) for b in (v.turnover, v.loss))  # type: ignore[return-value]


def lens_budgets(state: Any, nav_usd: float) -> tuple[Budget, Budget]:
    """The rolling budgets from a lens read: the levels now (``periodTurnoverE8``, ``periodLossE8``); the lens does
    not report the drain rate, which is capacity / period at the last charge's NAV: taken at ``nav_usd`` (the
    NAV now, a stated approximation)."""
    r = state.risk
    turnover_drain = nav_usd * r.turnover_budget_bps / 20_000 / r.period_seconds
    loss_drain = nav_usd * r.loss_budget_bps / 20_000 / r.period_seconds
    return (
        Budget(state.period_turnover_e8 / 1e8, turnover_drain, 0.0),
        Budget(state.period_loss_e8 / 1e8, loss_drain, 0.0),
    )
