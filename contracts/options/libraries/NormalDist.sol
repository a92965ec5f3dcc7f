// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {FixedPointMathLib} from "solady/utils/FixedPointMathLib.sol";

/// @title NormalDist
/// @notice Standard normal CDF in 1e18 fixed point: Hart (1968) double-precision algorithm as printed in G. West,
///         "Better approximations to cumulative normal functions" (Wilmott, 2005). The formula's error is 4.3e-17
///         over [−37, 37] (checked against mpmath at 40 digits, see docs/option-market.md); the fixed-point
///         evaluation adds a few wei.
/// @dev Every caller that prices options needs Φ(d1) and Φ(d2) from one exponential: `tail` takes e^{−z²/2}
///      as an argument so the Black-Scholes kernel can derive the second one from the first (see BlackScholesLib).
///      For |d| ≥ 9, Φ(−|d|) < 1.2e-19 (below one wei) and Φ is returned as exactly 0 or 1 with no exp.
///      All arithmetic is `unchecked`: inputs are bounded (z < 9e18, e ≤ 1e18) so no intermediate exceeds 1e60.
// Casts between int256 and uint256 here are of values bounded far below 2^255 (see the bounds in each
// library's NatSpec); the linter cannot see the bounds.
// forge-lint: disable-start(unsafe-typecast)
library NormalDist {
    uint256 internal constant WAD = 1e18;
    /// @notice |d| at or beyond which Φ(d) is 0 or 1 within one wei.
    uint256 internal constant SATURATION_WAD = 9e18;
    /// @dev Hart's split between the rational and the continued-fraction branch: 10/√2.
    uint256 internal constant HART_SPLIT_WAD = 7_071_067_811_865_470_000;
    /// @dev √(2π).
    uint256 internal constant SQRT_2PI_WAD = 2_506_628_274_631_000_502;

    // Hart's P6(z) (numerator, ascending powers), in WAD.
    uint256 internal constant P0 = 220_206_867_912_376_000_000;
    uint256 internal constant P1 = 221_213_596_169_931_000_000;
    uint256 internal constant P2 = 112_079_291_497_871_000_000;
    uint256 internal constant P3 = 33_912_866_078_383_000_000;
    uint256 internal constant P4 = 6_373_962_203_531_650_000;
    uint256 internal constant P5 = 700_383_064_443_688_000;
    uint256 internal constant P6 = 35_262_496_599_891_100;
    // Hart's Q7(z) (denominator, ascending powers), in WAD.
    uint256 internal constant Q0 = 440_413_735_824_752_000_000;
    uint256 internal constant Q1 = 793_826_512_519_948_000_000;
    uint256 internal constant Q2 = 637_333_633_378_831_000_000;
    uint256 internal constant Q3 = 296_564_248_779_674_000_000;
    uint256 internal constant Q4 = 86_780_732_202_946_100_000;
    uint256 internal constant Q5 = 16_064_177_579_207_000_000;
    uint256 internal constant Q6 = 1_755_667_163_182_640_000;
    uint256 internal constant Q7 = 88_388_347_648_318_400;

    /// @notice Φ(x) for any x (WAD in, WAD out).
    function cdf(int256 x) internal pure returns (uint256) {
        uint256 z = x < 0 ? uint256(-x) : uint256(x);
        if (z >= SATURATION_WAD) return x > 0 ? WAD : 0;
        uint256 e;
        unchecked {
            e = uint256(FixedPointMathLib.expWad(-int256(z * z / (2 * WAD))));
        }
        return cdfFromExp(x, e);
    }

    /// @notice Φ(x) given e = e^{−x²/2} (WAD); saturates for |x| ≥ SATURATION_WAD whatever `e` is.
    function cdfFromExp(int256 x, uint256 e) internal pure returns (uint256) {
        uint256 z = x < 0 ? uint256(-x) : uint256(x);
        if (z >= SATURATION_WAD) return x > 0 ? WAD : 0;
        uint256 t = tail(z, e);
        unchecked {
            return x > 0 ? WAD - t : t;
        }
    }

    /// @notice Φ(−z) for 0 ≤ z < SATURATION_WAD, given e = e^{−z²/2} (WAD).
    function tail(uint256 z, uint256 e) internal pure returns (uint256) {
        unchecked {
            if (z < HART_SPLIT_WAD) {
                // Horner, ascending coefficients: p = P0 + z(P1 + z(P2 + …)).
                uint256 p = P6;
                p = p * z / WAD + P5;
                p = p * z / WAD + P4;
                p = p * z / WAD + P3;
                p = p * z / WAD + P2;
                p = p * z / WAD + P1;
                p = p * z / WAD + P0;
                uint256 q = Q7;
                q = q * z / WAD + Q6;
                q = q * z / WAD + Q5;
                q = q * z / WAD + Q4;
                q = q * z / WAD + Q3;
                q = q * z / WAD + Q2;
                q = q * z / WAD + Q1;
                q = q * z / WAD + Q0;
                return e * p / q;
            }
            // Continued fraction z + 1/(z + 2/(z + 3/(z + 4/(z + 0.65)))).
            uint256 b = z + 0.65e18;
            b = z + 4e36 / b;
            b = z + 3e36 / b;
            b = z + 2e36 / b;
            b = z + 1e36 / b;
            return e * 1e36 / (b * SQRT_2PI_WAD);
        }
    }
}
// forge-lint: disable-end(unsafe-typecast)
