// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BlackScholesLib} from "../../options/libraries/BlackScholesLib.sol";
import {NormalDist} from "../../options/libraries/NormalDist.sol";
import {Test, console2} from "forge-std/Test.sol";
import {FixedPointMathLib} from "solady/utils/FixedPointMathLib.sol";

/// @notice Prices against the double-precision reference over the issue's domain; parity; kernel consistency.
contract BlackScholesLibTest is Test {
    uint256 internal constant WAD = 1e18;

    struct Vectors {
        uint256[] spot;
        uint256[] strike;
        uint256[] tauSeconds;
        uint256[] vol;
        uint256[] rate;
        bool[] isCall;
        uint256[] price;
    }

    function _vectors() internal view returns (Vectors memory v) {
        string memory json =
            vm.readFile(string.concat(vm.projectRoot(), "/contracts/test/vectors/bs_prices.json"));
        v.spot = vm.parseJsonUintArray(json, ".spotWad");
        v.strike = vm.parseJsonUintArray(json, ".strikeWad");
        v.tauSeconds = vm.parseJsonUintArray(json, ".tauSeconds");
        v.vol = vm.parseJsonUintArray(json, ".volWad");
        v.rate = vm.parseJsonUintArray(json, ".rateWad");
        v.isCall = vm.parseJsonBoolArray(json, ".isCall");
        v.price = vm.parseJsonUintArray(json, ".priceWad");
    }

    /// @notice |price − reference| ≤ 1e-6 × spot over τ 1 h–2 y, K/S 0.3–3, vol 0.05–5 (the issue's bound).
    function testPriceMatchesReferenceVectors() public view {
        Vectors memory v = _vectors();
        uint256 worstOfSpot; // max |error| / spot, WAD
        for (uint256 i; i < v.spot.length; ++i) {
            uint256 got = BlackScholesLib.price(
                v.spot[i],
                v.strike[i],
                BlackScholesLib.yearFraction(v.tauSeconds[i]),
                v.vol[i],
                v.rate[i],
                v.isCall[i]
            );
            uint256 err = got > v.price[i] ? got - v.price[i] : v.price[i] - got;
            uint256 ofSpot = err * WAD / v.spot[i];
            if (ofSpot > worstOfSpot) worstOfSpot = ofSpot;
            assertLe(ofSpot, 1e12, "price error above 1e-6 x spot");
        }
        console2.log("prices: vectors", v.spot.length, "max |error|/spot (1e-18)", worstOfSpot);
    }

    /// @notice C − P = S − K·e^{−rτ} (to rounding).
    function testPricePutCallParity(
        uint256 spot,
        uint256 moneyness,
        uint256 tauSeconds,
        uint256 vol,
        uint256 rate
    ) public pure {
        spot = bound(spot, 1e17, 1e23);
        uint256 strike = spot * bound(moneyness, 0.3e18, 3e18) / WAD;
        uint256 tau = BlackScholesLib.yearFraction(bound(tauSeconds, 1 hours, 730 days));
        vol = bound(vol, 0.05e18, 5e18);
        rate = bound(rate, 0, 0.1e18);
        uint256 c = BlackScholesLib.price(spot, strike, tau, vol, rate, true);
        uint256 p = BlackScholesLib.price(spot, strike, tau, vol, rate, false);
        int256 lhs = int256(c) - int256(p);
        int256 rhs = int256(spot)
            - int256(strike * uint256(FixedPointMathLib.expWad(-int256(rate * tau / WAD))) / WAD);
        assertApproxEqAbs(lhs, rhs, spot / 1e14 + 10);
    }

    /// @notice Prices are within no-arbitrage bounds: max(S − K·DF, 0) ≤ C ≤ S and P ≤ K·DF.
    function testPriceWithinArbitrageBounds(uint256 spot, uint256 moneyness, uint256 tauSeconds, uint256 vol)
        public
        pure
    {
        spot = bound(spot, 1e17, 1e23);
        uint256 strike = spot * bound(moneyness, 0.2e18, 5e18) / WAD;
        uint256 tau = BlackScholesLib.yearFraction(bound(tauSeconds, 1, 730 days));
        vol = bound(vol, 0.01e18, 5e18);
        uint256 c = BlackScholesLib.price(spot, strike, tau, vol, 0.05e18, true);
        uint256 p = BlackScholesLib.price(spot, strike, tau, vol, 0.05e18, false);
        uint256 kdf = strike * uint256(FixedPointMathLib.expWad(-int256(0.05e18 * tau / WAD))) / WAD;
        assertLe(c, spot + 1);
        assertLe(p, kdf + 1);
        if (spot > kdf) assertGe(c + spot / 1e15 + 1, spot - kdf);
    }

    /// @notice Call price rises with vol (vega ≥ 0) and with spot (delta ≥ 0), to rounding.
    function testPriceMonotoneInVolAndSpot(uint256 spot, uint256 tauSeconds, uint256 vol, uint256 bump)
        public
        pure
    {
        spot = bound(spot, 1e18, 1e23);
        uint256 tau = BlackScholesLib.yearFraction(bound(tauSeconds, 1 hours, 730 days));
        vol = bound(vol, 0.05e18, 4e18);
        bump = bound(bump, 1e15, 1e18);
        uint256 strike = spot * 11 / 10;
        uint256 base = BlackScholesLib.price(spot, strike, tau, vol, 0, true);
        uint256 tol = spot / 1e15 + 2;
        assertGe(BlackScholesLib.price(spot, strike, tau, vol + bump, 0, true) + tol, base);
        assertGe(BlackScholesLib.price(spot + spot * bump / WAD, strike, tau, vol, 0, true) + tol, base);
    }

    /// @notice The shared-exponential kernel equals the two-exponential formula.
    function testCallOverStrikeMatchesTwoExpFormula(int256 x, uint256 s) public pure {
        x = bound(x, -3e18, 3e18);
        s = bound(s, 1e14, 20e18);
        uint256 r = uint256(FixedPointMathLib.expWad(x));
        uint256 c = BlackScholesLib.callOverStrike(x, r, s, 1e36 / s);
        int256 d1 = x * int256(1e36 / s) / 1e18 + int256(s / 2);
        int256 d2 = d1 - int256(s);
        uint256 direct = NormalDist.cdf(d1) * r / WAD;
        uint256 n2 = NormalDist.cdf(d2);
        direct = direct > n2 ? direct - n2 : 0;
        assertApproxEqAbs(c, direct, 1e4);
    }

    /// @notice The surface is rounded once: within 2 wei of atm + skew·k + smile·k² (exact), unclamped.
    function testSurfaceVolRoundsOnce(uint256 atm, int256 skew, int256 smile, int256 k) public pure {
        atm = bound(atm, 0.01e18, 5e18);
        skew = bound(skew, -2e18, 2e18);
        smile = bound(smile, 0, 5e18);
        k = bound(k, -5e18, 5e18);
        int256 exact = int256(atm) * 1e36 + skew * k * 1e18 + smile * k * k; // vol × 1e36
        vm.assume(exact > 0);
        uint256 v = BlackScholesLib.surfaceVol(atm, skew, smile, k, 0, type(uint128).max);
        assertApproxEqAbs(int256(v) * 1e36, exact, 2e36);
    }

    function testGasPrice() public {
        uint256 g = gasleft();
        uint256 p = BlackScholesLib.price(3000e18, 3300e18, 0.1e18, 0.6e18, 0.04e18, true);
        g -= gasleft();
        assertGt(p, 0);
        console2.log("BlackScholesLib.price gas", g);
    }
}
