"""Choice of instrument on the devnet: a short-put book long delta, with spot made dear, hedged by buying back
puts on the real venue through the vault (policy.delta_via_venue), and the comparison recorded either way."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devnet.venue_reads import market_at
from keeper.model import OptionTrade, Swap
from keeper.policy import decide

from ..vault.conftest import Stack
from .conftest import runtime_for, settings_for
from .test_options_devnet import series
from .test_tail_devnet import sell_puts

pytestmark = pytest.mark.chain


@pytest.mark.parametrize("via_venue", [True, False])
def test_tick__long_delta_from_short_puts__venue_buyback_when_cheaper_and_enabled(
    stack: Stack, tmp_path: Path, via_venue: bool
) -> None:
    account = sell_puts(stack, 3000.0, 300.0, margin_usdc=500_000.0)
    # spot made dear (300 bp) and a narrow band: the WW band widens with the cost, the risk budget caps it
    policy: dict[str, object] = {"hedge_cost_bps": 300.0, "delta_via_venue": via_venue, "delta_risk_budget_usd": 1e3}
    if not via_venue:  # the venue's chain is read only for a rule that uses it: the tail rule, with room to spare
        policy["tail"] = {"enabled": True, "tail_budget_pct": 90.0}
    runtime = runtime_for(stack, settings_for(stack, tmp_path, policy=policy))
    result = runtime.keeper.tick()
    plan = result.plan
    assert plan is not None
    reason = next((d.reason for d in plan.decisions if d.rule == "instrument:WETH"), str(plan.decisions))
    assert "vs venue buy" in reason, reason  # a new long put or a buyback of the short, whichever is cheaper
    assert result.outcome == "rebalance mined", (result.outcome, reason)
    trades = [a for a in plan.actions if isinstance(a, OptionTrade)]
    swaps = [a for a in plan.actions if isinstance(a, Swap)]
    put = series(stack, "WETH", 3000.0, False)
    market = market_at(stack.w3, stack.devnet.record["venue"]["OptionMarket"])
    held = market.functions.positionOf(account, put).call() / 1e18
    if via_venue:
        assert "venue chosen" in reason, reason
        (trade,) = trades
        assert trade.account_id == account
        assert not swaps
        bought = market.functions.positionOf(account, trade.series_id).call() / 1e18
        before = -300.0 if trade.series_id == put else 0.0
        assert bought == pytest.approx(before + trade.size, rel=1e-9)
        listed = {s["id"]: s for s in stack.devnet.record["venue"]["series"]}
        assert not listed[trade.series_id]["is_call"]  # a put sells delta
    else:
        assert "policy.delta_via_venue is off" in reason, reason
        assert held == pytest.approx(-300.0, rel=1e-9)
        assert not trades
        assert swaps
    stack.driver.mine()
    after = runtime.keeper.tick()
    assert abs(after.risk["net_delta_usd:WETH"]) <= after.risk["delta_band_usd:WETH"]  # hedged either way


def test_tick__delta_via_venue__spot_priced_on_the_routers_quote_at_the_block(stack: Stack, tmp_path: Path) -> None:
    """A 1,500-put book (~690 WETH of delta): the keeper prices the spot hedge on the router's exact quote for it
    on the pools at the block (fees + impact against the oracle), not on the configured hedge_cost_bps, and the
    comparison says so; the quoted cost is the router's measure of the same plan."""
    sell_puts(stack, 3000.0, 1_500.0, margin_usdc=1_500_000.0)
    policy = {"delta_via_venue": True, "delta_risk_budget_usd": 1e3}
    runtime = runtime_for(stack, settings_for(stack, tmp_path, policy=policy))
    keeper = runtime.keeper
    book = keeper.assessor.assess(keeper.reader.read()).book
    estimated = decide(book, keeper.settings.policy)
    before = next(d.reason for d in estimated.decisions if d.rule == "instrument:WETH")
    assert "fees+impact $" in before, before  # the configured 10 bp
    rate = keeper.router.measure(estimated, book)["WETH"]  # type: ignore[union-attr]
    swapped = sum(a.amount_in * (1.0 if a.token_in == "USDC" else book.underlyings[0].spot_usd)
                  for a in estimated.actions if isinstance(a, Swap))  # fmt: skip
    assert rate != keeper.settings.policy.hedge_cost_bps
    result = keeper.tick()
    assert result.plan is not None
    reason = next(d.reason for d in result.plan.decisions if d.rule == "instrument:WETH")
    quoted = float(re.search(r"fees\+impact \(quoted\) \$([\d,]+)", reason).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert quoted == pytest.approx(swapped * rate / 1e4, abs=1.0), reason
    assert result.outcome == "rebalance mined", result.outcome
    stack.driver.mine()
    after = keeper.tick()  # funds and HF headroom cap this hedge: delta falls a long way, not all the way
    assert abs(after.risk["net_delta_usd:WETH"]) < 0.2 * abs(result.risk["net_delta_usd:WETH"])
