// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {console2} from "forge-std/console2.sol";

import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {IUniswapV3SwapRouter} from "../../interfaces/uniswap/IUniswapV3.sol";
import {DirectHedger} from "../utils/DirectHedger.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";

/// @notice Reproducible gas figures for docs/vault.md: each measured call runs from the same state with every
///         account cold (vm.cool on the whole devnet and the vault stack), as the first call of a transaction
///         would; figures are execution gas (no 21,000 intrinsic, no calldata). The vault's rebalance is compared
///         with DirectHedger making the same Aave/Uniswap calls with no checks. `forge test --mc GasTest -vv`.
contract GasTest is VaultFixture {
    uint256 internal constant WETH = 1e18;
    uint256 internal constant WBTC = 1e8;

    DirectHedger internal direct;
    address[] internal _cold;

    function setUp() public {
        _loadDevnet();
        _deployVault();
        direct = new DirectHedger(aavePool, IUniswapV3SwapRouter(swapRouter));
        _deposit(alice, 3_000_000 * USDC);
        _mint(usdc, address(direct), 3_000_000 * USDC);
        // Both start with the same open hedge (Aave user configuration exists), then a fresh block.
        _rebalance(_hedge(1_000_000 * USDC, 100 * WETH));
        direct.run(_steps(_hedge(1_000_000 * USDC, 100 * WETH)));
        _advance(12);
        vm.prank(alice);
        vault.requestRedeem(1000 * USDC * 1e6, alice, alice);
        string memory allocs = vm.readFile(string.concat(vm.projectRoot(), DEVNET_DIR, "allocs.json"));
        string[] memory keys = vm.parseJsonKeys(allocs, "$");
        for (uint256 i; i < keys.length; ++i) {
            _cold.push(vm.parseAddress(keys[i]));
        }
        _cold.push(address(vault));
        _cold.push(vault.logic());
        _cold.push(address(aaveAdapter));
        _cold.push(address(uniAdapter));
        _cold.push(address(lens));
        _cold.push(address(direct));
    }

    /* SCENARIOS */

    function _one() internal view returns (IHedgedVault.Action[] memory) {
        return _actions(_aave(SUPPLY, usdc, 500_000 * USDC));
    }

    function _three() internal view returns (IHedgedVault.Action[] memory) {
        return _hedge(500_000 * USDC, 50 * WETH);
    }

    function _five() internal view returns (IHedgedVault.Action[] memory list) {
        IHedgedVault.Action[] memory h = _hedge(500_000 * USDC, 50 * WETH);
        list = new IHedgedVault.Action[](5);
        (list[0], list[1], list[2]) = (h[0], h[1], h[2]);
        list[3] = _aave(BORROW, wbtc, 2 * WBTC);
        list[4] = _swap(wbtc, usdc, 2 * WBTC);
    }

    /// @dev The vault's actions as DirectHedger steps (same protocol calls, same amounts).
    function _steps(IHedgedVault.Action[] memory actions)
        internal
        view
        returns (DirectHedger.Step[] memory s)
    {
        s = new DirectHedger.Step[](actions.length);
        for (uint256 i; i < actions.length; ++i) {
            if (actions[i].adapter == address(aaveAdapter)) {
                (uint8 op, address asset, uint256 amount) =
                    abi.decode(actions[i].data, (uint8, address, uint256));
                s[i] = DirectHedger.Step(op, asset, amount, "");
            } else {
                (bytes memory path, uint256 amountIn,) =
                    abi.decode(actions[i].data, (bytes, uint256, uint256));
                s[i] = DirectHedger.Step(4, address(bytes20(path)), amountIn, path);
            }
        }
    }

    /* MEASUREMENT */

    function _coolAll() internal {
        for (uint256 i; i < _cold.length; ++i) {
            vm.cool(_cold[i]);
        }
    }

    /// @dev Gas of `target.call(data)` from `from`, with every account cold; state restored afterwards.
    function _gas(address from, address target, bytes memory data) internal returns (uint256 used) {
        uint256 snap = vm.snapshotState();
        _coolAll();
        vm.prank(from);
        uint256 before = gasleft();
        (bool ok, bytes memory ret) = target.call(data);
        used = before - gasleft();
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
        vm.revertToState(snap);
    }

    function _rebalanceGas(IHedgedVault.Action[] memory actions) internal returns (uint256) {
        return _gas(keeper, address(vault), abi.encodeCall(vault.rebalance, (actions, new uint256[](0))));
    }

    function _directGas(IHedgedVault.Action[] memory actions) internal returns (uint256) {
        return _gas(address(this), address(direct), abi.encodeCall(direct.run, (_steps(actions))));
    }

    function _overheadBps(uint256 vaultGas, uint256 directGas) internal pure returns (uint256) {
        return (vaultGas - directGas) * 10_000 / directGas;
    }

    /* TABLE */

    function testGasDepositorOperations() public {
        _mint(usdc, bob, 10_000 * USDC);
        vm.prank(bob);
        IERC20(usdc).approve(address(vault), type(uint256).max);
        uint256 deposit = _gas(bob, address(vault), abi.encodeCall(vault.deposit, (10_000 * USDC, bob)));
        uint256 withdraw =
            _gas(alice, address(vault), abi.encodeCall(vault.withdraw, (10_000 * USDC, alice, alice)));
        uint256 redeem = _gas(alice, address(vault), abi.encodeCall(vault.redeem, (1e16, alice, alice)));
        uint256 request =
            _gas(alice, address(vault), abi.encodeCall(vault.requestRedeem, (1e16, alice, alice)));
        uint256 fulfil = _gas(keeper, address(vault), abi.encodeCall(vault.fulfilRedeems, (_ids(0))));
        uint256 lensGas = _gas(alice, address(lens), abi.encodeCall(lens.snapshot, (vault)));
        console2.log("deposit", deposit);
        console2.log("withdraw", withdraw);
        console2.log("redeem", redeem);
        console2.log("requestRedeem", request);
        console2.log("fulfilRedeems (1 request)", fulfil);
        console2.log("VaultLens.snapshot", lensGas);
        // Regression guards (~10 % above the figures in docs/vault.md), not targets.
        assertLt(deposit, 275_000);
        assertLt(withdraw, 260_000);
        assertLt(redeem, 260_000);
        assertLt(request, 110_000);
        assertLt(fulfil, 305_000);
        assertLt(lensGas, 420_000);
    }

    /// @dev The 1- and 3-action batches alone, for the per-part profiles in docs/vault.md
    ///      (`forge test --match-test testGasProfileThreeActions -vvvv`, the trace summed per part).
    function testGasProfileOneAction() public {
        uint256 v = _rebalanceGas(_one());
        console2.log("rebalance, 1 action", v);
        assertLt(v, 350_000);
    }

    function testGasProfileThreeActions() public {
        uint256 v = _rebalanceGas(_three());
        console2.log("rebalance, 3 actions", v);
        assertLt(v, 760_000);
    }

    /// @dev Overhead against (a) a contract batching the same calls in one transaction, and (b) an EOA sending
    ///      each protocol call and each approval as its own transaction (21,000 intrinsic gas each; the vault's
    ///      rebalance is one transaction). Calldata gas is left out of both.
    function testGasRebalanceOverheadOverDirectCalls() public {
        IHedgedVault.Action[][3] memory scenarios = [_one(), _three(), _five()];
        uint256[3] memory n = [uint256(1), 3, 5];
        uint256[3] memory eoaTxs = [uint256(2), 5, 8]; // approve+supply; +borrow, approve+swap; +borrow, approve+swap
        uint256[3] memory maxBps = [uint256(12_000), 6000, 4500];
        for (uint256 i; i < 3; ++i) {
            uint256 v = _rebalanceGas(scenarios[i]);
            uint256 d = _directGas(scenarios[i]);
            uint256 eoa = d + eoaTxs[i] * 21_000;
            console2.log("actions / vault / direct contract", n[i], v, d);
            console2.log("  overhead bps vs contract", _overheadBps(v, d));
            console2.log("  with intrinsic gas: vault tx / EOA txs", v + 21_000, eoa);
            assertLe(_overheadBps(v, d), maxBps[i], "regression guard on the measured overhead");
        }
    }
}
