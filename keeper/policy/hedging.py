"""The hedging policy: ``decide(book, config) -> Plan``. Pure: no I/O, no clock.

Rules run in order of urgency, each on the state the previous ones leave (a ``Working`` copy):
1. Aave health (:mod:`keeper.policy.aave`): below ``health_factor_trigger`` repay debt, largest first, back
   to ``health_factor_target`` (closed form). Debt in an underlying is funded by held units, idle USDC, then
   USDC collateral withdrawn and swapped; USDC debt by idle USDC, held underlying sold, then underlying
   collateral withdrawn and sold. Re-levering is the delta rule's job, always within the HF target.
2. Venue margin: below ``venue_margin_trigger_ratio`` × maintenance, deposit idle USDC up to the target.
3. Gamma / vega limits: buy back the shorts that contribute most until |gamma| and |vega| are within limits.
4. Strategy rounds (:mod:`keeper.strategy`, when ``policy.strategies`` are configured): open, hold or roll each
   strategy's round on the venue's listed series, sized by the tail budget at forecast vol.
5. Delta band per underlying: hedge back to zero delta when |net delta| leaves the band. The band's
   half-width (underlying units) is the Whalley–Wilmott asymptotic width
   ``(3/2 · k · S · Γ² / γ)^(1/3)`` (k proportional cost, γ risk aversion per USD), floored at
   ``delta_band_min_usd / S`` and capped at ``delta_risk_budget_usd / (S · σ · √h)`` so the 1-σ loss of the
   residual delta over the forecast horizon stays within budget. Buying delta spends idle USDC above the
   reserve (repaying debt in the underlying first), then optionally borrows USDC against the bought units;
   selling delta sells held units, unwinds underlying collateral against USDC debt, then borrows the
   underlying (supplying USDC collateral first if short). A hedge is skipped when it is smaller
   than ``min_trade_usd``, within ``cooldown_blocks`` of the last one, or when its risk reduction (1-σ
   horizon loss avoided) is below ``cost_benefit_ratio`` × its cost (swap cost + gas).
6. Tail budget (:mod:`keeper.policy.tail`, when the book carries its inputs): revalue the book as the rules
   above leave it over the stress set and, when the worst loss exceeds ``policy.tail.tail_budget_pct`` of NAV,
   buy the cheapest protection (MILP) that brings it back under. Last, so it sees the hedged book and its
   trades are the plan's final word.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from functools import partial

from keeper.config import PolicyConfig
from keeper.model import (
    Action,
    BookView,
    Decision,
    DeltaBand,
    ListedOption,
    MarginDeposit,
    OptionTrade,
    Plan,
    TailCandidate,
    TailReport,
    UnderlyingView,
    VenueAccountView,
)
from keeper.policy.aave import Working, buy_delta, health_rule, raise_usdc, sell_delta, slippage
from keeper.policy.instrument import apply_venue, choose, spot_cost, venue_costs
from keeper.policy.tail import PremiumLeg, size_new_premium, tail_rule
from keeper.strategy import plan_rounds

Rule = Callable[[BookView, PolicyConfig, Working], tuple[list[Action], list[Decision]]]

#: The stage (index in ``decide``'s rules) of the delta-band rule: the one whose trades execution may slice.
DELTA_STAGE = 4


def decide(book: BookView, config: PolicyConfig) -> Plan:
    """The plan for this block: actions in execution order and every rule's reasoning."""
    state = Working.of(book)
    actions: list[Action] = []
    decisions: list[Decision] = []
    stages: list[int] = []
    bands: list[DeltaBand] = []
    reports: list[TailReport] = []
    rules: tuple[Rule, ...] = (
        health_rule,
        _margin_rule,
        _greek_limits_rule,
        _strategy_rule,
        partial(_delta_rule, bands=bands),
        partial(tail_rule, planned=actions, reports=reports, bands=bands),
    )
    for stage, rule in enumerate(rules):
        rule_actions, rule_decisions = rule(book, config, state)
        actions += rule_actions
        stages += [stage] * len(rule_actions)
        decisions += rule_decisions
    tail = reports[0] if reports else None
    return Plan(book.block_number, tuple(actions), tuple(decisions), tuple(stages), tuple(bands), tail)


# --- 2. Venue margin -------------------------------------------------------------------------------------


