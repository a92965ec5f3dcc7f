"""A strategy's rounds on the devnet with the live keeper: a weekly WETH short strangle is opened and protected by
the tail rule, rolled (close + open in one vault batch) before expiry into a series the devnet listed as its chain
rolled, and the next round, left to expire, is settled and a new one opened."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from devnet.venue import VenueConfig, list_rolling_chain, post_surfaces
from devnet.venue_reads import market_at
from keeper.model import MarginDeposit, OptionTrade, VenueAccountOpen
from keeper.model.exceptions import ConfigError

from ..vault.conftest import Stack
from .conftest import runtime_for, settings_for
from .test_keeper_devnet import keeper_rebalance

pytestmark = pytest.mark.chain
DAY = 86_400

STRANGLE = {
    "name": "weekly-strangle",
    "kind": "short_strangle",
    "underlying": "WETH",
    "tenor_days": 7.0,
    "roll_days_before_expiry": 2.0,
    "strikes": {"by": "moneyness", "short_put": 0.9, "short_call": 1.1},
    "sizing": "fixed",
    "contracts": 300.0,
    "protection": "tail_budget",
}


def policy(**strategy: Any) -> dict[str, Any]:
    return {
        "delta_band_min_usd": 50_000_000.0,  # the delta rule stays out: rounds and the tail rule act
        "tail": {"enabled": True, "tail_budget_pct": 5.0},
        "strategies": [{**STRANGLE, **strategy}],
    }


def open_account(stack: Stack, margin_usdc: float = 500_000.0) -> int:
    market = market_at(stack.w3, stack.devnet.record["venue"]["OptionMarket"])
    account = int(market.functions.accountCount().call()) + 1
    keeper_rebalance(stack, VenueAccountOpen(), MarginDeposit(margin_usdc, account))
    return account


def pass_time(stack: Stack, venue: dict[str, Any], seconds: int) -> None:
    """Chain time moves on; the oracles post a round, the vol feeder posts surfaces, the lister rolls the chain
    (``venue``: this test's copy of the record's section: the chain is reverted after each test, the record not)."""
    stack.driver.advance(seconds)
    stack.refresh_oracles()
    list_rolling_chain(stack.w3, venue, VenueConfig())
    post_surfaces(stack.w3, venue, VenueConfig())


def held(stack: Stack, account: int) -> dict[int, float]:
    market = market_at(stack.w3, stack.devnet.record["venue"]["OptionMarket"])
    state = market.functions.accountState(account).call()
    return {int(p[0]): p[6] / 1e18 for p in state[7] if abs(p[6]) > 10**12}  # a closed leg leaves wei of dust


def series_of(venue: dict[str, Any], sid: int) -> dict[str, Any]:
    return next(s for s in venue["series"] if s["id"] == sid)


def test_round__opened_protected_rolled_settled(stack: Stack, tmp_path: Path) -> None:
    account = open_account(stack)
    venue = copy.deepcopy(stack.devnet.record["venue"])
    runtime = runtime_for(stack, settings_for(stack, tmp_path, policy=policy()))
    keeper = runtime.keeper

    opened = keeper.tick()
    assert opened.outcome == "rebalance mined", opened.outcome
    assert opened.plan is not None
    decision = next(d for d in opened.plan.decisions if d.rule == "strategy:weekly-strangle")
    assert decision.acted, decision.reason
    assert decision.reason.startswith("open short_strangle"), decision.reason
    positions = held(stack, account)
    shorts = {sid: x for sid, x in positions.items() if x < 0}
    assert sorted(shorts.values()) == pytest.approx([-300.0, -300.0])
    legs = [series_of(venue, sid) for sid in shorts]
    assert {s["is_call"] for s in legs} == {True, False}
    (expiry,) = {s["expiry"] for s in legs}
    now = stack.driver.latest_timestamp()
    assert 2 * DAY < expiry - now <= 14 * DAY
    tail = opened.plan.tail
    assert tail is not None
    assert tail.worst_loss_usd > tail.budget_usd
    assert any(isinstance(a, OptionTrade) and a.size > 0 for a in opened.plan.actions)  # protection bought with it
    assert tail.worst_loss_after_usd <= tail.budget_usd * (1 + 1e-6)

    stack.driver.mine()
    holding = keeper.tick()
    assert holding.plan is not None
    reason = next(d.reason for d in holding.plan.decisions if d.rule == "strategy:weekly-strangle")
    assert "d left > roll" in reason

    pass_time(stack, venue, expiry - stack.driver.latest_timestamp() - 1 * DAY)  # inside the 2-day roll window
    rolled = keeper.tick()
    assert rolled.outcome == "rebalance mined", rolled.outcome
    assert rolled.plan is not None
    decision = next(d for d in rolled.plan.decisions if d.rule == "strategy:weekly-strangle")
    assert decision.acted, decision.reason
    assert decision.reason.startswith("roll: close"), decision.reason
    after = held(stack, account)
    # the old round is closed in the same batch: none of its shorts is left short (the tail rule may buy one of the
    # closed series on top as protection — a 1-day put was the cheapest leg for the China-ban shock once the stress
    # set gained the named rallies)
    assert all(after.get(sid, 0.0) >= 0 for sid in shorts), after
    new_shorts = {sid: x for sid, x in after.items() if x < 0}
    assert sorted(new_shorts.values()) == pytest.approx([-300.0, -300.0])
    (next_expiry,) = {series_of(venue, sid)["expiry"] for sid in new_shorts}
    assert next_expiry > expiry

    pass_time(stack, venue, next_expiry - stack.driver.latest_timestamp() + 600)  # the keeper away: the round expires
    waiting = keeper.tick()
    assert waiting.plan is not None
    reason = next(d.reason for d in waiting.plan.decisions if d.rule == "strategy:weekly-strangle")
    assert "waiting for its settlement" in reason
    assert any(note.startswith("settled expiry") for note in waiting.notes), waiting.notes  # before the plan
    assert any("cashed the settled positions" in note for note in waiting.notes), waiting.notes  # after it
    stack.driver.mine()
    reopened = keeper.tick()
    assert reopened.plan is not None
    decision = next(d for d in reopened.plan.decisions if d.rule == "strategy:weekly-strangle")
    assert decision.acted, decision.reason
    assert decision.reason.startswith("open short_strangle"), decision.reason
    assert reopened.outcome == "rebalance mined", reopened.outcome


def test_strategy__underlying_the_venue_does_not_list__config_error_naming_the_field(
    stack: Stack, tmp_path: Path
) -> None:
    open_account(stack)
    settings = settings_for(stack, tmp_path, policy=policy(underlying="USDC"))
    with pytest.raises(ConfigError, match=r"policy\.strategies\.0\.underlying='USDC': the venue lists no series"):
        runtime_for(stack, settings)
