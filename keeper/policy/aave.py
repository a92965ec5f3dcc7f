"""The Aave side of the policy: repay towards a health-factor target, and move delta through the lending market.

All sizing is closed form on HF = C_lt / D (C_lt = Σ collateral·price·LT, D = Σ debt·price, USD). Swaps are
priced at the oracle with the policy's slippage allowance ``slip``: buying costs ``(1 + slip)``, selling
returns ``(1 − slip)``. Every function updates the ``Working`` copy it is given so the next rule sees the
state the plan leaves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

from keeper.config import PolicyConfig
from keeper.model import (
    AaveBorrow,
    AaveRepay,
    AaveSupply,
    AaveWithdraw,
    Action,
    BookView,
    Decision,
    Swap,
    UnderlyingView,
)

USDC = "USDC"


@dataclass
class Working:
    """Mutable copy of the numbers the rules change as they add actions (USD and token units)."""

    idle_usdc: float
    collateral_lt_usd: float  # Σ collateral·price·LT
    debt_usd: float
    usdc_collateral_units: float
    usdc_debt_units: float
    venue_collateral_usd: float
    underlyings: dict[str, UnderlyingView]
    borrow_capacity_usd: float = math.inf  # what Aave lets a new borrow take now (its availableBorrows)

    @classmethod
    def of(cls, book: BookView) -> Working:
        """The numbers as the book reads them, before any rule acts."""
        return cls(
            idle_usdc=book.idle_usdc,
            collateral_lt_usd=book.aave_collateral_usd * book.aave_weighted_lt,
            debt_usd=book.aave_debt_usd,
            usdc_collateral_units=book.usdc_collateral_units,
            usdc_debt_units=book.usdc_debt_units,
            venue_collateral_usd=book.venue_collateral_usd,
            underlyings={u.symbol: u for u in book.underlyings},
            borrow_capacity_usd=book.aave_borrow_capacity_usd,
        )

    @property
    def health_factor(self) -> float:
        return math.inf if self.debt_usd <= 0 else self.collateral_lt_usd / self.debt_usd

    def adopt(self, trial: Working) -> None:
        """Take over ``trial``'s numbers (a copy the caller tried actions on and keeps)."""
        for f in fields(self):
            setattr(self, f.name, getattr(trial, f.name))

    def update(self, u: UnderlyingView, **changes: float) -> UnderlyingView:
        """Replace underlying ``u`` with ``changes`` applied as increments; returns the new view."""
        fields = {name: getattr(u, name) + delta for name, delta in changes.items()}
        self.underlyings[u.symbol] = replace(u, **fields)
        return self.underlyings[u.symbol]


def slippage(config: PolicyConfig) -> float:
    return config.max_slippage_bps / 10_000


#: A withdrawal of collateral must leave HF at least this before its repay lands (Aave refuses one that would
#: take HF under 1; the margin covers price moves between planning and mining). Larger repays go in chunks.
INTERIM_HEALTH_FACTOR = 1.05
#: Borrows use at most this share of Aave's borrow capacity (LTV-based, checked at borrow time).
CAPACITY_USE = 0.995
MAX_CHUNKS = 8


# --- health rule -----------------------------------------------------------------------------------------


def health_rule(book: BookView, config: PolicyConfig, s: Working) -> tuple[list[Action], list[Decision]]:
    """Below ``health_factor_trigger`` repay debt, largest first, until HF reaches ``health_factor_target``;
    at or above ``health_factor_relever`` (when set) re-lever back down to the target (``relever``)."""
    hf = s.health_factor
    if config.health_factor_relever is not None and s.debt_usd > 0 and hf >= config.health_factor_relever:
        return relever(book, config, s)
    if hf >= config.health_factor_trigger:
        return [], [Decision("aave_health", False, f"health factor {hf:.3f} ≥ trigger {config.health_factor_trigger}")]
    debts: list[tuple[float, str]] = [(u.debt_units * u.spot_usd, u.symbol) for u in s.underlyings.values()]
    debts.append((s.usdc_debt_units, USDC))
    debts = sorted((d for d in debts if d[0] > 0), reverse=True)
    if not debts:
        return [], [Decision("aave_health", False, f"health factor {hf:.3f} below trigger but no debt to repay")]
    target = config.health_factor_target
    actions: list[Action] = []
    repaid_usd = 0.0
    for _, symbol in debts:
        for _chunk in range(MAX_CHUNKS):  # a deep deleverage goes in chunks, each keeping HF above the interim floor
            if symbol == USDC:
                acts, usd = repay_usdc_towards_target(book, config, s)
            else:
                acts, usd = repay_underlying_towards_target(s.underlyings[symbol], book, config, s)
            actions += acts
            repaid_usd += usd
            if usd <= 0 or s.health_factor >= target * (1 - 1e-12):
                break
        if s.health_factor >= target * (1 - 1e-12):
            break
    reason = (
        f"health factor {hf:.3f} < trigger {config.health_factor_trigger}: repay ${repaid_usd:,.0f} "
        f"of debt → {s.health_factor:.3f} (target {target})"
    )
    return actions, [Decision("aave_health", bool(actions), reason)]


