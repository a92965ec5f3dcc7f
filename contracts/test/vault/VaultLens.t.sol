// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {VaultLens} from "../../lens/VaultLens.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @notice VaultLens.snapshot against the vault and the real Aave account it reports.
contract VaultLensTest is VaultFixture {
    uint256 internal constant WETH = 1e18;

    function setUp() public {
        _loadDevnet();
        _deployVault();
        _deposit(alice, 3_000_000 * USDC);
    }

    function testSnapshotConsistentWithVaultAndAave(uint256 borrowWeth) public {
        borrowWeth = bound(borrowWeth, 1 * WETH, 300 * WETH);
        _rebalance(_hedge(2_000_000 * USDC, borrowWeth));
        vm.prank(alice);
        vault.requestRedeem(1e12, alice, alice);
        VaultLens.VaultState memory s = lens.snapshot(vault);
        assertEq(s.blockTimestamp, block.timestamp);
        assertEq(s.totalAssets, vault.totalAssets());
        assertEq(s.totalSupply, vault.totalSupply());
        assertEq(s.idleAssets, IERC20(usdc).balanceOf(address(vault)));
        assertEq(s.lockedProfit, vault.lockedProfitNow());
        assertEq(s.escrowedShares, 1e12);
        assertEq(s.redeemRequests, 1);
        assertEq(s.depositCap, vault.depositCap());
        assertEq(s.risk.healthFactorFloorWad, 1.3e18);
        assertEq(s.asset.token, usdc);
        assertEq(s.asset.decimals, 6, "from assetDecimals(), not share decimals minus the offset");
        assertEq(s.asset.priceE8, 1e8);
        assertApproxEqAbs(s.asset.aaveCollateral, 2_000_000 * USDC, 1);
        assertEq(s.tokens.length, 2);
        assertEq(s.tokens[0].token, weth);
        assertApproxEqAbs(s.tokens[0].aaveVariableDebt, borrowWeth, 1);
        assertEq(s.tokens[0].liquidationThresholdBps, 8300);
        assertEq(s.tokens[0].priceE8, 3000e8);
        (uint256 collateralBase, uint256 debtBase,,,, uint256 hf) =
            aavePool.getUserAccountData(address(vault));
        assertEq(s.aave.totalCollateralBaseE8, collateralBase);
        assertEq(s.aave.totalDebtBaseE8, debtBase);
        assertEq(s.aave.healthFactorWad, hf);
    }

    /// @dev Gas of one snapshot with an Aave hedge open (recorded in docs/vault.md).
    function testSnapshotGas() public {
        _rebalance(_hedge(2_000_000 * USDC, 200 * WETH));
        uint256 before = gasleft();
        lens.snapshot(vault);
        uint256 used = before - gasleft();
        emit log_named_uint("VaultLens.snapshot gas", used);
        assertLt(used, 300_000);
    }
}
