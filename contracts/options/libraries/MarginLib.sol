// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BlackScholesLib} from "./BlackScholesLib.sol";
import {FixedPointMathLib} from "solady/utils/FixedPointMathLib.sol";

/// @title MarginLib
/// @notice Portfolio margin by full revaluation over a spot × vol scenario grid (Derive-style), as a pure function
///         of a portfolio prepared in memory (`Book`). Values are USD in 1e18 (WAD).
/// @dev Layout, per `docs/option-market.md` and the shared notes on on-chain option maths:
///      - Positions are grouped by (underlying, expiry) and netted per strike: a call and a put at one strike are
///        one leg (call-equivalent size n = calls + puts) plus a linear put term −puts·(F·k − K) per expiry, so each
///        strike is priced once per scenario whatever it holds.
///      - Per expiry, computed once: forward F, discount DF, vol multipliers. Per leg, once: a = ln(F/K), R = F/K,
///        s = σ√τ, 1/s. Per scenario (spot k, vol m): x = a + ln k, R·k, s·m, (1/s)/m: no ln, sqrt or division in
///        the hot loop, one exp per revaluation (see BlackScholesLib). Undiscounted sums per (expiry, scenario) are
///        discounted once.
///      - Sticky strike: a leg keeps its vol in every spot scenario; vol scenarios multiply it.
///      Worst loss per underlying = value now − the lowest scenario value (the grid contains "no move"), summed over
///      underlyings. MM = worst loss + minShortMarginWad·spot·Σ|short sizes|; IM = imFactorWad·MM.
///      All loops are `unchecked`: sizes are bounded by the market (|size| ≤ 1e27, strikes ≤ 1e25), so no term
///      exceeds 1e60; indices are bounded by array lengths.
// Casts between int256 and uint256 here are of values bounded far below 2^255 (see the bounds in each
// library's NatSpec); the linter cannot see the bounds.
// forge-lint: disable-start(unsafe-typecast)
library MarginLib {
    uint256 internal constant WAD = 1e18;
    int256 internal constant IWAD = 1e18;

    /// @notice One strike of one expiry, calls and puts netted.
    struct Leg {
        int256 logMoneynessWad; // a = ln(F/K)
        uint256 forwardOverStrikeWad; // R = F/K
        uint256 stdDevWad; // s = σ√τ
        uint256 invStdDevWad; // 1/s
        int256 callNotionalWad; // (call size + put size) × K: value = callNotional × c − puts' linear term
    }

    /// @notice One (underlying, expiry) group; its legs are legs[legStart … legEnd).
    struct Expiry {
        uint256 underlyingId;
        uint256 forwardWad;
        uint256 discountWad;
        uint256 volUpWad; // vol multiplier of the "vol up" scenario (> 1)
        uint256 volDownWad; // vol multiplier of the "vol down" scenario (< 1)
        int256 putSizeWad; // Σ put sizes (signed)
        int256 putNotionalWad; // Σ put size × K
        uint256 legStart;
        uint256 legEnd;
    }

    /// @notice A portfolio ready for revaluation.
    struct Book {
        Leg[] legs;
        Expiry[] expiries;
        uint256 expiryCount;
        uint256[] spotWad; // per underlying id (0 if unused)
        uint256[] shortSizeWad; // per underlying id: Σ |size| of short positions (not netted)
    }

    /// @notice The spot grid: multipliers k_i and ln k_i for i = −steps … steps.
    struct Grid {
        uint256[] kWad;
        int256[] lnKWad;
        uint256 steps;
    }

    /// @notice Value now and margins (WAD USD).
    struct Result {
        int256 valueWad; // Σ marks (mid) of the book
        uint256 worstLossWad;
        uint256 maintenanceWad;
        uint256 initialWad;
    }

    /// @notice The spot grid 1 + i·shock/steps, i = −steps … steps (shock < 1).
    function grid(uint256 shockWad, uint256 steps) internal pure returns (Grid memory g) {
        uint256 n = 2 * steps + 1;
        g.kWad = new uint256[](n);
        g.lnKWad = new int256[](n);
        g.steps = steps;
        for (uint256 i; i < n; ++i) {
            uint256 k =
                i < steps ? WAD - shockWad * (steps - i) / steps : WAD + shockWad * (i - steps) / steps;
            g.kWad[i] = k;
            g.lnKWad[i] = i == steps ? int256(0) : FixedPointMathLib.lnWad(int256(k));
        }
    }

    /// @notice Value of the book at the current inputs (no scenarios): Σ marks.
    function markValue(Book memory book) internal pure returns (int256 valueWad) {
        unchecked {
            for (uint256 e; e < book.expiryCount; ++e) {
                Expiry memory ex = book.expiries[e];
                int256 sum = 0;
                for (uint256 l = ex.legStart; l < ex.legEnd; ++l) {
                    Leg memory leg = book.legs[l];
                    uint256 c = BlackScholesLib.callOverStrike(
                        leg.logMoneynessWad, leg.forwardOverStrikeWad, leg.stdDevWad, leg.invStdDevWad
                    );
                    sum += leg.callNotionalWad * int256(c) / IWAD;
                }
                sum += ex.putNotionalWad - ex.putSizeWad * int256(ex.forwardWad) / IWAD;
                valueWad += sum * int256(ex.discountWad) / IWAD;
            }
        }
    }

    /// @notice Revalues the book over the grid × {vol now, up, down}: value now, worst loss, MM and IM.
    function evaluate(Book memory book, Grid memory g, uint256 minShortMarginWad, uint256 imFactorWad)
        internal
        pure
        returns (Result memory res)
    {
        int256[] memory scen = scenarioValues(book, g);
        uint256 nScen = 3 * g.kWad.length;
        for (uint256 u; u < book.spotWad.length; ++u) {
            (int256 now_, uint256 loss) = _worstLoss(scen, u * nScen, nScen, g.steps);
            res.valueWad += now_;
            res.worstLossWad += loss;
            res.maintenanceWad += FixedPointMathLib.mulWadUp(
                FixedPointMathLib.mulWadUp(book.shortSizeWad[u], book.spotWad[u]), minShortMarginWad
            );
        }
        res.maintenanceWad += res.worstLossWad;
        res.initialWad = FixedPointMathLib.mulWadUp(res.maintenanceWad, imFactorWad);
    }

    /// @notice Book value in every scenario: index u·3·nSpot + v·nSpot + j for underlying u, vol scenario
    ///         v ∈ {now, up, down} and spot point j (j = steps is "no move").
    function scenarioValues(Book memory book, Grid memory g) internal pure returns (int256[] memory scen) {
        uint256 nSpot = g.kWad.length;
        scen = new int256[](book.spotWad.length * 3 * nSpot);
        int256[] memory acc = new int256[](nSpot);
        for (uint256 e; e < book.expiryCount; ++e) {
            Expiry memory ex = book.expiries[e];
            for (uint256 v; v < 3; ++v) {
                _revalueExpiry(book.legs, ex, g, v == 0 ? WAD : v == 1 ? ex.volUpWad : ex.volDownWad, acc);
                _discountInto(scen, (ex.underlyingId * 3 + v) * nSpot, ex, g, acc);
            }
        }
    }

    /// @dev Value now (vol now, k = 1) and now − the lowest scenario value of one underlying.
    function _worstLoss(int256[] memory scen, uint256 base, uint256 nScen, uint256 steps)
        private
        pure
        returns (int256 now_, uint256 loss)
    {
        unchecked {
            now_ = scen[base + steps];
            int256 lowest = now_;
            for (uint256 i; i < nScen; ++i) {
                if (scen[base + i] < lowest) lowest = scen[base + i];
            }
            loss = uint256(now_ - lowest);
        }
    }

    /// @dev acc[j] = Σ_legs callNotional × c(scenario j, vol multiplier m), undiscounted.
    function _revalueExpiry(
        Leg[] memory legs,
        Expiry memory ex,
        Grid memory g,
        uint256 m,
        int256[] memory acc
    ) private pure {
        unchecked {
            for (uint256 j; j < acc.length; ++j) {
                acc[j] = 0;
            }
            for (uint256 l = ex.legStart; l < ex.legEnd; ++l) {
                Leg memory leg = legs[l];
                // 1/(s·m) = (1/s)·WAD/m, rounded once (1/s < 1e26, m ≥ 0.1e18: no overflow, no zero divisor)
                _revalueLeg(leg, leg.stdDevWad * m / WAD, leg.invStdDevWad * WAD / m, g, acc);
            }
        }
    }

    /// @dev acc[j] += callNotional × c(a + ln k_j, R·k_j, s, 1/s) for every spot point j.
    function _revalueLeg(Leg memory leg, uint256 s, uint256 invS, Grid memory g, int256[] memory acc)
        private
        pure
    {
        int256[] memory lnK = g.lnKWad;
        uint256[] memory k = g.kWad;
        int256 a = leg.logMoneynessWad;
        uint256 fk = leg.forwardOverStrikeWad;
        int256 notional = leg.callNotionalWad;
        unchecked {
            for (uint256 j; j < k.length; ++j) {
                uint256 c = BlackScholesLib.callOverStrike(a + lnK[j], fk * k[j] / WAD, s, invS);
                acc[j] += notional * int256(c) / IWAD;
            }
        }
    }

    /// @dev scen[offset + j] += DF × (acc[j] + puts' linear term at spot k_j).
    function _discountInto(
        int256[] memory scen,
        uint256 offset,
        Expiry memory ex,
        Grid memory g,
        int256[] memory acc
    ) private pure {
        unchecked {
            int256 df = int256(ex.discountWad);
            // Rounding puts·F to a wei first costs < 2.5e-18 USD per scenario; multiplying by k_j first would
            // take this unchecked product from the library's 1e60 bound to k_j·1e60 > 2^255 (wrapping).
            // slither-disable-next-line divide-before-multiply
            int256 putForward = ex.putSizeWad * int256(ex.forwardWad) / IWAD;
            for (uint256 j; j < acc.length; ++j) {
                int256 linear = ex.putNotionalWad - putForward * int256(g.kWad[j]) / IWAD;
                scen[offset + j] += (acc[j] + linear) * df / IWAD;
            }
        }
    }
}
// forge-lint: disable-end(unsafe-typecast)