def _margin_rule(book: BookView, config: PolicyConfig, s: Working) -> tuple[list[Action], list[Decision]]:
    """Per venue account (or the totals when the book has no per-account view): below the trigger ratio of
    equity to maintenance margin, deposit idle USDC up to the target ratio; the tightest account first."""
    accounts = book.venue_accounts or (
        (VenueAccountView(0, book.venue_collateral_usd, book.venue_maintenance_margin_usd),)
        if book.venue_maintenance_margin_usd > 0
        else ()
    )
    needing = [a for a in accounts if a.maintenance_margin_usd > 0]
    if not needing:
        return [], [Decision("venue_margin", False, "no maintenance margin requirement")]
    if not book.venue_tradeable:
        return [], [
            Decision("venue_margin", False, "venue inputs stale (spot or vol surface): the venue refuses trades")
        ]
    actions: list[Action] = []
    reasons: list[str] = []
    for a in sorted(needing, key=lambda v: v.equity_usd / v.maintenance_margin_usd):
        ratio = a.equity_usd / a.maintenance_margin_usd
        if ratio >= config.venue_margin_trigger_ratio:
            continue
        need = config.venue_margin_target_ratio * a.maintenance_margin_usd - a.equity_usd
        where = f"account {a.account_id}" if a.account_id else "venue"
        if s.idle_usdc < need:  # a margin call is funded without unwinding the hedge: Aave collateral first
            funding, raised = raise_usdc(need - s.idle_usdc, book, config, s)
            actions += funding
            if raised > 0:
                reasons.append(f"{where}: raise ${raised:,.0f} of USDC on Aave for the margin call")
        amount = min(need, s.idle_usdc)
        if amount < config.dust_usd:
            reasons.append(f"{where}: margin ratio {ratio:.2f} below trigger but no idle USDC and no Aave headroom")
            continue
        s.idle_usdc -= amount
        s.venue_collateral_usd += amount
        actions.append(MarginDeposit(amount, a.account_id))
        reason = (
            f"{where}: margin ratio {ratio:.2f} < trigger {config.venue_margin_trigger_ratio}: deposit ${amount:,.0f}"
        )
        if amount < need:
            reason += f" (short of the ${need:,.0f} needed for the target: idle USDC exhausted)"
        reasons.append(reason)
    if not reasons:
        worst = min(a.equity_usd / a.maintenance_margin_usd for a in needing)
        return [], [
            Decision("venue_margin", False, f"margin ratio {worst:.2f} ≥ trigger {config.venue_margin_trigger_ratio}")
        ]
    return actions, [Decision("venue_margin", bool(actions), "; ".join(reasons))]


# --- 3. Gamma / vega limits ------------------------------------------------------------------------------


def gamma_usd_per_pct(gamma_units_per_usd: float, spot_usd: float) -> float:
    """Change of delta's USD value for a 1 % spot move: Γ · S · (0.01 · S)."""
    return gamma_units_per_usd * spot_usd * spot_usd * 0.01


