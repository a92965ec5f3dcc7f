"""The option venue in the model world: the vault's venue accounts on the devnet's OptionMarket, valued, margined,
traded, liquidated and settled with the venue's own formulas (``keeper.venue.model``, which matches the contract
to ~1e-13) and the contract's rules (``contracts/options/OptionMarket.sol``):

- **Surfaces**: the vol feeder re-posts, every step, each expiry's base surface (the one on chain when the book
  opened) with its ATM vol × the path's implied-vol multiplier (``paths``: IV follows realised vol), as the demo's
  ``ShortVolBook.post_market`` does; an expiry within an hour keeps its last posted surface (the demo skips it).
- **Trades** (``OptionTrade``): at the venue's ask (buy: mark + fee, fee = spot_fee·S + price_fee·mark) or bid
  (sell: mark − fee, floored at 0), paid from / into the account's collateral; refused inside the trading cutoff,
  above the plan's cost bound, with the collateral short of the cost, or when the account ends below IM without
  having reduced its IM shortfall (``_trade``'s check). ``MarginDeposit`` moves idle USDC into the account.
- **The vault's post-check** when a batch traded on the venue: every account with a maintenance requirement holds
  equity > 0 and ≥ the adapter's ``marginFloorWad`` × MM (``OptionMarketAdapter.checkMargin``).
- **Liquidation** (``liquidate``): below MM anyone may close part of a position at the ask (a short) with a
  penalty of ``liquidation_penalty`` × spot per unit closed paid to the liquidator; the venue refuses a close that
  does not reduce the IM shortfall or that leaves equity above IM. The liquidator is the demo's ``VenueLiquidator``:
  the most negative-valued short first, the whole position if the venue accepts it, else the largest size found by
  bisection to within 1 %, up to 4 rounds per account per step. An account left with no positions and negative
  collateral is absorbed by the pool (bad debt: the account is 0).
- **Settlement**: an expiry's price is fixed from the oracle's first round at or after it (the step crossing it),
  and the keeper cashes the account at once (``keeper.app.settlement``): each expired position pays size × payoff.

- **The LP pool** is the counterparty of every trade: its cash moves with premiums, settlements and absorbed bad
  debt, its book is the opposite of the vault's accounts, and a trade that leaves it under IM without reducing its
  shortfall is refused (``PoolMarginBreached``), as is a sale the pool's cash cannot pay. Its free margin sizes the
  tail rule's wings (``keeper.app.assess_tail``), read from the model as ``adapters.venue_series`` reads the chain.

Not modelled (stated): other traders on the venue (the pool's book is the vault's mirror; the devnet has none), the
integer rounding of premiums (< 1 µUSDC per trade), oracle staleness, and the pool's insolvency: no LP withdraws
and the pool's only counterparty is the vault, so neither the venue's haircut on longs (``poolHaircutWad``) nor its
cut of a long's close (bid × (1 − h)) is applied; a path that took the pool's equity below 0 would overvalue the
vault's longs and their closes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adapters.vault_lens import OptionPositions, OptionsState, VenueAccount, VenueSurface, VenueUnderlying
from adapters.venue_series import ListedSeries
from keeper.venue import model as venue

WAD = 10**18
#: The demo's vol feeder does not re-post an expiry less than this far away (``ShortVolBook._post``).
REPOST_MIN_SECONDS = 3_600
#: Rounds of the demo's venue liquidator per account and step (``VenueLiquidator.check``).
LIQUIDATION_ROUNDS = 4


class VenueRefusedError(Exception):
    """A venue call the contract would revert (the reason is the message)."""


@dataclass(frozen=True)
class Series:
    series_id: int
    underlying_id: int  # the venue's id
    expiry_s: int  # unix seconds
    strike_usd: float
    is_call: bool


@dataclass(frozen=True)
class VenueSetup:
    """The venue as deployed: parameters, listed series, the surfaces posted at the start (per (uid, expiry)),
    its underlyings' symbols by venue id, and the vault adapter's margin floor."""

    risk: venue.RiskParams
    market: venue.MarketParams
    underlyings: tuple[str, ...]  # venue underlying id → token symbol
    series: tuple[Series, ...]
    base_surfaces: dict[tuple[int, int], venue.Surface]
    margin_floor: float = 1.5  # governance.deploy: venue_margin_floor_wad = 1.5e18
    max_price_age_seconds: int = 3_600
    pool_cash_usd: float = 20_000_000.0  # the LP pool's cash at t = 0 (devnet.venue.VenueConfig.lp_usdc)

    def by_id(self) -> dict[int, Series]:
        return {s.series_id: s for s in self.series}


@dataclass
class Account:
    """One venue account: USDC collateral and signed sizes by series id (+ long, − short)."""

    account_id: int
    collateral_usd: float = 0.0
    sizes: dict[int, float] = field(default_factory=dict)

    def copy(self) -> Account:
        return Account(self.account_id, self.collateral_usd, dict(self.sizes))


@dataclass
class VenueState:
    """The vault's accounts and the venue's fixed settlement prices, for one path (copied for a trial batch)."""

    accounts: dict[int, Account] = field(default_factory=dict)
    settlement_usd: dict[tuple[int, int], float] = field(default_factory=dict)
    next_account_id: int = 1
    bad_debt_usd: float = 0.0  # absorbed by the pool (the accounts' losses beyond their collateral)
    liquidations: int = 0
    liquidation_penalty_usd: float = 0.0
    pool_cash_usd: float | None = None  # None: the setup's ``pool_cash_usd`` (set on first use)

    def copy(self) -> VenueState:
        return VenueState(
            {a: acc.copy() for a, acc in self.accounts.items()},
            dict(self.settlement_usd),
            self.next_account_id,
            self.bad_debt_usd,
            self.liquidations,
            self.liquidation_penalty_usd,
            self.pool_cash_usd,
        )


class VenueModel:
    """The venue's maths on a ``VenueState`` at one instant (spot per venue underlying, surfaces)."""

    def __init__(self, setup: VenueSetup, posted_at_s: int = 0) -> None:
        """``posted_at_s``: when the base surfaces were posted (the book's start: fresh at t = 0)."""
        self.setup = setup
        self.series = setup.by_id()
        self.surfaces = dict(setup.base_surfaces)
        self.posted_at = dict.fromkeys(setup.base_surfaces, posted_at_s)
        self._margins: dict[tuple[Any, ...], venue.Margin] = {}

    # --- the market's inputs -------------------------------------------------------------------------------

    def post(self, now_s: int, iv_multiplier: float) -> None:
        """The vol feeder: every expiry more than an hour away gets its base surface with ATM × ``iv_multiplier``."""
        for key, base in self.setup.base_surfaces.items():
            if key[1] > now_s + REPOST_MIN_SECONDS:
                self.surfaces[key] = venue.Surface(base.atm_vol * iv_multiplier, base.skew, base.smile)
                self.posted_at[key] = now_s

    def state(self, now_s: int, spot_by_symbol: dict[str, float]) -> venue.MarketState:
        spots = np.array([spot_by_symbol[s] for s in self.setup.underlyings], dtype=np.float64)
        return venue.MarketState(now_s, spots, self.surfaces)

    def portfolio(self, account: Account, v: VenueState) -> venue.Portfolio:
        ids = [sid for sid, size in account.sizes.items() if size != 0]
        rows = [self.series[i] for i in ids]
        return venue.Portfolio.of(
            [s.underlying_id for s in rows],
            [s.expiry_s for s in rows],
            [s.strike_usd for s in rows],
            [s.is_call for s in rows],
            [account.sizes[i] for i in ids],
            [v.settlement_usd.get((s.underlying_id, s.expiry_s), 0.0) for s in rows],
        )

    def margin(self, account: Account, v: VenueState, state: venue.MarketState) -> venue.Margin:
        """``keeper.venue.model.margin`` of the account, memoised on everything it reads (a step asks for the same
        account's margin several times: the liquidator's check, NAV before and after the keeper's step)."""
        positions = tuple(sorted((sid, size) for sid, size in account.sizes.items() if size != 0))
        settled = tuple(v.settlement_usd.get((self.series[i].underlying_id, self.series[i].expiry_s), 0.0)
                        for i, _ in positions)  # fmt: skip
        key = (state.now_s, state.spot_usd.tobytes(), tuple(state.surfaces.items()), account.collateral_usd,
               positions, settled)  # fmt: skip
        hit = self._margins.get(key)
        if hit is None:
            s = self.setup
            hit = venue.margin(self.portfolio(account, v), account.collateral_usd, state, s.risk, s.market)
            if len(self._margins) >= 256:
                self._margins.clear()
            self._margins[key] = hit
        return hit

    def equity_usd(self, v: VenueState, state: venue.MarketState) -> float:
        return sum(self.margin(a, v, state).equity_usd for a in v.accounts.values())

    def mark(self, series: Series, state: venue.MarketState) -> float:
        p = venue.Portfolio.of([series.underlying_id], [series.expiry_s], [series.strike_usd], [series.is_call], [1.0])
        return float(venue.marks(p, state, self.setup.market)[0])

    def fee(self, series: Series, state: venue.MarketState, mark: float) -> float:
        m = self.setup.market
        return m.spot_fee * float(state.spot_usd[series.underlying_id]) + m.price_fee * mark

    # --- settlement ------------------------------------------------------------------------------------------

    def settle(self, v: VenueState, state: venue.MarketState) -> float:
        """Fix the price of every held expiry that has passed (the oracle's round at this step) and cash the
        accounts: returns the USD paid into (+) or out of (−) collateral."""
        paid = 0.0
        for account in v.accounts.values():
            for sid in [i for i, size in account.sizes.items() if size != 0]:
                s = self.series[sid]
                if s.expiry_s > state.now_s:
                    continue
                key = (s.underlying_id, s.expiry_s)
                price = v.settlement_usd.setdefault(key, float(state.spot_usd[s.underlying_id]))
                payout = account.sizes.pop(sid) * _payoff(s, price)
                account.collateral_usd += payout
                self._pool(v, -payout)
                paid += payout
            self._absorb(account, v)
        return paid

    def _absorb(self, account: Account, v: VenueState) -> None:
        if account.collateral_usd < 0 and not any(account.sizes.values()):
            v.bad_debt_usd += -account.collateral_usd
            self._pool(v, account.collateral_usd)
            account.collateral_usd = 0.0

    # --- the LP pool -----------------------------------------------------------------------------------------

    def pool_cash(self, v: VenueState) -> float:
        if v.pool_cash_usd is None:
            v.pool_cash_usd = self.setup.pool_cash_usd
        return v.pool_cash_usd

    def _pool(self, v: VenueState, amount_usd: float) -> None:
        v.pool_cash_usd = self.pool_cash(v) + amount_usd

    def pool_margin(self, v: VenueState, state: venue.MarketState) -> venue.Margin:
        """The pool's equity and margins: its cash and the opposite of every vault account's positions."""
        sizes: dict[int, float] = {}
        for a in v.accounts.values():
            for sid, size in a.sizes.items():
                sizes[sid] = sizes.get(sid, 0.0) - size
        mirror = Account(0, self.pool_cash(v), {k: x for k, x in sizes.items() if x != 0})
        return self.margin(mirror, v, state)

    # --- the vault's actions ---------------------------------------------------------------------------------

    def open_account(self, v: VenueState) -> int:
        account_id = v.next_account_id
        v.accounts[account_id] = Account(account_id)
        v.next_account_id += 1
        return account_id

    def account(self, v: VenueState, account_id: int) -> Account:
        if account_id == 0 and len(v.accounts) == 1:
            return next(iter(v.accounts.values()))
        if account_id not in v.accounts:
            raise VenueRefusedError(f"venue account {account_id} is not the vault's (NotVaultAccount)")
        return v.accounts[account_id]

    def trade(
        self, v: VenueState, account_id: int, series_id: int, size: float, max_cost_usd: float, state: venue.MarketState
    ) -> float:
        """Buy (size > 0, paying at most ``max_cost_usd``) or sell (receiving at least ``−max_cost_usd``) on
        ``v`` in place; returns the premium paid (negative when received). Raises ``VenueRefusedError``."""
        account = self.account(v, account_id)
        if series_id not in self.series:
            raise VenueRefusedError(f"series {series_id} is not listed")
        s = self.series[series_id]
        if size == 0:
            raise VenueRefusedError("ZeroAmount")
        if state.now_s + self.setup.market.trading_cutoff_seconds >= s.expiry_s:
            raise VenueRefusedError(f"TradingClosed: series {series_id} within the trading cutoff")
        mark = self.mark(s, state)
        fee = self.fee(s, state, mark)
        if size > 0:
            premium = size * (mark + fee)
            if premium > max_cost_usd * (1 + 1e-12):
                raise VenueRefusedError(f"CostAboveMax: {premium:,.2f} > {max_cost_usd:,.2f}")
            if account.collateral_usd < premium:
                raise VenueRefusedError(f"InsufficientCollateral: {account.collateral_usd:,.2f} < {premium:,.2f}")
        else:
            premium = size * max(mark - fee, 0.0)  # negative: proceeds
            if -premium < -max_cost_usd * (1 - 1e-12):
                raise VenueRefusedError(f"ProceedsBelowMin: {-premium:,.2f} < {-max_cost_usd:,.2f}")
        if premium < 0 and self.pool_cash(v) < -premium:
            raise VenueRefusedError(f"InsufficientPoolCash: {self.pool_cash(v):,.0f} < {-premium:,.0f}")
        pre = self.margin(account, v, state)
        pool_pre = self.pool_margin(v, state)
        account.collateral_usd -= premium
        self._pool(v, premium)
        account.sizes[series_id] = account.sizes.get(series_id, 0.0) + size
        if account.sizes[series_id] == 0:
            del account.sizes[series_id]
        post = self.margin(account, v, state)
        pool = self.pool_margin(v, state)
        if pool.equity_usd < pool.initial_usd and (
            pool.initial_usd - pool.equity_usd >= pool_pre.initial_usd - pool_pre.equity_usd
        ):
            raise VenueRefusedError(f"PoolMarginBreached: equity {pool.equity_usd:,.0f} < IM {pool.initial_usd:,.0f}")
        # Below IM, the trade must reduce the shortfall against the pre-trade book and collateral (``_trade``).
        if (
            post.equity_usd < post.initial_usd
            and post.initial_usd - post.equity_usd >= pre.initial_usd - pre.equity_usd
        ):
            raise VenueRefusedError(
                f"InitialMarginBreached: equity {post.equity_usd:,.0f} < IM {post.initial_usd:,.0f}"
            )
        return premium

    def deposit(self, v: VenueState, account_id: int, amount_usd: float) -> None:
        if amount_usd <= 0:
            raise VenueRefusedError("ZeroAmount")
        self.account(v, account_id).collateral_usd += amount_usd

    def below_floor(self, v: VenueState, state: venue.MarketState) -> str | None:
        """The vault adapter's post-check: why an account is below ``margin_floor`` × MM, or None."""
        for a in v.accounts.values():
            m = self.margin(a, v, state)
            if m.maintenance_usd == 0:
                continue
            if m.equity_usd <= 0 or m.equity_usd < self.setup.margin_floor * m.maintenance_usd:
                return f"VenueMarginBelowFloor: account {a.account_id} equity {m.equity_usd:,.0f} < floor × MM"
        return None

    # --- the liquidator --------------------------------------------------------------------------------------

    def liquidate_all(self, v: VenueState, state: venue.MarketState) -> int:
        """The demo's venue liquidator on every account below MM; returns the liquidations made."""
        done = 0
        for account in v.accounts.values():
            for _ in range(LIQUIDATION_ROUNDS):
                m = self.margin(account, v, state)
                if m.maintenance_usd == 0 or m.equity_usd >= m.maintenance_usd:
                    break
                shorts = [
                    (size * self.mark(self.series[sid], state), sid)
                    for sid, size in account.sizes.items()
                    if size < 0 and self.series[sid].expiry_s > state.now_s
                ]
                if not shorts:
                    break
                _, sid = min(shorts)
                size_wad = round(-account.sizes[sid] * WAD)
                amount = self._largest(account, v, state, sid, size_wad, m)
                if amount == 0:
                    break
                self._liquidate(account, v, state, sid, amount / WAD, m)
                v.liquidations += 1
                done += 1
        return done

    def _largest(self, account: Account, v: VenueState, state: venue.MarketState, sid: int, size: int, pre: Any) -> int:
        """The demo liquidator's search: the whole short if accepted, else bisection to within 1 % (WAD sizes)."""
        if self._accepts(account, v, state, sid, size / WAD, pre):
            return size
        lo, hi = 0, size
        while hi - lo > max(size // 100, 1):
            mid = (lo + hi) // 2
            if self._accepts(account, v, state, sid, mid / WAD, pre):
                lo = mid
            else:
                hi = mid
        return lo

    def _accepts(
        self, account: Account, v: VenueState, state: venue.MarketState, sid: int, size: float, pre: venue.Margin
    ) -> bool:
        if size <= 0:
            return False
        trial = account.copy()
        cash = v.pool_cash_usd
        self._close(trial, v, state, sid, size)
        v.pool_cash_usd = cash  # a trial close: the pool's cash is not moved
        post = self.margin(trial, v, state)
        improved = post.initial_usd - post.equity_usd < pre.initial_usd - pre.equity_usd
        return improved and post.equity_usd <= post.initial_usd

    def _close(self, account: Account, v: VenueState, state: venue.MarketState, sid: int, size: float) -> float:
        """Close ``size`` of a short at the ask with the liquidation penalty; returns the penalty (USD)."""
        s = self.series[sid]
        mark = self.mark(s, state)
        premium = size * (mark + self.fee(s, state, mark))
        penalty = size * float(state.spot_usd[s.underlying_id]) * self.setup.risk.liquidation_penalty
        account.collateral_usd -= premium + penalty
        self._pool(v, premium)
        account.sizes[sid] += size
        if abs(account.sizes[sid]) < 1e-18:
            del account.sizes[sid]
        return penalty

    def _liquidate(
        self, account: Account, v: VenueState, state: venue.MarketState, sid: int, size: float, pre: venue.Margin
    ) -> None:
        v.liquidation_penalty_usd += self._close(account, v, state, sid, size)
        self._absorb(account, v)

    # --- the keeper's read -----------------------------------------------------------------------------------

    def lens(self, v: VenueState, state: venue.MarketState, symbol_address: dict[str, str]) -> OptionsState:
        """The venue as ``VaultLens`` reports it (integers as on chain), for ``keeper.app.assess_options``."""
        rows = [(a.account_id, sid, size) for a in v.accounts.values() for sid, size in a.sizes.items() if size != 0]
        series = [self.series[sid] for _, sid, _ in rows]
        positions = OptionPositions(
            np.array([r[0] for r in rows], dtype=np.int64),
            np.array([r[1] for r in rows], dtype=np.int64),
            np.array([s.underlying_id for s in series], dtype=np.int64),
            np.array([s.expiry_s for s in series], dtype=np.int64),
            np.array([s.strike_usd for s in series], dtype=np.float64),
            np.array([s.is_call for s in series], dtype=bool),
            np.array([r[2] for r in rows], dtype=np.float64),
            np.array([v.settlement_usd.get((s.underlying_id, s.expiry_s), 0.0) for s in series], dtype=np.float64),
        )
        risk = dict(zip(venue.RiskParams.CHAIN_FIELDS, self.setup.risk.to_chain(), strict=True))
        params = dict(zip(venue.MarketParams.CHAIN_FIELDS, self.setup.market.to_chain(), strict=True))
        return OptionsState(
            adapter="model-adapter",
            market="model-venue",
            margin_floor_wad=round(self.setup.margin_floor * WAD),
            risk=risk,
            params=params,
            accounts=tuple(
                VenueAccount(a.account_id, round(a.collateral_usd * 1e6), 0, True) for a in v.accounts.values()
            ),
            positions=positions,
            underlyings=tuple(
                VenueUnderlying(
                    symbol_address[sym],
                    round(float(state.spot_usd[i]) * WAD),
                    state.now_s,
                    self.setup.max_price_age_seconds,
                )
                for i, sym in enumerate(self.setup.underlyings)
            ),
            surfaces=tuple(
                VenueSurface(
                    uid,
                    expiry,
                    round(s.atm_vol * WAD),
                    round(s.skew * WAD),
                    round(s.smile * WAD),
                    self.posted_at.get((uid, expiry), state.now_s),
                )
                for (uid, expiry), s in self.surfaces.items()
                if expiry > state.now_s
            ),
        )

    def listed(self, v: VenueState, state: venue.MarketState) -> ListedSeries:
        """The venue's live listed series, surfaces and pool margin, as ``adapters.venue_series`` reads them."""
        live = [s for s in self.setup.series if s.expiry_s > state.now_s]
        pool = self.pool_margin(v, state)
        return ListedSeries(
            market="model-venue",
            block_number=0,
            series_id=np.array([s.series_id for s in live], dtype=np.int64),
            underlying_id=np.array([s.underlying_id for s in live], dtype=np.int64),
            expiry_s=np.array([s.expiry_s for s in live], dtype=np.int64),
            strike_usd=np.array([s.strike_usd for s in live], dtype=np.float64),
            is_call=np.array([s.is_call for s in live], dtype=bool),
            surfaces={
                key: (round(s.atm_vol * WAD), round(s.skew * WAD), round(s.smile * WAD), self.posted_at.get(key, 0))
                for key, s in self.surfaces.items()
                if key[1] > state.now_s
            },
            pool_equity_e6=round(pool.equity_usd * 1e6),
            pool_initial_margin_e6=round(pool.initial_usd * 1e6),
            pool_fresh=True,
        )


def _payoff(s: Series, price: float) -> float:
    return max(price - s.strike_usd, 0.0) if s.is_call else max(s.strike_usd - price, 0.0)


def devnet_setup(start_s: int, spot_usd: dict[str, float], config: Any = None) -> VenueSetup:
    """The venue ``devnet.venue.deploy_venue`` lists at ``start_s``: its expiries (weeklies and monthlies), strikes
    around spot, calls and puts, the surfaces ``post_surfaces`` posts (ATM with its term structure, skew, smile),
    series ids in listing order from 1."""
    from devnet.venue import VenueConfig, listing_expiries, strikes_around

    cfg = config or VenueConfig()
    expiries = listing_expiries(start_s, cfg.weeklies, cfg.monthlies)
    series: list[Series] = []
    surfaces: dict[tuple[int, int], venue.Surface] = {}
    for uid, symbol in enumerate(cfg.underlyings):
        for expiry in expiries:
            for strike in strikes_around(spot_usd[symbol], cfg.moneyness):
                for is_call in (True, False):
                    series.append(Series(len(series) + 1, uid, expiry, float(round(strike)), is_call))
            days = (expiry - start_s) / 86_400
            atm = cfg.atm_vol[symbol] * (1.0 + 0.05 * max(0.0, math.log2(30.0 / max(days, 1.0))))
            surfaces[(uid, expiry)] = venue.Surface(_wad_round(atm), _wad_round(cfg.skew), _wad_round(cfg.smile))
    return VenueSetup(cfg.risk, cfg.market, tuple(cfg.underlyings), tuple(series), surfaces)


def _wad_round(x: float) -> float:
    return round(x * WAD) / WAD
