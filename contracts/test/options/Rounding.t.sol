// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {OptionMarketBase} from "../../options/OptionMarketBase.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Test} from "forge-std/Test.sol";

/// @dev Exposes the market's rounding helpers (no storage is used).
contract RoundingHarness is OptionMarketBase {
    constructor() OptionMarketBase(IERC20(address(1))) {}

    function floorDiv(int256 x, int256 d) external pure returns (int256) {
        return _floorDiv(x, d);
    }

    function valueE6(int256 sizeWad, uint256 priceWad) external pure returns (int256) {
        return _valueE6(sizeWad, priceWad);
    }
}

/// @notice The venue's rounding toward −∞ (payouts, marks, equity), against its definition.
contract RoundingTest is Test {
    RoundingHarness internal h;

    function setUp() public {
        h = new RoundingHarness();
    }

    /// @notice q = ⌊x / d⌋: q·d ≤ x < (q + 1)·d, for either sign of x.
    function testFloorDivRoundsTowardNegativeInfinity(int256 x, int256 d) public view {
        x = bound(x, -1e60, 1e60);
        d = bound(d, 1, 1e30);
        int256 q = h.floorDiv(x, d);
        assertLe(q * d, x);
        assertGt((q + 1) * d, x);
    }

    function testFloorDivExactAndSmallCases() public view {
        assertEq(h.floorDiv(-1, 1e12), -1);
        assertEq(h.floorDiv(-1e12, 1e12), -1);
        assertEq(h.floorDiv(-1e12 - 1, 1e12), -2);
        assertEq(h.floorDiv(0, 1e12), 0);
        assertEq(h.floorDiv(1e12 - 1, 1e12), 0);
        assertEq(h.floorDiv(2e12, 1e12), 2);
    }

    /// @notice size × price in USDC rounded down: a long's value and a short's debit both round against the holder.
    function testValueE6RoundsTowardNegativeInfinity(int256 sizeWad, uint256 priceWad) public view {
        sizeWad = bound(sizeWad, -1e27, 1e27);
        priceWad = bound(priceWad, 0, 1e25);
        int256 exact = sizeWad * int256(priceWad); // E6 × 1e30
        int256 v = h.valueE6(sizeWad, priceWad);
        assertLe(v * 1e30, exact);
        assertGt((v + 1) * 1e30, exact);
    }
}