def _greek_limits_rule(book: BookView, config: PolicyConfig, s: Working) -> tuple[list[Action], list[Decision]]:
    actions: list[Action] = []
    decisions: list[Decision] = []
    if book.options and not book.venue_tradeable:
        return [], [Decision("greek_limits", False, "venue inputs stale: no option trade possible now")]
    for u in list(s.underlyings.values()):
        gamma = gamma_usd_per_pct(u.net_gamma_units_per_usd, u.spot_usd)
        vega = u.net_vega_usd_per_vol_pt
        # Hysteresis: once over a limit, buy back to target_ratio × the limit (not just under it), so a Greek
        # that creeps with time to expiry is not trimmed by a small trade every few blocks.
        target = config.greek_limit_target_ratio
        over_gamma = abs(gamma) > config.max_net_gamma_usd_per_pct
        over_vega = abs(vega) > config.max_net_vega_usd_per_vol_pt
        excess_gamma = abs(gamma) - target * config.max_net_gamma_usd_per_pct if over_gamma else 0.0
        excess_vega = abs(vega) - target * config.max_net_vega_usd_per_vol_pt if over_vega else 0.0
        if excess_gamma == 0 and excess_vega == 0:
            decisions.append(
                Decision(
                    f"greek_limits:{u.symbol}",
                    False,
                    f"|gamma| ${abs(gamma):,.0f}/1% and |vega| ${abs(vega):,.0f}/pt within limits",
                )
            )
            continue
        shorts = sorted(
            (o for o in book.options if o.underlying == u.symbol and o.size < 0),
            key=lambda o: -abs(o.gamma_units_per_usd_each),
        )
        bought_gamma = bought_vega = 0.0
        for option in shorts:
            if bought_gamma >= excess_gamma and bought_vega >= excess_vega:
                break
            g_each = gamma_usd_per_pct(option.gamma_units_per_usd_each, u.spot_usd)
            sizes = [-option.size]
            if g_each > 0 and bought_gamma < excess_gamma:
                sizes.append((excess_gamma - bought_gamma) / g_each)
            if option.vega_usd_per_vol_pt_each > 0 and bought_vega < excess_vega:
                sizes.append((excess_vega - bought_vega) / option.vega_usd_per_vol_pt_each)
            size = min(sizes[0], max(sizes[1:], default=0.0))
            cost = size * option.ask_usd * (1 + slippage(config))
            if size <= 0 or cost > s.idle_usdc or cost < config.min_trade_usd:
                continue
            actions.append(OptionTrade(option.series_id, size, cost, option.account_id))
            s.idle_usdc -= cost
            bought_gamma += size * g_each
            bought_vega += size * option.vega_usd_per_vol_pt_each
            s.underlyings[u.symbol] = replace(
                s.underlyings[u.symbol],
                net_gamma_units_per_usd=s.underlyings[u.symbol].net_gamma_units_per_usd
                + size * option.gamma_units_per_usd_each,
                net_vega_usd_per_vol_pt=s.underlyings[u.symbol].net_vega_usd_per_vol_pt
                + size * option.vega_usd_per_vol_pt_each,
            )
        decisions.append(
            Decision(
                f"greek_limits:{u.symbol}",
                bool(bought_gamma or bought_vega),
                f"gamma ${gamma:,.0f}/1% (limit {config.max_net_gamma_usd_per_pct:,.0f}), "
                f"vega ${vega:,.0f}/pt "
                f"(limit {config.max_net_vega_usd_per_vol_pt:,.0f}): buy back ${bought_gamma:,.0f}/1% gamma, "
                f"${bought_vega:,.0f}/pt vega",
            )
        )
    return actions, decisions


# --- 4. Strategy rounds ----------------------------------------------------------------------------------


def _strategy_rule(book: BookView, config: PolicyConfig, s: Working) -> tuple[list[Action], list[Decision]]:
    """Open, hold or roll each configured strategy's round (:mod:`keeper.strategy`); new rounds sized by the tail
    budget at forecast vol (:func:`keeper.policy.tail.size_new_premium`). Its trades' Greeks go into the working
    state, so the delta rule hedges the new round and the tail rule protects it."""
    if not config.strategies:
        return [], []
    if not book.venue_tradeable:
        return [], [Decision("strategies", False, "venue inputs stale: no round opened or rolled now")]

    def sizer(legs: list[tuple[ListedOption, float, float]]) -> float:
        return size_new_premium(book, config, [PremiumLeg(_as_candidate(o), c, p) for o, c, p in legs]).units

    plan = plan_rounds(book, config, s.idle_usdc - config.idle_reserve_usdc, sizer)
    s.idle_usdc -= plan.idle_used_usd
    for symbol in set(plan.delta_units) | set(plan.spot_bought_units):
        u = s.underlyings[symbol]
        s.update(
            u,
            net_delta_units=plan.delta_units.get(symbol, 0.0),
            net_gamma_units_per_usd=plan.gamma_units_per_usd.get(symbol, 0.0),
            net_vega_usd_per_vol_pt=plan.vega_usd_per_vol_pt.get(symbol, 0.0),
            held_units=plan.spot_bought_units.get(symbol, 0.0),
        )
    return plan.actions, plan.decisions


def _as_candidate(o: ListedOption) -> TailCandidate:
    return TailCandidate(o.series_id, o.underlying, o.strike_usd, o.t_years, o.vol, o.is_call, o.ask_usd, 0.0)


# --- 5. Delta band ---------------------------------------------------------------------------------------


