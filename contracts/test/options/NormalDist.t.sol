// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {NormalDist} from "../../options/libraries/NormalDist.sol";
import {Test, console2} from "forge-std/Test.sol";

/// @notice Φ against mpmath (40 digits) on [−12, 12], symmetry, monotonicity and saturation.
contract NormalDistTest is Test {
    uint256 internal constant WAD = 1e18;
    /// @notice The issue's bound on the CDF's absolute error.
    uint256 internal constant MAX_CDF_ERROR_WAD = 1e10; // 1e-8

    function testCdfMatchesMpmathVectors() public view {
        string memory json =
            vm.readFile(string.concat(vm.projectRoot(), "/contracts/test/vectors/normal_cdf.json"));
        int256[] memory xs = vm.parseJsonIntArray(json, ".x");
        uint256[] memory want = vm.parseJsonUintArray(json, ".cdf");
        assertEq(xs.length, want.length);
        uint256 worst;
        for (uint256 i; i < xs.length; ++i) {
            uint256 got = NormalDist.cdf(xs[i]);
            uint256 err = got > want[i] ? got - want[i] : want[i] - got;
            if (err > worst) worst = err;
            assertLe(err, MAX_CDF_ERROR_WAD, "cdf error above 1e-8");
        }
        // The implementation is far inside the bound: a regression to a 1e-7 method would show here.
        assertLe(worst, 100, "cdf error above 1e-16");
        console2.log("cdf: vectors", xs.length, "max |error| (wei of 1e18)", worst);
    }

    function testCdfSymmetric(int256 x) public pure {
        x = bound(x, -40e18, 40e18);
        uint256 sum = NormalDist.cdf(x) + NormalDist.cdf(-x);
        assertApproxEqAbs(sum, WAD, 2);
    }

    function testCdfMonotone(int256 x, uint256 dx) public pure {
        x = bound(x, -12e18, 12e18);
        dx = bound(dx, 1e9, 1e18);
        // Monotone up to rounding (a few wei).
        assertGe(NormalDist.cdf(x + int256(dx)) + 3, NormalDist.cdf(x));
    }

    function testCdfSaturatesBeyondNine(int256 x) public pure {
        x = bound(x, 9e18, type(int128).max);
        assertEq(NormalDist.cdf(x), WAD);
        assertEq(NormalDist.cdf(-x), 0);
    }
}
