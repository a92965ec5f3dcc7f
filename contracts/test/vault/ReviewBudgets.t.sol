// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {IVaultAdapter} from "../../interfaces/IVaultAdapter.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @dev A hostile keeper's leak, in the shape of a whitelisted LENDING adapter: pays `amount` of the vault's USDC
///      to `sink`. No per-action check applies to LENDING, so only the batch checks (maxLoss, loss budget) judge it.
contract LeakAdapter is IVaultAdapter {
    address public immutable usdc;
    address public immutable sink;

    constructor(address usdc_, address sink_) {
        (usdc, sink) = (usdc_, sink_);
    }

    function kind() external pure returns (Kind) {
        return Kind.LENDING;
    }

    function execute(bytes calldata data) external returns (uint256) {
        IERC20(usdc).transfer(sink, abi.decode(data, (uint256)));
        return 0;
    }
}

/// @notice Review finding 4 (issue 19): the turnover and loss budgets were fixed windows reset lazily, so a keeper
///         could spend one period's budget just before the boundary and the next one just after it: 371 bp of NAV
///         lost in 120 s against a 200 bp/day budget. The budgets are now rolling (VaultLogic.Budget: a level
///         draining at capacity / period, capacity half the budget), so any window of one period is charged at
///         most the budget.
contract ReviewBudgetsTest is VaultFixture {
    uint256 internal constant NAV = 3_000_000 * USDC;
    LeakAdapter internal leak;
    address internal sink = makeAddr("sink");

    function setUp() public {
        _loadDevnet();
        _deployVault();
        leak = new LeakAdapter(usdc, sink);
        _timelocked(abi.encodeCall(vault.setAdapter, (address(leak), true)));
        _deposit(alice, NAV);
    }

    /// @dev Leaks `bps` of gross NAV in one batch; false when the vault refused it with a budget error.
    function _leak(uint256 bps) internal returns (bool ok) {
        uint256 amount = (vault.totalAssets() + vault.lockedProfitNow()) * bps / 10_000;
        IHedgedVault.Action[] memory a = _actions(IHedgedVault.Action(address(leak), abi.encode(amount)));
        vm.prank(keeper);
        try vault.rebalance(a, _noIds()) {
            ok = true;
        } catch (bytes memory ret) {
            assertEq(_selector(ret), IHedgedVault.LossBudgetExceeded.selector, "refused by the loss budget");
        }
    }

    /// @dev Leaks 49 bp batches (under maxLossBps 50) until the budget refuses one; returns the number accepted.
    function _leakUntilRefused() internal returns (uint256 n) {
        while (n < 20 && _leak(49)) ++n;
    }

    /// @notice The review's PoC: leak as much as the budget takes 60 s before the old period boundary and again
    ///         60 s after it. Before the fix: 8 batches, 4 × 49 bp on each side (≈ 389 bp of NAV in 120 s; the
    ///         review's keeper, losing through sandwiched swaps, reached 371 bp); now at most the budget.
    function testLossAcrossPeriodBoundaryWithinBudget() public {
        assertTrue(_leak(1)); // the old code opened its period at this first batch
        uint256 start = IERC20(usdc).balanceOf(sink);
        uint256 navStart = vault.totalAssets();
        _warp(1 days - 60);
        _refreshFeeds();
        uint256 before = _leakUntilRefused();
        _warp(120);
        _refreshFeeds();
        uint256 afterwards = _leakUntilRefused();
        uint256 lost = IERC20(usdc).balanceOf(sink) - start;
        emit log_named_uint("batches accepted before / after the boundary", before * 100 + afterwards);
        emit log_named_uint("lost in 120 s, bp of NAV", lost * 10_000 / navStart);
        assertLe(lost * 10_000, navStart * 200, "more than the 200 bp/day budget within 120 s");
    }

    /// @notice At random times over several days, every trailing 24 h has lost at most the budget (200 bp of the
    ///         window's highest NAV, plus a unit of rounding per batch), whatever the keeper tries.
    function testLossWithinBudgetInEveryTrailingDay(uint256 seed) public {
        uint256[] memory times = new uint256[](24);
        uint256[] memory losses = new uint256[](24);
        uint256[] memory navs = new uint256[](24);
        uint256 n;
        for (uint256 step; step < 24; ++step) {
            seed = uint256(keccak256(abi.encode(seed, step)));
            _advance(seed % 7 hours);
            uint256 bps = 1 + (seed >> 64) % 49;
            uint256 nav = vault.totalAssets() + vault.lockedProfitNow();
            uint256 sunk = IERC20(usdc).balanceOf(sink);
            if (!_leak(bps)) continue;
            (times[n], losses[n], navs[n]) = (block.timestamp, IERC20(usdc).balanceOf(sink) - sunk, nav);
            ++n;
            (uint256 windowLoss, uint256 maxNav, uint256 batches) = (0, 0, 0);
            for (uint256 i = n; i > 0 && times[i - 1] + 1 days > block.timestamp; --i) {
                windowLoss += losses[i - 1];
                if (navs[i - 1] > maxNav) maxNav = navs[i - 1];
                ++batches;
            }
            assertLe(windowLoss * 10_000, maxNav * 200 + batches * 10_000, "trailing-day loss over budget");
        }
    }

    /// @notice The same rolling bound on turnover (swaps here): two bursts either side of the old boundary cannot
    ///         trade more than the period budget together.
    function testTurnoverAcrossPeriodBoundaryWithinBudget() public {
        IHedgedVault.RiskParams memory r = _defaultRisk();
        r.turnoverBudgetBps = 10_000; // 1 × NAV per day
        _timelocked(abi.encodeCall(vault.setRiskParams, (r)));
        _rebalance(_actions(_swap(usdc, weth, 1000 * USDC))); // the old code opened its period here
        _warp(1 days - 60);
        _refreshFeeds();
        uint256 traded;
        for (uint256 side; side < 2; ++side) {
            for (uint256 i; i < 10; ++i) {
                uint256 amount = 250_000 * USDC;
                IHedgedVault.Action[] memory a = _actions(_swap(usdc, weth, amount));
                vm.prank(keeper);
                try vault.rebalance(a, _noIds()) {
                    traded += amount;
                } catch (bytes memory ret) {
                    assertEq(_selector(ret), IHedgedVault.TurnoverBudgetExceeded.selector);
                    break;
                }
            }
            _warp(120);
            _refreshFeeds();
        }
        emit log_named_uint("USDC traded within 120 s", traded / USDC);
        assertLe(traded, NAV, "more than 1 x NAV of turnover within a day");
    }
}
