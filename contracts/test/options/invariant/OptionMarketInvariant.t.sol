// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOptionMarketTypes} from "../../../interfaces/options/IOptionMarketTypes.sol";
import {OptionMarketFixture} from "../OptionMarketFixture.sol";
import {OptionMarketHandler} from "./OptionMarketHandler.sol";
import {console2} from "forge-std/Test.sol";

/// @notice Invariants of the venue under random trading, oracle moves, time, settlement, liquidation and LP flows.
/// @dev Each handler call runs full margin checks (≈1–3M gas), so the default profile keeps the campaign short
///      (12 × 24 per invariant); HV_SLOW=1 (the `slow` profile) runs 256 × 64 per invariant.
/// forge-config: default.invariant.runs = 12
/// forge-config: default.invariant.depth = 24
/// forge-config: slow.invariant.runs = 256
/// forge-config: slow.invariant.depth = 64
contract OptionMarketInvariantTest is OptionMarketFixture {
    OptionMarketHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new OptionMarketHandler(market, usdc, ethFeed, admin, feeder, expiries);
        targetContract(address(handler));
    }

    /// @dev Σ over accounts of (collateral + payouts of settled, not yet cashed positions), and of its positive part.
    function _claims() internal view returns (int256 net, uint256 positive) {
        for (uint256 i; i < handler.accountCount(); ++i) {
            IOptionMarketTypes.AccountState memory st = market.accountState(handler.accounts(i));
            int256 claim = st.collateralE6;
            for (uint256 p; p < st.positions.length; ++p) {
                if (st.positions[p].expired && st.positions[p].settlementPriceWad != 0) {
                    claim += st.positions[p].markValueE6;
                }
            }
            net += claim;
            if (claim > 0) positive += uint256(claim);
        }
    }

    /// @notice Solvency: the USDC held covers every account's settled claim (the pool's LPs are junior).
    function invariant_balanceCoversSettledClaims() public view {
        (, uint256 positive) = _claims();
        assertGe(usdc.balanceOf(address(market)), positive);
    }

    /// @notice Accounting: USDC held = pool cash + account claims, up to rounding dust of settlements (in the
    ///         venue's favour, never against it).
    function invariant_cashAccountedFor() public view {
        (int256 net,) = _claims();
        int256 dust = int256(usdc.balanceOf(address(market))) - market.poolState().cashE6 - net;
        assertGe(dust, 0);
        assertLe(dust, int256(handler.ghost_settlements() * 10 + 1));
    }

    /// @notice The pool is the counterparty of every trade: its position in each live series mirrors the accounts'.
    function invariant_poolMirrorsAccounts() public view {
        uint256[] memory live = market.liveSeries();
        for (uint256 s; s < live.length; ++s) {
            int256 sum;
            for (uint256 i; i < handler.accountCount(); ++i) {
                sum += market.positionOf(handler.accounts(i), live[s]);
            }
            assertEq(market.poolPositionOf(live[s]), -sum);
        }
    }

    /// @notice No free option: an immediate buy-then-sell never returns more than it cost.
    function invariant_noFreeOption() public view {
        assertLe(handler.ghost_maxRoundTripProfitE6(), 0);
    }

    /// @notice The handler reaches the liquidation and settlement paths (so the campaign exercises them): a
    ///         maximal short, a crash, a liquidation; then expiry and settlement.
    function testHandlerReachesLiquidationAndSettlement(uint256 seriesSeed) public {
        handler.lever(0, bound(seriesSeed, 0, 24) * 2 + 1); // live series at odd indices are puts
        handler.withdrawFree(0);
        for (uint256 i; i < 3; ++i) {
            handler.moveSpot(-1200);
        }
        handler.liquidate(0);
        handler.elapse(3 days);
        handler.elapse(3 days);
        handler.elapse(3 days);
        handler.settle(0);
        assertGt(handler.calls("lever"), 0, "no short opened");
        assertGt(handler.calls("settle"), 0, "no settlement");
        assertGt(handler.calls("liquidate"), 0, "no liquidation");
    }

    function afterInvariant() external view {
        console2.log("buys", handler.calls("buy"), "sells", handler.calls("sell"));
        console2.log("max shorts", handler.calls("lever"));
        console2.log("liquidations", handler.calls("liquidate"), "settlements", handler.calls("settle"));
        console2.log("round trips", handler.calls("roundTrip"), "spot moves", handler.calls("moveSpot"));
    }
}
