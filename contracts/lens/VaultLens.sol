// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IHedgedVault} from "../interfaces/IHedgedVault.sol";
import {IAavePool} from "../interfaces/aave/IAavePool.sol";
import {HedgedVault} from "../vault/HedgedVault.sol";

/// @title VaultLens
/// @notice Everything the keeper needs about a vault, in one eth_call: vault accounting and parameters, oracle
///         prices with timestamps, wallet balances, and the Aave account with per-reserve balances.
contract VaultLens {
    struct TokenState {
        address token;
        uint8 decimals;
        uint256 walletBalance; // token units held idle by the vault
        uint256 aaveCollateral; // aToken balance (token units)
        uint256 aaveVariableDebt; // variable debt token balance (token units)
        uint256 priceE8; // oracle USD price, 8 decimals
        uint256 priceUpdatedAt; // oracle timestamp
        uint256 liquidationThresholdBps; // Aave reserve LT (bps)
    }

    struct AaveAccount {
        uint256 totalCollateralBaseE8;
        uint256 totalDebtBaseE8;
        uint256 availableBorrowsBaseE8;
        uint256 liquidationThresholdBps;
        uint256 ltvBps;
        uint256 healthFactorWad;
    }

    struct VaultState {
        uint256 blockNumber;
        uint256 blockTimestamp;
        uint256 totalAssets;
        uint256 totalSupply;
        uint256 idleAssets;
        uint256 lockedProfit; // still locked now (excluded from totalAssets)
        uint256 escrowedShares;
        uint256 firstPendingRedeem;
        uint256 redeemRequests;
        uint256 depositCap;
        bool paused;
        IHedgedVault.RiskParams risk;
        uint256 periodStart;
        uint256 periodTurnoverE8;
        uint256 periodLossE8;
        TokenState asset; // the vault asset (USDC)
        TokenState[] tokens; // tracked tokens
        AaveAccount aave;
    }

    function snapshot(HedgedVault vault) external view returns (VaultState memory s) {
        s.blockNumber = block.number;
        s.blockTimestamp = block.timestamp;
        s.totalAssets = vault.totalAssets();
        s.totalSupply = vault.totalSupply();
        s.idleAssets = vault.idleAssets();
        s.lockedProfit = vault.lockedProfitNow();
        s.escrowedShares = vault.escrowedShares();
        s.firstPendingRedeem = vault.firstPendingRedeem();
        s.redeemRequests = vault.redeemRequestCount();
        s.depositCap = vault.depositCap();
        s.paused = vault.paused();
        s.risk = vault.riskParams();
        s.periodStart = vault.periodStart();
        s.periodTurnoverE8 = vault.periodTurnoverE8();
        s.periodLossE8 = vault.periodLossE8();
        IAavePool pool = vault.aavePool();
        s.asset = _token(vault, pool, vault.asset(), address(vault.assetFeed()), vault.assetDecimals());
        IHedgedVault.TrackedToken[] memory tracked = vault.trackedTokens();
        s.tokens = new TokenState[](tracked.length);
        for (uint256 i; i < tracked.length; ++i) {
            s.tokens[i] = _token(vault, pool, tracked[i].token, tracked[i].feed, tracked[i].decimals);
        }
        (
            s.aave.totalCollateralBaseE8,
            s.aave.totalDebtBaseE8,
            s.aave.availableBorrowsBaseE8,
            s.aave.liquidationThresholdBps,
            s.aave.ltvBps,
            s.aave.healthFactorWad
        ) = pool.getUserAccountData(address(vault));
    }

    function _token(HedgedVault vault, IAavePool pool, address token, address feed, uint8 decimals)
        internal
        view
        returns (TokenState memory t)
    {
        t.token = token;
        t.decimals = decimals;
        t.walletBalance = IERC20(token).balanceOf(address(vault));
        (t.priceE8, t.priceUpdatedAt) = vault.priceE8(feed);
        IAavePool.ReserveData memory reserve = pool.getReserveData(token);
        if (reserve.aTokenAddress != address(0)) {
            t.aaveCollateral = IERC20(reserve.aTokenAddress).balanceOf(address(vault));
            t.aaveVariableDebt = IERC20(reserve.variableDebtTokenAddress).balanceOf(address(vault));
            t.liquidationThresholdBps = (reserve.configuration >> 16) & 0xFFFF;
        }
    }
}
