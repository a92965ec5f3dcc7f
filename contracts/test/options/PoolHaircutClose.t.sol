// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionMarketErrors} from "../../interfaces/options/IOptionMarketErrors.sol";
import {IOptionMarketTypes} from "../../interfaces/options/IOptionMarketTypes.sol";
import {OptionMarketFixture} from "./OptionMarketFixture.sol";
import {console2} from "forge-std/Test.sol";

/// @notice Issue 19 (venue limits): closing a long against an insolvent pool. While the pool's equity is negative
///         every long is worth mark × (1 − h) (h = `poolHaircutWad`); a close (`sell` of a held long, the
///         liquidation of a long) paid the full bid let the first creditor out take full value from a pool that
///         cannot pay everyone, and the h of those who stayed rose (a run on the pool). A close is now paid
///         bid × (1 − h), h on the state before it, so the remaining creditors' h does not rise; selling to open a
///         short (no creditor claim) keeps the full bid. Expected proceeds are recomputed here from the quote's
///         bid and the haircut read before the trade; the pool's conservation from token balances.
contract PoolHaircutCloseTest is OptionMarketFixture {
    uint256 internal constant CREDITOR_CALLS = 1000e18;

    uint256 internal series; // 14-day ATM ETH call: what the creditors hold
    uint256 internal btcPut; // 14-day ATM BTC put: dave's short (his liquidation trigger)
    uint256 internal aliceAcct;
    uint256 internal bobAcct;
    uint256 internal daveAcct;
    address internal dave = makeAddr("dave");
    address internal carol = makeAddr("carol");

    function setUp() public override {
        super.setUp();
        series = _sid(1, 2, true);
        vm.prank(lister);
        btcPut = market.listSeries(BTC, expiries[1], 60_000e18, false);
        _refresh();
        aliceAcct = _open(alice, 400_000e6);
        bobAcct = _open(bob, 400_000e6);
        _buy(alice, aliceAcct, series, CREDITOR_CALLS);
        _buy(bob, bobAcct, series, CREDITOR_CALLS);
    }

    /* HELPERS */

    /// @dev Fresh ETH and BTC spots (at the feeds' answers) and surfaces, a minute later.
    function _refresh() internal {
        vm.warp(block.timestamp + 60);
        (, int256 eth,,,) = ethFeed.latestRoundData();
        (, int256 btc,,,) = btcFeed.latestRoundData();
        vm.startPrank(admin);
        ethFeed.submit(eth);
        btcFeed.submit(btc);
        vm.stopPrank();
        _postVols();
        vm.prank(feeder);
        market.postVolSurface(BTC, expiries[1], 0.6e18, -0.1e18, 0.3e18);
    }

    /// @dev The LP takes out the most the pool's IM check allows (to 1 %), then ETH moves to `ethE8`: the pool
    ///      owes the creditors' calls more than it holds.
    function _insolvent(uint256 ethE8) internal {
        uint256 shares = market.sharesOf(lp);
        for (uint256 pct = 99; pct > 0; --pct) {
            vm.prank(lp);
            try market.withdrawLiquidity(shares * pct / 100, lp) {
                break;
            } catch {}
        }
        _setEth(ethE8);
        _refresh();
        assertLt(market.poolState().equityE6, 0, "setup: the pool should be insolvent");
        assertGt(market.poolHaircutWad(), 0.05e18, "setup: a material haircut");
    }

    /// @dev Dave: 20 ETH calls (a creditor) and 10 short BTC puts, collateral cut to the IM, opened while the pool
    ///      is solvent.
    function _daveOpens() internal {
        daveAcct = _open(dave, 400_000e6);
        _buy(dave, daveAcct, series, 20e18);
        _sell(dave, daveAcct, btcPut, 10e18);
        (int256 equity, uint256 im,) = market.marginOf(daveAcct);
        vm.prank(dave);
        market.withdraw(daveAcct, uint256(equity) - im - 1e6, dave);
    }

    /// @dev BTC falls in 1 % steps until dave is below maintenance (still solvent).
    function _daveUnderwater() internal {
        int256 equity;
        uint256 mm;
        for (uint256 p = 60_000e8; p > 30_000e8; p -= 600e8) {
            vm.prank(admin);
            btcFeed.submit(int256(p));
            (equity,, mm) = market.marginOf(daveAcct);
            if (equity < int256(mm)) break;
        }
        assertLt(equity, int256(mm), "setup: dave should be below MM");
        assertGt(equity, 0, "setup: dave should be solvent");
    }

    /// @dev The largest size (to 1e15) of `seriesId` a liquidator may close on dave now (the contract's own checks).
    function _maxLiquidatable(uint256 seriesId) internal returns (uint256 lo) {
        uint256 hi = uint256(market.positionOf(daveAcct, seriesId));
        for (uint256 i; i < 40 && hi - lo > 1e15; ++i) {
            uint256 mid = (lo + hi) / 2;
            uint256 snap = vm.snapshotState();
            vm.prank(liquidator);
            (bool ok,) = address(market).call(abi.encodeCall(market.liquidate, (daveAcct, seriesId, mid)));
            vm.revertToState(snap);
            if (ok) lo = mid;
            else hi = mid;
        }
    }

    /// @dev The venue's USDC = pool cash + every account's collateral (no settlement yet: no rounding dust).
    function _assertConserved() internal view {
        int256 claims = market.poolState().cashE6;
        for (uint256 id = 1; id <= market.accountCount(); ++id) {
            (int256 collateralE6,,,) = market.holdingsOf(id);
            claims += collateralE6;
        }
        assertEq(int256(usdc.balanceOf(address(market))), claims, "USDC held = pool cash + collateral");
    }

    function _collateral(uint256 accountId) internal view returns (int256 collateralE6) {
        (collateralE6,,,) = market.holdingsOf(accountId);
    }

    /// @dev ⌈x × hWad / 1e18⌉: the haircut share of a close's proceeds (the pool keeps it).
    function _cutUp(uint256 x, uint256 hWad) internal pure returns (uint256) {
        return (x * hWad + 1e18 - 1) / 1e18;
    }

    /* SELL */

    function testSellLongSolventPaysFullBid() public {
        assertEq(market.poolHaircutWad(), 0);
        IOptionMarketTypes.Quote memory q = market.quoteSell(series, 300e18);
        uint256 proceeds = _sell(alice, aliceAcct, series, 300e18);
        assertEq(proceeds, 300e18 * q.tradePriceWad / 1e30, "full bid");
        assertEq(proceeds, q.premiumE6, "quoteSell = sell");
        _assertConserved();
    }

    /// @dev The PoC: alice closes 300 of her 1,000 calls; bob holds his. Before the fix she was paid the full bid
    ///      and bob's haircut rose (0.7188 → 0.8438 here); now she is paid bid × (1 − h) and bob's h does not rise.
    function testSellLongInsolventPaysBidLessHaircutAndOthersHaircutHolds() public {
        _insolvent(6000e8);
        uint256 h0 = market.poolHaircutWad();
        (int256 bobBefore,) = market.equityOf(bobAcct);
        IOptionMarketTypes.Quote memory q = market.quoteSell(series, 300e18);
        uint256 full = 300e18 * q.tradePriceWad / 1e30;
        uint256 proceeds = _sell(alice, aliceAcct, series, 300e18);
        uint256 h1 = market.poolHaircutWad();
        console2.log("haircut before / after the close (WAD)", h0, h1);
        console2.log("proceeds / full bid (E6)", proceeds, full);
        assertEq(proceeds, full - _cutUp(full, h0), "bid x (1 - h), h before the trade");
        assertEq(proceeds, q.premiumE6, "quoteSell = sell");
        assertLe(h1, h0, "the remaining creditors' haircut does not rise");
        assertApproxEqRel(h1, h0, 0.01e18, "and moves only by the spread the pool kept");
        (int256 bobAfter,) = market.equityOf(bobAcct);
        assertGe(bobAfter, bobBefore, "bob's recoverable equity does not fall");
        _assertConserved();
    }

    /// @dev A sale larger than the long: the first 1,000 close (cut), the next 200 open a short (full bid).
    function testSellPastLongCutsOnlyTheClosedPart() public {
        _insolvent(6000e8);
        uint256 h0 = market.poolHaircutWad();
        IOptionMarketTypes.Quote memory q = market.quoteSell(series, 1200e18);
        uint256 closed = CREDITOR_CALLS * q.tradePriceWad / 1e30;
        uint256 proceeds = _sell(alice, aliceAcct, series, 1200e18);
        assertEq(proceeds, 1200e18 * q.tradePriceWad / 1e30 - _cutUp(closed, h0), "only the close is cut");
        assertEq(market.positionOf(aliceAcct, series), -200e18);
        assertLe(market.poolHaircutWad(), h0, "bob's haircut does not rise");
        _assertConserved();
    }

    /// @dev Selling to open a short is no claim on the pool: the full bid (more than quoteSell, which quotes a close),
    ///      and the trade lowers h (the pool gains the spread and a margined debt worth the mark).
    function testSellToOpenShortInsolventPaysFullBid() public {
        _insolvent(6000e8);
        uint256 h0 = market.poolHaircutWad();
        uint256 carolAcct = _open(carol, 100_000e6);
        IOptionMarketTypes.Quote memory q = market.quoteSell(series, 10e18);
        uint256 proceeds = _sell(carol, carolAcct, series, 10e18);
        assertEq(proceeds, 10e18 * q.tradePriceWad / 1e30, "full bid");
        assertGt(proceeds, q.premiumE6, "quoteSell quotes a close (cut)");
        assertLe(market.poolHaircutWad(), h0);
        _assertConserved();
    }

    function testSellInsolventBelowMinProceedsReverts() public {
        _insolvent(6000e8);
        IOptionMarketTypes.Quote memory q = market.quoteSell(series, 300e18);
        uint256 full = 300e18 * q.tradePriceWad / 1e30;
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IOptionMarketErrors.ProceedsBelowMin.selector, q.premiumE6, full)
        );
        market.sell(aliceAcct, series, 300e18, full);
    }

    /// @dev Every creditor exits in turn: each is paid bid × (1 − h) at its turn, h never rises, conservation holds.
    function testSellAllCreditorsInTurnHaircutNeverRises() public {
        _insolvent(6000e8);
        uint256 h = market.poolHaircutWad();
        uint256[2] memory ids = [aliceAcct, bobAcct];
        address[2] memory who = [alice, bob];
        for (uint256 k; k < 4; ++k) {
            uint256 h0 = market.poolHaircutWad();
            IOptionMarketTypes.Quote memory q = market.quoteSell(series, 250e18);
            uint256 proceeds = _sell(who[k % 2], ids[k % 2], series, 250e18);
            assertEq(proceeds, q.premiumE6, "quoteSell = sell");
            assertLe(market.poolHaircutWad(), h0);
        }
        assertLe(market.poolHaircutWad(), h);
        _assertConserved();
    }

    /// @dev Any sale size, up to past the whole long: paid the full bid less the haircut on the closed part (h
    ///      before), quoteSell = sell when it is a close, the others' haircut never rises, conservation holds.
    function testFuzzSellInsolventCutsTheClosedPartOnly(uint256 sizeWad, bool ethHigher) public {
        _insolvent(ethHigher ? 6000e8 : 4500e8);
        sizeWad = bound(sizeWad, 1e15, 1200e18);
        uint256 h0 = market.poolHaircutWad();
        IOptionMarketTypes.Quote memory q = market.quoteSell(series, sizeWad);
        uint256 closeWad = sizeWad < CREDITOR_CALLS ? sizeWad : CREDITOR_CALLS;
        uint256 proceeds = _sell(alice, aliceAcct, series, sizeWad);
        assertEq(proceeds, sizeWad * q.tradePriceWad / 1e30 - _cutUp(closeWad * q.tradePriceWad / 1e30, h0));
        if (sizeWad <= CREDITOR_CALLS) assertEq(proceeds, q.premiumE6, "quoteSell = sell");
        assertLe(market.poolHaircutWad(), h0, "the remaining creditors' haircut does not rise");
        _assertConserved();
    }

    /* SELL: THE SOLVENCY SHORTCUT */

    // `_trade` skips the haircut of a sale that closes a long when the post-trade pool equity E is at least
    // 2 × (bid + fee + 1 µUSDC) of the whole sale (T below). The sale moves the pool the bid in cash and the units at
    // the mark, so the pre-trade equity is E − fee (to a µUSDC of rounding): from T up it is ≥ 2 × bid + fee + 1 > 0,
    // h_pre = 0 and skipping is exact. Below T the haircut is computed on the rebuilt pre-trade state. The pool's
    // equity is set to the µUSDC by a donation to the pool's cash (stored cash and the venue's USDC move together).

    uint256 internal constant CLOSE = 300e18;
    bytes32 internal constant POOL_CASH_SLOT = bytes32(uint256(18)); // _poolCashE6 (forge inspect storageLayout)

    /// @dev Adds `amountE6` (either sign) to the pool's cash and as much USDC to the venue's balance.
    function _donate(int256 amountE6) internal {
        int256 cash = market.poolState().cashE6;
        assertEq(
            int256(uint256(vm.load(address(market), POOL_CASH_SLOT))), cash, "slot 18 is the pool's cash"
        );
        vm.store(address(market), POOL_CASH_SLOT, bytes32(uint256(cash + amountE6)));
        if (amountE6 > 0) {
            usdc.mint(address(market), uint256(amountE6));
        } else if (amountE6 < 0) {
            vm.prank(address(market));
            usdc.transfer(carol, uint256(-amountE6));
        }
    }

    /// @dev Alice's sale of `sizeWad` priced now: its full bid, fee, and the pool's equity right after it less the
    ///      haircut the pool kept (the E `_trade` compares with T; poolState reads it the same way), in a snapshot.
    function _sale(uint256 sizeWad) internal returns (uint256 fullE6, uint256 feeE6, int256 postE6) {
        IOptionMarketTypes.Quote memory q = market.quoteSell(series, sizeWad);
        fullE6 = sizeWad * q.tradePriceWad / 1e30;
        feeE6 = q.feeE6;
        uint256 snap = vm.snapshotState();
        uint256 proceeds = _sell(alice, aliceAcct, series, sizeWad);
        postE6 = market.poolState().equityE6 - int256(fullE6 - proceeds);
        vm.revertToState(snap);
    }

    function _threshold(uint256 fullE6, uint256 feeE6) internal pure returns (int256) {
        return int256(2 * (fullE6 + feeE6 + 1));
    }

    /// @dev h recomputed from the views: ⌈(−pool equity) / (accounts' longs × mark)⌉ (alice and bob hold them all).
    function _haircutFromViews() internal view returns (uint256) {
        int256 equity = market.poolState().equityE6;
        if (equity >= 0) return 0;
        uint256 longs = uint256(market.positionOf(aliceAcct, series) + market.positionOf(bobAcct, series));
        uint256 owed = longs * market.markPrice(series) / 1e30;
        return (uint256(-equity) * 1e18 + owed - 1) / owed;
    }

    /// @dev E = T: the shortcut; the pool is provably solvent before the sale (h_pre = 0), so the full bid is exact.
    function testSellAtShortcutThresholdPaysFullBidExactly() public {
        _insolvent(6000e8);
        (uint256 full, uint256 fee, int256 post) = _sale(CLOSE);
        int256 t = _threshold(full, fee);
        _donate(t - post);
        (,, int256 postNow) = _sale(CLOSE);
        assertEq(postNow, t, "setup: post-trade equity at the threshold");
        int256 pre = market.poolState().equityE6;
        assertGe(pre, t - int256(fee) - 1, "pre-trade equity = post - fee (to 1 uUSDC)");
        assertGt(pre, 0, "so the pool is solvent before the sale");
        assertEq(market.poolHaircutWad(), 0, "h_pre = 0: skipping the haircut is exact");
        IOptionMarketTypes.Quote memory q = market.quoteSell(series, CLOSE);
        uint256 proceeds = _sell(alice, aliceAcct, series, CLOSE);
        assertEq(proceeds, full, "full bid");
        assertEq(proceeds, q.premiumE6, "quoteSell = sell");
        assertEq(market.poolHaircutWad(), 0);
        _assertConserved();
    }

    /// @dev E = T − 1 µUSDC: the full computation runs (pool solvent, h = 0): the same full bid.
    function testSellJustBelowShortcutThresholdPaysFullBid() public {
        _insolvent(6000e8);
        (uint256 full, uint256 fee, int256 post) = _sale(CLOSE);
        _donate(_threshold(full, fee) - 1 - post);
        assertEq(market.poolHaircutWad(), 0, "solvent below the threshold too");
        IOptionMarketTypes.Quote memory q = market.quoteSell(series, CLOSE);
        uint256 proceeds = _sell(alice, aliceAcct, series, CLOSE);
        assertEq(proceeds, full, "full bid");
        assertEq(proceeds, q.premiumE6, "quoteSell = sell");
        _assertConserved();
    }

    /// @dev Which branch ran, from gas (warm slots both times): 1 µUSDC less pool equity, below T, costs the
    ///      valuation of the pool's book the shortcut saves.
    function testSellShortcutTakenFromItsThresholdOnly() public {
        _insolvent(6000e8);
        (uint256 full, uint256 fee, int256 post) = _sale(CLOSE);
        _donate(_threshold(full, fee) - post);
        uint256 snap = vm.snapshotState();
        _sell(alice, aliceAcct, series, CLOSE); // warms the slots
        vm.revertToState(snap);
        vm.prank(alice);
        uint256 g = gasleft();
        market.sell(aliceAcct, series, CLOSE, full);
        uint256 gasAt = g - gasleft();
        vm.revertToState(snap);
        _donate(-1);
        vm.prank(alice);
        g = gasleft();
        market.sell(aliceAcct, series, CLOSE, full);
        uint256 gasBelow = g - gasleft();
        console2.log("gas: sale at the shortcut threshold / 1 uUSDC below", gasAt, gasBelow);
        assertGt(gasBelow, gasAt + 50_000, "below T the pool's book is valued; at T it is not");
    }

    /// @dev The pool's pre-trade equity 1 µUSDC or so below zero (the smallest shortfall the donation reaches):
    ///      far below T, the full computation gives h_pre > 0 and the pool keeps ⌈bid × h_pre⌉; one µUSDC more and
    ///      h_pre = 0, the full bid.
    function testSellBarelyInsolventPaysBidLessHaircut() public {
        _insolvent(6000e8);
        _donate(-market.poolState().equityE6 + 3);
        while (market.poolHaircutWad() == 0) {
            _donate(-1);
        }
        uint256 h0 = market.poolHaircutWad();
        assertLt(h0, 1e9, "setup: barely insolvent");
        (uint256 full, uint256 fee, int256 post) = _sale(CLOSE);
        assertLt(post, _threshold(full, fee), "below the shortcut");
        IOptionMarketTypes.Quote memory q = market.quoteSell(series, CLOSE);
        uint256 snap = vm.snapshotState();
        uint256 proceeds = _sell(alice, aliceAcct, series, CLOSE);
        assertEq(proceeds, full - _cutUp(full, h0), "bid x (1 - h_pre)");
        assertEq(proceeds, full - 1, "the pool keeps 1 uUSDC (rounded up)");
        assertEq(proceeds, q.premiumE6, "quoteSell = sell");
        assertLe(market.poolHaircutWad(), h0);
        _assertConserved();
        vm.revertToState(snap);
        _donate(1);
        assertEq(market.poolHaircutWad(), 0, "1 uUSDC more: solvent");
        assertEq(_sell(alice, aliceAcct, series, CLOSE), full, "full bid");
        _assertConserved();
    }

    /// @dev Pool equity fuzzed around T (from a shortfall of a sale's mark value to T + the mark value), any sale
    ///      size: proceeds = bid × (1 − h_pre) with h_pre read before (and ≈ h recomputed from the views), h_pre = 0
    ///      whenever E ≥ T, quoteSell = sell, h does not rise, conservation.
    function testFuzzSellAroundShortcutThreshold(uint256 sizeWad, int256 offsetE6) public {
        _insolvent(6000e8);
        sizeWad = bound(sizeWad, 1e15, CREDITOR_CALLS);
        (uint256 full, uint256 fee, int256 post) = _sale(sizeWad);
        int256 t = _threshold(full, fee);
        // From a shortfall of the sale's mark value (or the most the pool's cash lets the donation take) to T + it.
        int256 lo = -int256(full + fee) - 2;
        int256 cashLimit = post - market.poolState().cashE6 + int256(full);
        int256 target = bound(offsetE6, lo > cashLimit ? lo : cashLimit, t + int256(full + fee));
        _donate(target - post);
        uint256 h0 = market.poolHaircutWad();
        if (target >= t) {
            assertEq(h0, 0, "shortcut taken: h_pre = 0");
            assertGe(market.poolState().equityE6, 0, "shortcut taken: solvent before");
        }
        _assertHaircutMatchesViews(h0);
        IOptionMarketTypes.Quote memory q = market.quoteSell(series, sizeWad);
        assertEq(_sell(alice, aliceAcct, series, sizeWad), full - _cutUp(full, h0), "bid x (1 - h_pre)");
        assertEq(full - _cutUp(full, h0), q.premiumE6, "quoteSell = sell");
        assertLe(market.poolHaircutWad(), h0, "h does not rise");
        _assertConserved();
    }

    /// @dev `poolHaircutWad` = the shortfall over the longs' value recomputed from the views, to their rounding
    ///      (1 µUSDC on each of the shortfall, the owed value and the grid's vs the marks' valuation).
    function _assertHaircutMatchesViews(uint256 h) internal view {
        uint256 owed = 2 * CREDITOR_CALLS * market.markPrice(series) / 1e30;
        assertApproxEqAbs(h, _haircutFromViews(), 3e18 / owed + 2, "h_pre = shortfall / owed, from the views");
    }

    /* LIQUIDATION */

    /// @dev Dave (ETH calls, short BTC puts) falls below MM on a BTC drop while the pool is insolvent; a liquidator
    ///      closes his calls: the long side is paid bid × (1 − h), the creditors' h does not rise.
    function testLiquidateLongInsolventPaysBidLessHaircut() public {
        _daveOpens();
        _insolvent(4500e8);
        _daveUnderwater();
        uint256 h0 = market.poolHaircutWad();
        assertGt(h0, 0, "setup: still insolvent");
        uint256 size = _maxLiquidatable(series);
        assertGt(size, 0, "setup: the calls' close should restore margin");
        IOptionMarketTypes.Quote memory q = market.quoteSell(series, size);
        uint256 full = size * q.tradePriceWad / 1e30;
        int256 before = _collateral(daveAcct);
        vm.prank(liquidator);
        (uint256 closed, uint256 bonus) = market.liquidate(daveAcct, series, size);
        assertEq(closed, size);
        uint256 proceeds = uint256(_collateral(daveAcct) - before + int256(bonus));
        console2.log("liquidation: haircut before / after (WAD)", h0, market.poolHaircutWad());
        assertEq(proceeds, full - _cutUp(full, h0), "bid x (1 - h), h before the close");
        assertEq(proceeds, q.premiumE6, "= quoteSell");
        assertLe(market.poolHaircutWad(), h0, "the remaining creditors' haircut does not rise");
        _assertConserved();
    }

    function testLiquidateLongSolventPaysFullBid() public {
        _daveOpens();
        _daveUnderwater();
        assertEq(market.poolHaircutWad(), 0);
        uint256 size = _maxLiquidatable(series);
        assertGt(size, 0);
        IOptionMarketTypes.Quote memory q = market.quoteSell(series, size);
        int256 before = _collateral(daveAcct);
        vm.prank(liquidator);
        (, uint256 bonus) = market.liquidate(daveAcct, series, size);
        assertEq(uint256(_collateral(daveAcct) - before + int256(bonus)), size * q.tradePriceWad / 1e30);
        _assertConserved();
    }

    /* LIQUIDATION: THE CASH-COVERS-SHORTS PROOF */

    // `_haircutWad` first tries a proof of solvency that prices nothing (OptionMarket._coversShorts): the pool's cash
    // ≥ C = 1 µUSDC + Σ over its positions of (a short: |size| × (spot for a call, strike for a put)) + 1 ppm of that
    // + 1 µUSDC. C is recomputed here from the views; the views' `poolHaircutWad` does not use the proof (the facets
    // keep the stub), so comparing what the core pays with it tests the proof.

    /// @dev C from the views (the pool's positions, the series, the spots).
    function _coverE6() internal view returns (int256 needE6) {
        needE6 = 1;
        uint256[] memory live = market.liveSeries();
        for (uint256 i; i < live.length; ++i) {
            int256 size = market.poolPositionOf(live[i]);
            if (size == 0) continue;
            IOptionMarketTypes.Series memory s = market.series(live[i]);
            (uint256 spotWad,) = market.spot(s.underlyingId);
            uint256 bound =
                (size < 0 ? uint256(-size) : uint256(size)) * (s.isCall ? spotWad : s.strikeWad) / 1e30;
            needE6 += int256((size < 0 ? bound : 0) + bound / 1e6 + 1);
        }
    }

    /// @dev Liquidates `size` of dave's calls; returns what his collateral was paid for them and the gas used.
    function _liquidateCalls(uint256 size) internal returns (uint256 proceedsE6, uint256 gasUsed) {
        int256 before = _collateral(daveAcct);
        vm.prank(liquidator);
        uint256 g = gasleft();
        (, uint256 bonus) = market.liquidate(daveAcct, series, size);
        gasUsed = g - gasleft();
        proceedsE6 = uint256(_collateral(daveAcct) - before + int256(bonus));
    }

    /// @dev Cash = C (the proof holds) and C − 1 µUSDC (it fails, the book is valued): the pool is solvent either
    ///      way, the full bid both times; the proof saves the valuation (gas, warm slots both times).
    function testLiquidateLongCoverProofBothSidesOfItsThreshold() public {
        _daveOpens();
        _daveUnderwater();
        uint256 size = _maxLiquidatable(series);
        uint256 full = size * market.quoteSell(series, size).tradePriceWad / 1e30;
        int256 need = _coverE6();
        assertGt(market.poolState().cashE6, need, "setup: the fixture's pool covers its shorts");
        _donate(need - market.poolState().cashE6);
        uint256 snap = vm.snapshotState();
        _liquidateCalls(size); // warms the slots
        vm.revertToState(snap);
        (uint256 proceedsAt, uint256 gasAt) = _liquidateCalls(size);
        _assertConserved();
        vm.revertToState(snap);
        _donate(-1);
        assertEq(market.poolHaircutWad(), 0, "C - 1: still solvent by the valuation");
        assertGt(market.poolState().equityE6, 0);
        (uint256 proceedsBelow, uint256 gasBelow) = _liquidateCalls(size);
        console2.log("gas: liquidation of a long, pool cash at C / 1 uUSDC under it", gasAt, gasBelow);
        assertEq(proceedsAt, full, "proof holds: full bid");
        assertEq(proceedsBelow, full, "proof fails, valued solvent: full bid");
        assertGt(gasBelow, gasAt + 30_000, "under C the pool's book is valued; at C it is not");
        _assertConserved();
    }

    /// @dev The proof's soundness: ETH anywhere from 0.3x to 8x (the calls the pool is short from far OTM to deep ITM,
    ///      where a call is worth nearly its spot) and the pool's cash anywhere up to past C: wherever cash ≥ C the
    ///      valuation finds the pool solvent, and a close is paid bid × (1 − h) with h the views' valuation (which
    ///      skips the proof), so the proof never pays a full bid the valuation would cut.
    function testFuzzCoverProofIsSound(uint256 ethE8, int256 cashE6) public {
        _insolvent(6000e8);
        _setEth(bound(ethE8, 1000e8, 24_000e8));
        _refresh();
        int256 need = _coverE6();
        (uint256 full,,) = _sale(CLOSE);
        _donate(bound(cashE6, int256(full) + 1, need + 1e6) - market.poolState().cashE6);
        uint256 h0 = market.poolHaircutWad();
        if (market.poolState().cashE6 >= need) {
            assertEq(h0, 0, "cash >= C: solvent by the valuation");
            assertGe(market.poolState().equityE6, 0);
        }
        uint256 proceeds = _sell(alice, aliceAcct, series, CLOSE);
        assertEq(proceeds, full - _cutUp(full, h0), "bid x (1 - h by the valuation)");
        _assertConserved();
    }

    /* GAS (forge test --match-test testGas -vv) */

    function testGasSellLongSolvent() public {
        vm.prank(alice);
        uint256 g = gasleft();
        market.sell(aliceAcct, series, 300e18, 0);
        console2.log("gas: sell closing a long, pool solvent", g - gasleft());
    }

    function testGasSellLongInsolvent() public {
        _insolvent(6000e8);
        vm.prank(alice);
        uint256 g = gasleft();
        market.sell(aliceAcct, series, 300e18, 0);
        console2.log("gas: sell closing a long, pool insolvent", g - gasleft());
    }

    function testGasSellToOpenShortInsolvent() public {
        _insolvent(6000e8);
        uint256 carolAcct = _open(carol, 100_000e6);
        vm.prank(carol);
        uint256 g = gasleft();
        market.sell(carolAcct, series, 10e18, 0);
        console2.log("gas: sell opening a short, pool insolvent", g - gasleft());
    }

    function testGasLiquidateLongSolvent() public {
        _daveOpens();
        _daveUnderwater();
        uint256 size = _maxLiquidatable(series);
        vm.prank(liquidator);
        uint256 g = gasleft();
        market.liquidate(daveAcct, series, size);
        console2.log("gas: liquidation of a long, pool solvent", g - gasleft());
    }

    function testGasLiquidateLongInsolvent() public {
        _daveOpens();
        _insolvent(4500e8);
        _daveUnderwater();
        uint256 size = _maxLiquidatable(series);
        vm.prank(liquidator);
        uint256 g = gasleft();
        market.liquidate(daveAcct, series, size);
        console2.log("gas: liquidation of a long, pool insolvent", g - gasleft());
    }
}
