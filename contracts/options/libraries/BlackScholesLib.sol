// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {NormalDist} from "./NormalDist.sol";
import {FixedPointMathLib} from "solady/utils/FixedPointMathLib.sol";

/// @title BlackScholesLib
/// @notice European option prices (Black-Scholes on spot, no carry; equivalently Black-76 on F = S·e^{rτ}) in 1e18
///         fixed point, from a shared-term kernel built for portfolio revaluation.
/// @dev The kernel works in strike units: with R = F/K, x = ln R, s = σ√τ,
///        c = C̃/K = R·Φ(d1) − Φ(d2),  d1 = x/s + s/2,  d2 = d1 − s,
///      where C̃ is the undiscounted call. One exponential serves both Φs: d1² − d2² = 2x, so
///      e^{−d2²/2} = e^{−d1²/2}·R. It is taken at the smaller |d| (x ≤ 0 ⇒ |d1| ≤ |d2|) and the other follows by one
///      multiply or divide, so it never overflows. Spot scenarios k shift x by ln k and scale R by k; vol scenarios
///      scale s by m and 1/s by 1/m: no ln or sqrt per revaluation. Puts come from parity: P̃/K = c − R + 1.
///      Time is τ = seconds / 365 days.
// Casts between int256 and uint256 here are of values bounded far below 2^255 (see the bounds in each
// library's NatSpec); the linter cannot see the bounds.
// forge-lint: disable-start(unsafe-typecast)
library BlackScholesLib {
    uint256 internal constant WAD = 1e18;
    int256 internal constant IWAD = 1e18;
    uint256 internal constant YEAR_SECONDS = 365 days;

    /// @notice Undiscounted call per unit of strike, c = R·Φ(d1) − Φ(d2) (≥ 0).
    /// @param x ln(F/K), WAD.
    /// @param r F/K, WAD (= e^x up to rounding).
    /// @param s Total standard deviation σ√τ, WAD, > 0.
    /// @param invS 1/s, WAD.
    function callOverStrike(int256 x, uint256 r, uint256 s, uint256 invS) internal pure returns (uint256) {
        unchecked {
            // Bounds: |x| < 4e18 (strikes within 0.2–5 × spot, grid ±50 %, rate·τ ≤ 0.5), invS < 1e26, s < 1e20.
            int256 d1 = x * int256(invS) / IWAD + int256(s / 2);
            int256 d2 = d1 - int256(s);
            int256 small = x <= 0 ? d1 : d2;
            uint256 z = small < 0 ? uint256(-small) : uint256(small);
            uint256 n1;
            uint256 n2;
            if (z >= NormalDist.SATURATION_WAD) {
                // |d1| and |d2| are both ≥ 9: Φ is 0 or 1 within a wei.
                n1 = d1 > 0 ? WAD : 0;
                n2 = d2 > 0 ? WAD : 0;
            } else {
                uint256 e = uint256(FixedPointMathLib.expWad(-int256(z * z / (2 * WAD))));
                uint256 e1;
                uint256 e2;
                if (x <= 0) {
                    e1 = e;
                    e2 = e * r / WAD; // r ≤ 1: no overflow, e2 ≤ e1
                } else {
                    e2 = e;
                    e1 = e * WAD / r; // r > 1
                }
                n1 = NormalDist.cdfFromExp(d1, e1);
                n2 = NormalDist.cdfFromExp(d2, e2);
            }
            uint256 a = r * n1 / WAD;
            return a > n2 ? a - n2 : 0;
        }
    }

    /// @notice Put from the call kernel: P̃/K = c − R + 1, floored at 0.
    function putFromCall(uint256 c, uint256 r) internal pure returns (uint256) {
        unchecked {
            uint256 up = c + WAD;
            return up > r ? up - r : 0;
        }
    }

    /// @notice Year fraction of `seconds` (WAD).
    function yearFraction(uint256 secondsToExpiry) internal pure returns (uint256) {
        return secondsToExpiry * WAD / YEAR_SECONDS;
    }

    /// @notice Price of one option per unit of underlying (USD, WAD).
    /// @param spotWad S > 0.
    /// @param strikeWad K > 0.
    /// @param tauWad τ in years, > 0.
    /// @param volWad σ > 0.
    /// @param rateWad r ≥ 0, continuously compounded.
    function price(
        uint256 spotWad,
        uint256 strikeWad,
        uint256 tauWad,
        uint256 volWad,
        uint256 rateWad,
        bool isCall
    ) internal pure returns (uint256) {
        uint256 rt = rateWad * tauWad / WAD;
        uint256 growthWad = uint256(FixedPointMathLib.expWad(int256(rt)));
        uint256 discountWad = uint256(FixedPointMathLib.expWad(-int256(rt)));
        int256 x = FixedPointMathLib.lnWad(int256(spotWad * WAD / strikeWad)) + int256(rt);
        uint256 r = spotWad * growthWad / strikeWad; // R = F/K = S·e^{rτ}/K, rounded once
        uint256 s = volWad * FixedPointMathLib.sqrtWad(tauWad) / WAD;
        uint256 c = callOverStrike(x, r, s, 1e36 / s);
        uint256 perStrike = isCall ? c : putFromCall(c, r);
        return FixedPointMathLib.mulDiv(perStrike * strikeWad / WAD, discountWad, WAD);
    }

    /// @notice Surface vol at log-moneyness k = ln(K/F): clamp(atm + skew·k + smile·k², minVol, maxVol).
    function surfaceVol(
        uint256 atmVolWad,
        int256 skewWad,
        int256 smileWad,
        int256 k,
        uint256 minVol,
        uint256 maxVol
    ) internal pure returns (uint256) {
        // |k| < 136e18 (lnWad's range), smile ≤ 5e18: smile·k² < 1e59, far from overflow; rounded once.
        int256 v = int256(atmVolWad) + skewWad * k / IWAD + smileWad * k * k / (IWAD * IWAD);
        if (v <= int256(minVol)) return minVol;
        if (v >= int256(maxVol)) return maxVol;
        return uint256(v);
    }
}
// forge-lint: disable-end(unsafe-typecast)
