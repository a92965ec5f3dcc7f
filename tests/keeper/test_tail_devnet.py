"""The tail-budget rule in the live keeper on the devnet: a short-put book over its budget gets protection bought on
chain (listed wings read from the venue, buybacks of the shorts) and the worst stress loss after the batch is
within the budget; the forecast, regime and tail figures reach the metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.venue_series import ListedSeriesReader
from devnet.venue_reads import market_at
from keeper.chain.rpc import RpcClient
from keeper.model import MarginDeposit, OptionTrade, VenueAccountOpen

from ..vault.conftest import Stack
from .conftest import runtime_for, settings_for
from .test_keeper_devnet import keeper_rebalance
from .test_options_devnet import series

pytestmark = pytest.mark.chain

QUIET_DELTA = {"delta_band_min_usd": 50_000_000.0}  # the delta rule stays out of the way: the tail rule alone acts


def sell_puts(stack: Stack, strike: float, contracts: float, margin_usdc: float) -> int:
    """Through the keeper role: open a venue account, post margin, sell ``contracts`` monthly WETH puts."""
    market = market_at(stack.w3, stack.devnet.record["venue"]["OptionMarket"])
    account = market.functions.accountCount().call() + 1
    put = series(stack, "WETH", strike, False)
    proceeds = market.functions.quoteSell(put, int(contracts * 10**18)).call()[0] / 1e6
    keeper_rebalance(
        stack,
        VenueAccountOpen(),
        MarginDeposit(margin_usdc, account),
        OptionTrade(put, -contracts, -proceeds * 0.99, account),
    )
    return account


def test_listed_series__read_from_the_venue__every_listed_series_with_its_surface(stack: Stack) -> None:
    venue = stack.devnet.record["venue"]
    client = RpcClient(stack.devnet.url)
    block = stack.w3.eth.block_number
    reader = ListedSeriesReader(client, venue["OptionMarket"])
    listed = reader.read(block)
    assert sorted(listed.series_id.tolist()) == sorted(s["id"] for s in venue["series"])
    by_id = {s["id"]: s for s in venue["series"]}
    for sid, e, k, c in zip(listed.series_id, listed.expiry_s, listed.strike_usd, listed.is_call, strict=True):
        assert (int(e), float(k), bool(c)) == (
            by_id[int(sid)]["expiry"],
            by_id[int(sid)]["strike_usd"],
            by_id[int(sid)]["is_call"],
        )
    market = market_at(stack.w3, venue["OptionMarket"])
    for (uid, expiry), (atm, skew, smile, updated) in listed.surfaces.items():
        assert (atm, skew, smile, updated) == tuple(
            market.functions.volSurface(uid, expiry).call(block_identifier=block)
        )
    pool = market.functions.poolState().call(block_identifier=block)
    assert (listed.pool_equity_e6, listed.pool_initial_margin_e6) == (pool[1], pool[2])
    assert reader.read(block) == listed  # definitions from the cache, surfaces and pool read again
    client.close()


def test_tick__short_puts_over_budget__protection_bought_on_chain_and_worst_loss_within_budget(
    stack: Stack, tmp_path: Path
) -> None:
    account = sell_puts(stack, 2700.0, 1_000.0, margin_usdc=1_000_000.0)
    settings = settings_for(stack, tmp_path, policy={**QUIET_DELTA, "tail": {"enabled": True, "tail_budget_pct": 5.0}})
    runtime = runtime_for(stack, settings)
    market = market_at(stack.w3, stack.devnet.record["venue"]["OptionMarket"])
    seen = runtime.keeper.assessor.assess(runtime.keeper.reader.read()).book.tail
    assert seen is not None
    short_put = series(stack, "WETH", 2700.0, False)
    wings = [c for c in seen.candidates if c.series_id != short_put]
    assert len(wings) > 40
    assert all(c.account_id == account for c in wings)
    for c in wings[::9]:  # priced as the venue quotes them: its formulas on its own surfaces
        quote = market.functions.quoteBuy(c.series_id, 10**18).call()
        assert c.ask_usd == pytest.approx(quote[3] / 1e18, rel=1e-9)
    (buyback,) = [c for c in seen.candidates if c.series_id == short_put]
    assert buyback.max_units == pytest.approx(1_000.0)
    first = runtime.keeper.tick()
    plan = first.plan
    assert plan is not None
    assert plan.tail is not None
    decision = next(d for d in plan.decisions if d.rule == "tail_budget")
    assert plan.tail.worst_loss_usd > plan.tail.budget_usd, decision.reason  # the book starts over its budget
    assert plan.tail.feasible, decision.reason
    assert first.outcome == "rebalance mined", (first.outcome, decision.reason)
    buys = [a for a in plan.actions if isinstance(a, OptionTrade)]
    assert buys
    assert all(a.size > 0 for a in buys)
    assert any(isinstance(a, MarginDeposit) and a.account_id == account for a in plan.actions)  # premium funded
    for a in buys:  # on chain: the account holds what the plan bought (shorts smaller, wings long)
        held = market.functions.positionOf(account, a.series_id).call() / 1e18
        assert held == pytest.approx(
            -1_000.0 + a.size if a.series_id == series(stack, "WETH", 2700.0, False) else a.size, rel=1e-6
        )
    assert first.risk["tail_worst_loss_usd"] <= first.risk["tail_budget_usd"] * (1 + 1e-6)

    stack.driver.mine()
    second = runtime.keeper.tick()  # the book as the chain now holds it, revalued from scratch
    assert second.plan is not None
    assert second.plan.tail is not None
    after = second.plan.tail
    assert after.worst_loss_usd <= after.budget_usd * 1.05, after
    exported = runtime.metrics.registry.get_sample_value
    assert exported("hv_tail_budget_usd") == pytest.approx(after.budget_usd)
    assert exported("hv_tail_worst_loss_usd") == pytest.approx(after.worst_loss_after_usd)
    assert exported("hv_forecast_vol", {"underlying": "WETH"}) > 0


def test_tick__budget_out_of_reach__infeasible_alert_and_cheapest_partial_reduction(
    stack: Stack, tmp_path: Path
) -> None:
    sell_puts(stack, 2700.0, 1_000.0, margin_usdc=1_000_000.0)
    tail = {"enabled": True, "tail_budget_pct": 0.5, "max_spend_nav_pct": 0.2}  # 0.5 % of NAV with a tiny spend
    runtime = runtime_for(stack, settings_for(stack, tmp_path, policy={**QUIET_DELTA, "tail": tail}))
    result = runtime.keeper.tick()
    assert result.plan is not None
    assert result.plan.tail is not None
    report = result.plan.tail
    assert not report.feasible
    assert report.worst_loss_after_usd < report.worst_loss_usd  # it still bought the cheapest reduction
    assert runtime.metrics.registry.get_sample_value("hv_alerts_total", {"kind": "tail_infeasible"}) == 1
    reason = next(d.reason for d in result.plan.decisions if d.rule == "tail_budget")
    assert "INFEASIBLE" in reason
