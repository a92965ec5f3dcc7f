"""The OptionMarket on the devnet (real chain): deployment, trading, margin against the reference model,
liquidation distance, settlement, revert decoding."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from devnet.venue import main
from devnet.venue_reads import market_at, read_account, read_params, read_state
from keeper.venue.model import liquidation_moves, margin, marks, pool_haircut, position_vols, quote, recoverable_equity

from .conftest import E6, WAD, Venue, revert_reason

REL = 1e-6


def _trade(venue: Venue, account: int, series: int, size: float) -> None:
    f = venue.market.functions
    size_wad = round(abs(size) * WAD)
    call = f.buy(account, series, size_wad, 2**256 - 1) if size > 0 else f.sell(account, series, size_wad, 0)
    venue.send(call, venue.trader)


def _book(venue: Venue) -> int:
    """A mixed WETH/WBTC book over several expiries and strikes, long and short."""
    account = venue.open_account(venue.trader, 2_000_000 * E6)
    for symbol, e, k, call, size in [
        ("WETH", 0, 2, True, -3.0),
        ("WETH", 0, 1, False, 5.0),
        ("WETH", 1, 3, True, 2.5),
        ("WETH", 2, 2, False, -4.0),
        ("WETH", 2, 2, True, 1.5),
        ("WETH", 3, 4, True, -2.0),
        ("WBTC", 1, 2, True, -0.4),
        ("WBTC", 2, 0, False, 0.7),
        ("WBTC", 3, 3, True, 0.25),
    ]:
        _trade(venue, account, venue.series_id(symbol, e, k, call), size)
    return account


def test_deploy__devnet__lists_series_and_seeds_pool(venue: Venue) -> None:
    f = venue.market.functions
    live = f.liveSeries().call()
    assert len(live) == len(venue.section["series"]) == 2 * 4 * 5 * 2
    pool = f.poolState().call()
    assert pool[1] == venue.config.lp_usdc * E6  # equity: cash only, no positions yet
    assert f.underlying(0).call()[1] == venue.devnet.record["feeds"]["WETH"]
    assert f.usdc().call() == venue.section["usdc"]


def test_margin__mixed_book__matches_model(venue: Venue) -> None:
    account = _book(venue)
    block = venue.w3.eth.block_number
    snap = read_account(venue.market, account, block)
    state = read_state(venue.market, snap.portfolio, block)
    risk, mkt = read_params(venue.market, block)
    model = margin(snap.portfolio, snap.collateral_usd, state, risk, mkt)
    assert snap.fresh
    assert snap.maintenance_usd > 1_000
    assert model.equity_usd == pytest.approx(snap.equity_usd, rel=REL)
    assert model.maintenance_usd == pytest.approx(snap.maintenance_usd, rel=REL)
    assert model.initial_usd == pytest.approx(snap.initial_usd, rel=REL)
    equity_e6, im_e6, mm_e6 = venue.market.functions.marginOf(account).call(block_identifier=block)
    assert (equity_e6, im_e6, mm_e6) == (
        round(snap.equity_usd * E6),
        round(snap.initial_usd * E6),
        round(snap.maintenance_usd * E6),
    )


def test_marks_and_vols__every_position__match_model(venue: Venue) -> None:
    account = _book(venue)
    block = venue.w3.eth.block_number
    st = venue.market.functions.accountState(account).call(block_identifier=block)
    snap = read_account(venue.market, account, block)
    state = read_state(venue.market, snap.portfolio, block)
    _, mkt = read_params(venue.market, block)
    chain_marks = np.array([p[8] / WAD for p in st[7]])
    chain_vols = np.array([p[7] / WAD for p in st[7]])
    np.testing.assert_allclose(marks(snap.portfolio, state, mkt), chain_marks, rtol=REL)
    np.testing.assert_allclose(position_vols(snap.portfolio, state, mkt), chain_vols, rtol=1e-12)


def test_quote__buy_and_sell__match_model(venue: Venue) -> None:
    series = venue.series_id("WETH", 1, 3, True)
    block = venue.w3.eth.block_number
    f = venue.market.functions
    for side, q in (("buy", f.quoteBuy(series, 7 * WAD)), ("sell", f.quoteSell(series, 7 * WAD))):
        premium_e6, _, mark_wad, _, spot_wad, _ = q.call(block_identifier=block)
        _, mkt = read_params(venue.market, block)
        premium, _ = quote(spot_wad / WAD, mark_wad / WAD, 7.0, mkt, side)
        assert premium_e6 / E6 == pytest.approx(premium, rel=REL, abs=2e-6)


def test_liquidation_distance__model_root__chain_crosses_maintenance(venue: Venue) -> None:
    account = venue.open_account(venue.other, 100_000 * E6)
    f = venue.market.functions
    venue.send(f.sell(account, venue.series_id("WETH", 2, 2, False), 20 * WAD, 0), venue.other)
    equity, im, _ = f.marginOf(account).call()
    venue.send(f.withdraw(account, equity - im - 1_000 * E6, venue.other), venue.other)  # keep 1,000 above IM
    snap = read_account(venue.market, account)
    state = read_state(venue.market, snap.portfolio)
    risk, mkt = read_params(venue.market)
    down, _ = liquidation_moves(snap.portfolio, snap.collateral_usd, state, risk, mkt, underlying=0)
    assert -0.5 < down < 0
    spot = float(state.spot_usd[0])
    for factor, healthy in ((0.98, True), (1.02, False)):
        venue.driver.set_price("WETH", spot * (1 + down * factor))
        equity, _, mm = f.marginOf(account).call()
        assert (equity >= mm) is healthy, f"move {down * factor:.4%}: equity {equity / E6}, MM {mm / E6}"


def test_settlement__after_expiry__pays_payoff(venue: Venue) -> None:
    f = venue.market.functions
    long_call = venue.series_id("WETH", 0, 1, True)  # strike below spot
    short_put = venue.series_id("WETH", 0, 3, False)  # strike above spot
    account = venue.open_account(venue.trader, 100_000 * E6)
    _trade(venue, account, long_call, 2.0)
    _trade(venue, account, short_put, -1.0)
    expiry = venue.section["expiries"][0]
    venue.driver.advance(expiry - venue.driver.latest_timestamp() + 60)
    venue.driver.set_price("WETH", 3_100.0)
    round_id = int(venue.driver.feed("WETH").functions.latestRound().call())
    collateral_before = f.accountState(account).call()[2]
    venue.send(f.settleExpiry(0, expiry, round_id), venue.liquidator)
    assert f.settlementPrice(0, expiry).call() == 3_100 * WAD
    strikes = {s["id"]: s["strike_usd"] for s in venue.section["series"]}
    expected = 2.0 * max(3_100.0 - strikes[long_call], 0.0) - 1.0 * max(strikes[short_put] - 3_100.0, 0.0)
    venue.send(f.settleAccount(account), venue.liquidator)
    st = f.accountState(account).call()
    assert (st[2] - collateral_before) / E6 == pytest.approx(expected, abs=2e-6)
    assert all(p[3] != expiry for p in st[7])


def test_revert__margin_breach__decoded_with_figures(venue: Venue) -> None:
    account = venue.open_account(venue.trader, 1_000 * E6)
    call = venue.market.functions.sell(account, venue.series_id("WETH", 3, 2, True), 100 * WAD, 0)
    reason = revert_reason(call, venue.trader)
    assert reason.startswith(f"InitialMarginBreached(accountId={account}, equityE6=")
    stale = venue.market.functions.buy(account, venue.series_id("WETH", 3, 2, True), WAD, 2**256 - 1)
    venue.driver.advance(3_700)
    assert revert_reason(stale, venue.trader).startswith("StalePrice(feed=")


def test_deploy_cli__running_devnet__writes_venue_section(venue: Venue, tmp_path: Path) -> None:
    record_path = tmp_path / "deployment.json"
    record_path.write_text(json.dumps(venue.devnet.record))
    main(["--rpc", venue.devnet.url, "--record", str(record_path)])
    section = json.loads(record_path.read_text())["venue"]
    assert section["underlyings"] == {"WETH": 0, "WBTC": 1}
    market = market_at(venue.w3, section["OptionMarket"])
    assert len(market.functions.liveSeries().call()) == len(section["series"])
    assert market.functions.EXTENSION().call() == section["OptionMarketViews"]


def test_pool_haircut__insolvent_pool__chain_matches_model(venue: Venue) -> None:
    """Issue 19 item 6b: the trader long 1,000 WETH calls, the LP out to the pool's IM floor, WETH doubled: the
    venue's haircut and the account's recoverable equity equal the model's (``pool_haircut``,
    ``recoverable_equity``), and the account recovers about the pool's cash."""
    f = venue.market.functions
    account = venue.open_account(venue.trader, 3_000_000 * E6)
    _trade(venue, account, venue.series_id("WETH", 1, 2, True), 1_000.0)
    lp = venue.section["lp"]
    shares = int(f.sharesOf(lp).call())
    lo, hi = 0, 100
    while lo < hi:  # the largest share of the pool the IM check lets the LP take, to 1 %
        mid = (lo + hi + 1) // 2
        if revert_reason(f.withdrawLiquidity(shares * mid // 100, lp), lp) == "":
            lo = mid
        else:
            hi = mid - 1
    assert lo > 0
    venue.send(f.withdrawLiquidity(shares * lo // 100, lp), lp)
    venue.driver.set_price("WETH", 2 * venue.driver.oracle_price("WETH"))
    venue.refresh()
    block = venue.w3.eth.block_number
    snap = read_account(venue.market, account, block)
    state = read_state(venue.market, snap.portfolio, block)
    _, mkt = read_params(venue.market, block)
    pool_sizes = np.array([f.poolPositionOf(int(i)).call(block_identifier=block) / WAD for i in snap.series_ids])
    cash = f.poolState().call(block_identifier=block)[0] / E6
    h = pool_haircut(replace(snap.portfolio, size=pool_sizes), cash, snap.portfolio, state, mkt)
    assert 0.1 < h < 1.0
    assert f.poolHaircutWad().call(block_identifier=block) / WAD == pytest.approx(h, rel=1e-9)
    equity_e6, _ = f.equityOf(account).call(block_identifier=block)
    model = recoverable_equity(snap.portfolio, snap.collateral_usd, state, mkt, h)
    assert equity_e6 / E6 == pytest.approx(model, rel=REL)
    assert model == pytest.approx(snap.collateral_usd + cash, rel=1e-9)  # the only creditor gets the pool's cash
