"""One round of each configured strategy (``policy.strategies``), decided from the book: pure.

A strategy's round is the vault's positions on its underlying (one strategy per underlying). Every decision:
- **expired, not settled**: wait (the settlement job fixes the price and cashes the account; the venue refuses
  trades on the account until then);
- **no round**: open one — the listed expiry nearest ``tenor_days`` among those more than
  ``roll_days_before_expiry`` out; per leg the listed strike nearest the strike rule (K/spot, or |Δ| by
  Black–Scholes at the series' vol); ``contracts`` units (``sizing="fixed"``) or as many as keep the tail budget at
  forecast vol, capped at ``contracts`` (``sizing="tail_budget"``, the injected ``sizer``); shorts sold at the
  venue's bid, wings bought at its ask; the covered call and the collar buy the underlying they cover;
- **round open, more than the roll window left**: hold (the Greek, delta and tail rules manage it);
- **inside the roll window**: roll — close every leg (buy back shorts at the ask, sell longs at the bid, less the
  venue pool's haircut while it is insolvent: the venue pays a long's close bid × (1 − h)) and open the next round,
  in the same plan: one guarded vault batch.
Margin: a deposit of idle USDC covers what the new legs need (one unit short alone × the initial margin it needs,
no netting: conservative) beyond the account's free margin, the premium received and the margin the closed legs
release. Protection beyond the structure's own wings is the tail rule's (it runs after, on the book these trades
leave).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from keeper.config import STRATEGY_HOLDS_SPOT, STRATEGY_LEGS, PolicyConfig, StrategyConfig
from keeper.model import Action, BookView, Decision, ListedOption, MarginDeposit, OptionTrade, Swap
from keeper.risk.black import greeks

DAY = 86_400
#: A closed position can leave ~1e-10 units: sizes cross the ABI as WAD integers from floats shaded by 1e-12
#: (``adapters.option_market``), so a buyback of the lens's float size misses the exact integer by a few wei.
DUST_UNITS = 1e-6
MARGIN_HEADROOM = 1.2  # deposits cover the estimate × this (the margin rule tops up from there)

#: ``sizer(legs)`` → units of the structure the tail budget allows; legs = (series, signed contracts, price).
Sizer = Callable[[list[tuple[ListedOption, float, float]]], float]


@dataclass
class RoundPlan:
    """What the rounds do this block, for the policy to apply to its working state."""

    actions: list[Action] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    idle_used_usd: float = 0.0
    delta_units: dict[str, float] = field(default_factory=dict)  # per underlying: the trades' delta
    gamma_units_per_usd: dict[str, float] = field(default_factory=dict)
    vega_usd_per_vol_pt: dict[str, float] = field(default_factory=dict)
    spot_bought_units: dict[str, float] = field(default_factory=dict)


def plan_rounds(book: BookView, config: PolicyConfig, idle_usdc: float, sizer: Sizer | None) -> RoundPlan:
    out = RoundPlan()
    for st in config.strategies:
        _one(book, config, st, idle_usdc - out.idle_used_usd, sizer, out)
    return out


def _one(
    book: BookView, config: PolicyConfig, st: StrategyConfig, idle: float, sizer: Sizer | None, out: RoundPlan
) -> None:
    rule = f"strategy:{st.name}"
    view = next((u for u in book.underlyings if u.symbol == st.underlying), None)
    if view is None:
        out.decisions.append(Decision(rule, False, f"{st.underlying} is not a tracked underlying of the vault"))
        return
    if not book.venue_accounts:
        out.decisions.append(Decision(rule, False, "the vault has no venue account: open one (and fund it) first"))
        return
    options = [o for o in book.listed if o.underlying == st.underlying]
    held = [o for o in options if abs(o.held_units) > DUST_UNITS]
    if any(o.t_years <= 0 for o in held):
        out.decisions.append(Decision(rule, False, "round expired: waiting for its settlement (the settlement job)"))
        return
    closing: list[ListedOption] = []
    if held:
        expiry = min(o.expiry_s for o in held)
        left = (expiry - book.timestamp_s) / DAY
        if left > st.roll_days_before_expiry:
            out.decisions.append(
                Decision(
                    rule,
                    False,
                    f"round to {_date(expiry)}: {len(held)} legs, {left:.1f} d left > roll at "
                    f"{st.roll_days_before_expiry:g} d",
                )
            )
            return
        if not all(o.tradeable for o in held):
            out.decisions.append(
                Decision(rule, False, f"round to {_date(expiry)} inside the venue's trading cutoff: held to settle")
            )
            return
        closing = held
    opened = _open(book, config, st, view.spot_usd, idle, sizer, exclude=[o.expiry_s for o in closing])
    if isinstance(opened, str):
        if closing:  # a roll with nothing to open into: still close (the round is due)
            opened = ([], 0.0, 0.0, f"nothing to open ({opened})")
        else:
            out.decisions.append(Decision(rule, False, opened))
            return
    legs, units, spot_units, words = opened
    margin_need = sum(-c * units * o.short_im_usd for o, c, _ in legs if c < 0)
    margin_need += sum(c * units * p for o, c, p in legs if c > 0)  # wings are paid from the account
    margin_need -= sum(-c * units * p for o, c, p in legs if c < 0)  # premium received
    released = sum(-o.held_units * o.short_im_usd for o in closing if o.held_units < 0)
    margin_need += sum(-o.held_units * o.ask_usd for o in closing if o.held_units < 0)  # buybacks
    margin_need -= sum(o.held_units * o.close_bid_usd for o in closing if o.held_units > 0)
    first = [*closing, *(o for o, _, _ in legs)]
    account_id = first[0].account_id if first else 0
    free = next((a.equity_usd - a.initial_margin_usd for a in book.venue_accounts if a.account_id == account_id), 0.0)
    deposit = max(0.0, (margin_need - released) * MARGIN_HEADROOM - max(0.0, free))
    spot_cost = spot_units * view.spot_usd * (1 + config.hedge_cost_bps / 10_000)
    if deposit + spot_cost > idle:
        out.decisions.append(
            Decision(
                rule,
                False,
                f"needs ${deposit:,.0f} of margin and ${spot_cost:,.0f} of {st.underlying}, idle USDC has "
                f"${max(0.0, idle):,.0f}: not {'rolled' if closing else 'opened'}",
            )
        )
        return
    slip = config.max_slippage_bps / 10_000
    actions: list[Action] = []
    if deposit >= config.dust_usd:
        actions.append(MarginDeposit(deposit, account_id))
    for o in closing:  # close: buy back shorts, sell longs
        size = -o.held_units
        cost = size * (o.ask_usd if size > 0 else o.close_bid_usd)  # a long's close: bid less the pool's haircut
        actions.append(
            OptionTrade(o.series_id, size, cost * (1 + slip) if size > 0 else cost * (1 - slip), o.account_id)
        )
        _greeks(out, o, size, book)
    if spot_units > 0:
        actions.append(Swap("USDC", st.underlying, spot_cost, spot_units * (1 - slip)))
        out.spot_bought_units[st.underlying] = out.spot_bought_units.get(st.underlying, 0.0) + spot_units
        out.delta_units[st.underlying] = out.delta_units.get(st.underlying, 0.0) + spot_units
    for o, c, p in sorted(legs, key=lambda leg: -leg[1]):  # wings first: they lower the margin the shorts need
        size = c * units
        bound = size * p * (1 + slip) if size > 0 else size * p * (1 - slip)  # max cost, or −min proceeds
        actions.append(OptionTrade(o.series_id, size, bound, account_id))
        _greeks(out, o, size, book)
    out.actions += actions
    out.idle_used_usd += deposit + spot_cost
    what = "roll: close " + ", ".join(_label(o) for o in closing) + "; open " if closing else "open "
    out.decisions.append(Decision(rule, True, what + words + (f"; margin ${deposit:,.0f}" if deposit else "")))


def _open(
    book: BookView,
    config: PolicyConfig,
    st: StrategyConfig,
    spot: float,
    idle: float,
    sizer: Sizer | None,
    exclude: list[int],
) -> tuple[list[tuple[ListedOption, float, float]], float, float, str] | str:
    """The next round's legs (series, signed contracts per unit, price), units, spot to buy, and words; or why
    not (a string)."""
    live = [
        o
        for o in book.listed
        if o.underlying == st.underlying
        and o.tradeable
        and o.expiry_s not in exclude
        and (o.expiry_s - book.timestamp_s) / DAY > st.roll_days_before_expiry
    ]
    if not live:
        return (
            f"no listed {st.underlying} expiry more than {st.roll_days_before_expiry:g} d out "
            f"(tenor {st.tenor_days:g} d): nothing to open"
        )
    expiry = min({o.expiry_s for o in live}, key=lambda e: abs((e - book.timestamp_s) / DAY - st.tenor_days))
    chain = [o for o in live if o.expiry_s == expiry]
    legs: list[tuple[ListedOption, float, float]] = []
    for role, is_call in STRATEGY_LEGS[st.kind]:
        target = getattr(st.strikes, role)
        side = [o for o in chain if o.is_call == is_call]
        if not side:
            return f"no listed {'call' if is_call else 'put'} at {_date(expiry)}"
        pick = min(side, key=lambda o: abs(_measure(o, st, spot, book) - target))
        sign = -1.0 if role.startswith("short") else 1.0
        legs.append((pick, sign, pick.bid_usd if sign < 0 else pick.ask_usd))
    if len({o.series_id for o, _, _ in legs}) < len(legs):
        strikes = ", ".join(f"{o.strike_usd:,.0f}" for o, _, _ in legs)
        return f"the listed strikes at {_date(expiry)} are too coarse for the rule: legs collide ({strikes})"
    units = st.contracts
    how = "fixed"
    if st.sizing == "tail_budget" and sizer is not None:
        allowed = sizer(legs)
        units, how = min(units, allowed), f"tail budget allows {allowed:,.2f}" if math.isfinite(allowed) else "cap"
    held = next((u.held_units for u in book.underlyings if u.symbol == st.underlying), 0.0)
    spot_units = max(0.0, units - held) if st.kind in STRATEGY_HOLDS_SPOT else 0.0
    premium = sum(-c * units * p for _, c, p in legs)
    if units <= 0 or abs(premium) < config.min_trade_usd:
        return f"round sized to {units:,.2f} units ({how}; premium ${premium:,.0f}): not opened"
    words = (
        f"{st.kind} to {_date(expiry)}: {units:,.2f} × ("
        + ", ".join(f"{'+' if c > 0 else '−'}{_label(o)} @ {p:,.2f}" for o, c, p in legs)
        + f"); net premium ${premium:,.0f} ({how})"
        + (f"; buy {spot_units:,.2f} {st.underlying}" if spot_units else "")
    )
    return legs, units, spot_units, words


def _measure(o: ListedOption, st: StrategyConfig, spot: float, book: BookView) -> float:
    if st.strikes.by == "moneyness":
        return o.strike_usd / spot
    rate = book.tail.rate if book.tail is not None else 0.0
    return abs(float(greeks(spot, o.strike_usd, o.t_years, o.vol, rate, o.is_call).delta[0]))


def _greeks(out: RoundPlan, o: ListedOption, size: float, book: BookView) -> None:
    spot = next(u.spot_usd for u in book.underlyings if u.symbol == o.underlying)
    rate = book.tail.rate if book.tail is not None else 0.0
    g = greeks(spot, o.strike_usd, o.t_years, o.vol, rate, o.is_call)
    for target, value in (
        (out.delta_units, size * float(g.delta[0])),
        (out.gamma_units_per_usd, size * float(g.gamma[0])),
        (out.vega_usd_per_vol_pt, size * float(g.vega[0]) / 100),
    ):
        target[o.underlying] = target.get(o.underlying, 0.0) + value


def _label(o: ListedOption) -> str:
    return f"{o.underlying} {o.strike_usd:,.0f} {'C' if o.is_call else 'P'} {_date(o.expiry_s)}"


def _date(expiry_s: int) -> str:
    return datetime.fromtimestamp(expiry_s, UTC).strftime("%d %b")


def listing_problems(book: BookView, config: PolicyConfig) -> list[str]:
    """Config errors a strategy has against the venue's listing (checked at start): an underlying with no listed
    series, or no listed expiry the round could open into."""
    problems = []
    for i, st in enumerate(config.strategies):
        mine = [o for o in book.listed if o.underlying == st.underlying and o.t_years > 0]
        if not mine:
            listed = sorted({o.underlying for o in book.listed}) or ["none"]
            problems.append(
                f"policy.strategies.{i}.underlying={st.underlying!r}: the venue lists no series on it "
                f"(listed: {', '.join(listed)}); name a listed underlying"
            )
            continue
        days = sorted({(o.expiry_s - book.timestamp_s) / DAY for o in mine})
        if not any(d > st.roll_days_before_expiry for d in days):
            problems.append(
                f"policy.strategies.{i}.tenor_days={st.tenor_days:g}: no listed {st.underlying} expiry more than "
                f"roll_days_before_expiry={st.roll_days_before_expiry:g} d out (listed: "
                f"{', '.join(f'{d:.1f}' for d in days)} d)"
            )
    return problems
