// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {PriceFeed} from "../../../feeds/PriceFeed.sol";
import {IOptionMarket} from "../../../interfaces/IOptionMarket.sol";
import {IOptionMarketTypes} from "../../../interfaces/options/IOptionMarketTypes.sol";
import {TestUSDC} from "../OptionMarketFixture.sol";
import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

/// @notice Drives the market like its users, LPs, liquidators, the oracle and the vol feeder would, with ghost
///         records for the invariants. Every market call is wrapped so an expected refusal (margin, staleness,
///         cutoff) is a no-op, never a failed run.
contract OptionMarketHandler is CommonBase, StdCheats, StdUtils {
    IOptionMarket internal market;
    TestUSDC internal usdc;
    PriceFeed internal feed;
    address internal feedAdmin;
    address internal volFeeder;
    uint64[] internal expiries;

    address[] public actors;
    uint256[] public accounts; // one per actor
    address public liquidator = address(0x11D);

    /// @notice Largest profit of an immediate buy-then-sell round trip (must stay ≤ 0).
    int256 public ghost_maxRoundTripProfitE6 = type(int256).min;
    /// @notice Operations that may leave rounding dust in the venue (settlements).
    uint256 public ghost_settlements;
    mapping(bytes32 => uint256) public calls;

    constructor(
        IOptionMarket market_,
        TestUSDC usdc_,
        PriceFeed feed_,
        address feedAdmin_,
        address volFeeder_,
        uint64[] memory expiries_
    ) {
        market = market_;
        usdc = usdc_;
        feed = feed_;
        feedAdmin = feedAdmin_;
        volFeeder = volFeeder_;
        expiries = expiries_;
        for (uint256 i; i < 3; ++i) {
            address a = address(uint160(0xA11CE + i));
            actors.push(a);
            vm.prank(a);
            uint256 id = market.openAccount();
            accounts.push(id);
            _fund(a, id, 30_000e6);
        }
    }

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    /* USERS */

    function deposit(uint256 who, uint256 amountE6) external {
        who = bound(who, 0, actors.length - 1);
        _fund(actors[who], accounts[who], bound(amountE6, 1e6, 20_000e6));
        ++calls["deposit"];
    }

    function buy(uint256 who, uint256 seriesSeed, uint256 sizeWad) external {
        (address a, uint256 id, uint256 s) = _pick(who, seriesSeed);
        if (s == 0) return;
        vm.prank(a);
        try market.buy(id, s, bound(sizeWad, 1e15, 20e18), type(uint256).max) {
            ++calls["buy"];
        } catch {}
    }

    function sell(uint256 who, uint256 seriesSeed, uint256 sizeWad) external {
        (address a, uint256 id, uint256 s) = _pick(who, seriesSeed);
        if (s == 0) return;
        vm.prank(a);
        try market.sell(id, s, bound(sizeWad, 1e15, 20e18), 0) {
            ++calls["sell"];
        } catch {}
    }

    /// @notice A user shorting as much as margin allows: the largest of 40, 20, 10, … units the market accepts.
    function lever(uint256 who, uint256 seriesSeed) external {
        (address a, uint256 id, uint256 s) = _pick(who, seriesSeed);
        if (s == 0) return;
        for (uint256 size = 40e18; size >= 1e17; size /= 2) {
            vm.prank(a);
            try market.sell(id, s, size, 0) {
                ++calls["lever"];
                return;
            } catch {}
        }
    }

    /// @notice Buy then sell the same size at once; records the cash result.
    function roundTrip(uint256 who, uint256 seriesSeed, uint256 sizeWad) external {
        (address a, uint256 id, uint256 s) = _pick(who, seriesSeed);
        if (s == 0) return;
        sizeWad = bound(sizeWad, 1, 20e18);
        vm.startPrank(a);
        try market.buy(id, s, sizeWad, type(uint256).max) returns (uint256 cost) {
            try market.sell(id, s, sizeWad, 0) returns (uint256 proceeds) {
                int256 profit = int256(proceeds) - int256(cost);
                if (profit > ghost_maxRoundTripProfitE6) ghost_maxRoundTripProfitE6 = profit;
                ++calls["roundTrip"];
            } catch {}
        } catch {}
        vm.stopPrank();
    }

    function withdraw(uint256 who, uint256 amountE6) external {
        who = bound(who, 0, actors.length - 1);
        vm.prank(actors[who]);
        try market.withdraw(accounts[who], bound(amountE6, 1, 50_000e6), actors[who]) {
            ++calls["withdraw"];
        } catch {}
    }

    /// @notice A user pulling all collateral above initial margin.
    function withdrawFree(uint256 who) external {
        who = bound(who, 0, actors.length - 1);
        _settleDue();
        try market.marginOf(accounts[who]) returns (int256 equityE6, uint256 imE6, uint256) {
            if (equityE6 <= int256(imE6)) return;
            uint256 free = uint256(equityE6) - imE6;
            int256 collateral = market.accountState(accounts[who]).collateralE6;
            if (collateral <= 0) return;
            if (free > uint256(collateral)) free = uint256(collateral);
            vm.prank(actors[who]);
            try market.withdraw(accounts[who], free, actors[who]) {
                ++calls["withdrawFree"];
            } catch {}
        } catch {}
    }

    /* LIQUIDATORS */

    /// @notice A liquidator goes through the account's positions and, for each, tries the whole position then
    ///         halves until the market accepts (as a keeper searches for the largest size that does not
    ///         over-liquidate).
    function liquidate(uint256 who) external {
        _settleDue();
        uint256 id = accounts[bound(who, 0, accounts.length - 1)];
        IOptionMarketTypes.PositionState[] memory ps = market.accountState(id).positions;
        for (uint256 p; p < ps.length; ++p) {
            uint256 abs = ps[p].sizeWad < 0 ? uint256(-ps[p].sizeWad) : uint256(ps[p].sizeWad);
            for (uint256 i; i < 8 && abs > 0; ++i) {
                vm.prank(liquidator);
                try market.liquidate(id, ps[p].seriesId, abs) {
                    ++calls["liquidate"];
                    return;
                } catch {}
                abs /= 2;
            }
        }
    }

    /* LPS */

    function provide(uint256 amountE6) external {
        amountE6 = bound(amountE6, 1e6, 1_000_000e6);
        usdc.mint(address(this), amountE6);
        usdc.approve(address(market), amountE6);
        try market.provideLiquidity(amountE6) {
            ++calls["provide"];
        } catch {}
    }

    function withdrawLiquidity(uint256 fraction) external {
        uint256 shares = market.sharesOf(address(this)) * bound(fraction, 0, 1e18) / 1e18;
        if (shares == 0) return;
        try market.withdrawLiquidity(shares, address(this)) {
            ++calls["withdrawLiquidity"];
        } catch {}
    }

    /* ORACLE, VOL FEEDER AND TIME */

    /// @notice Spot moves by up to ±12 %, kept within 2,100–3,900.
    function moveSpot(int256 moveBps) external {
        (, int256 answer,,,) = feed.latestRoundData();
        int256 next = answer + answer * bound(moveBps, -1200, 1200) / 10_000;
        next = next < 2100e8 ? int256(2100e8) : next > 3900e8 ? int256(3900e8) : next;
        vm.prank(feedAdmin);
        feed.submit(next);
        ++calls["moveSpot"];
    }

    /// @notice Up to 3 days pass; the oracle and the vol feeder post fresh data.
    function elapse(uint256 dt) external {
        vm.warp(block.timestamp + bound(dt, 1, 3 days));
        (, int256 answer,,,) = feed.latestRoundData();
        vm.prank(feedAdmin);
        feed.submit(answer);
        vm.startPrank(volFeeder);
        for (uint256 e; e < expiries.length; ++e) {
            if (expiries[e] > block.timestamp) {
                market.postVolSurface(0, expiries[e], 0.6e18, -0.1e18, 0.3e18);
            }
        }
        vm.stopPrank();
        ++calls["elapse"];
    }

    /// @notice Settles an expired expiry with the feed's first round at or after it, then every account.
    function settle(uint256 expirySeed) external {
        _settle(expiries[bound(expirySeed, 0, expiries.length - 1)]);
    }

    /// @dev What a keeper does before trading: settle every expiry that can be settled.
    function _settleDue() internal {
        for (uint256 e; e < expiries.length; ++e) {
            _settle(expiries[e]);
        }
    }

    function _settle(uint64 expiry) internal {
        if (expiry > block.timestamp || market.settlementPrice(0, expiry) != 0) return;
        uint80 r = feed.latestRoundId();
        (,,, uint256 at,) = feed.getRoundData(r);
        if (at < expiry) return;
        while (r > 1) {
            (,,, uint256 prevAt,) = feed.getRoundData(r - 1);
            if (prevAt < expiry) break;
            --r;
        }
        market.settleExpiry(0, expiry, r);
        ++ghost_settlements;
        for (uint256 i; i < accounts.length; ++i) {
            market.settleAccount(accounts[i]);
            ++ghost_settlements;
        }
        ++calls["settle"];
    }

    /* INTERNAL */

    function _pick(uint256 who, uint256 seriesSeed) internal returns (address, uint256, uint256) {
        _settleDue();
        who = bound(who, 0, actors.length - 1);
        uint256[] memory live = market.liveSeries();
        if (live.length == 0) return (actors[who], accounts[who], 0);
        return (actors[who], accounts[who], live[bound(seriesSeed, 0, live.length - 1)]);
    }

    function _fund(address a, uint256 id, uint256 amountE6) internal {
        usdc.mint(a, amountE6);
        vm.startPrank(a);
        usdc.approve(address(market), amountE6);
        market.deposit(id, amountE6);
        vm.stopPrank();
    }
}