def spare_usdc_collateral(book: BookView, config: PolicyConfig, s: Working) -> float:
    """USDC collateral Aave does not need for the HF target: withdrawing w removes w·LT_usdc of C_lt, so
    (C_lt − w·LT_usdc) / D ≥ target  ⇒  w ≤ (C_lt − target·D) / LT_usdc (all of it when there is no debt)."""
    if s.debt_usd <= 0:
        return max(0.0, s.usdc_collateral_units)
    lt = book.usdc_liquidation_threshold
    spare = (s.collateral_lt_usd - config.health_factor_target * s.debt_usd) / lt if lt > 0 else 0.0
    return max(0.0, min(s.usdc_collateral_units, spare))


def relever(book: BookView, config: PolicyConfig, s: Working) -> tuple[list[Action], list[Decision]]:
    """HF at or above ``health_factor_relever``: the Aave account carries more collateral than the target needs
    (prices moved in its favour, debt was repaid). Withdraw the USDC collateral above the target back to idle —
    delta-neutral (no swap, no debt change), so the capital serves withdrawals and venue margin instead of
    sitting as surplus collateral; the next rules see it as idle USDC. Below ``min_trade_usd`` nothing is sent."""
    hf = s.health_factor
    w = spare_usdc_collateral(book, config, s)
    if w < max(config.min_trade_usd, config.dust_usd):
        reason = (
            f"health factor {hf:.3f} ≥ re-lever {config.health_factor_relever}: only ${w:,.0f} of USDC "
            f"collateral above the target {config.health_factor_target} (minimum trade ${config.min_trade_usd:,.0f})"
        )
        return [], [Decision("aave_health", False, reason)]
    s.usdc_collateral_units -= w
    s.collateral_lt_usd -= w * book.usdc_liquidation_threshold
    s.borrow_capacity_usd -= w * book.usdc_ltv
    s.idle_usdc += w
    reason = (
        f"health factor {hf:.3f} ≥ re-lever {config.health_factor_relever}: withdraw ${w:,.0f} of surplus USDC "
        f"collateral → {s.health_factor:.3f} (target {config.health_factor_target})"
    )
    return [AaveWithdraw(USDC, w)], [Decision("aave_health", True, reason)]


