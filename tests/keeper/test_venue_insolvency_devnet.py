"""The keeper's view of an insolvent venue pool: the venue haircuts what its pool owes longs (issue 19, item 6b),
so the keeper's off-chain valuation must apply the same cut (read with ``poolHaircutWad`` in the tick's one
batch) or its NAV and venue equity overstate what the vault can recover."""

from __future__ import annotations

from pathlib import Path

import pytest
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from devnet.venue_reads import market_at
from keeper.model import MarginDeposit, OptionTrade, VenueAccountOpen

from ..vault.conftest import Stack
from .conftest import runtime_for, settings_for
from .test_keeper_devnet import keeper_rebalance
from .test_options_devnet import series

pytestmark = pytest.mark.chain
WAD = 10**18


def insolvent_pool_with_vault_calls(stack: Stack) -> tuple[Contract, int, int, float]:
    """The vault buys 1,000 monthly WETH 3,300 calls (the pool is short them), the LP takes out all the pool's margin
    check lets go, then WETH doubles: the pool owes more than it holds. Returns (market, account, call, haircut)."""
    record = stack.devnet.record
    market = market_at(stack.w3, record["venue"]["OptionMarket"])
    account = market.functions.accountCount().call() + 1
    call = series(stack, "WETH", 3300.0, True)
    cost = market.functions.quoteBuy(call, 1_000 * WAD).call()[0] / 1e6
    keeper_rebalance(
        stack, VenueAccountOpen(), MarginDeposit(cost * 3, account), OptionTrade(call, 1_000.0, cost * 1.01, account)
    )
    lp = record["venue"]["lp"]
    shares = market.functions.sharesOf(lp).call()
    for fraction in (0.99, 0.95, 0.9, 0.8, 0.7, 0.6, 0.5):
        try:
            market.functions.withdrawLiquidity(int(shares * fraction), lp).call({"from": lp})
        except ContractLogicError:  # the pool's margin check refuses this much: try less
            continue
        tx = market.functions.withdrawLiquidity(int(shares * fraction), lp).transact({"from": lp})
        assert stack.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
        break
    else:
        pytest.fail("the LP could not withdraw even half of the pool")
    stack.driver.set_price("WETH", 6_000.0)
    stack.driver.mine()
    haircut = market.functions.poolHaircutWad().call() / WAD
    assert haircut > 0.05, f"the pool should be insolvent: haircut {haircut}"
    return market, account, call, haircut


def test_insolvent_pool__model_valuation_nets_the_haircut__nav_equals_the_vaults_own(
    stack: Stack, tmp_path: Path
) -> None:
    market, account, _, haircut = insolvent_pool_with_vault_calls(stack)

    on_chain = runtime_for(stack, settings_for(stack, tmp_path), read_only=True)
    off_chain = runtime_for(
        stack, settings_for(stack, tmp_path / "model", loop={"lens_valuation": "model"}), read_only=True
    )
    a = on_chain.keeper.assessor.assess(on_chain.keeper.reader.read())
    b = off_chain.keeper.assessor.assess(off_chain.keeper.reader.read())
    assert b.risk["venue_pool_haircut"] == pytest.approx(haircut, rel=1e-12)
    assert a.risk["venue_pool_haircut"] == pytest.approx(haircut, rel=1e-12)
    equity_e6, _ = market.functions.equitiesOf([account]).call()
    assert b.risk["venue_equity_usd"] == pytest.approx(equity_e6 / 1e6, rel=1e-9)
    assert b.nav_usd == pytest.approx(a.nav_usd, rel=1e-9)  # the model NAV = the vault's totalAssets
    # Margin is not haircut by the venue: the account's margin view stays the venue's marginOf.
    margin_e6, _, _ = market.functions.marginOf(account).call()
    (view,) = b.book.venue_accounts
    assert view.equity_usd == pytest.approx(margin_e6 / 1e6, rel=1e-9)
    assert margin_e6 > equity_e6 * 1.05  # the haircut is material here


def test_insolvent_pool__strategy_closes_the_vaults_long__paid_bid_less_haircut_and_mined(
    stack: Stack, tmp_path: Path
) -> None:
    """The keeper's own close of a long (a strategy round inside its roll window) against the insolvent pool: the
    venue pays bid × (1 − h), so the plan's minimum proceeds must expect it (with the full bid the venue refuses
    the sale, ProceedsBelowMin, and the round can never be closed); the pool's haircut does not rise."""
    market, account, call, haircut = insolvent_pool_with_vault_calls(stack)
    roll = {
        "name": "close-calls",
        "kind": "covered_call",
        "underlying": "WETH",
        "tenor_days": 57.0,
        "roll_days_before_expiry": 40.0,  # the monthly calls (~29 d) are inside the roll window: closed
        "strikes": {"by": "moneyness", "short_call": 1.1},
        "sizing": "fixed",
        "contracts": 0.001,  # the next round is below min_trade_usd: nothing opened, the close alone
        "protection": "none",
    }
    policy = {"delta_band_min_usd": 50_000_000.0, "strategies": [roll]}
    runtime = runtime_for(stack, settings_for(stack, tmp_path, policy=policy))
    quote = market.functions.quoteSell(call, 1_000 * WAD).call()
    before_e6 = market.functions.holdingsOf(account).call()[0]
    tick = runtime.keeper.tick()
    assert tick.outcome == "rebalance mined", tick.outcome
    assert tick.plan is not None
    decision = next(d for d in tick.plan.decisions if d.rule == "strategy:close-calls")
    assert decision.acted, decision.reason
    assert decision.reason.startswith("roll: close"), decision.reason
    (sale,) = [a for a in tick.plan.actions if isinstance(a, OptionTrade) and a.series_id == call]
    assert sale.size == pytest.approx(-1_000.0)
    assert abs(market.functions.positionOf(account, call).call()) < 10**12  # closed (wei of float dust at most)
    received_e6 = market.functions.holdingsOf(account).call()[0] - before_e6
    bid = quote[3] / WAD
    # Paid bid × (1 − h) (quoteSell one block earlier: the same to the spot's and h's drift), not the full bid.
    assert received_e6 / 1e6 == pytest.approx(quote[0] / 1e6, rel=2e-3)
    assert received_e6 / 1e6 == pytest.approx(1_000 * bid * (1 - haircut), rel=2e-3)
    assert received_e6 / 1e6 < 1_000 * bid * (1 - haircut / 2)
    assert -sale.max_cost_usd <= received_e6 / 1e6  # the keeper's bound expected the cut
    assert market.functions.poolHaircutWad().call() / WAD <= haircut * (1 + 1e-9)
