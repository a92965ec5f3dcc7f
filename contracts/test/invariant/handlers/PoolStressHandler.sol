// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Test} from "forge-std/Test.sol";

import {IAggregatorV3} from "../../../interfaces/IAggregatorV3.sol";
import {IOptionMarket} from "../../../interfaces/IOptionMarket.sol";
import {IOptionMarketTypes} from "../../../interfaces/options/IOptionMarketTypes.sol";
import {repostSurfaces} from "../../utils/VenueSurfaces.sol";

interface IPriceFeedSubmit {
    function submit(int256 answer) external returns (uint80);
}

/// @dev Told after every price move (the vault handler keeps Aave's oracle mock at its divergence from the feed).
interface IOnPriceMove {
    function remock() external;
}

/// @notice Drives the venue's LP pool towards insolvency for the vault NAV invariant (issue 19, item 6b): an outside
///         trader buys calls from the pool, the LP withdraws all the pool's IM check lets it, WETH rallies past the
///         venue's scenario grid, and the first expiry settles while the pool is short in the money. Also the
///         independent valuation of the pool's haircut, from raw balances (pool cash, every account's and the
///         pool's positions, the venue's per-series marks), never the venue's margin loader or its long-interest
///         bookkeeping.
contract PoolStressHandler is Test {
    IOptionMarket internal market;
    address internal usdc;
    address internal lp;
    address internal feeder;
    address[3] internal feeds; // USDC, WETH, WBTC
    uint256[] internal expiries;
    uint256 internal trader; // the outside trader's venue account
    address internal onPriceMove;

    /// @notice The haircut this handler computed just before it settled an expiry (what that expiry's longs get).
    mapping(uint256 expiry => uint256) public settledHaircutWad;
    mapping(uint256 expiry => bool) public settled;
    uint256 public traderBuys;
    /// @notice Actions after which the pool was insolvent (the NAV invariant is checked after each).
    uint256 public insolventSteps;
    uint256 public lpWithdrawals;
    uint256 public rallies;
    uint256 public settlements;
    uint256 public insolventSettlements;

    constructor(
        IOptionMarket market_,
        address usdc_,
        address lp_,
        address feeder_,
        address[3] memory feeds_,
        uint256[] memory expiries_
    ) {
        (market, usdc, lp, feeder, feeds, expiries) = (market_, usdc_, lp_, feeder_, feeds_, expiries_);
        trader = market.openAccount();
    }

    function setOnPriceMove(address who) external {
        onPriceMove = who;
    }

    /* ACTIONS */

    /// @dev The outside trader buys 100–3,000 WETH calls (first two expiries, strikes 3,000 / 3,300) from the pool,
    ///      posting 1.5 × the premium (a long's IM is at most its value × the IM factor).
    function traderBuy(uint256 seed, uint256 contracts) external {
        uint256 expiry = expiries[seed % 2];
        if (expiry <= block.timestamp + 2 hours) return; // the venue stops trading 1 h before expiry
        uint128 strike = (seed >> 8) % 2 == 0 ? uint128(3000e18) : uint128(3300e18);
        uint256 series = market.seriesIdOf(0, uint64(expiry), strike, true);
        if (series == 0) return;
        uint256 size = bound(contracts, 100, 3000) * 1e18;
        try market.quoteBuy(series, size) returns (IOptionMarketTypes.Quote memory q) {
            uint256 posted = q.premiumE6 * 3 / 2 + 1;
            deal(usdc, address(this), posted);
            IERC20(usdc).approve(address(market), posted);
            market.deposit(trader, posted);
            try market.buy(trader, series, size, q.premiumE6) {
                ++traderBuys;
            } catch {}
        } catch {}
        _count();
    }

    /// @dev The LP withdraws the largest fraction (≤ `pct` %, found by bisection to 1 %) the pool's IM check allows.
    function lpWithdraw(uint256 pct) external {
        uint256 shares = market.sharesOf(lp);
        if (shares == 0) return;
        uint256 hi = bound(pct, 1, 100);
        uint256 lo = 0;
        while (lo < hi) {
            uint256 mid = (lo + hi + 1) / 2;
            if (_lpCan(shares * mid / 100)) lo = mid;
            else hi = mid - 1;
        }
        if (lo == 0) return;
        vm.prank(lp);
        market.withdrawLiquidity(shares * lo / 100, lp);
        ++lpWithdrawals;
        _count();
    }

    function _lpCan(uint256 shares) internal returns (bool ok) {
        if (shares == 0) return false;
        uint256 snap = vm.snapshotState();
        vm.prank(lp);
        try market.withdrawLiquidity(shares, lp) {
            ok = true;
        } catch {}
        vm.revertToState(snap);
    }

    /// @dev WETH jumps 20–80 % (past the venue's ±20 % grid); every feed gets a fresh round, the venue fresh surfaces.
    function rally(uint256 bps) external {
        bps = bound(bps, 2000, 8000);
        vm.warp(block.timestamp + 60);
        uint256 weth = uint256(IAggregatorV3(feeds[1]).latestAnswer());
        _submitAll(weth * (10_000 + bps) / 10_000);
        repostSurfaces(market, expiries, feeder);
        ++rallies;
        _count();
    }

    /// @dev Past the first expiry: a round before it and the first round at/after it, then settleExpiry (WETH).
    function settleFirstExpiry() external {
        uint256 expiry = expiries[0];
        if (settled[expiry]) return;
        uint256 weth = uint256(IAggregatorV3(feeds[1]).latestAnswer());
        if (block.timestamp < expiry) {
            vm.warp(expiry - 30);
            _submitAll(weth);
            vm.warp(expiry + 1);
        }
        uint80 round = _submitAll(weth);
        uint256 h = haircutWad();
        market.settleExpiry(0, uint64(expiry), round);
        (settled[expiry], settledHaircutWad[expiry]) = (true, h);
        ++settlements;
        if (h != 0) ++insolventSettlements;
        repostSurfaces(market, expiries, feeder);
        _count();
    }

    function _count() internal {
        if (haircutWad() != 0) ++insolventSteps;
    }

    function _submitAll(uint256 wethE8) internal returns (uint80 wethRound) {
        vm.startPrank(feeder);
        IPriceFeedSubmit(feeds[0]).submit(IAggregatorV3(feeds[0]).latestAnswer());
        wethRound = IPriceFeedSubmit(feeds[1]).submit(int256(wethE8));
        IPriceFeedSubmit(feeds[2]).submit(IAggregatorV3(feeds[2]).latestAnswer());
        vm.stopPrank();
        if (onPriceMove != address(0)) IOnPriceMove(onPriceMove).remock();
    }

    /* THE INDEPENDENT HAIRCUT */

    /// @notice The pool's haircut from raw balances: 0 while cash + Σ pool size × mark ≥ 0, else the shortfall over
    ///         Σ (every account's positive size × mark) of the live series, capped at 1 (WAD, rounded up).
    function haircutWad() public view returns (uint256) {
        int256 equityE6 = market.poolState().cashE6;
        int256 longsE6 = 0;
        uint256[] memory live = market.liveSeries();
        uint256 accounts = market.accountCount();
        for (uint256 i; i < live.length; ++i) {
            int256 poolSize = market.poolPositionOf(live[i]);
            int256 longs = 0;
            for (uint256 id = 1; id <= accounts; ++id) {
                int256 size = market.positionOf(id, live[i]);
                if (size > 0) longs += size;
            }
            if (poolSize == 0 && longs == 0) continue;
            int256 mark = int256(market.markPrice(live[i]));
            equityE6 += poolSize * mark / 1e30;
            longsE6 += longs * mark / 1e30;
        }
        if (equityE6 >= 0) return 0;
        if (longsE6 <= 0 || -equityE6 >= longsE6) return 1e18;
        return (uint256(-equityE6) * 1e18 + uint256(longsE6) - 1) / uint256(longsE6);
    }

    /// @notice An account's value as its owner can recover it, from raw holdings: collateral + size × mark per
    ///         position, each long less its haircut (the one recorded at its expiry's settlement, else the pool's
    ///         now), in USDC E6. Also the number of positions (for the rounding tolerance).
    function recoverableE6(uint256 accountId) external view returns (int256 valueE6, uint256 positions) {
        (
            int256 collateralE6,
            uint256[] memory ids,
            int256[] memory sizes,
            IOptionMarketTypes.Series[] memory s
        ) = market.holdingsOf(accountId);
        valueE6 = collateralE6;
        positions = ids.length;
        uint256 h = type(uint256).max;
        for (uint256 j; j < ids.length; ++j) {
            int256 v = sizes[j] * int256(market.markPrice(ids[j])) / 1e30;
            if (v > 0) {
                uint256 cut;
                if (settled[s[j].expiry] && s[j].underlyingId == 0) {
                    cut = settledHaircutWad[s[j].expiry];
                } else {
                    if (h == type(uint256).max) h = haircutWad();
                    cut = h;
                }
                v -= int256((uint256(v) * cut + 1e18 - 1) / 1e18);
            }
            valueE6 += v;
        }
    }

    function calls() external view returns (uint256, uint256, uint256, uint256, uint256) {
        return (traderBuys, lpWithdrawals, rallies, settlements, insolventSettlements);
    }
}