def repay_underlying_towards_target(
    u: UnderlyingView, book: BookView, config: PolicyConfig, s: Working
) -> tuple[list[Action], float]:
    """Repay debt in ``u`` until HF reaches target. Funding order: held units, idle USDC (neither moves
    HF except through the repay), then USDC collateral withdrawn and swapped, sized in closed form:
    withdrawing w USDC repays w/(1+slip) of debt and removes w·LT of collateral, so
    (C_lt − w·LT) / (D − free − w/(1+slip)) = target
    ⇒  w = (target·(D − free) − C_lt) / (target/(1+slip) − LT)."""
    target, slip, lt, spot = config.health_factor_target, slippage(config), book.usdc_liquidation_threshold, u.spot_usd
    need_usd = min(u.debt_units * spot, s.debt_usd - s.collateral_lt_usd / target)
    from_held = min(u.held_units, need_usd / spot)
    idle_spend = min(s.idle_usdc, (need_usd - from_held * spot) * (1 + slip))
    if idle_spend < config.dust_usd:
        idle_spend = 0.0
    free_usd = from_held * spot + idle_spend / (1 + slip)
    withdraw = 0.0
    if free_usd < need_usd * (1 - 1e-12):
        w = (target * (s.debt_usd - free_usd) - s.collateral_lt_usd) / (target / (1 + slip) - lt)
        max_by_debt = (u.debt_units * spot - free_usd) * (1 + slip)
        interim = (s.collateral_lt_usd - INTERIM_HEALTH_FACTOR * (s.debt_usd - free_usd)) / lt
        withdraw = max(0.0, min(w, max_by_debt, s.usdc_collateral_units, interim))
    actions: list[Action] = []
    if withdraw > 0:
        actions.append(AaveWithdraw(USDC, withdraw))
        s.usdc_collateral_units -= withdraw
        s.collateral_lt_usd -= withdraw * lt
        s.borrow_capacity_usd -= withdraw * book.usdc_ltv
    if withdraw < config.dust_usd:
        withdraw = 0.0
    spend = idle_spend + withdraw
    bought = spend / (spot * (1 + slip))
    if spend > 0:
        actions.append(Swap(USDC, u.symbol, spend, bought))
        s.idle_usdc -= idle_spend
    units = min(u.debt_units, from_held + bought)
    if units <= 0:
        return [], 0.0
    actions.append(AaveRepay(u.symbol, units))
    s.debt_usd -= units * spot
    s.borrow_capacity_usd += units * spot
    s.update(u, debt_units=-units, held_units=bought - units, net_delta_units=units)
    return actions, units * spot


def repay_usdc_towards_target(book: BookView, config: PolicyConfig, s: Working) -> tuple[list[Action], float]:
    """Repay USDC debt until HF reaches target. Funding order: idle USDC, held underlying sold, then
    underlying collateral withdrawn and sold (largest first), sized in closed form: withdrawing w USD of an
    asset with threshold LT removes w·LT of collateral and repays w·(1−slip), so
    (C_lt − w·LT) / (D − w·(1−slip)) = target  ⇒  w = (target·D − C_lt) / (target·(1−slip) − LT)."""
    target, slip = config.health_factor_target, slippage(config)
    actions: list[Action] = []
    repay = 0.0

    def need() -> float:
        return max(0.0, min(s.usdc_debt_units - repay, s.debt_usd - repay - s.collateral_lt_usd / target))

    from_idle = min(s.idle_usdc, need())
    repay += from_idle
    s.idle_usdc -= from_idle
    for u in sorted(s.underlyings.values(), key=lambda v: -v.held_units * v.spot_usd):
        units = min(u.held_units, need() / (u.spot_usd * (1 - slip)))
        if units * u.spot_usd < config.dust_usd:
            continue
        out = units * u.spot_usd * (1 - slip)
        actions.append(Swap(u.symbol, USDC, units, out))
        repay += out
        s.update(u, held_units=-units, net_delta_units=-units)
    for u in sorted(s.underlyings.values(), key=lambda v: -v.collateral_units * v.spot_usd):
        debt_left = s.debt_usd - repay
        if need() <= 0 or s.collateral_lt_usd >= target * debt_left * (1 - 1e-12):
            break
        lt = u.liquidation_threshold
        w_usd = (target * debt_left - s.collateral_lt_usd) / (target * (1 - slip) - lt)
        interim = (s.collateral_lt_usd - INTERIM_HEALTH_FACTOR * debt_left) / lt
        debt_cap = (s.usdc_debt_units - repay) / (1 - slip)
        w_usd = max(0.0, min(w_usd, u.collateral_units * u.spot_usd, debt_cap, interim))
        if w_usd < config.dust_usd:
            continue
        units = w_usd / u.spot_usd
        out = w_usd * (1 - slip)
        actions += [AaveWithdraw(u.symbol, units), Swap(u.symbol, USDC, units, out)]
        s.collateral_lt_usd -= w_usd * lt
        repay += out
        s.update(u, collateral_units=-units, net_delta_units=-units)
    if repay <= 0:
        return [], 0.0
    actions.append(AaveRepay(USDC, repay))
    s.debt_usd -= repay
    s.usdc_debt_units -= repay
    s.borrow_capacity_usd += repay
    return actions, repay


# --- moving delta through Aave ---------------------------------------------------------------------------


