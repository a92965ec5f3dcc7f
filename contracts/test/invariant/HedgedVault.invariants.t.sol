// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StdInvariant} from "forge-std/StdInvariant.sol";
import {console2} from "forge-std/console2.sol";

import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";
import {DepositorHandler} from "./handlers/DepositorHandler.sol";
import {GovernanceHandler} from "./handlers/GovernanceHandler.sol";
import {KeeperHandler} from "./handlers/KeeperHandler.sol";
import {MarketHandler} from "./handlers/MarketHandler.sol";

/// @notice HedgedVault's invariants on the in-process devnet (real Aave v3 and Uniswap v3), under depositors,
///         market moves and time, a hostile keeper, governance, the guardian and attackers. Runs and depth are in
///         foundry.toml ([invariant]; the `slow` profile for long campaigns); fail_on_revert is on, so handlers
///         bound their inputs and count expected reverts instead.
contract HedgedVaultInvariantTest is StdInvariant, VaultFixture {
    DepositorHandler internal depositors;
    KeeperHandler internal keeperHandler;
    MarketHandler internal market;
    GovernanceHandler internal governance;

    function setUp() public {
        _loadDevnet();
        _deployVault();
        _deposit(alice, 2_000_000 * USDC);
        depositors = new DepositorHandler(vault, timelock, aaveAdapter, uniAdapter);
        keeperHandler = new KeeperHandler(vault, timelock, aaveAdapter, uniAdapter, depositors);
        depositors.setKeeperHandler(address(keeperHandler));
        market = new MarketHandler(vault, timelock, aaveAdapter, uniAdapter);
        governance = new GovernanceHandler(vault, timelock, aaveAdapter, uniAdapter);
        depositors.recordSeed(alice, 2_000_000 * USDC);

        bytes4[] memory d = new bytes4[](6);
        (d[0], d[1], d[2], d[3], d[4], d[5]) =
        (
            depositors.deposit.selector,
            depositors.mint.selector,
            depositors.withdraw.selector,
            depositors.redeem.selector,
            depositors.requestRedeem.selector,
            depositors.cancelRedeem.selector
        );
        _target(address(depositors), d);
        bytes4[] memory k = new bytes4[](5);
        (k[0], k[1], k[2], k[3], k[4]) =
        (
            keeperHandler.aaveOp.selector,
            keeperHandler.hedge.selector,
            keeperHandler.sandwich.selector,
            keeperHandler.bleed.selector,
            keeperHandler.fulfil.selector
        );
        _target(address(keeperHandler), k);
        bytes4[] memory m = new bytes4[](4);
        (m[0], m[1], m[2], m[3]) =
        (market.move.selector, market.oracleNoise.selector, market.advance.selector, market.goStale.selector);
        _target(address(market), m);
        bytes4[] memory g = new bytes4[](7);
        (g[0], g[1], g[2], g[3], g[4], g[5], g[6]) =
        (
            governance.proposeRisk.selector,
            governance.proposeUnpause.selector,
            governance.execute.selector,
            governance.pause.selector,
            governance.tighten.selector,
            governance.attack.selector,
            governance.attackTimelock.selector
        );
        _target(address(governance), g);
    }

    function _target(address handler, bytes4[] memory selectors) internal {
        targetContract(handler);
        targetSelector(FuzzSelector(handler, selectors));
    }

    /* KEEPER BOUNDS */

    /// @dev No rebalance moved the share price down by more than maxLossBps (measured in its block).
    function invariant_sharePriceDropPerRebalanceWithinMaxLoss() public view {
        assertEq(keeperHandler.ghost_dropsOverMaxLoss(), 0);
    }

    /// @dev Rebalance losses within a period never exceed the period's loss budget.
    function invariant_periodKeeperLossWithinLossBudget() public view {
        assertEq(keeperHandler.ghost_lossBudgetBreaches(), 0);
    }

    /// @dev Every successful rebalance left the Aave health factor at or above the floor.
    function invariant_healthFactorAboveFloorAfterRebalance() public view {
        assertEq(keeperHandler.ghost_healthFactorBelowFloor(), 0);
    }

    /* DEPOSITORS */

    /// @dev No exit paid more than the shares it burnt were worth, previews matched results, and all share claims
    ///      together never exceed the vault's assets.
    function invariant_noDepositorWithdrawsMoreThanTheirShare() public view {
        assertEq(depositors.ghost_overpaid(), 0, "an exit paid more than its shares");
        assertEq(depositors.ghost_previewMismatches(), 0, "a preview differed from its result");
        uint256 claims = vault.convertToAssets(vault.balanceOf(address(vault)))
            + vault.convertToAssets(vault.balanceOf(feeRecipient));
        for (uint256 i; i < depositors.actorCount(); ++i) {
            claims += vault.convertToAssets(vault.balanceOf(depositors.actors(i)));
        }
        assertLe(claims, vault.totalAssets());
    }

    /// @dev Escrowed shares are exactly the pending requests' shares, and held by the vault.
    function invariant_escrowedSharesEqualPendingRequests() public view {
        assertEq(vault.escrowedShares(), depositors.ghost_escrowed());
        assertEq(vault.balanceOf(address(vault)), vault.escrowedShares());
    }

    /// @dev Withdrawals and redemptions within maxWithdraw/maxRedeem never reverted, paused or not, stale or not
    ///      (and deposits within maxDeposit never reverted either).
    function invariant_pauseNeverTrapsSafeWithdrawals() public view {
        assertEq(depositors.ghost_failedSafeExits(), 0, "an exit within max* reverted");
        assertEq(depositors.ghost_failedSafeEntries(), 0, "an entry within max* reverted");
    }

    /// @dev Total supply is exactly the sum of every holder's shares.
    function invariant_totalSupplyIsSumOfBalances() public view {
        uint256 sum = vault.balanceOf(address(vault)) + vault.balanceOf(feeRecipient);
        for (uint256 i; i < depositors.actorCount(); ++i) {
            sum += vault.balanceOf(depositors.actors(i));
        }
        assertEq(sum, vault.totalSupply());
    }

    /* GOVERNANCE */

    /// @dev Parameters change only through executed timelock operations (never early) and guardian tightening.
    function invariant_onlyGovernanceThroughTimelockChangesParameters() public view {
        assertEq(governance.ghost_unauthorizedChanges(), 0, "a change by someone else");
        assertEq(governance.ghost_earlyExecutions(), 0, "executed before the delay");
        IHedgedVault.RiskParams memory expected = governance.expectedRisk();
        assertEq(keccak256(abi.encode(vault.riskParams())), keccak256(abi.encode(expected)));
    }

    /// @dev What the run exercised (Yearn's handler summary): `forge test --mt invariant_ -vv` prints it.
    function afterInvariant() external view {
        console2.log(
            "rebalances ok / rejected", keeperHandler.ghost_rebalances(), keeperHandler.ghost_rejected()
        );
        console2.log(
            "  by MaxLoss / LossBudget",
            _rejected(IHedgedVault.MaxLossExceeded.selector),
            _rejected(IHedgedVault.LossBudgetExceeded.selector)
        );
        console2.log(
            "  by Slippage / HealthFactor",
            _rejected(IHedgedVault.SlippageExceeded.selector),
            _rejected(IHedgedVault.HealthFactorBelowFloor.selector)
        );
        console2.log(
            "  by StalePrice / Paused",
            _rejected(IHedgedVault.StalePrice.selector),
            _rejected(bytes4(keccak256("EnforcedPause()")))
        );
        console2.log(
            "  by AdapterCallFailed / RedeemOverdue",
            _rejected(IHedgedVault.AdapterCallFailed.selector),
            _rejected(IHedgedVault.RedeemOverdue.selector)
        );
        console2.log(
            "worst share-price drop (ppm), fulfilled",
            keeperHandler.ghost_maxDropPpm(),
            keeperHandler.ghost_fulfilled()
        );
        console2.log(
            "exits while paused, timelock executions",
            depositors.ghost_exitsWhilePaused(),
            governance.ghost_executed()
        );
    }

    function _rejected(bytes4 selector) internal view returns (uint256) {
        return keeperHandler.rejectedBy(selector);
    }
}
