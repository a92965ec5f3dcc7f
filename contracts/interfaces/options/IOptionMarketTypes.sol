// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IOptionMarketTypes
/// @notice Structs of the OptionMarket's ABI. Units are in the field names: *E6 = USDC (6 decimals), *Wad = 1e18
///         (prices in USD per unit of underlying, sizes in units of underlying, vols and ratios as decimals),
///         *Seconds, timestamps in unix seconds.
interface IOptionMarketTypes {
    /// @notice An underlying: spot comes from its Chainlink-style feed.
    struct Underlying {
        address asset; // the token the options are on (informational: settlement is in USDC cash)
        address feed; // AggregatorV3 (latestRoundData / getRoundData), USD per unit, any decimals
        uint8 feedDecimals;
        uint32 maxPriceAgeSeconds; // a spot answer older than this stops trading, margin and liquidation
    }

    /// @notice A listed European option; packed in one storage slot.
    struct Series {
        uint128 strikeWad; // USD per unit, 1e18
        uint64 expiry; // unix seconds
        uint16 underlyingId;
        bool isCall;
    }

    /// @notice Implied-vol surface of one (underlying, expiry): with k = ln(K/F),
    ///         vol(K) = clamp(atmVol + skew·k + smile·k², MIN_VOL_WAD, MAX_VOL_WAD). Packed in one slot.
    struct VolSurface {
        uint64 atmVolWad; // 1e18 = 100 %
        int64 skewWad; // dvol/dk at the money
        int64 smileWad; // ½·d²vol/dk², ≥ 0
        uint64 updatedAt; // 0 = never posted
    }

    /// @notice Portfolio-margin and liquidation parameters (bounded by constants in the market).
    /// @dev Scenario grid, per underlying: spot multipliers 1 + i·spotShockWad/spotSteps for i = −spotSteps…spotSteps,
    ///      × vol multipliers {1, 1 + up(τ), max(1 − down(τ), MIN_VOL_MULTIPLIER_WAD)} per expiry, where
    ///      up(τ) = volShockUpWad·√(30 days / max(τ, volShockFloorSeconds)) (down alike). Sticky strike: each
    ///      option keeps its surface vol in every spot scenario. Worst loss L = max(0, max over scenarios of
    ///      (value now − value in the scenario)), summed over underlyings (no cross-underlying netting).
    ///      MM = L + minShortMarginWad·spot·|size| summed over short positions; IM = imFactorWad·MM.
    struct RiskParams {
        uint64 spotShockWad; // largest relative spot move of the grid, e.g. 0.2e18 = ±20 %
        uint8 spotSteps; // grid points on each side of spot
        uint64 volShockUpWad; // relative vol rise at 30 days to expiry, e.g. 0.4e18 = ×1.4
        uint64 volShockDownWad; // relative vol fall at 30 days to expiry
        uint32 volShockFloorSeconds; // τ floor of the vol-shock term scaling
        uint64 imFactorWad; // IM = MM × this (≥ 1e18)
        uint64 minShortMarginWad; // per unit short, as a fraction of spot, in MM
        uint64 liquidationPenaltyWad; // per unit closed by a liquidation, as a fraction of spot; paid to the liquidator
    }

    /// @notice Pricing and trading parameters (bounded by constants in the market).
    /// @dev Per unit: fee = spotFeeWad·spot + priceFeeWad·mark; ask = mark + fee; bid = max(mark − fee, 0).
    struct MarketParams {
        uint64 rateWad; // continuously compounded USD rate per year; forward F = S·e^{rτ}, discount e^{−rτ}
        uint64 spotFeeWad;
        uint64 priceFeeWad;
        uint32 volMaxAgeSeconds; // a vol surface older than this stops trading, margin and liquidation
        uint32 tradingCutoffSeconds; // no trades in the last this many seconds before expiry (liquidations allowed)
    }

    /// @notice A quote for trading `sizeWad` of one series against the pool.
    struct Quote {
        uint256 premiumE6; // paid by the buyer (rounded up) or received by the seller (down; a close: net of haircut)
        uint256 feeE6; // spread part of the premium
        uint256 markPriceWad; // mid (Black-Scholes) price per unit
        uint256 tradePriceWad; // ask (buy) or bid (sell) per unit
        uint256 spotWad;
        uint256 volWad;
    }

    /// @notice One position of an account, with its series and mark.
    struct PositionState {
        uint256 seriesId;
        uint256 underlyingId;
        address asset;
        uint64 expiry;
        uint128 strikeWad;
        bool isCall;
        int256 sizeWad; // + long, − short; 1e18 = one unit of underlying
        uint256 volWad; // surface vol (0 once expired)
        uint256 markPriceWad; // per unit: Black-Scholes mid; expired: payoff at the settlement price (or at spot
        //                       while the settlement price is not fixed yet)
        int256 markValueE6; // sizeWad × markPriceWad in USDC (rounded toward −∞)
        bool expired;
        uint256 settlementPriceWad; // 0 until the expiry is settled
    }

    /// @notice Everything about one account in one call.
    struct AccountState {
        uint256 accountId;
        address owner;
        int256 collateralE6; // USDC held (negative only transiently during liquidation of an insolvent account)
        int256 equityE6; // collateral + Σ markValueE6
        uint256 initialMarginE6;
        uint256 maintenanceMarginE6;
        bool fresh; // false if a spot or vol input is stale or an expired position awaits its settlement price
        PositionState[] positions;
    }

    /// @notice The liquidity pool (the counterparty of every trade), margined like an account.
    struct PoolState {
        int256 cashE6;
        int256 equityE6; // cash + marks of the pool's positions
        uint256 initialMarginE6;
        uint256 maintenanceMarginE6;
        uint256 totalShares; // 1e18 = one share
        uint256 badDebtE6; // cumulative bad debt absorbed
        uint256 liveSeries; // listed, not yet settled
        bool fresh;
    }
}