def buy_delta(
    u: UnderlyingView, units: float, book: BookView, config: PolicyConfig, s: Working
) -> tuple[list[Action], float]:
    """Add ``units`` of delta. Spend idle USDC above ``idle_reserve_usdc`` (repaying debt in the underlying
    first, keeping the rest); then, if ``lever_with_usdc_debt``, borrow USDC, buy and supply the underlying as
    collateral, stopping where HF would fall below target:
    (C_lt + b·LT/(1+slip)) / (D + b) ≥ target  ⇒  b ≤ (C_lt − target·D) / (target − LT/(1+slip))."""
    slip, spot = slippage(config), u.spot_usd
    actions: list[Action] = []
    spend = min(units * spot * (1 + slip), max(0.0, s.idle_usdc - config.idle_reserve_usdc))
    bought = spend / (spot * (1 + slip)) if spend >= config.dust_usd else 0.0
    if bought > 0:
        actions.append(Swap(USDC, u.symbol, spend, bought))
        s.idle_usdc -= spend
        repay = min(bought, u.debt_units)
        if repay * spot < config.dust_usd:  # a wei of interest left: Aave refuses a repay that encodes to 0
            repay = 0.0
        if repay > 0:
            actions.append(AaveRepay(u.symbol, repay))
            s.debt_usd -= repay * spot
        u = s.update(u, net_delta_units=bought, debt_units=-repay, held_units=bought - repay)
    remaining = units - bought
    levered = 0.0
    if remaining > 0 and config.lever_with_usdc_debt:
        target, lt = config.health_factor_target, u.liquidation_threshold
        headroom = (s.collateral_lt_usd - target * s.debt_usd) / (target - lt / (1 + slip))
        borrow = max(0.0, min(remaining * spot * (1 + slip), headroom, s.borrow_capacity_usd * CAPACITY_USE))
        if borrow >= config.dust_usd:
            levered = borrow / (spot * (1 + slip))
            actions += [AaveBorrow(USDC, borrow), Swap(USDC, u.symbol, borrow, levered), AaveSupply(u.symbol, levered)]
            s.debt_usd += borrow
            s.usdc_debt_units += borrow
            s.collateral_lt_usd += levered * spot * lt
            s.borrow_capacity_usd += levered * spot * u.ltv - borrow
            s.update(u, net_delta_units=levered, collateral_units=levered)
    return actions, bought + levered


def sell_delta(
    u: UnderlyingView, units: float, book: BookView, config: PolicyConfig, s: Working
) -> tuple[list[Action], float]:
    """Remove ``units`` of delta: sell held underlying; then withdraw underlying collateral and sell it to
    repay USDC debt (which raises HF while HF > LT/(1−slip)); then borrow the underlying and sell it,
    supplying the proceeds as USDC collateral, stopping where HF would fall below target:
    (C_lt + b·(1−slip)·LT_usdc) / (D + b) ≥ target."""
    slip, spot, target = slippage(config), u.spot_usd, config.health_factor_target
    actions: list[Action] = []
    from_held = min(units, u.held_units) if u.held_units * spot >= config.dust_usd else 0.0
    if from_held > 0:
        out = from_held * spot * (1 - slip)
        actions.append(Swap(u.symbol, USDC, from_held, out))
        s.idle_usdc += out
        u = s.update(u, held_units=-from_held, net_delta_units=-from_held)
    remaining = units - from_held
    unwound = 0.0
    if remaining > 0 and u.collateral_units > 0 and s.usdc_debt_units > 0:
        unwound = min(remaining, u.collateral_units, s.usdc_debt_units / (spot * (1 - slip)))
    if unwound * spot >= config.dust_usd:
        out = unwound * spot * (1 - slip)
        actions += [AaveWithdraw(u.symbol, unwound), Swap(u.symbol, USDC, unwound, out), AaveRepay(USDC, out)]
        s.collateral_lt_usd -= unwound * spot * u.liquidation_threshold
        s.debt_usd -= out
        s.usdc_debt_units -= out
        s.borrow_capacity_usd += out - unwound * spot * u.ltv
        u = s.update(u, collateral_units=-unwound, net_delta_units=-unwound)
        remaining -= unwound
    borrowed = 0.0
    if remaining > 0:
        lt = book.usdc_liquidation_threshold
        # Collateral first if it is short: supply x idle USDC (above the reserve) so that borrowing all that
        # remains keeps HF at target: C_lt + x·LT + b·(1−slip)·LT = target·(D + b).
        b_usd = remaining * spot
        # Enough for the HF target once the proceeds are supplied, and for Aave's LTV check at borrow time
        # (before the proceeds arrive): capacity + x·LTV ≥ b.
        x_hf = (target * (s.debt_usd + b_usd) - s.collateral_lt_usd - b_usd * (1 - slip) * lt) / lt
        x_ltv = (b_usd / CAPACITY_USE - s.borrow_capacity_usd) / book.usdc_ltv if book.usdc_ltv > 0 else 0.0
        x = min(max(0.0, x_hf, x_ltv), max(0.0, s.idle_usdc - config.idle_reserve_usdc))
        if x >= config.dust_usd:
            actions.append(AaveSupply(USDC, x))
            s.idle_usdc -= x
            s.collateral_lt_usd += x * lt
            s.usdc_collateral_units += x
            s.borrow_capacity_usd += x * book.usdc_ltv
        headroom_usd = (s.collateral_lt_usd - target * s.debt_usd) / (target - (1 - slip) * lt)
        capacity_units = s.borrow_capacity_usd * CAPACITY_USE / spot
        borrowed = max(0.0, min(remaining, headroom_usd / spot, capacity_units))
        if borrowed * spot >= config.dust_usd:
            out = borrowed * spot * (1 - slip)
            actions += [AaveBorrow(u.symbol, borrowed), Swap(u.symbol, USDC, borrowed, out), AaveSupply(USDC, out)]
            s.debt_usd += borrowed * spot
            s.collateral_lt_usd += out * lt
            s.usdc_collateral_units += out
            s.borrow_capacity_usd += out * book.usdc_ltv - borrowed * spot
            s.update(u, net_delta_units=-borrowed, debt_units=borrowed)
    return actions, from_held + unwound + borrowed