def delta_band_units(u: UnderlyingView, config: PolicyConfig, horizon_years: float) -> float:
    """Half-width of the no-trade band around zero delta, in underlying units (see module docstring)."""
    k = config.hedge_cost_bps / 10_000
    ww = (1.5 * k * u.spot_usd * u.net_gamma_units_per_usd**2 / config.risk_aversion) ** (1.0 / 3.0)
    floor = config.delta_band_min_usd / u.spot_usd
    one_sigma_usd_per_unit = u.spot_usd * u.sigma_annual * math.sqrt(horizon_years)
    cap = config.delta_risk_budget_usd / one_sigma_usd_per_unit if one_sigma_usd_per_unit > 0 else math.inf
    return min(max(ww, floor), max(cap, floor))


def _delta_rule(
    book: BookView, config: PolicyConfig, s: Working, bands: list[DeltaBand]
) -> tuple[list[Action], list[Decision]]:
    """Appends the band it uses per underlying to ``bands`` (the plan carries them)."""
    actions: list[Action] = []
    decisions: list[Decision] = []
    for symbol in list(s.underlyings):
        u = s.underlyings[symbol]
        used = DeltaBand(
            symbol,
            config.delta_target_units.get(symbol, 0.0),
            delta_band_units(u, config, book.horizon_years),
            u.net_delta_units,
        )
        bands.append(used)
        band, delta = used.half_width_units, used.deviation_units  # deviation from the target
        rule = f"delta:{symbol}"
        if used.inside:
            decisions.append(Decision(rule, False, f"net delta {delta:+.4f} within band ±{band:.4f}"))
            continue
        trade = -delta
        notional = abs(trade) * u.spot_usd
        sigma_h = u.sigma_annual * math.sqrt(book.horizon_years)
        benefit = notional * sigma_h
        cost = notional * config.hedge_cost_bps / 10_000 + book.gas_cost_usd
        last = book.last_action_block.get(rule)
        if last is not None and book.block_number - last < config.cooldown_blocks:
            decisions.append(
                Decision(
                    rule,
                    False,
                    f"net delta {delta:+.4f} outside ±{band:.4f} but in cooldown "
                    f"({book.block_number - last} < {config.cooldown_blocks} blocks)",
                )
            )
            continue
        if notional < config.min_trade_usd:
            decisions.append(
                Decision(rule, False, f"hedge ${notional:,.0f} below min_trade_usd {config.min_trade_usd:,.0f}")
            )
            continue
        if benefit < config.cost_benefit_ratio * cost:
            decisions.append(
                Decision(
                    rule,
                    False,
                    f"hedge risk reduction ${benefit:,.0f} < {config.cost_benefit_ratio} × cost ${cost:,.0f}: skipped",
                )
            )
            continue
        trial = replace(s, underlyings=dict(s.underlyings))  # a leg limited by funds may come out as dust
        hedge_actions, done_units = (buy_delta if trade > 0 else sell_delta)(u, abs(trade), book, config, trial)
        side = "buy" if trade > 0 else "sell"
        if done_units * u.spot_usd < config.min_trade_usd:
            decisions.append(
                Decision(
                    rule,
                    False,
                    f"net delta {delta:+.4f} outside ±{band:.4f}, but funds and HF headroom allow only "
                    f"${done_units * u.spot_usd:,.0f} (< min_trade_usd {config.min_trade_usd:,.0f}): nothing to {side}",
                )
            )
            continue
        moved = done_units if trade > 0 else -done_units
        spot = spot_cost(u, moved, hedge_actions, book, config)
        chosen, why = choose(spot, venue_costs(u, moved, book, config, s), config.delta_via_venue)
        decisions.append(Decision(f"instrument:{symbol}", False, why))  # the comparison, whichever way it went
        if chosen is spot:
            s.adopt(trial)
            actions += hedge_actions
            what = f"{side} {done_units:.4f} {symbol} (${done_units * u.spot_usd:,.0f}"
        else:
            apply_venue(chosen, s, book, config)
            actions += chosen.actions
            what = f"{chosen.instrument}: {chosen.contracts:.4f} contracts, delta {chosen.delta_units:+.4f} ("
        decisions.append(
            Decision(
                rule,
                True,
                f"net delta {delta:+.4f} outside ±{band:.4f}: {what}; risk cut ${benefit:,.0f} vs cost ${cost:,.0f})",
            )
        )
    return actions, decisions
