"""The option venue in the model world: the demo's short-vol book opened on the model venue, trades at the venue's
bid/ask, the vault's margin-floor post-check, the demo liquidator's partial liquidation with the contract's
acceptance rule, settlement at expiry, and the keeper's policy topping up margin."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from keeper.config import KeeperSettings
from keeper.model import MarginDeposit, OptionTrade
from keeper.venue import model as venue_model
from sim.montecarlo.books import short_vol
from sim.montecarlo.job import make_job, settings_for, simulate_path
from sim.montecarlo.market import devnet_market
from sim.montecarlo.venue import VenueRefusedError
from sim.montecarlo.world import World


@pytest.fixture(scope="module")
def book():  # type: ignore[no-untyped-def]
    return short_vol(devnet_market(), KeeperSettings())


def _world(book) -> World:  # type: ignore[no-untyped-def]
    return book.world(devnet_market(), settings_for(book))


def _prices(book, weth_move: float = 0.0) -> list[float]:  # type: ignore[no-untyped-def]
    p = list(book.prices_usd)
    return [p[0], p[1] * (1 + weth_move), p[2] * (1 + weth_move)]


def test_short_vol__opens_the_demo_strangle_at_the_bid(book) -> None:  # type: ignore[no-untyped-def]
    (account,) = book.venue_state.accounts.values()
    assert sorted(account.sizes.values()) == [-1000.0, -1000.0]
    series = [book.venue_setup.by_id()[sid] for sid in account.sizes]
    spot = book.prices_usd[1]
    strikes = {s.is_call: s.strike_usd for s in series}
    assert strikes[False] == pytest.approx(0.9 * spot, rel=0.02)
    assert strikes[True] == pytest.approx(1.1 * spot, rel=0.02)
    w = _world(book)
    state = w.venue_state(list(book.prices_usd), 0)
    proceeds = 0.0
    for s in series:
        mark = w.venue.mark(s, state)  # type: ignore[union-attr]
        proceeds += 1000 * (mark - w.venue.fee(s, state, mark))  # type: ignore[union-attr]
    assert account.collateral_usd == pytest.approx(800_000 + proceeds, rel=1e-12)
    assert book.wallet[0] == pytest.approx(2_200_000)
    # NAV: 3M less the venue's fee on both legs (sold at the bid, marked at mid).
    nav = w.nav_usd(list(book.prices_usd), 0)
    assert 3_000_000 - 2 * 1000 * 0.03 * spot < nav < 3_000_000


def test_book__option_greeks_from_the_assessors_options_view(book) -> None:  # type: ignore[no-untyped-def]
    w = _world(book)
    view = w.book(list(book.prices_usd), 0, 0)
    weth = view.underlyings[0]
    assert weth.net_gamma_units_per_usd < 0  # short strangle
    assert weth.net_vega_usd_per_vol_pt < 0
    assert len(view.options) == 2
    assert all(o.size == -1000 for o in view.options)
    (acc,) = view.venue_accounts
    m = w.venue.margin(w.vault.venue.accounts[acc.account_id], w.vault.venue, w.venue_state(list(book.prices_usd), 0))  # type: ignore[union-attr]
    assert acc.equity_usd == pytest.approx(m.equity_usd, rel=1e-12)
    assert acc.maintenance_margin_usd == pytest.approx(m.maintenance_usd, rel=1e-12)


def test_trade__buy_back_pays_the_ask_from_collateral_and_bounds_are_enforced(book) -> None:  # type: ignore[no-untyped-def]
    w = _world(book)
    v = w.vault.venue
    (account,) = v.accounts.values()  # type: ignore[union-attr]
    sid = next(iter(account.sizes))
    state = w.venue_state(list(book.prices_usd), 0)
    s = w.venue.series[sid]  # type: ignore[union-attr]
    mark = w.venue.mark(s, state)  # type: ignore[union-attr]
    ask = mark + w.venue.fee(s, state, mark)  # type: ignore[union-attr]
    before = account.collateral_usd
    with pytest.raises(VenueRefusedError, match="CostAboveMax"):
        w.venue.trade(v, account.account_id, sid, 10.0, 10 * ask * 0.999, state)  # type: ignore[union-attr, arg-type]
    paid = w.venue.trade(v, account.account_id, sid, 10.0, 10 * ask * 1.001, state)  # type: ignore[union-attr, arg-type]
    assert paid == pytest.approx(10 * ask, rel=1e-12)
    assert account.collateral_usd == pytest.approx(before - 10 * ask, rel=1e-12)
    assert account.sizes[sid] == -990.0
    late = venue_model.MarketState(s.expiry_s - 1800, state.spot_usd, state.surfaces)
    with pytest.raises(VenueRefusedError, match="TradingClosed"):
        w.venue.trade(v, account.account_id, sid, 1.0, 1e9, late)  # type: ignore[union-attr, arg-type]


def test_batch__margin_deposit_below_the_vaults_floor__refused_then_enough__accepted(book) -> None:  # type: ignore[no-untyped-def]
    w = _world(book)
    prices = _prices(book, -0.18)  # the short puts deep in the money: equity / MM falls under 1.5
    ratio = w.venue_margin_ratio(prices, 0)
    assert 1.0 < ratio < 1.5
    (account_id,) = w.vault.venue.accounts  # type: ignore[union-attr]
    assert w.execute((MarginDeposit(1_000.0, account_id),), prices, 0) is None  # still under floor × MM
    assert w.execute((MarginDeposit(1_000_000.0, account_id),), prices, 0) == pytest.approx(0.0)
    assert w.venue_margin_ratio(prices, 0) > 1.5
    assert w.vault.wallet[0] == pytest.approx(1_200_000)


def test_keeper_step__margin_ratio_under_trigger__policy_tops_up_to_target(book) -> None:  # type: ignore[no-untyped-def]
    w = _world(book)
    prices = _prices(book, -0.15)
    before = w.venue_margin_ratio(prices, 3600)
    assert before < w.settings.policy.venue_margin_trigger_ratio
    out = w.keeper_step(prices, 3600, 300)
    assert out.acted
    assert w.venue_margin_ratio(prices, 3600) == pytest.approx(w.settings.policy.venue_margin_target_ratio, rel=0.02)


def test_liquidate_venue__partial_close_as_the_contract_accepts_it(book) -> None:  # type: ignore[no-untyped-def]
    w = _world(book)
    prices = _prices(book, -0.35)  # a crash gap: the puts lose more than the margin over MM
    state = w.venue_state(prices, 3600)
    (account,) = w.vault.venue.accounts.values()  # type: ignore[union-attr]
    pre = w.venue.margin(account, w.vault.venue, state)  # type: ignore[union-attr, arg-type]
    assert pre.equity_usd < pre.maintenance_usd
    sizes_before = dict(account.sizes)
    assert w.liquidate_venue(prices, 3600) >= 1
    post = w.venue.margin(account, w.vault.venue, state)  # type: ignore[union-attr, arg-type]
    assert post.initial_usd - post.equity_usd < pre.initial_usd - pre.equity_usd  # shortfall reduced
    assert post.equity_usd <= post.initial_usd * (1 + 1e-12)  # never past IM
    closed = sum(account.sizes.get(s, 0.0) - size for s, size in sizes_before.items())
    assert closed > 0
    penalty = w.vault.venue.liquidation_penalty_usd  # type: ignore[union-attr]
    assert penalty == pytest.approx(closed * prices[1] * w.venue.setup.risk.liquidation_penalty, rel=1e-9)  # type: ignore[union-attr]
    # The equity lost is the penalty plus the fee of buying back at the ask (closed at ask, marked at mid).
    assert pre.equity_usd - post.equity_usd > penalty


def test_settlement__expired_series_cashed_at_the_step_price_nav_continuous(book) -> None:  # type: ignore[no-untyped-def]
    w = _world(book)
    (account,) = w.vault.venue.accounts.values()  # type: ignore[union-attr]
    expiry = w.venue.series[next(iter(account.sizes))].expiry_s  # type: ignore[union-attr]
    ts = expiry - w.clock0_s + 600
    prices = _prices(book, -0.12)
    nav_expired = w.nav_usd(prices, ts)  # expired, not fixed: payoff at spot
    collateral = account.collateral_usd
    payoff = sum(
        size * max(w.venue.series[s].strike_usd - prices[1], 0.0)  # type: ignore[union-attr]
        if not w.venue.series[s].is_call  # type: ignore[union-attr]
        else size * max(prices[1] - w.venue.series[s].strike_usd, 0.0)  # type: ignore[union-attr]
        for s, size in account.sizes.items()
    )
    w.move_venue(prices, ts, 1.0)
    assert not account.sizes
    assert account.collateral_usd == pytest.approx(collateral + payoff, rel=1e-12)
    assert w.nav_usd(prices, ts) == pytest.approx(nav_expired, rel=1e-12)
    assert payoff < 0  # the puts finished in the money


def test_simulate_path__crash_gap_liquidates_the_venue_account(book) -> None:  # type: ignore[no-untyped-def]
    market = devnet_market()
    job = make_job("gbm", 1, 1, book=book, market=market, settings=settings_for(book))
    ratio = np.ones((job.steps + 1, 2))
    ratio[3:] = 0.5  # a −50 % gap at hour 3, then flat
    out = simulate_path(job, np.asarray(book.prices_usd), ratio, np.full(job.steps + 1, 1.5))
    assert out["venue_liquidations"] >= 1
    assert out["liquidations"] >= out["venue_liquidations"]
    assert out["first_liquidation_day"] == 0
    assert math.isfinite(out["final_nav_ratio"])
    assert out["final_nav_ratio"] < 0.9


def test_option_trade_without_a_venue__refused(book) -> None:  # type: ignore[no-untyped-def]
    from sim.montecarlo.books import levered_long

    market = devnet_market()
    long_book = levered_long(market, KeeperSettings())
    w = long_book.world(market, settings_for(long_book))
    assert w.execute((OptionTrade(1, 1.0, 1e6),), list(long_book.prices_usd), 0) is None


def test_tail_rule_enabled__wings_bought_on_the_model_venue_within_the_budget(book) -> None:  # type: ignore[no-untyped-def]
    from keeper.policy import decide

    market = devnet_market()
    settings = settings_for(book, KeeperSettings(policy={"tail": {"enabled": True}}))
    w = book.world(market, settings)
    prices = list(book.prices_usd)
    view = w.book(prices, 0, 0)
    assert view.tail is not None  # the assessor's own tail inputs, from the model venue's listed series and pool
    assert view.listed
    assert any(c.max_units > 0 for c in view.tail.candidates)
    plan = decide(view, settings.policy)
    assert plan.tail is not None
    assert plan.tail.worst_loss_usd > plan.tail.budget_usd  # the naked strangle is over its tail budget
    buys = [a for a in plan.actions if isinstance(a, OptionTrade) and a.size > 0]
    assert buys
    (account,) = w.vault.venue.accounts.values()  # type: ignore[union-attr]
    held = dict(account.sizes)
    assert w.execute(plan.actions, prices, 0) is not None  # the venue and the vault accept the protection
    for trade in buys:
        assert account is not w.vault.venue.accounts[account.account_id]  # type: ignore[union-attr]
        after = w.vault.venue.accounts[account.account_id].sizes  # type: ignore[union-attr]
        assert after[trade.series_id] == pytest.approx(held.get(trade.series_id, 0.0) + trade.size)
    assert plan.tail.worst_loss_after_usd <= plan.tail.budget_usd * 1.0001


def test_margin_memo__same_bits_as_computing_every_margin(book) -> None:  # type: ignore[no-untyped-def]
    from sim.montecarlo import venue as venue_module
    from sim.montecarlo.paths import generate

    market = devnet_market()
    job = make_job("crash", 1, 1, book=book, market=market, settings=settings_for(book))
    drawn = generate(job.model, 16, 2, 1, job.steps, job.step_seconds)  # path 2: two venue liquidations in 2 days

    def run() -> dict:  # type: ignore[type-arg]
        return simulate_path(job, np.asarray(book.prices_usd), drawn.price_ratio[0], drawn.iv_multiplier[0])

    memo = run()

    class Forgetful(dict):  # type: ignore[type-arg]
        def __setitem__(self, key, value) -> None:  # type: ignore[no-untyped-def]
            return None

    original = venue_module.VenueModel.__init__

    def init(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        self._margins = Forgetful()

    try:
        venue_module.VenueModel.__init__ = init  # type: ignore[method-assign]
        plain = run()
    finally:
        venue_module.VenueModel.__init__ = original  # type: ignore[method-assign]
    assert memo["nav_by_day"].tolist() == plain["nav_by_day"].tolist()
    assert (memo["liquidations"], memo["rebalances"], memo["max_drawdown"]) == (
        plain["liquidations"],
        plain["rebalances"],
        plain["max_drawdown"],
    )


def test_no_keeper__the_book_as_opened__settled_by_the_venue_and_marked_like_the_keepers_run(book) -> None:  # type: ignore[no-untyped-def]
    # The unhedged book of ``bench.premium_kept``: the same path with and without the keeper. Without, nothing is
    # traded (no rebalance, no option trade, no swap cost), the strangle is still marked and settled at expiry by
    # the venue, so a path that ends between the strikes keeps the premium (NAV up); with the keeper it trades.
    market = devnet_market()
    job = make_job("calm", 1, 30, book=book, market=market, settings=settings_for(book), step_minutes=360.0)
    ratio = np.ones((job.steps + 1, 2))
    ratio[1:, 0] = 1.05  # WETH +5 % on day 0, inside the 2,700 / 3,300 strikes, then flat
    iv = np.ones(job.steps + 1)
    p0 = np.asarray(book.prices_usd)
    off = simulate_path(replace(job, keeper=False), p0, ratio, iv)
    on = simulate_path(job, p0, ratio, iv)
    assert off["rebalances"] == 0
    assert off["option_trades"] == 0
    assert off["swap_cost_usd"] == 0.0
    assert off["final_nav_ratio"] > 1.0
    assert on["rebalances"] > 0
    assert on["final_nav_ratio"] != off["final_nav_ratio"]
