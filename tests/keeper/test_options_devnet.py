"""The keeper with option positions on the devnet's venue: the lens returns the vault's venue book in one call,
the venue's formulas value it off-chain exactly as the chain does, option delta is hedged through Aave/Uniswap,
and the vault refuses a venue trade that leaves an account under its margin floor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.option_market import OptionMarket
from adapters.vault_lens import decode_snapshot, snapshot_calldata
from devnet.venue import VenueConfig, post_surfaces
from devnet.venue_reads import market_at
from keeper.chain.anvil import rpc
from keeper.model import MarginDeposit, OptionTrade, VenueAccountOpen

from ..vault.conftest import Stack, revert_reason
from .conftest import runtime_for, settings_for
from .test_keeper_devnet import keeper_rebalance

pytestmark = pytest.mark.chain
MONTHLY = 2  # index of the first monthly expiry in the venue record (≈ 29 days out at the snapshot)


def series(stack: Stack, underlying: str, strike: float, is_call: bool, expiry_index: int = MONTHLY) -> int:
    venue = stack.devnet.record["venue"]
    expiry = venue["expiries"][expiry_index]
    return next(
        s["id"]
        for s in venue["series"]
        if s["underlying"] == underlying
        and s["expiry"] == expiry
        and s["strike_usd"] == strike
        and s["is_call"] == is_call
    )


def open_short_calls(stack: Stack, contracts: float, margin_usdc: float = 1_000_000.0) -> int:
    """Through the keeper role: open a venue account, post margin, sell ``contracts`` monthly 3,300 WETH calls."""
    market = market_at(stack.w3, stack.devnet.record["venue"]["OptionMarket"])
    account = market.functions.accountCount().call() + 1
    call = series(stack, "WETH", 3300.0, True)
    proceeds = market.functions.quoteSell(call, int(contracts * 10**18)).call()[0] / 1e6
    keeper_rebalance(
        stack,
        VenueAccountOpen(),
        MarginDeposit(margin_usdc, account),
        OptionTrade(call, -contracts, -proceeds * 0.99, account),
    )
    return account


def lens(stack: Stack, valued: bool) -> Any:
    data = snapshot_calldata(stack.vault.address, valued)
    raw = rpc(stack.devnet.url, "eth_call", [{"to": stack.section["VaultLens"], "data": data}, "latest"])
    return decode_snapshot(bytes.fromhex(raw[2:]))


def test_lens__vault_with_short_calls__positions_and_margin_match_the_venue(stack: Stack, tmp_path: Path) -> None:
    account = open_short_calls(stack, 300.0)
    state = lens(stack, valued=True)
    (venue,) = state.options
    assert [a.account_id for a in venue.accounts] == [account]
    assert venue.positions.size.tolist() == pytest.approx([-300.0])
    assert venue.positions.strike_usd.tolist() == [3300.0]
    assert venue.margin_floor_wad == 15 * 10**17
    market = market_at(stack.w3, venue.market)
    equity_e6, im_e6, mm_e6 = market.functions.marginOf(account).call()
    runtime = runtime_for(stack, settings_for(stack, tmp_path), read_only=True)
    assessment = runtime.keeper.assessor.assess(runtime.keeper.reader.read())
    (view,) = assessment.book.venue_accounts
    assert view.equity_usd == pytest.approx(equity_e6 / 1e6, rel=1e-9)
    assert view.maintenance_margin_usd == pytest.approx(mm_e6 / 1e6, rel=1e-9)
    assert view.initial_margin_usd == pytest.approx(im_e6 / 1e6, rel=1e-9)
    weth = next(u for u in assessment.book.underlyings if u.symbol == "WETH")
    assert -300 * 0.6 < weth.net_delta_units < -300 * 0.1  # short 10 %-OTM monthly calls: delta ≈ −0.3 each
    assert weth.net_gamma_units_per_usd < 0
    assert weth.net_vega_usd_per_vol_pt < 0
    (short,) = assessment.book.options
    assert short.account_id == account
    assert short.size == pytest.approx(-300.0)


def test_nav__model_valuation_off_chain__equals_the_vaults_own(stack: Stack, tmp_path: Path) -> None:
    open_short_calls(stack, 300.0)
    on_chain = runtime_for(stack, settings_for(stack, tmp_path), read_only=True)
    off_chain = runtime_for(
        stack, settings_for(stack, tmp_path / "model", loop={"lens_valuation": "model"}), read_only=True
    )
    a = on_chain.keeper.assessor.assess(on_chain.keeper.reader.read())
    b = off_chain.keeper.assessor.assess(off_chain.keeper.reader.read())
    assert b.nav_usd == pytest.approx(a.nav_usd, rel=1e-9)
    assert b.share_price == pytest.approx(a.share_price, rel=1e-9)


def test_tick__short_calls_delta_out_of_band__hedged_with_spot(stack: Stack, tmp_path: Path) -> None:
    open_short_calls(stack, 300.0)
    runtime = runtime_for(stack, settings_for(stack, tmp_path))
    first = runtime.keeper.tick()
    assert first.outcome == "rebalance mined", first.outcome
    assert first.plan is not None
    assert [a.kind for a in first.plan.actions] == ["swap"]  # buy WETH with idle USDC
    assert first.risk["net_delta_units:WETH"] < -20
    stack.driver.mine()
    second = runtime.keeper.tick()
    assert abs(second.risk["net_delta_usd:WETH"]) <= second.risk["delta_band_usd:WETH"]
    assert second.risk["venue_margin_ratio"] > 1.5


def test_rebalance__venue_margin_below_vault_floor__reverts_named(stack: Stack) -> None:
    account = open_short_calls(stack, 300.0, margin_usdc=400_000.0)
    market = market_at(stack.w3, stack.devnet.record["venue"]["OptionMarket"])
    equity_e6, _, mm_e6 = market.functions.marginOf(account).call()
    ratio = equity_e6 / mm_e6
    # Sell more until the account sits between the venue's IM (1.25 × MM) and the vault's floor (1.5 × MM).
    more = 300.0 * (ratio / 1.35 - 1.0)
    call = series(stack, "WETH", 3300.0, True)
    action = OptionMarket(stack.section["OptionMarketAdapter"]).encode(OptionTrade(call, -more, 0.0, account))
    reason = revert_reason(stack.vault.functions.rebalance([action], []), stack.keeper)
    assert reason.startswith(f"VenueMarginBelowFloor(accountId={account}"), reason
    assert "floorWad=1500000000000000000" in reason


def test_rebalance__batch_not_touching_the_venue__book_valued_once(stack: Stack) -> None:
    """A hedge through Aave/Uniswap leaves the venue accounts as they were within the transaction, so the vault
    values the option book once (before) instead of twice; a batch that trades on the venue values it again."""
    from eth_utils import function_signature_to_4byte_selector
    from web3.logs import DISCARD

    from keeper.model import AaveSupply

    account = open_short_calls(stack, 300.0)
    selector = "0x" + function_signature_to_4byte_selector("valueE8(address)").hex()

    def valuations(receipt: Any) -> int:
        trace = rpc(
            stack.devnet.url,
            "debug_traceTransaction",
            [receipt["transactionHash"].to_0x_hex(), {"tracer": "callTracer"}],
        )

        def count(frame: dict[str, Any]) -> int:
            here = int(frame.get("input", "").startswith(selector))
            return here + sum(count(c) for c in frame.get("calls", []))

        return count(trace)

    aave_only = keeper_rebalance(stack, AaveSupply("USDC", 10_000.0))
    (event,) = stack.vault.events.Rebalanced().process_receipt(aave_only, errors=DISCARD)
    assert abs(event["args"]["navAfter"] - event["args"]["navBefore"]) <= 2  # supply moves value, loses none
    assert valuations(aave_only) == 1
    with_venue = keeper_rebalance(stack, MarginDeposit(10.0, account))
    assert valuations(with_venue) == 2


def test_settlement__vault_holds_an_expired_series__keeper_fixes_the_price_then_cashes_the_account(
    stack: Stack, tmp_path: Path
) -> None:
    """Until the expiry's price is fixed and the account cashed, the venue refuses the account's trades and
    withdrawals: the keeper fixes the price before it plans and cashes the account after, in the first tick that
    shows the expired position."""
    market = market_at(stack.w3, stack.devnet.record["venue"]["OptionMarket"])
    account = market.functions.accountCount().call() + 1
    weekly_put = series(stack, "WETH", 3000.0, False, expiry_index=0)
    proceeds = market.functions.quoteSell(weekly_put, 10 * 10**18).call()[0] / 1e6
    keeper_rebalance(
        stack,
        VenueAccountOpen(),
        MarginDeposit(200_000.0, account),
        OptionTrade(weekly_put, -10.0, -proceeds * 0.99, account),
    )
    expiry = stack.devnet.record["venue"]["expiries"][0]
    stack.driver.advance(expiry - stack.driver.latest_timestamp() + 600)
    stack.driver.set_market_price("WETH", 2900.0)  # the first round after expiry: the put pays 100 per unit
    stack.driver.advance(700)
    stack.refresh_oracles()
    collateral_before = market.functions.holdingsOf(account).call()[0]
    runtime = runtime_for(stack, settings_for(stack, tmp_path))
    first = runtime.keeper.tick()
    assert any(n.startswith(f"settled expiry {expiry}") for n in first.notes), first.notes
    assert market.functions.settlementPrice(0, expiry).call() == 2900 * 10**18
    assert f"cashed the settled positions of venue account {account}" in first.notes
    stack.driver.mine()
    assert runtime.keeper.tick().notes == []  # nothing left to settle
    collateral, series_ids, _, _ = market.functions.holdingsOf(account).call()
    assert series_ids == []
    assert collateral == collateral_before - 10 * 100 * 10**6  # short 10 puts, 100 USDC in the money each


def test_tick__expired_unsettled_series_and_protection_due__price_fixed_first_then_bought_in_the_same_tick(
    stack: Stack, tmp_path: Path
) -> None:
    """An expired series whose settlement price is not fixed makes the venue refuse the account's trades
    (ExpiryNotSettled, inside the vault's AdapterCallFailed): the keeper fixes the price before it plans
    (settleExpiry is permissionless), so the tail rule's protection is mined in the same tick. (Before: the plan was
    rejected in simulation and the price fixed only after the tick.)"""
    market = market_at(stack.w3, stack.devnet.record["venue"]["OptionMarket"])
    account = market.functions.accountCount().call() + 1
    put = series(stack, "WETH", 2700.0, False)  # monthly: its downside tail is over budget, the vault holds no WETH
    weekly_put = series(stack, "WETH", 3000.0, False, expiry_index=0)
    put_proceeds_m = market.functions.quoteSell(put, 400 * 10**18).call()[0] / 1e6
    put_proceeds = market.functions.quoteSell(weekly_put, 10 * 10**18).call()[0] / 1e6
    keeper_rebalance(
        stack,
        VenueAccountOpen(),
        MarginDeposit(1_000_000.0, account),
        OptionTrade(put, -400.0, -put_proceeds_m * 0.99, account),
        OptionTrade(weekly_put, -10.0, -put_proceeds * 0.99, account),
    )
    expiry = stack.devnet.record["venue"]["expiries"][0]
    stack.driver.advance(expiry - stack.driver.latest_timestamp() + 600)
    stack.refresh_oracles()  # the feed's first round after expiry
    post_surfaces(stack.w3, stack.devnet.record["venue"], VenueConfig())  # the live expiries' surfaces are fresh
    assert market.functions.settlementPrice(0, expiry).call() == 0
    policy = {"delta_band_min_usd": 50_000_000.0, "tail": {"enabled": True, "tail_budget_pct": 5.0}}
    runtime = runtime_for(stack, settings_for(stack, tmp_path, policy=policy))
    tick = runtime.keeper.tick()
    assert tick.notes[0].startswith(f"settled expiry {expiry}"), tick.notes
    assert tick.outcome == "rebalance mined", tick.outcome
    assert tick.plan is not None
    assert any(isinstance(a, OptionTrade) and a.size > 0 for a in tick.plan.actions)  # protection on the venue
    assert tick.plan.tail is not None
    assert tick.plan.tail.worst_loss_usd > tick.plan.tail.budget_usd
    assert f"cashed the settled positions of venue account {account}" in tick.notes  # after the plan, same tick
