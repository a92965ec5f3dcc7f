// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

import {PriceFeed} from "../../feeds/PriceFeed.sol";
import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {VaultLogic} from "../../vault/VaultLogic.sol";
import {MissingReturnERC20} from "../mocks/HostileERC20.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";
import {OptionsAdapterStub} from "./OptionsAdapterStub.sol";

/// @notice Governance (only through the timelock, within hard bounds) and the guardian (pause, tighten only).
contract HedgedVaultGovernanceTest is VaultFixture {
    function setUp() public {
        _loadDevnet();
        _deployVault();
        _deposit(alice, 1_000_000 * USDC);
    }

    /* ROLES */

    function testDeployLeavesTimelockSoleGovernance() public view {
        assertTrue(vault.hasRole(vault.GOVERNANCE_ROLE(), address(timelock)));
        assertTrue(vault.hasRole(vault.DEFAULT_ADMIN_ROLE(), address(timelock)));
        assertFalse(vault.hasRole(vault.GOVERNANCE_ROLE(), deployer));
        assertFalse(vault.hasRole(vault.DEFAULT_ADMIN_ROLE(), deployer));
        assertTrue(vault.hasRole(vault.KEEPER_ROLE(), keeper));
        assertTrue(vault.hasRole(vault.GUARDIAN_ROLE(), guardian));
        assertEq(VaultLogic(vault.logic()).vault(), address(vault));
    }

    function testSetRiskParamsRevertsForAnyoneButTheTimelock(address caller) public {
        vm.assume(caller != address(timelock));
        IHedgedVault.RiskParams memory r = _defaultRisk();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, vault.GOVERNANCE_ROLE()
            )
        );
        vm.prank(caller);
        vault.setRiskParams(r);
    }

    function testSetRiskParamsThroughTimelockOnlyAfterDelay(uint256 early) public {
        IHedgedVault.RiskParams memory r = _defaultRisk();
        r.maxLossBps = 25;
        bytes memory data = abi.encodeCall(vault.setRiskParams, (r));
        vm.prank(proposer);
        timelock.schedule(address(vault), 0, data, bytes32(0), bytes32(0), TIMELOCK_DELAY);
        bytes32 id = timelock.hashOperation(address(vault), 0, data, bytes32(0), bytes32(0));
        _warp(bound(early, 0, TIMELOCK_DELAY - 1));
        vm.expectRevert(
            abi.encodeWithSelector(
                TimelockController.TimelockUnexpectedOperationState.selector,
                id,
                bytes32(1 << uint8(TimelockController.OperationState.Ready))
            )
        );
        vm.prank(proposer);
        timelock.execute(address(vault), 0, data, bytes32(0), bytes32(0));
        vm.warp(timelock.getTimestamp(id));
        vm.expectEmit(address(vault));
        emit IHedgedVault.RiskParamsSet(address(timelock), r);
        vm.prank(proposer);
        timelock.execute(address(vault), 0, data, bytes32(0), bytes32(0));
        assertEq(vault.riskParams().maxLossBps, 25);
    }

    function testVaultLogicRejectsWritesFromAnyoneButTheVault(address caller) public {
        vm.assume(caller != address(vault));
        VaultLogic logic = VaultLogic(vault.logic());
        IHedgedVault.RiskParams memory r = _defaultRisk();
        vm.expectRevert(abi.encodeWithSelector(VaultLogic.OnlyVault.selector, caller));
        vm.prank(caller);
        logic.setRisk(r);
        vm.expectRevert(abi.encodeWithSelector(VaultLogic.OnlyVault.selector, caller));
        vm.prank(caller);
        logic.accrueFees(1, 1);
    }

    /* BOUNDS */

    function testSetRiskParamsRevertsOutOfBounds(uint256 field, uint256 value) public {
        field = bound(field, 0, 8);
        IHedgedVault.RiskParams memory r = _defaultRisk();
        (bytes32 name, uint256 min, uint256 max) = _riskBound(field);
        value = _outside(value, min, max, field == 0 ? type(uint256).max : _fieldMax(field));
        _setField(r, field, value);
        vm.expectRevert(
            abi.encodeWithSelector(IHedgedVault.ParameterOutOfBounds.selector, name, value, min, max)
        );
        vm.prank(address(timelock));
        vault.setRiskParams(r);
    }

    function testSetFeeParamsRevertsOutOfBounds(uint256 field, uint256 value) public {
        field = bound(field, 0, 2);
        IHedgedVault.FeeParams memory f = _defaultFees();
        bytes32[3] memory names = [bytes32("managementFeeBps"), "performanceFeeBps", "profitUnlockSeconds"];
        uint256[3] memory maxima = [uint256(200), 3000, 14 days];
        value = bound(value, maxima[field] + 1, field == 2 ? type(uint32).max : type(uint16).max);
        if (field == 0) f.managementFeeBps = uint16(value);
        else if (field == 1) f.performanceFeeBps = uint16(value);
        else f.profitUnlockSeconds = uint32(value);
        vm.expectRevert(
            abi.encodeWithSelector(
                IHedgedVault.ParameterOutOfBounds.selector, names[field], value, 0, maxima[field]
            )
        );
        vm.prank(address(timelock));
        vault.setFeeParams(f);
    }

    function testSetFeeParamsRevertsWhenRecipientIsVault() public {
        IHedgedVault.FeeParams memory f = _defaultFees();
        f.feeRecipient = address(vault);
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.InvalidFeeRecipient.selector, address(vault)));
        vm.prank(address(timelock));
        vault.setFeeParams(f);
    }

    function testSetMaxFulfilDelayRevertsOutOfBounds(uint256 value) public {
        value = value % 2 == 0 ? 0 : bound(value, 3 days + 1, type(uint256).max);
        vm.expectRevert(
            abi.encodeWithSelector(
                IHedgedVault.ParameterOutOfBounds.selector, bytes32("maxFulfilDelaySeconds"), value, 1, 3 days
            )
        );
        vm.prank(address(timelock));
        vault.setMaxFulfilDelay(value);
    }

    function testSetDepositCapEmits(uint256 cap) public {
        vm.expectEmit(address(vault));
        emit IHedgedVault.DepositCapSet(cap);
        vm.prank(address(timelock));
        vault.setDepositCap(cap);
        assertEq(vault.depositCap(), cap);
    }

    /* ADAPTERS AND TOKENS */

    function testSetAdapterDisallowStopsActionsAndDelistsOptions() public {
        OptionsAdapterStub options = new OptionsAdapterStub(1000e8);
        vm.startPrank(address(timelock));
        vault.setAdapter(address(options), true);
        assertEq(vault.optionsAdapters().length, 1);
        uint256 withMarks = vault.totalAssets();
        vault.setAdapter(address(options), false);
        vault.setAdapter(address(options), false); // idempotent
        vault.setAdapter(address(aaveAdapter), false);
        vm.stopPrank();
        assertEq(vault.optionsAdapters().length, 0);
        assertEq(withMarks - vault.totalAssets(), 1000 * USDC, "1000 USD of marks left NAV");
        assertFalse(vault.adapterAllowed(address(aaveAdapter)));
        IHedgedVault.Action[] memory actions = _actions(_aave(SUPPLY, usdc, 1));
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.AdapterNotAllowed.selector, address(aaveAdapter)));
        vm.prank(keeper);
        vault.rebalance(actions, _noIds());
    }

    function testSetAdapterRevertsOnZeroAddress() public {
        vm.expectRevert(IHedgedVault.ZeroAddress.selector);
        vm.prank(address(timelock));
        vault.setAdapter(address(0), true);
    }

    function testAddTrackedTokenRevertsWhenDuplicate() public {
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.TokenAlreadyTracked.selector, weth));
        vm.prank(address(timelock));
        vault.addTrackedToken(IHedgedVault.TrackedToken(weth, address(wethFeed), wethPool, 18));
    }

    function testAddTrackedTokenRevertsForAssetWrongDecimalsOrWrongPool() public {
        vm.startPrank(address(timelock));
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.InvalidTrackedToken.selector, usdc));
        vault.addTrackedToken(IHedgedVault.TrackedToken(usdc, address(usdcFeed), address(0), 6));
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.InvalidTrackedToken.selector, weth));
        vault.addTrackedToken(IHedgedVault.TrackedToken(weth, address(wethFeed), wethPool, 8));
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.InvalidTrackedToken.selector, weth));
        vault.addTrackedToken(IHedgedVault.TrackedToken(weth, address(wethFeed), wbtcPool, 18));
        vm.expectRevert(IHedgedVault.ZeroAddress.selector);
        vault.addTrackedToken(IHedgedVault.TrackedToken(weth, address(0), wethPool, 18));
        vm.stopPrank();
    }

    function testAddTrackedTokenRevertsWhenListFull() public {
        vm.startPrank(address(timelock));
        for (uint256 i = 2; i < 8; ++i) {
            address token = address(new MissingReturnERC20());
            vault.addTrackedToken(IHedgedVault.TrackedToken(token, address(usdcFeed), address(0), 6));
        }
        address ninth = address(new MissingReturnERC20());
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.ListFull.selector, 8));
        vault.addTrackedToken(IHedgedVault.TrackedToken(ninth, address(usdcFeed), address(0), 6));
        vm.stopPrank();
    }

    /* GUARDIAN */

    function testPauseRevertsForAnyoneButGuardian(address caller) public {
        vm.assume(caller != guardian);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, caller, vault.GUARDIAN_ROLE()
            )
        );
        vm.prank(caller);
        vault.pause();
    }

    function testUnpauseRevertsForGuardian() public {
        vm.prank(guardian);
        vault.pause();
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, vault.GOVERNANCE_ROLE()
            )
        );
        vm.prank(guardian);
        vault.unpause();
        vm.prank(address(timelock));
        vault.unpause();
        assertFalse(vault.paused());
    }

    function testTightenRiskParamsAcceptsStricter(uint256 seed) public {
        IHedgedVault.RiskParams memory r = _defaultRisk();
        r.healthFactorFloorWad = bound(seed, r.healthFactorFloorWad, 5e18);
        r.maxLossBps = uint16(bound(seed >> 64, 1, r.maxLossBps));
        r.maxSlippageBps = uint16(bound(seed >> 80, 1, r.maxSlippageBps));
        r.turnoverBudgetBps = uint32(bound(seed >> 96, 1, r.turnoverBudgetBps));
        r.lossBudgetBps = uint16(bound(seed >> 128, 1, r.lossBudgetBps));
        r.heartbeatSeconds = uint32(bound(seed >> 144, 60, r.heartbeatSeconds));
        r.maxOracleDeviationBps = uint16(bound(seed >> 176, 1, r.maxOracleDeviationBps));
        vm.expectEmit(address(vault));
        emit IHedgedVault.RiskParamsSet(guardian, r);
        vm.prank(guardian);
        vault.tightenRiskParams(r);
        assertEq(keccak256(abi.encode(vault.riskParams())), keccak256(abi.encode(r)));
    }

    function testTightenRiskParamsRevertsOnLoosening(uint256 field, uint256 value) public {
        field = bound(field, 0, 8);
        IHedgedVault.RiskParams memory r = _defaultRisk();
        uint256 current = _getField(r, field);
        (bytes32 name, uint256 min, uint256 max) = _riskBound(field);
        // Looser but within bounds: a lower HF floor, a higher anything else; period/window: any change.
        if (field == 0) value = bound(value, min, current - 1);
        else value = bound(value, current + 1, max);
        _setField(r, field, value);
        vm.expectRevert(abi.encodeWithSelector(IHedgedVault.OnlyTightening.selector, name, current, value));
        vm.prank(guardian);
        vault.tightenRiskParams(r);
    }

    function testLowerDepositCapOnlyLowers(uint256 cap) public {
        uint256 current = vault.depositCap();
        cap = bound(cap, 0, current);
        vm.prank(guardian);
        vault.lowerDepositCap(cap);
        assertEq(vault.depositCap(), cap);
        vm.expectRevert(
            abi.encodeWithSelector(IHedgedVault.OnlyTightening.selector, bytes32("depositCap"), cap, cap + 1)
        );
        vm.prank(guardian);
        vault.lowerDepositCap(cap + 1);
    }

    /* VIEWS */

    function testPriceE8NormalisesFeedDecimals(uint256 answer, uint8 decimals) public {
        decimals = uint8(bound(decimals, 0, 24));
        answer = bound(answer, 1, 1e30);
        PriceFeed feed = new PriceFeed(decimals, "X / USD", int256(answer), address(this));
        (uint256 price, uint256 at) = VaultLogic(vault.logic()).priceE8(address(feed));
        assertEq(price, decimals >= 8 ? answer / 10 ** (decimals - 8) : answer * 10 ** (8 - decimals));
        assertEq(at, block.timestamp);
    }

    function testAssetDecimalsIsTheAssets() public view {
        assertEq(vault.assetDecimals(), 6);
        assertEq(vault.decimals(), 12, "6 + the 6-decimal virtual-share offset");
    }

    /* HELPERS */

    function _riskBound(uint256 field) internal pure returns (bytes32 name, uint256 min, uint256 max) {
        if (field == 0) return ("healthFactorFloorWad", 1.05e18, 5e18);
        if (field == 1) return ("maxLossBps", 1, 500);
        if (field == 2) return ("maxSlippageBps", 1, 300);
        if (field == 3) return ("turnoverBudgetBps", 1, 100_000);
        if (field == 4) return ("lossBudgetBps", 1, 1000);
        if (field == 5) return ("periodSeconds", 1 hours, 7 days);
        if (field == 6) return ("heartbeatSeconds", 60, 2 days);
        if (field == 7) return ("maxOracleDeviationBps", 1, 1000);
        return ("twapWindowSeconds", 60, 2 hours);
    }

    /// @dev Largest value the field's type holds.
    function _fieldMax(uint256 field) internal pure returns (uint256) {
        if (field == 1 || field == 2 || field == 4 || field == 7) return type(uint16).max;
        return type(uint32).max;
    }

    /// @dev A value outside [min, max] that the field's type holds.
    function _outside(uint256 seed, uint256 min, uint256 max, uint256 typeMax)
        internal
        pure
        returns (uint256)
    {
        if (min > 0 && seed % 2 == 0) return bound(seed, 0, min - 1);
        return bound(seed, max + 1, typeMax);
    }

    function _getField(IHedgedVault.RiskParams memory r, uint256 field) internal pure returns (uint256) {
        if (field == 0) return r.healthFactorFloorWad;
        if (field == 1) return r.maxLossBps;
        if (field == 2) return r.maxSlippageBps;
        if (field == 3) return r.turnoverBudgetBps;
        if (field == 4) return r.lossBudgetBps;
        if (field == 5) return r.periodSeconds;
        if (field == 6) return r.heartbeatSeconds;
        if (field == 7) return r.maxOracleDeviationBps;
        return r.twapWindowSeconds;
    }

    function _setField(IHedgedVault.RiskParams memory r, uint256 field, uint256 v) internal pure {
        if (field == 0) r.healthFactorFloorWad = v;
        else if (field == 1) r.maxLossBps = uint16(v);
        else if (field == 2) r.maxSlippageBps = uint16(v);
        else if (field == 3) r.turnoverBudgetBps = uint32(v);
        else if (field == 4) r.lossBudgetBps = uint16(v);
        else if (field == 5) r.periodSeconds = uint32(v);
        else if (field == 6) r.heartbeatSeconds = uint32(v);
        else if (field == 7) r.maxOracleDeviationBps = uint16(v);
        else r.twapWindowSeconds = uint32(v);
    }
}
