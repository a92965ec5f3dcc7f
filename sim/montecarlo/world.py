"""The model world for one path: the vault's Aave positions, held tokens and idle USDC, stepped through a price
path with the keeper's own policy deciding at every keeper step.

One step, in the order the devnet demo runs it: the market moves (oracle at the path's price, pools arbitraged
back to it); a liquidator liquidates the vault once if Aave's health factor is below 1 (largest debt against
largest collateral, Aave's close factor and the collateral's bonus); the keeper builds its ``BookView`` the way
``keeper.app.assess`` does (its EWMA vol forecast is the assessor's own), calls ``keeper.policy.decide`` and the
batch is executed against the model: Aave's own checks per action (balances, LTV at borrow, HF ≥ 1 after a
withdraw or borrow), the oracle-vs-TWAP check (``World.twap_agrees``), each swap through the pool with its output
checked against the plan's minimum and the vault's per-swap slippage at the oracle, then the vault's post-batch
guards (HF floor when in debt, NAV drop, the rolling turnover and loss budgets). A refused batch changes nothing; as in
``keeper.app.loop`` the most urgent rule's actions are then tried alone.

With a venue (``World(..., venue=VenueModel)``, the short-vol book) the step also re-posts the vol surfaces
(ATM × the path's implied-vol multiplier), fixes and cashes expired series, runs the demo's venue liquidator after
Aave's, gives the policy the option book as ``keeper.app.assess_options.options_view`` builds it from a lens read
(the venue's own formulas), and executes ``MarginDeposit`` / ``OptionTrade`` / ``VenueAccountOpen`` as the venue and
the vault's adapter post-check do (``sim.montecarlo.venue``). NAV includes venue equity (the adapter's ``valueE8``).

Aave interest accrues every step (``World.accrue``) at the reserves' deployed rate strategies and the utilisation
the vault's own positions leave. Not modelled here (stated, not hidden): the vault's fees (paid in shares: they do
not move NAV), interest on the rest of the market's positions (their utilisation is held at the start's), oracle
staleness (every step posts fresh rounds).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from keeper.app.assess import VaultAssessor
from keeper.app.assess_options import options_view
from keeper.app.assess_tail import listed_options
from keeper.config import KeeperSettings
from keeper.model import (
    AaveBorrow,
    AaveRepay,
    AaveSupply,
    AaveWithdraw,
    Action,
    BookView,
    MarginDeposit,
    OptionTrade,
    Swap,
    UnderlyingView,
    VenueAccountOpen,
)
from keeper.policy import decide
from sim.montecarlo.market import CLOSE_FACTOR_HF_THRESHOLD, DEFAULT_CLOSE_FACTOR, SYMBOLS, Market
from sim.montecarlo.venue import VenueModel, VenueRefusedError, VenueState

INDEX = {s: i for i, s in enumerate(SYMBOLS)}


def _judged(actions: tuple[Action, ...]) -> set[int]:
    """Indices (``SYMBOLS``) of the tokens a batch's guards judge at their oracle price against the TWAP: swapped
    or moved on Aave."""
    out: set[int] = set()
    for a in actions:
        if isinstance(a, Swap):
            out |= {INDEX[a.token_in], INDEX[a.token_out]}  # a multi-hop route's middle never lands in the vault
        elif isinstance(a, AaveSupply | AaveWithdraw | AaveBorrow | AaveRepay):
            out.add(INDEX[a.asset])
    return out


BLOCK_SECONDS = 12
SECONDS_PER_YEAR = 365 * 86_400


class BatchRefusedError(Exception):
    """Raised inside a batch when Aave, the pool or the vault would revert it (the reason is the message)."""


@dataclass
class Budget:
    """One of the vault's rolling budgets (``VaultLogic.chargeBudgets``): a level (USD) draining linearly at
    ``drain_usd_per_s`` = capacity / period, set at the last charge ``at_s``; a charge is refused when the drained
    level plus it exceeds the capacity, half the period budget at the batch's NAV before it (nav × bps / 2)."""

    used_usd: float = 0.0
    drain_usd_per_s: float = 0.0
    at_s: float = 0.0

    def used_now(self, now_s: float) -> float:
        return max(0.0, self.used_usd - (now_s - self.at_s) * self.drain_usd_per_s)

    def charge(self, amount_usd: float, capacity_usd: float, period_s: float, now_s: float) -> bool:
        """Charge ``amount_usd`` (in place) if it fits; False (unchanged) when the vault would revert."""
        used = self.used_now(now_s) + amount_usd
        if used > capacity_usd:
            return False
        self.used_usd, self.drain_usd_per_s, self.at_s = used, capacity_usd / period_s, now_s
        return True


