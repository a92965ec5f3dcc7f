// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {FixedPointMathLib} from "solady/utils/FixedPointMathLib.sol";

import {IHedgedVault} from "../interfaces/IHedgedVault.sol";
import {IAaveAddressesProvider, IAaveOracle} from "../interfaces/aave/IAaveOracle.sol";
import {IAavePool} from "../interfaces/aave/IAavePool.sol";
import {IUniswapV3Pool} from "../interfaces/uniswap/IUniswapV3.sol";
import {PriceLib} from "./libraries/PriceLib.sol";
import {VaultBounds} from "./libraries/VaultBounds.sol";

/// @title VaultParamChecks
/// @notice The checks of a HedgedVault's governance-set parameters and tracked tokens: each within its hard bound (VaultBounds),
///         and the guardian's tightening field by field. Stateless; created by each VaultLogic's constructor (its
///         own contract so VaultLogic stays under EIP-170). Reverts with IHedgedVault's errors, which VaultLogic
///         and the vault bubble up unchanged.
contract VaultParamChecks {
    /* HARD BOUNDS (VaultBounds), public here so the vault and its VaultLogic stay under EIP-170; governance reads
       them at vault.logic().paramChecks() */

    uint256 public constant MIN_HEALTH_FACTOR_FLOOR_WAD = VaultBounds.MIN_HEALTH_FACTOR_FLOOR_WAD;
    uint256 public constant MAX_HEALTH_FACTOR_FLOOR_WAD = VaultBounds.MAX_HEALTH_FACTOR_FLOOR_WAD;
    uint256 public constant MAX_LOSS_BPS = VaultBounds.MAX_LOSS_BPS;
    uint256 public constant MAX_SLIPPAGE_BPS = VaultBounds.MAX_SLIPPAGE_BPS;
    uint256 public constant MAX_TURNOVER_BUDGET_BPS = VaultBounds.MAX_TURNOVER_BUDGET_BPS;
    uint256 public constant MAX_LOSS_BUDGET_BPS = VaultBounds.MAX_LOSS_BUDGET_BPS;
    uint256 public constant MIN_PERIOD_SECONDS = VaultBounds.MIN_PERIOD_SECONDS;
    uint256 public constant MAX_PERIOD_SECONDS = VaultBounds.MAX_PERIOD_SECONDS;
    uint256 public constant MIN_HEARTBEAT_SECONDS = VaultBounds.MIN_HEARTBEAT_SECONDS;
    uint256 public constant MAX_HEARTBEAT_SECONDS = VaultBounds.MAX_HEARTBEAT_SECONDS;
    uint256 public constant MAX_ORACLE_DEVIATION_BPS = VaultBounds.MAX_ORACLE_DEVIATION_BPS;
    uint256 public constant MIN_TWAP_WINDOW_SECONDS = VaultBounds.MIN_TWAP_WINDOW_SECONDS;
    uint256 public constant MAX_TWAP_WINDOW_SECONDS = VaultBounds.MAX_TWAP_WINDOW_SECONDS;
    uint256 public constant MAX_MANAGEMENT_FEE_BPS = VaultBounds.MAX_MANAGEMENT_FEE_BPS;
    uint256 public constant MAX_PERFORMANCE_FEE_BPS = VaultBounds.MAX_PERFORMANCE_FEE_BPS;
    uint256 public constant MAX_PROFIT_UNLOCK_SECONDS = VaultBounds.MAX_PROFIT_UNLOCK_SECONDS;
    uint256 public constant MAX_FULFIL_DELAY_SECONDS = VaultBounds.MAX_FULFIL_DELAY_SECONDS;
    uint256 public constant MAX_TRACKED_TOKENS = VaultBounds.MAX_TRACKED_TOKENS;

    /// @notice Every risk parameter within its hard bound (ParameterOutOfBounds names the first that is not).
    function checkRisk(IHedgedVault.RiskParams calldata p) public pure {
        _bound(
            "healthFactorFloorWad",
            p.healthFactorFloorWad,
            VaultBounds.MIN_HEALTH_FACTOR_FLOOR_WAD,
            VaultBounds.MAX_HEALTH_FACTOR_FLOOR_WAD
        );
        _bound("maxLossBps", p.maxLossBps, 1, VaultBounds.MAX_LOSS_BPS);
        _bound("maxSlippageBps", p.maxSlippageBps, 1, VaultBounds.MAX_SLIPPAGE_BPS);
        _bound("turnoverBudgetBps", p.turnoverBudgetBps, 1, VaultBounds.MAX_TURNOVER_BUDGET_BPS);
        _bound("lossBudgetBps", p.lossBudgetBps, 1, VaultBounds.MAX_LOSS_BUDGET_BPS);
        _bound(
            "periodSeconds", p.periodSeconds, VaultBounds.MIN_PERIOD_SECONDS, VaultBounds.MAX_PERIOD_SECONDS
        );
        _bound(
            "heartbeatSeconds",
            p.heartbeatSeconds,
            VaultBounds.MIN_HEARTBEAT_SECONDS,
            VaultBounds.MAX_HEARTBEAT_SECONDS
        );
        _bound("maxOracleDeviationBps", p.maxOracleDeviationBps, 1, VaultBounds.MAX_ORACLE_DEVIATION_BPS);
        _bound(
            "twapWindowSeconds",
            p.twapWindowSeconds,
            VaultBounds.MIN_TWAP_WINDOW_SECONDS,
            VaultBounds.MAX_TWAP_WINDOW_SECONDS
        );
    }

    /// @notice `p` within bounds and at least as strict as `c`, field by field (OnlyTightening names the field).
    function checkTightening(IHedgedVault.RiskParams calldata c, IHedgedVault.RiskParams calldata p)
        external
        pure
    {
        checkRisk(p);
        if (p.healthFactorFloorWad < c.healthFactorFloorWad) {
            revert IHedgedVault.OnlyTightening(
                "healthFactorFloorWad", c.healthFactorFloorWad, p.healthFactorFloorWad
            );
        }
        _tighter("maxLossBps", c.maxLossBps, p.maxLossBps);
        _tighter("maxSlippageBps", c.maxSlippageBps, p.maxSlippageBps);
        _tighter("turnoverBudgetBps", c.turnoverBudgetBps, p.turnoverBudgetBps);
        _tighter("lossBudgetBps", c.lossBudgetBps, p.lossBudgetBps);
        _tighter("heartbeatSeconds", c.heartbeatSeconds, p.heartbeatSeconds);
        _tighter("maxOracleDeviationBps", c.maxOracleDeviationBps, p.maxOracleDeviationBps);
        // Neither direction of these is unambiguously tighter: only governance changes them.
        if (p.periodSeconds != c.periodSeconds) {
            revert IHedgedVault.OnlyTightening("periodSeconds", c.periodSeconds, p.periodSeconds);
        }
        if (p.twapWindowSeconds != c.twapWindowSeconds) {
            revert IHedgedVault.OnlyTightening("twapWindowSeconds", c.twapWindowSeconds, p.twapWindowSeconds);
        }
    }

    /// @dev Fee parameters within bounds; the recipient is never the vault (its own shares are escrow).
    function checkFees(IHedgedVault.FeeParams calldata f, address vault) external pure {
        if (f.feeRecipient == vault) revert IHedgedVault.InvalidFeeRecipient(f.feeRecipient);
        _bound("managementFeeBps", f.managementFeeBps, 0, VaultBounds.MAX_MANAGEMENT_FEE_BPS);
        _bound("performanceFeeBps", f.performanceFeeBps, 0, VaultBounds.MAX_PERFORMANCE_FEE_BPS);
        _bound("profitUnlockSeconds", f.profitUnlockSeconds, 0, VaultBounds.MAX_PROFIT_UNLOCK_SECONDS);
    }

    /// @notice A token the vault may track: not `asset`, decimals as the token says, a live feed (positive answer),
    ///         a TWAP pool (if any) that pairs exactly this token with `asset` (InvalidTrackedToken otherwise).
    /// @notice Tracked token `t`'s price (USD 1e8) at its pool's TWAP over `window` seconds, the asset at
    ///         `assetPriceE8` (`assetDecimals`): what a stale feed's token is worth to an exit when that is less
    ///         (VaultLogic.navNow), and the TWAP side of OracleDeviation's message. Reverts on a pool that cannot
    ///         answer (callers that must not revert catch it).
    function twapPriceE8(
        IHedgedVault.TrackedToken calldata t,
        uint256 assetPriceE8,
        uint256 assetDecimals,
        uint32 window
    ) external view returns (uint256) {
        uint32[] memory ago = new uint32[](2);
        ago[0] = window;
        // Only tick cumulatives matter here.
        // slither-disable-next-line unused-return
        (int56[] memory cumulatives,) = IUniswapV3Pool(t.twapPool).observe(ago);
        int56 delta = cumulatives[1] - cumulatives[0];
        int256 tick = int256(delta) / int256(uint256(window));
        if (delta < 0 && int256(delta) % int256(uint256(window)) != 0) tick--;
        // 1.0001^tick is token1 per token0 in raw units: asset units per token unit when the token is token0.
        if (IUniswapV3Pool(t.twapPool).token0() != t.token) tick = -tick;
        // The tick is an integer by definition (Uniswap's OracleLibrary floors the mean the same way): not a lost
        // precision but the TWAP's resolution (1 tick = 1 bp).
        // slither-disable-next-line divide-before-multiply
        uint256 assetPerTokenWad = uint256(FixedPointMathLib.expWad(tick * 99_995_000_333_308)); // ln(1.0001) WAD
        return FixedPointMathLib.fullMulDiv(
            assetPerTokenWad, assetPriceE8 * 10 ** t.decimals, 1e18 * 10 ** assetDecimals
        );
    }

    /// @notice Aave's oracle price of `token` (base currency 1e8 = USD 1e8 on the markets the vault is deployed on),
    ///         0 when Aave has none or any call fails: the exits' fallback must not revert either.
    function aavePriceE8(IAavePool aavePool, address token) external view returns (uint256) {
        // slither-disable-next-line low-level-calls
        (bool ok, bytes memory ret) =
            address(aavePool).staticcall(abi.encodeCall(IAavePool.ADDRESSES_PROVIDER, ()));
        if (!ok || ret.length < 32) return 0;
        address provider = address(uint160(abi.decode(ret, (uint256))));
        // slither-disable-next-line low-level-calls
        (ok, ret) = provider.staticcall(abi.encodeCall(IAaveAddressesProvider.getPriceOracle, ()));
        if (!ok || ret.length < 32) return 0;
        address oracle = address(uint160(abi.decode(ret, (uint256))));
        // slither-disable-next-line low-level-calls
        (ok, ret) = oracle.staticcall(abi.encodeCall(IAaveOracle.getAssetPrice, (token)));
        return ok && ret.length >= 32 ? abi.decode(ret, (uint256)) : 0;
    }

    function checkToken(IHedgedVault.TrackedToken calldata t, address asset) external view {
        if (t.token == address(0) || t.feed == address(0)) revert IHedgedVault.ZeroAddress();
        if (t.token == asset || IERC20Metadata(t.token).decimals() != t.decimals) {
            revert IHedgedVault.InvalidTrackedToken(t.token);
        }
        // A live feed (positive answer) is all that is checked here; freshness is checked at every use.
        // slither-disable-next-line unused-return
        (uint256 price,) = PriceLib.priceE8(t.feed);
        if (price == 0) revert IHedgedVault.InvalidTrackedToken(t.token);
        if (t.twapPool != address(0)) {
            address token0 = IUniswapV3Pool(t.twapPool).token0();
            address token1 = IUniswapV3Pool(t.twapPool).token1();
            if (!(token0 == t.token && token1 == asset) && !(token0 == asset && token1 == t.token)) {
                revert IHedgedVault.InvalidTrackedToken(t.token);
            }
        }
    }

    function _bound(bytes32 name, uint256 value, uint256 min, uint256 max) internal pure {
        if (value < min || value > max) revert IHedgedVault.ParameterOutOfBounds(name, value, min, max);
    }

    /// @dev Lower is tighter for these fields.
    function _tighter(bytes32 name, uint256 current, uint256 proposed) internal pure {
        if (proposed > current) revert IHedgedVault.OnlyTightening(name, current, proposed);
    }
}