# --- raising USDC (for venue margin) ---------------------------------------------------------------------


def raise_usdc(need_usd: float, book: BookView, config: PolicyConfig, s: Working) -> tuple[list[Action], float]:
    """Raise up to ``need_usd`` of idle USDC without touching delta: withdraw USDC collateral Aave does not need
    for the HF target, then supply held underlying as collateral and borrow USDC against it (within the HF
    target and Aave's borrow capacity). Returns the actions and the USDC raised (added to ``s.idle_usdc``)."""
    target, lt_usdc = config.health_factor_target, book.usdc_liquidation_threshold
    actions: list[Action] = []
    raised = 0.0
    if s.usdc_collateral_units > 0:
        w = min(need_usd, spare_usdc_collateral(book, config, s))
        if w >= config.dust_usd:
            actions.append(AaveWithdraw(USDC, w))
            s.usdc_collateral_units -= w
            s.collateral_lt_usd -= w * lt_usdc
            s.borrow_capacity_usd -= w * book.usdc_ltv
            raised += w
    for u in sorted(s.underlyings.values(), key=lambda v: -v.held_units * v.spot_usd):
        remaining = need_usd - raised
        if remaining < config.dust_usd or u.held_units * u.spot_usd < config.dust_usd:
            break
        spot, lt, ltv = u.spot_usd, u.liquidation_threshold, u.ltv
        # Supply y units, then borrow b: C_lt + y·S·LT ≥ target·(D + b) and capacity + y·S·LTV ≥ b / CAPACITY_USE.
        y_hf = (target * (s.debt_usd + remaining) - s.collateral_lt_usd) / (spot * lt)
        y_cap = (remaining / CAPACITY_USE - s.borrow_capacity_usd) / (spot * ltv) if ltv > 0 else math.inf
        y = min(u.held_units, max(0.0, y_hf, y_cap))
        borrow = min(
            remaining,
            (s.collateral_lt_usd + y * spot * lt) / target - s.debt_usd,
            (s.borrow_capacity_usd + y * spot * ltv) * CAPACITY_USE,
        )
        if borrow < config.dust_usd:
            continue
        if y * spot >= config.dust_usd:
            actions.append(AaveSupply(u.symbol, y))
            s.collateral_lt_usd += y * spot * lt
            s.borrow_capacity_usd += y * spot * ltv
            u = s.update(u, held_units=-y, collateral_units=y)
        actions.append(AaveBorrow(USDC, borrow))
        s.debt_usd += borrow
        s.usdc_debt_units += borrow
        s.borrow_capacity_usd -= borrow
        raised += borrow
    s.idle_usdc += raised
    return actions, raised