@dataclass
class VaultModel:
    """Per-asset rows in ``SYMBOLS`` order; ``wallet[0]`` is idle USDC. Units are token units."""

    wallet: list[float]
    collateral: list[float]
    debt: list[float]
    turnover: Budget = field(default_factory=lambda: Budget())
    loss: Budget = field(default_factory=lambda: Budget())
    venue: VenueState | None = None  # the vault's venue accounts (None: no option book)

    def copy(self) -> VaultModel:
        return replace(
            self,
            wallet=list(self.wallet),
            collateral=list(self.collateral),
            debt=list(self.debt),
            turnover=replace(self.turnover),
            loss=replace(self.loss),
            venue=self.venue.copy() if self.venue is not None else None,
        )

    def nav_usd(self, prices: list[float]) -> float:
        return sum((w + c - d) * p for w, c, d, p in zip(self.wallet, self.collateral, self.debt, prices, strict=True))

    def health_factor(self, prices: list[float], lt: list[float]) -> float:
        debt = sum(d * p for d, p in zip(self.debt, prices, strict=True))
        if debt <= 0:
            return math.inf
        return sum(c * p * t for c, p, t in zip(self.collateral, prices, lt, strict=True)) / debt

    def borrow_capacity_usd(self, prices: list[float], ltv: list[float]) -> float:
        """Aave's availableBorrows: Σ collateral · price · LTV − debt (USD, ≥ 0)."""
        cap = sum(c * p * v for c, p, v in zip(self.collateral, prices, ltv, strict=True))
        return max(0.0, cap - sum(d * p for d, p in zip(self.debt, prices, strict=True)))


@dataclass
class StepOutcome:
    liquidated: bool = False
    acted: bool = False
    option_trades: int = 0
    refused: bool = False
    swap_cost_usd: float = 0.0
    gas_usd: float = 0.0
    notes: list[str] = field(default_factory=list)


