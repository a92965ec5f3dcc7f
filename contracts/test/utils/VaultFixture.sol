// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";

import {AaveV3Adapter} from "../../adapters/AaveV3Adapter.sol";
import {UniswapV3Adapter} from "../../adapters/UniswapV3Adapter.sol";
import {Timelock} from "../../governance/Timelock.sol";
import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";
import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {IUniswapV3SwapRouter} from "../../interfaces/uniswap/IUniswapV3.sol";
import {VaultLens} from "../../lens/VaultLens.sol";
import {HedgedVault} from "../../vault/HedgedVault.sol";
import {VaultLogic} from "../../vault/VaultLogic.sol";
import {DevnetFixture} from "./DevnetFixture.sol";
import {IUniswapV3PoolSlot0} from "./DevnetInterfaces.sol";

/// @notice HedgedVault deployed on the in-process devnet exactly as keeper/deploy/vault.py does it: Timelock
///         (1 day) as governance and role admin, Aave and Uniswap adapters allowed, WETH and WBTC tracked with
///         their Uniswap pools as TWAP sources, and the deployer holding no role at the end.
abstract contract VaultFixture is DevnetFixture {
    uint256 internal constant USDC = 1e6;
    uint256 internal constant TIMELOCK_DELAY = 1 days;
    uint8 internal constant SUPPLY = 0;
    uint8 internal constant WITHDRAW = 1;
    uint8 internal constant BORROW = 2;
    uint8 internal constant REPAY = 3;

    HedgedVault internal vault;
    address internal logicFactory;
    Timelock internal timelock;
    AaveV3Adapter internal aaveAdapter;
    UniswapV3Adapter internal uniAdapter;
    VaultLens internal lens;

    address internal deployer = makeAddr("deployer");
    address internal proposer = makeAddr("governanceProposer");
    address internal guardian = makeAddr("guardian");
    address internal keeper = makeAddr("keeper");
    address internal feeRecipient = makeAddr("feeRecipient");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    uint256 internal salt;

    /// @dev keeper/deploy/vault.py's defaults.
    function _defaultRisk() internal pure returns (IHedgedVault.RiskParams memory) {
        return IHedgedVault.RiskParams({
            healthFactorFloorWad: 1.3e18,
            maxLossBps: 50,
            maxSlippageBps: 100,
            turnoverBudgetBps: 50_000,
            lossBudgetBps: 200,
            periodSeconds: 1 days,
            heartbeatSeconds: 1 hours,
            maxOracleDeviationBps: 200,
            twapWindowSeconds: 600
        });
    }

    function _defaultFees() internal view returns (IHedgedVault.FeeParams memory) {
        return IHedgedVault.FeeParams({
            feeRecipient: feeRecipient,
            managementFeeBps: 100,
            performanceFeeBps: 1000,
            profitUnlockSeconds: 6 hours
        });
    }

    function _deployVault() internal {
        _deployVault(IERC20Metadata(usdc), _defaultRisk(), _defaultFees(), 100_000_000 * USDC);
    }

    function _deployVault(
        IERC20Metadata asset,
        IHedgedVault.RiskParams memory risk,
        IHedgedVault.FeeParams memory fees,
        uint256 cap
    ) internal {
        _deployVault(asset, risk, fees, cap, true);
    }

    /// @dev `timelocked` false leaves `deployer` as governance (setter unit tests without the delay).
    function _deployVault(
        IERC20Metadata asset,
        IHedgedVault.RiskParams memory risk,
        IHedgedVault.FeeParams memory fees,
        uint256 cap,
        bool timelocked
    ) internal {
        vm.startPrank(deployer);
        address[] memory proposers = new address[](1);
        proposers[0] = proposer;
        timelock = Timelock(
            payable(vm.deployCode(
                    "contracts/governance/Timelock.sol:Timelock",
                    abi.encode(TIMELOCK_DELAY, proposers, proposers, address(0))
                ))
        );
        vault = _newVault(asset, deployer, risk, fees, cap);
        aaveAdapter = AaveV3Adapter(
            vm.deployCode("contracts/adapters/AaveV3Adapter.sol:AaveV3Adapter", abi.encode(aavePool))
        );
        uniAdapter = UniswapV3Adapter(
            vm.deployCode("contracts/adapters/UniswapV3Adapter.sol:UniswapV3Adapter", abi.encode(swapRouter))
        );
        lens = VaultLens(vm.deployCode("contracts/lens/VaultLens.sol:VaultLens"));
        vault.setAdapter(address(aaveAdapter), true);
        vault.setAdapter(address(uniAdapter), true);
        if (address(asset) == usdc) {
            vault.addTrackedToken(IHedgedVault.TrackedToken(weth, address(wethFeed), wethPool, 18));
            vault.addTrackedToken(IHedgedVault.TrackedToken(wbtc, address(wbtcFeed), wbtcPool, 8));
        }
        if (timelocked) {
            vault.grantRole(vault.GOVERNANCE_ROLE(), address(timelock));
            vault.grantRole(vault.DEFAULT_ADMIN_ROLE(), address(timelock));
            vault.renounceRole(vault.GOVERNANCE_ROLE(), deployer);
            vault.renounceRole(vault.DEFAULT_ADMIN_ROLE(), deployer);
        }
        vm.stopPrank();
        vm.label(address(vault), "HedgedVault");
        vm.label(address(timelock), "Timelock");
        vm.label(address(aaveAdapter), "AaveV3Adapter");
        vm.label(address(uniAdapter), "UniswapV3Adapter");
    }

    /// @dev Deployed from forge's artifact (vm.deployCode), not `new`: test contracts then carry no vault
    ///      bytecode, which keeps the solc-js compile of the test suite within its memory.
    function _newVault(
        IERC20Metadata asset,
        address governance,
        IHedgedVault.RiskParams memory risk,
        IHedgedVault.FeeParams memory fees,
        uint256 cap
    ) internal returns (HedgedVault) {
        bytes memory args = abi.encode(
            asset,
            "Hedgevault USDC",
            "hvUSDC",
            IAggregatorV3(address(usdcFeed)),
            governance,
            guardian,
            keeper,
            risk,
            fees,
            cap,
            _logicFactory()
        );
        return HedgedVault(vm.deployCode("contracts/vault/HedgedVault.sol:HedgedVault", args));
    }

    /// @dev One VaultLogicFactory (on the devnet's Aave pool) per test, deployed on first use.
    function _logicFactory() internal returns (address) {
        if (logicFactory == address(0)) {
            logicFactory = vm.deployCode(
                "contracts/vault/VaultLogicFactory.sol:VaultLogicFactory", abi.encode(aavePool)
            );
        }
        return logicFactory;
    }

    /* GOVERNANCE */

    /// @dev Schedule `data` on the vault through the timelock, wait out the delay, execute; feeds refreshed.
    function _timelocked(bytes memory data) internal {
        bytes32 s = bytes32(++salt);
        vm.prank(proposer);
        timelock.schedule(address(vault), 0, data, bytes32(0), s, TIMELOCK_DELAY);
        _warp(TIMELOCK_DELAY);
        vm.prank(proposer);
        timelock.execute(address(vault), 0, data, bytes32(0), s);
        _refreshFeeds();
    }

    /* DEPOSITORS */

    function _deposit(address who, uint256 assets) internal returns (uint256 shares) {
        _mint(vault.asset(), who, assets);
        vm.startPrank(who);
        IERC20(vault.asset()).approve(address(vault), assets);
        shares = vault.deposit(assets, who);
        vm.stopPrank();
    }

    /* KEEPER ACTIONS */

    function _aave(uint8 op, address token, uint256 amount)
        internal
        view
        returns (IHedgedVault.Action memory)
    {
        return IHedgedVault.Action(address(aaveAdapter), abi.encode(op, token, amount));
    }

    function _swap(address tokenIn, address tokenOut, uint256 amountIn)
        internal
        view
        returns (IHedgedVault.Action memory)
    {
        address pool = poolOf[tokenIn == usdc ? tokenOut : tokenIn];
        bytes memory path = abi.encodePacked(tokenIn, IUniswapV3PoolSlot0(pool).fee(), tokenOut);
        return IHedgedVault.Action(address(uniAdapter), abi.encode(path, amountIn, uint256(0)));
    }

    function _actions(IHedgedVault.Action memory a)
        internal
        pure
        returns (IHedgedVault.Action[] memory list)
    {
        list = new IHedgedVault.Action[](1);
        list[0] = a;
    }

    function _actions(IHedgedVault.Action memory a, IHedgedVault.Action memory b)
        internal
        pure
        returns (IHedgedVault.Action[] memory list)
    {
        list = new IHedgedVault.Action[](2);
        (list[0], list[1]) = (a, b);
    }

    function _actions(
        IHedgedVault.Action memory a,
        IHedgedVault.Action memory b,
        IHedgedVault.Action memory c
    ) internal pure returns (IHedgedVault.Action[] memory list) {
        list = new IHedgedVault.Action[](3);
        (list[0], list[1], list[2]) = (a, b, c);
    }

    /// @dev The devnet test's hedge: supply USDC, borrow WETH, sell it for USDC.
    function _hedge(uint256 supplyUsdc, uint256 borrowWeth)
        internal
        view
        returns (IHedgedVault.Action[] memory)
    {
        return _actions(
            _aave(SUPPLY, usdc, supplyUsdc), _aave(BORROW, weth, borrowWeth), _swap(weth, usdc, borrowWeth)
        );
    }

    function _rebalance(IHedgedVault.Action[] memory actions) internal {
        vm.prank(keeper);
        vault.rebalance(actions, new uint256[](0));
    }

    function _noIds() internal pure returns (uint256[] memory) {
        return new uint256[](0);
    }

    function _ids(uint256 id) internal pure returns (uint256[] memory list) {
        list = new uint256[](1);
        list[0] = id;
    }

    /// @dev The rolling budgets' levels now (USD 1e8): turnover, keeper loss, unwind loss (VaultLogic.budgetsUsed).
    function _budgetsUsed() internal view returns (uint256 turnoverE8, uint256 lossE8, uint256 unwindLossE8) {
        (turnoverE8, lossE8, unwindLossE8,) = VaultLogic(vault.logic()).budgetsUsed();
    }

    function _turnoverUsedE8() internal view returns (uint256 turnoverE8) {
        (turnoverE8,,) = _budgetsUsed();
    }

    function _lossUsedE8() internal view returns (uint256 lossE8) {
        (, lossE8,) = _budgetsUsed();
    }

    /// @dev Share price in asset units per 1e18 "asset-equivalent" shares (shares carry the 6-decimal offset).
    function _sharePriceWad() internal view returns (uint256) {
        return vault.convertToAssets(1e24);
    }

    /* REVERTS */

    /// @dev Calls the vault as `who` expecting a revert; returns the revert data (selector + arguments).
    function _revertData(address who, bytes memory data) internal returns (bytes memory ret) {
        bool ok;
        vm.prank(who);
        (ok, ret) = address(vault).call(data);
        assertFalse(ok, "call succeeded");
    }

    /// @dev The arguments of revert data (the bytes after the selector), for abi.decode.
    function _args(bytes memory ret) internal pure returns (bytes memory args) {
        args = new bytes(ret.length - 4);
        for (uint256 i; i < args.length; ++i) {
            args[i] = ret[i + 4];
        }
    }

    function _selector(bytes memory ret) internal pure returns (bytes4) {
        return bytes4(ret);
    }
}
