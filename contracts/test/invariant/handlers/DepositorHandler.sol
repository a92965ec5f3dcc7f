// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {AaveV3Adapter} from "../../../adapters/AaveV3Adapter.sol";
import {UniswapV3Adapter} from "../../../adapters/UniswapV3Adapter.sol";
import {Timelock} from "../../../governance/Timelock.sol";
import {HedgedVault} from "../../../vault/HedgedVault.sol";
import {HandlerBase} from "./HandlerBase.sol";

/// @notice Depositors (an actor set) doing everything ERC-4626 and the queue allow: deposit, mint, withdraw,
///         redeem, requestRedeem, cancelRedeem, always within what the max* views promise. Ghosts: assets in and
///         out per actor, escrowed shares by request, and counters of broken promises (a call within max* that
///         reverted, a result different from its preview, an exit paid more than the shares were worth).
contract DepositorHandler is HandlerBase {
    address[] public actors;
    mapping(address => uint256) public ghost_assetsIn;
    mapping(address => uint256) public ghost_assetsOut;
    uint256 public ghost_escrowed;
    uint256 public ghost_failedSafeExits;
    uint256 public ghost_failedSafeEntries;
    uint256 public ghost_previewMismatches;
    uint256 public ghost_overpaid;
    uint256 public ghost_exitsWhilePaused;
    uint256[] internal _pending;
    mapping(uint256 id => uint256 shares) public requestShares;
    address public keeperHandler;

    constructor(HedgedVault vault_, Timelock timelock_, AaveV3Adapter aave_, UniswapV3Adapter uni_)
        HandlerBase(vault_, timelock_, aave_, uni_)
    {
        actors.push(alice);
        actors.push(bob);
        actors.push(makeAddr("carol"));
        actors.push(makeAddr("dave"));
    }

    function setKeeperHandler(address k) external {
        if (keeperHandler == address(0)) keeperHandler = k;
    }

    /// @notice Deposits made in the test's setUp (before the handler existed) enter the ghosts too.
    function recordSeed(address actor, uint256 assets) external {
        if (ghost_assetsIn[actor] == 0) ghost_assetsIn[actor] = assets;
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function pending() external view returns (uint256[] memory) {
        return _pending;
    }

    /* ACTIONS */

    function deposit(uint256 seed, uint256 assets) external counted("deposit") {
        address a = actors[seed % actors.length];
        uint256 max = vault.maxDeposit(a);
        if (max == 0) return _skip("deposit.none");
        assets = bound(assets, 1, Math.min(max, 2_000_000 * USDC));
        uint256 preview = vault.previewDeposit(assets);
        if (preview == 0) return _skip("deposit.dust");
        _mint(usdc, a, assets);
        vm.startPrank(a);
        IERC20(usdc).approve(address(vault), assets);
        try vault.deposit(assets, a) returns (uint256 shares) {
            if (shares != preview) ++ghost_previewMismatches;
            ghost_assetsIn[a] += assets;
        } catch {
            ++ghost_failedSafeEntries;
        }
        vm.stopPrank();
    }

    function mint(uint256 seed, uint256 shares) external counted("mint") {
        address a = actors[seed % actors.length];
        uint256 max = vault.maxMint(a);
        if (max == 0) return _skip("mint.none");
        shares = bound(shares, 1, Math.min(max, 2_000_000 * USDC * 1e6));
        uint256 assets = vault.previewMint(shares);
        _mint(usdc, a, assets);
        vm.startPrank(a);
        IERC20(usdc).approve(address(vault), assets);
        try vault.mint(shares, a) returns (uint256 paid) {
            if (paid != assets) ++ghost_previewMismatches;
            ghost_assetsIn[a] += paid;
        } catch {
            ++ghost_failedSafeEntries;
        }
        vm.stopPrank();
    }

    function withdraw(uint256 seed, uint256 assets) external counted("withdraw") {
        address a = actors[seed % actors.length];
        uint256 max = vault.maxWithdraw(a);
        if (max == 0) return _skip("withdraw.none");
        assets = bound(assets, 1, max);
        uint256 preview = vault.previewWithdraw(assets);
        if (vault.previewRedeem(preview) < assets) ++ghost_overpaid; // the burnt shares must be worth the assets
        if (vault.paused()) ++ghost_exitsWhilePaused;
        vm.prank(a);
        try vault.withdraw(assets, a, a) returns (uint256 shares) {
            if (shares != preview) ++ghost_previewMismatches;
            ghost_assetsOut[a] += assets;
        } catch {
            ++ghost_failedSafeExits;
        }
    }

    function redeem(uint256 seed, uint256 shares) external counted("redeem") {
        address a = actors[seed % actors.length];
        uint256 max = vault.maxRedeem(a);
        if (max == 0) return _skip("redeem.none");
        shares = bound(shares, 1, max);
        uint256 preview = vault.previewRedeem(shares);
        if (preview > vault.convertToAssets(shares)) ++ghost_overpaid;
        if (vault.paused()) ++ghost_exitsWhilePaused;
        vm.prank(a);
        try vault.redeem(shares, a, a) returns (uint256 assets) {
            if (assets != preview) ++ghost_previewMismatches;
            ghost_assetsOut[a] += assets;
        } catch {
            ++ghost_failedSafeExits;
        }
    }

    function requestRedeem(uint256 seed, uint256 shares) external counted("requestRedeem") {
        address a = actors[seed % actors.length];
        uint256 balance = vault.balanceOf(a);
        if (balance == 0) return _skip("requestRedeem.none");
        shares = bound(shares, 1, balance);
        vm.prank(a);
        try vault.requestRedeem(shares, a, a) returns (uint256 id) {
            _pending.push(id);
            requestShares[id] = shares;
            ghost_escrowed += shares;
        } catch {
            ++ghost_failedSafeExits;
        }
    }

    function cancelRedeem(uint256 seed) external counted("cancelRedeem") {
        if (_pending.length == 0) return _skip("cancelRedeem.none");
        uint256 index = seed % _pending.length;
        uint256 id = _pending[index];
        address owner = vault.redeemRequest(id).owner;
        vm.prank(owner);
        try vault.cancelRedeem(id) {
            _remove(index);
            ghost_escrowed -= requestShares[id];
        } catch {
            ++ghost_failedSafeExits;
        }
    }

    /// @notice The keeper handler reports fulfilled requests (it measured each receiver's payout).
    function recordFulfilled(uint256 id, address receiver, uint256 assets) external {
        if (msg.sender != keeperHandler) return;
        for (uint256 i; i < _pending.length; ++i) {
            if (_pending[i] == id) {
                _remove(i);
                ghost_escrowed -= requestShares[id];
                ghost_assetsOut[receiver] += assets;
                return;
            }
        }
    }

    function _remove(uint256 index) internal {
        _pending[index] = _pending[_pending.length - 1];
        _pending.pop();
    }
}