class World:
    """One path's vault, market and keeper memory (the assessor's EWMA state and the cooldown blocks)."""

    def __init__(
        self,
        market: Market,
        settings: KeeperSettings,
        vault: VaultModel,
        venue: VenueModel | None = None,
        clock0_s: int = 0,
    ) -> None:
        self.market = market
        self.venue = venue
        self.clock0_s = clock0_s  # the venue's unix time at the path's t = 0 (its expiries are unix seconds)
        if venue is not None and vault.venue is None:
            vault.venue = VenueState()
        self.settings = settings
        self.vault = vault
        self.assessor = VaultAssessor(settings, {"tokens": {s: {"address": s} for s in SYMBOLS}})
        self.last_action_block: dict[str, int] = {}
        self._ticks = self._deep_tick = 0
        self.last_liquidated_debt: int | None = None  # the debt row of the last Aave liquidation
        self.lt = market.liquidation_threshold
        self.ltv = market.ltv

    # --- the market ------------------------------------------------------------------------------------

    def venue_state(self, prices: list[float], timestamp_s: int) -> Any:
        """The venue's ``MarketState`` now (spot at the oracle, the surfaces as last posted)."""
        assert self.venue is not None
        return self.venue.state(self.clock0_s + timestamp_s, {s: prices[i] for i, s in enumerate(SYMBOLS)})

    def move_venue(self, prices: list[float], timestamp_s: int, iv_multiplier: float) -> None:
        """The vol feeder re-posts the surfaces; expired series are fixed at this step's oracle and cashed."""
        if self.venue is None or self.vault.venue is None:
            return
        self.venue.post(self.clock0_s + timestamp_s, iv_multiplier)
        self.venue.settle(self.vault.venue, self.venue_state(prices, timestamp_s))

    def nav_usd(self, prices: list[float], timestamp_s: int) -> float:
        """The vault's gross NAV: tokens + Aave net + venue equity (collateral + marks)."""
        nav = self.vault.nav_usd(prices)
        if self.venue is not None and self.vault.venue is not None:
            nav += self.venue.equity_usd(self.vault.venue, self.venue_state(prices, timestamp_s))
        return nav

    def venue_margin_ratio(self, prices: list[float], timestamp_s: int) -> float:
        """The tightest venue account's equity / MM (inf without a requirement)."""
        if self.venue is None or self.vault.venue is None:
            return math.inf
        state = self.venue_state(prices, timestamp_s)
        ratios = [
            m.equity_usd / m.maintenance_usd
            for m in (self.venue.margin(a, self.vault.venue, state) for a in self.vault.venue.accounts.values())
            if m.maintenance_usd > 0
        ]
        return min(ratios, default=math.inf)

    def accrue(self, seconds: float) -> None:
        """Aave interest over ``seconds``: every reserve's rates at its utilisation now (the vault's positions
        included); supply grows linearly (the liquidity index), debt compounds (the variable borrow index)."""
        if not self.market.interest or seconds <= 0:
            return
        v = self.vault
        years = seconds / SECONDS_PER_YEAR
        for i, r in enumerate(self.market.reserves):
            if v.collateral[i] <= 0 and v.debt[i] <= 0:
                continue
            usage = r.usage(v.collateral[i], v.debt[i])
            v.collateral[i] *= 1.0 + r.liquidity_rate(usage) * years
            v.debt[i] *= math.exp(r.borrow_rate(usage) * years)

    # --- the liquidators ------------------------------------------------------------------------------

    def liquidate_venue(self, prices: list[float], timestamp_s: int) -> int:
        """The demo's venue liquidator (after Aave's); returns the venue liquidations made."""
        if self.venue is None or self.vault.venue is None:
            return 0
        return self.venue.liquidate_all(self.vault.venue, self.venue_state(prices, timestamp_s))

    def liquidate(self, prices: list[float]) -> bool:
        """One Aave ``liquidationCall`` if HF < 1: largest debt, largest collateral, debtToCover = max."""
        v = self.vault
        hf = v.health_factor(prices, self.lt)
        if hf >= 1.0:
            return False
        d = max(range(len(SYMBOLS)), key=lambda i: v.debt[i] * prices[i])
        c = max(range(len(SYMBOLS)), key=lambda i: v.collateral[i] * prices[i])
        if v.collateral[c] <= 0:  # nothing left to seize: Aave refuses (the debt left is bad debt)
            return False
        close = DEFAULT_CLOSE_FACTOR if hf >= CLOSE_FACTOR_HF_THRESHOLD else 1.0
        bonus = self.market.reserves[c].liquidation_bonus
        cover = v.debt[d] * close
        seized = cover * prices[d] * bonus / prices[c]
        if seized > v.collateral[c]:  # not enough of that collateral: Aave takes all of it and covers less
            seized = v.collateral[c]
            cover = seized * prices[c] / (prices[d] * bonus)
        v.debt[d] -= cover
        v.collateral[c] -= seized
        self.last_liquidated_debt = d
        return True

    # --- the keeper ---------------------------------------------------------------------------------

    def book(self, prices: list[float], timestamp_s: int, block: int) -> BookView:
        """The ``BookView`` ``keeper.app.assess`` builds from a lens read of this state; the option book through
        the assessor's own ``options_view`` on the venue's lens state."""
        v, s = self.vault, self.settings
        options = None
        if self.venue is not None and v.venue is not None:
            state = self.venue_state(prices, timestamp_s)
            lens = self.venue.lens(v.venue, state, {sym: sym.lower() for sym in SYMBOLS})
            symbol_of = {sym.lower(): sym for sym in SYMBOLS}
            options = options_view((lens,), state.now_s, symbol_of, SYMBOLS[1:], np.asarray(prices[1:]))
        g = options.greeks if options is not None else None
        underlyings = tuple(
            UnderlyingView(
                symbol=SYMBOLS[j],
                spot_usd=prices[j],
                sigma_annual=self.assessor._sigma(SYMBOLS[j], timestamp_s, prices[j]),
                net_delta_units=v.wallet[j] + v.collateral[j] - v.debt[j] + (float(g.delta_units[j - 1]) if g else 0.0),
                net_gamma_units_per_usd=float(g.gamma_units_per_usd[j - 1]) if g else 0.0,
                net_vega_usd_per_vol_pt=float(g.vega_usd_per_vol_pt[j - 1]) if g else 0.0,
                held_units=v.wallet[j],
                debt_units=v.debt[j],
                collateral_units=v.collateral[j],
                liquidation_threshold=self.lt[j],
                ltv=self.ltv[j],
            )
            for j in (1, 2)
        )
        collateral_usd = sum(c * p for c, p in zip(v.collateral, prices, strict=True))
        collateral_lt = sum(c * p * t for c, p, t in zip(v.collateral, prices, self.lt, strict=True))
        gas_usd = self.market.rebalance_gas * self.market.gas_price_gwei * 1e-9 * prices[1]
        view = BookView(
            block_number=block,
            underlyings=underlyings,
            idle_usdc=v.wallet[0],
            aave_collateral_usd=collateral_usd,
            aave_debt_usd=sum(d * p for d, p in zip(v.debt, prices, strict=True)),
            aave_weighted_lt=collateral_lt / collateral_usd if collateral_usd > 0 else 0.0,
            usdc_liquidation_threshold=self.lt[0],
            health_factor=v.health_factor(prices, self.lt),
            usdc_collateral_units=v.collateral[0],
            venue_collateral_usd=options.equity_usd if options is not None else 0.0,
            venue_maintenance_margin_usd=options.maintenance_usd if options is not None else 0.0,
            options=options.shorts if options is not None else (),
            venue_accounts=options.accounts if options is not None else (),
            venue_tradeable=not options.stale if options is not None else True,
            usdc_debt_units=v.debt[0],
            aave_borrow_capacity_usd=v.borrow_capacity_usd(prices, self.ltv),
            usdc_ltv=self.ltv[0],
            gas_cost_usd=gas_usd,
            horizon_years=s.loop.vol_horizon_days / 365,
            last_action_block=dict(self.last_action_block),
        )
        return self._with_tail(view, options, prices, timestamp_s)

    def _with_tail(self, view: BookView, options: Any, prices: list[float], timestamp_s: int) -> BookView:
        """With the tail rule or strategies on, what ``VaultAssessor.assess`` adds: the tail rule's inputs (every
        live position, buybacks, the venue's listed wings sized by the pool's free margin, NAV, the forecast of the
        last deep refresh) and the listed series, through the assessor's own methods on the model venue's reads.
        The oracle history the forecast refits on is recorded every step and refit every
        ``loop.deep_risk_every_ticks`` keeper steps, as the keeper's deep refresh does after acting."""
        policy = self.settings.policy
        if not (policy.tail.enabled or policy.strategies) or options is None or self.venue is None:
            return view
        assert self.vault.venue is not None
        state = self.venue_state(prices, timestamp_s)
        listed = {"model-venue": self.venue.listed(self.vault.venue, state)}
        for u in view.underlyings:
            self.assessor.history.add(u.symbol, state.now_s, u.spot_usd)
        leg_gas_usd = policy.tail.leg_gas * self.market.gas_price_gwei * 1e-9 * prices[1]
        nav = self.nav_usd(prices, timestamp_s)
        symbols = list(SYMBOLS[1:])
        tail = self.assessor._tail_inputs(options, listed, symbols, nav, leg_gas_usd)
        chain = [o for vb in options.venues for o in listed_options(vb, listed["model-venue"], symbols)]
        return replace(view, tail=tail, listed=tuple(chain), timestamp_s=state.now_s)

    def refresh_forecast(self, view: BookView) -> None:
        """The deep refresh's forecast (GARCH/EWMA, regime) every ``loop.deep_risk_every_ticks`` keeper steps."""
        if not self.settings.policy.tail.enabled:
            return
        self._ticks += 1
        if self._ticks == 1 or self._ticks - self._deep_tick >= self.settings.loop.deep_risk_every_ticks:
            self.assessor._refresh_forecast(view)
            self._deep_tick = self._ticks

    def keeper_step(
        self, prices: list[float], timestamp_s: int, block: int, previous: list[float] | None = None
    ) -> StepOutcome:
        """Assess, decide with the keeper's policy, execute the plan against the model (or have it refused).
        ``previous``: the prices of the step before, for the vault's oracle-vs-TWAP check."""
        out = StepOutcome()
        view = self.book(prices, timestamp_s, block)
        plan = decide(view, self.settings.policy)
        self.refresh_forecast(view)  # after deciding, as the loop runs the deep refresh after acting
        if plan.empty:
            return out

        def attempt(actions: tuple[Action, ...]) -> float | None:
            if previous is not None and not self.twap_agrees(prices, previous, actions):
                return None  # OracleDeviation: the vault refuses the batch
            return self.execute(actions, prices, timestamp_s)

        cost = attempt(plan.actions)
        if cost is None:  # as the loop does: the most urgent rule's actions alone (they may not touch the token)
            out.refused = True
            urgent = plan.most_urgent()
            if urgent is None:
                return out
            plan, cost = urgent, attempt(urgent.actions)
            if cost is None:
                return out
        out.acted, out.swap_cost_usd = True, cost
        out.option_trades = sum(isinstance(a, OptionTrade) for a in plan.actions)
        gas = self.market.rebalance_gas + out.option_trades * self.market.option_trade_gas
        out.gas_usd = gas * self.market.gas_price_gwei * 1e-9 * prices[1]
        for d in plan.decisions:
            if d.acted:
                self.last_action_block[d.rule] = block
        return out

    def twap_agrees(
        self, prices: list[float], previous: list[float], actions: tuple[Action, ...] | None = None
    ) -> bool:
        """The vault's oracle-vs-TWAP check: the oracle of each tracked token the batch judges at its price within
        ``maxOracleDeviationBps`` (in ticks) of the pool's TWAP. The vault checks a token a swap moved and, after
        the batch, one whose net amount (wallet + Aave supply − debt) changed — an Aave supply, withdrawal, borrow
        or repayment leaves that net amount unchanged but for the aToken's rounding, so those tokens are counted
        as checked too (the conservative side); a batch of venue trades and margin alone (USDC: no TWAP) is not
        checked. ``actions`` None: every tracked token. The driver moves a pool to the new price in the step's block
        and the keeper acts in the next one, so the TWAP window holds the previous price but for one block:
        ln TWAP = (1 − w) ln P₋ + w ln P, w = block / window."""
        g = self.market.guards
        w = min(1.0, BLOCK_SECONDS / g.twap_window_seconds)
        checked = (1, 2) if actions is None else sorted(_judged(actions) & {1, 2})
        for j in checked:
            gap = (1 - w) * abs(math.log(prices[j] / previous[j]))
            if gap > g.max_oracle_deviation_log:
                return False
        return True

    # --- the vault's rebalance ------------------------------------------------------------------------

    def execute(self, actions: tuple[Action, ...], prices: list[float], timestamp_s: int) -> float | None:
        """Run a batch as ``rebalance`` would; returns its swap cost (USD at the oracle) or None if refused."""
        v, g = self.vault, self.market.guards
        trial = v.copy()
        nav_before = self.nav_usd(prices, timestamp_s)
        pool_prices = {s: prices[INDEX[s]] for s in self.market.pools}
        turnover = 0.0
        on_venue = False
        try:
            for action in actions:
                if isinstance(action, MarginDeposit | OptionTrade | VenueAccountOpen):
                    on_venue = True
                    turnover += self._venue_action(trial, action, prices, timestamp_s)
                else:
                    turnover += self._apply(trial, action, prices, pool_prices)
        except (BatchRefusedError, VenueRefusedError):
            return None
        if self._venue_below_floor(trial, prices, timestamp_s) if on_venue else False:
            return None
        self.vault, kept = trial, self.vault
        nav_after = self.nav_usd(prices, timestamp_s)
        self.vault = kept
        loss = max(0.0, nav_before - nav_after)
        if trial.health_factor(prices, self.lt) < g.health_factor_floor:
            return None
        if loss > g.max_loss * nav_before:
            return None
        # The rolling budgets at this batch's NAV before it (HedgedVault.rebalance → VaultLogic.chargeBudgets);
        # a revert undoes both charges (they are made on the trial copy).
        half = 0.5 * nav_before
        if turnover > 0 and not trial.turnover.charge(
            turnover, g.turnover_budget * half, g.period_seconds, timestamp_s
        ):
            return None
        if loss > 0 and not trial.loss.charge(loss, g.loss_budget * half, g.period_seconds, timestamp_s):
            return None
        self.vault = trial
        return nav_before - nav_after

    def _venue_below_floor(self, s: VaultModel, prices: list[float], timestamp_s: int) -> bool:
        """The adapter's post-check on a batch that traded on the venue (``checkVenueMargins``)."""
        if self.venue is None or s.venue is None:
            return False
        return self.venue.below_floor(s.venue, self.venue_state(prices, timestamp_s)) is not None

    def _venue_action(self, s: VaultModel, action: Action, prices: list[float], timestamp_s: int) -> float:
        """A venue action on ``s`` through the vault's adapter; returns the turnover the vault counts (the USD that
        left or entered the wallet: a margin deposit; a trade settles in the venue account, not the wallet)."""
        if self.venue is None or s.venue is None:
            raise BatchRefusedError(f"{action.kind}: no option venue in this model world")
        if isinstance(action, VenueAccountOpen):
            self.venue.open_account(s.venue)
            return 0.0
        if isinstance(action, MarginDeposit):
            _spend(s, 0, action.amount_usdc)
            self.venue.deposit(s.venue, action.account_id, action.amount_usdc)
            return action.amount_usdc * prices[0]
        assert isinstance(action, OptionTrade)
        state = self.venue_state(prices, timestamp_s)
        self.venue.trade(s.venue, action.account_id, action.series_id, action.size, action.max_cost_usd, state)
        return 0.0

    def _apply(self, s: VaultModel, action: Action, prices: list[float], pool_prices: dict[str, float]) -> float:
        """One action on ``s``; returns the USD turnover it counts (swaps only). Raises ``BatchRefusedError``."""
        if isinstance(action, Swap):
            return self._swap(s, action, prices, pool_prices)
        if not isinstance(action, AaveSupply | AaveWithdraw | AaveBorrow | AaveRepay):
            raise BatchRefusedError(f"{action.kind} is not modelled (no option venue in the model world)")
        i = INDEX[action.asset]
        amount = action.amount
        if isinstance(action, AaveSupply):
            _spend(s, i, amount)
            s.collateral[i] += amount
        elif isinstance(action, AaveWithdraw):
            if amount > s.collateral[i] * (1 + 1e-12):
                raise BatchRefusedError(f"withdraw {amount} {action.asset} > collateral {s.collateral[i]}")
            s.collateral[i] -= min(amount, s.collateral[i])
            s.wallet[i] += amount
            if s.health_factor(prices, self.lt) < 1.0:
                raise BatchRefusedError("withdraw leaves HF < 1")
        elif isinstance(action, AaveBorrow):
            if amount * prices[i] > s.borrow_capacity_usd(prices, self.ltv) * (1 + 1e-12):
                raise BatchRefusedError("borrow above Aave's LTV capacity")
            s.debt[i] += amount
            s.wallet[i] += amount
            if s.health_factor(prices, self.lt) < 1.0:
                raise BatchRefusedError("borrow leaves HF < 1")
        elif isinstance(action, AaveRepay):
            paid = min(amount, s.debt[i])  # Aave repays at most the debt
            _spend(s, i, paid)
            s.debt[i] -= paid
        return 0.0

    def _swap(self, s: VaultModel, action: Swap, prices: list[float], pool_prices: dict[str, float]) -> float:
        i, o = INDEX[action.token_in], INDEX[action.token_out]
        risky_in = action.token_in != "USDC"
        symbol = action.token_in if risky_in else action.token_out
        _spend(s, i, action.amount_in)
        out, pool_prices[symbol] = self.market.pools[symbol].swap_out(pool_prices[symbol], action.amount_in, risky_in)
        value_in = action.amount_in * prices[i]
        if out < action.min_amount_out * (1 - 1e-12):
            raise BatchRefusedError(f"swap output {out} < minimum {action.min_amount_out}")
        if out * prices[o] < value_in * (1 - self.market.guards.max_slippage):
            raise BatchRefusedError("swap slippage at the oracle above maxSlippageBps")
        s.wallet[o] += out
        return value_in


def _spend(s: VaultModel, i: int, amount: float) -> None:
    if amount > s.wallet[i] * (1 + 1e-12) + 1e-9:
        raise BatchRefusedError(f"spend {amount} > balance {s.wallet[i]} of {SYMBOLS[i]}")
    s.wallet[i] = max(0.0, s.wallet[i] - amount)
