// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

import {AaveV3Adapter} from "../../../adapters/AaveV3Adapter.sol";
import {UniswapV3Adapter} from "../../../adapters/UniswapV3Adapter.sol";
import {Timelock} from "../../../governance/Timelock.sol";
import {IHedgedVault} from "../../../interfaces/IHedgedVault.sol";
import {IAavePool} from "../../../interfaces/aave/IAavePool.sol";
import {HedgedVault} from "../../../vault/HedgedVault.sol";
import {DepositorHandler} from "./DepositorHandler.sol";
import {HandlerBase} from "./HandlerBase.sol";

/// @notice A hostile keeper extracting value within the rules: random Aave operations and hedges, swaps
///         sandwiched by an accomplice who moves the pool against it (and back), many small round-trip losses,
///         fulfilment of queued redemptions (or not). Every rebalance is measured in the same block: the share
///         price before and after (fees pending are in both), the gross NAV drop charged to the period, and the
///         Aave health factor. Ghosts count each bound the vault should have enforced but did not.
contract KeeperHandler is HandlerBase {
    uint256 internal constant BPS = 10_000;

    DepositorHandler public depositors;
    address public accomplice = makeAddr("accomplice");

    uint256 public ghost_rebalances;
    uint256 public ghost_rejected;
    mapping(bytes4 selector => uint256) public rejectedBy;
    uint256 public ghost_maxDropPpm; // worst share-price drop of one rebalance, parts per million
    uint256 public ghost_dropsOverMaxLoss;
    uint256 public ghost_healthFactorBelowFloor;
    uint256 internal _hfBefore; // Aave's health factor before the rebalance being measured
    uint256 internal _regimeBudgetBps; // the loss budget and period the loss history below was charged under
    uint256 internal _regimePeriod;
    /// @dev Every rebalance's gross NAV loss (asset units), its time and the gross NAV before it: the loss budget
    ///      is checked over the trailing period at every rebalance (a sliding window, as the vault promises).
    uint256[] internal _lossTimes;
    uint256[] internal _losses;
    uint256[] internal _navsBefore;
    uint256 public ghost_maxWindowLossBps; // worst trailing-period loss seen, bps of the window's highest NAV
    uint256 public ghost_lossBudgetBreaches;
    uint256 public ghost_fulfilled;

    constructor(
        HedgedVault vault_,
        Timelock timelock_,
        AaveV3Adapter aave_,
        UniswapV3Adapter uni_,
        DepositorHandler depositors_
    ) HandlerBase(vault_, timelock_, aave_, uni_) {
        depositors = depositors_;
    }

    /* ACTIONS */

    /// @dev One random Aave operation on a random reserve.
    function aaveOp(uint256 opSeed, uint256 tokenSeed, uint256 amount) external counted("aaveOp") {
        address token = _token(tokenSeed);
        uint8 op = uint8(opSeed % 4);
        uint256 cap = _unitsWorth(token, vault.totalAssets() / 2);
        if (cap == 0) return _skip("aaveOp.none");
        amount = bound(amount, 1, cap);
        if (op == WITHDRAW || op == REPAY) amount = opSeed % 3 == 0 ? type(uint256).max : amount;
        _run(_actions(_aave(op, token, amount)), new uint256[](0));
    }

    /// @dev Supply USDC, borrow a risky token, sell it: the short-delta hedge, at a random size.
    function hedge(uint256 supplySeed, uint256 borrowSeed, uint256 tokenSeed) external counted("hedge") {
        address token = tokenSeed % 2 == 0 ? weth : wbtc;
        uint256 idle = vault.idleAssets();
        if (idle < 1000 * USDC) return _skip("hedge.none");
        uint256 supply = bound(supplySeed, 1000 * USDC, idle);
        uint256 borrow = bound(borrowSeed, 1, _unitsWorth(token, supply * 7 / 10));
        _run(
            _actions(_aave(SUPPLY, usdc, supply), _aave(BORROW, token, borrow), _swap(token, usdc, borrow)),
            new uint256[](0)
        );
    }

    /// @dev The accomplice skews the pool against the keeper's swap, the keeper swaps, the accomplice moves the
    ///      pool back to the oracle price and keeps the spread: value leaves the vault, bounded by the guards.
    function sandwich(uint256 sizeSeed, uint256 skewBps, uint256 dirSeed) external counted("sandwich") {
        address token = dirSeed % 2 == 0 ? weth : wbtc;
        bool sell = dirSeed % 4 >= 2;
        uint256 oracle = _priceE8(token);
        skewBps = bound(skewBps, 0, 800); // from harmless to far beyond maxSlippage and maxLoss
        uint256 amountIn;
        if (sell) {
            uint256 held = IERC20(token).balanceOf(address(vault));
            if (held == 0) return _skip("sandwich.none");
            amountIn = bound(sizeSeed, 1, held);
            _movePool(token, oracle * (BPS - skewBps) / BPS); // sells get less
        } else {
            uint256 idle = vault.idleAssets();
            if (idle == 0) return _skip("sandwich.none");
            amountIn = bound(sizeSeed, 1, Math.min(idle, 5_000_000 * USDC));
            _movePool(token, oracle * (BPS + skewBps) / BPS); // buys cost more
        }
        _run(_actions(sell ? _swap(token, usdc, amountIn) : _swap(usdc, token, amountIn)), new uint256[](0));
        _movePool(token, oracle);
    }

    /// @dev `rounds` round trips USDC → WETH or WBTC → USDC, one rebalance each: many small allowed losses (pool
    ///      fees and impact, 0.1–0.6 % of the size) that only the period's loss budget stops.
    function bleed(uint256 sizeSeed, uint256 rounds) external counted("bleed") {
        rounds = bound(rounds, 1, 12);
        address token = sizeSeed % 2 == 0 ? weth : wbtc;
        if (vault.idleAssets() < vault.totalAssets() / 4) {
            // free collateral first (no loss): Aave's own cap keeps the health factor where it allows
            IAavePool.ReserveData memory reserve = aavePool.getReserveData(usdc);
            uint256 supplied = IERC20(reserve.aTokenAddress).balanceOf(address(vault));
            if (supplied > 0) _run(_actions(_aave(WITHDRAW, usdc, supplied / 2)), new uint256[](0));
        }
        for (uint256 i; i < rounds; ++i) {
            uint256 idle = vault.idleAssets();
            uint256 cap = Math.min(idle, vault.totalAssets() * 6 / 10);
            if (cap < 100 * USDC) return _skip("bleed.none");
            uint256 size = bound(uint256(keccak256(abi.encode(sizeSeed, i))), 100 * USDC, cap);
            uint256 back = _unitsWorth(token, size) * 985 / 1000;
            _run(_actions(_swap(usdc, token, size), _swap(token, usdc, back)), new uint256[](0));
        }
    }

    /// @dev Fulfil up to `count` queued redemptions, withdrawing from Aave in the same rebalance if needed.
    function fulfil(uint256 count) external counted("fulfil") {
        uint256[] memory open = depositors.pending();
        if (open.length == 0) return _skip("fulfil.none");
        count = bound(count, 1, open.length);
        uint256[] memory picked = new uint256[](count);
        address[] memory receivers = new address[](count);
        uint256 n;
        uint256 owed;
        for (uint256 i; i < open.length && n < count; ++i) {
            IHedgedVault.RedeemRequest memory r = vault.redeemRequest(open[i]);
            bool seen;
            for (uint256 j; j < n; ++j) {
                if (receivers[j] == r.receiver) seen = true;
            }
            if (seen) continue;
            (picked[n], receivers[n]) = (open[i], r.receiver);
            owed += vault.previewRedeem(r.shares);
            ++n;
        }
        uint256[] memory ids = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            ids[i] = picked[i];
        }
        uint256 idle = vault.idleAssets();
        if (owed <= idle) return _fulfilFromIdle(ids); // works paused and with stale feeds
        IAavePool.ReserveData memory reserve = aavePool.getReserveData(usdc);
        uint256 supplied = IERC20(reserve.aTokenAddress).balanceOf(address(vault));
        if (supplied < owed - idle) return _skip("fulfil.illiquid");
        _run(_actions(_aave(WITHDRAW, usdc, owed - idle + 1)), ids);
    }

    function _fulfilFromIdle(uint256[] memory ids) internal {
        IHedgedVault.RiskParams memory r = vault.riskParams();
        uint256 ppsBefore = vault.convertToAssets(1e24);
        uint256[] memory receivedBefore = _receiverBalances(ids);
        vm.prank(keeper);
        try vault.fulfilRedeems(ids) {
            _recordPayouts(ids, receivedBefore);
            uint256 ppsAfter = vault.convertToAssets(1e24);
            if ((ppsBefore > ppsAfter) && (ppsBefore - ppsAfter) * BPS > ppsBefore * r.maxLossBps + 2 * BPS) {
                ++ghost_dropsOverMaxLoss;
            }
        } catch (bytes memory reason) {
            ++ghost_rejected;
            ++rejectedBy[bytes4(reason)];
        }
    }

    /* MEASURED REBALANCE */

    function _run(IHedgedVault.Action[] memory actions, uint256[] memory ids) internal {
        IHedgedVault.RiskParams memory r = vault.riskParams();
        uint256 ppsBefore = vault.convertToAssets(1e24);
        uint256 grossBefore = vault.totalAssets() + vault.lockedProfitNow();
        uint256[] memory receivedBefore = _receiverBalances(ids);
        (,,,,, _hfBefore) = aavePool.getUserAccountData(address(vault));
        vm.prank(keeper);
        try vault.rebalance(actions, ids) {
            ++ghost_rebalances;
            uint256 paid = _recordPayouts(ids, receivedBefore);
            _measure(r, ppsBefore, grossBefore, paid);
        } catch (bytes memory reason) {
            ++ghost_rejected;
            ++rejectedBy[bytes4(reason)];
        }
    }

    function _measure(IHedgedVault.RiskParams memory r, uint256 ppsBefore, uint256 grossBefore, uint256 paid)
        internal
    {
        uint256 ppsAfter = vault.convertToAssets(1e24);
        if (ppsAfter < ppsBefore) {
            uint256 dropPpm = (ppsBefore - ppsAfter) * 1e6 / ppsBefore;
            if (dropPpm > ghost_maxDropPpm) ghost_maxDropPpm = dropPpm;
            // Share price drop bounded by maxLossBps (2 asset units of rounding allowed).
            if ((ppsBefore - ppsAfter) * BPS > ppsBefore * r.maxLossBps + 2 * BPS) ++ghost_dropsOverMaxLoss;
        }
        // HF ≥ floor after every rebalance — or, when a price move had already taken it under the floor, no lower
        // than before: a batch of supplies, repays and swaps only (which cannot lower it) is not HF-checked and
        // passes, so the keeper can de-risk below the floor (docs/vault.md, Gas).
        (, uint256 debt,,,, uint256 hf) = aavePool.getUserAccountData(address(vault));
        uint256 floor = r.healthFactorFloorWad < _hfBefore ? r.healthFactorFloorWad : _hfBefore;
        if (debt > 0 && hf < floor) ++ghost_healthFactorBelowFloor;
        uint256 grossAfter = vault.totalAssets() + vault.lockedProfitNow() + paid;
        // The sliding-window bound holds within one parameter regime: a timelocked change of the loss budget or the
        // period starts a new one (a window straddling a change is bounded by the regime before it plus the one
        // after: the level charged under the old budget drains at the old rate; docs/vault.md, item 4).
        if (r.lossBudgetBps != _regimeBudgetBps || r.periodSeconds != _regimePeriod) {
            (_regimeBudgetBps, _regimePeriod) = (r.lossBudgetBps, r.periodSeconds);
            delete _lossTimes;
            delete _losses;
            delete _navsBefore;
        }
        _lossTimes.push(block.timestamp);
        _losses.push(grossAfter < grossBefore ? grossBefore - grossAfter : 0);
        _navsBefore.push(grossBefore);
        // Over the trailing period (any 24 h with the defaults): losses ≤ budget at the window's highest NAV.
        // The vault charges each loss in USD 1e8: a unit of rounding per rebalance is allowed.
        (uint256 loss, uint256 maxNav, uint256 n) = (0, 0, 0);
        for (uint256 i = _losses.length; i > 0 && _lossTimes[i - 1] + r.periodSeconds > block.timestamp; --i) {
            loss += _losses[i - 1];
            maxNav = Math.max(maxNav, _navsBefore[i - 1]);
            ++n;
        }
        if (maxNav > 0 && loss * BPS / maxNav > ghost_maxWindowLossBps) {
            ghost_maxWindowLossBps = loss * BPS / maxNav;
        }
        if (loss * BPS > maxNav * r.lossBudgetBps + n * BPS) ++ghost_lossBudgetBreaches;
    }

    function _receiverBalances(uint256[] memory ids) internal view returns (uint256[] memory b) {
        b = new uint256[](ids.length);
        for (uint256 i; i < ids.length; ++i) {
            b[i] = IERC20(usdc).balanceOf(vault.redeemRequest(ids[i]).receiver);
        }
    }

    /// @dev Payout per fulfilled request, from its receiver's balance delta (fulfil picks distinct receivers).
    function _recordPayouts(uint256[] memory ids, uint256[] memory before) internal returns (uint256 paid) {
        for (uint256 i; i < ids.length; ++i) {
            address receiver = vault.redeemRequest(ids[i]).receiver;
            uint256 got = IERC20(usdc).balanceOf(receiver) - before[i];
            paid += got;
            ++ghost_fulfilled;
            depositors.recordFulfilled(ids[i], receiver, got);
        }
    }

    /* HELPERS */

    function _token(uint256 seed) internal view returns (address) {
        uint256 i = seed % 3;
        return i == 0 ? usdc : i == 1 ? weth : wbtc;
    }

    /// @dev Units of `token` worth `assets` USDC at the oracle.
    function _unitsWorth(address token, uint256 assets) internal view returns (uint256) {
        if (token == usdc) return assets;
        return assets * 10 ** decimalsOf[token] * 100 / _priceE8(token);
    }
}
