// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAggregatorV3} from "../../interfaces/IAggregatorV3.sol";
import {IHedgedVault} from "../../interfaces/IHedgedVault.sol";
import {VaultLogic} from "../../vault/VaultLogic.sol";
import {VaultFixture} from "../utils/VaultFixture.sol";
import {OptionsAdapterStub} from "./OptionsAdapterStub.sol";

/// @notice VaultLogic's configuration lives in one SSTORE2 data contract (issue 19, guard gas), rewritten whole by
///         every setter and read in place: each change (through the timelock, or the guardian's tightening) must be
///         what the next NAV read and the next batch see, never an older data contract, and the tracked tokens'
///         Aave reserves must stay paired with their tokens when the list changes.
contract ConfigDataTest is VaultFixture {
    uint256 internal constant NAV = 3_000_000 * USDC;
    uint256 internal constant WETH = 1e18;
    uint256 internal constant WBTC = 1e8;

    VaultLogic internal logic;

    function setUp() public {
        _loadDevnet();
        _deployVault();
        _deposit(alice, NAV);
        logic = VaultLogic(vault.logic());
    }

    /// @dev The slot VaultLogic keeps the data contract's address in (slot 0: `_configData`).
    function _dataContract() internal view returns (address) {
        return address(uint160(uint256(vm.load(address(logic), bytes32(0)))));
    }

    function _risk(IHedgedVault.RiskParams memory a, IHedgedVault.RiskParams memory b) internal pure {
        assertEq(keccak256(abi.encode(a)), keccak256(abi.encode(b)), "risk parameters");
    }

    /// @dev Each setter leaves a new data contract, its configuration what every view and valuation reads, the old
    ///      one unread (a data contract cannot be changed or run: it starts with STOP).
    function testEverySetterWritesANewDataContractThatTheViewsRead() public {
        address first = _dataContract();
        assertEq(uint8(first.code[0]), 0, "data contract starts with STOP");
        assertEq(address(vault.assetFeed()), address(usdcFeed));
        address[] memory seen = new address[](8);
        seen[0] = first;

        IHedgedVault.RiskParams memory r = _defaultRisk();
        r.maxLossBps = 7;
        _timelocked(abi.encodeCall(vault.setRiskParams, (r)));
        seen[1] = _dataContract();
        _risk(vault.riskParams(), r);
        _risk(logic.checkedState(false).risk, r);

        r.maxSlippageBps = r.maxSlippageBps - 1;
        vm.prank(guardian);
        vault.tightenRiskParams(r);
        seen[2] = _dataContract();
        _risk(vault.riskParams(), r);

        OptionsAdapterStub options = new OptionsAdapterStub(1000e8);
        uint256 before = vault.totalAssets();
        _timelocked(abi.encodeCall(vault.setAdapter, (address(options), true)));
        seen[3] = _dataContract();
        assertEq(vault.optionsAdapters().length, 1);
        assertEq(vault.optionsAdapters()[0], address(options));
        assertEq(vault.totalAssets() - before, 1000 * USDC, "the next NAV read values the new adapter");

        _timelocked(abi.encodeCall(vault.setAdapter, (address(options), false)));
        seen[4] = _dataContract();
        assertEq(vault.optionsAdapters().length, 0);

        _timelocked(abi.encodeCall(vault.removeTrackedToken, (weth)));
        seen[5] = _dataContract();
        IHedgedVault.TrackedToken[] memory list = vault.trackedTokens();
        assertEq(list.length, 1);
        assertEq(list[0].token, wbtc);
        assertFalse(logic.isPriced(weth));
        assertTrue(logic.isPriced(wbtc));

        _timelocked(
            abi.encodeCall(
                vault.addTrackedToken, (IHedgedVault.TrackedToken(weth, address(wethFeed), wethPool, 18))
            )
        );
        seen[6] = _dataContract();
        list = vault.trackedTokens();
        assertEq(list.length, 2);
        assertEq(list[1].token, weth);
        assertEq(list[1].feed, address(wethFeed));
        assertEq(list[1].twapPool, wethPool);
        assertEq(list[1].decimals, 18);
        assertTrue(logic.isPriced(weth));

        _timelocked(abi.encodeCall(vault.setAssetFeed, (IAggregatorV3(address(wethFeed)))));
        seen[7] = _dataContract();
        assertEq(address(vault.assetFeed()), address(wethFeed));
        _risk(vault.riskParams(), r); // untouched by the other setters

        for (uint256 i; i < seen.length; ++i) {
            for (uint256 j; j < i; ++j) {
                assertTrue(seen[i] != seen[j], "every change is a new data contract");
            }
        }
    }

    /// @dev A timelocked risk change judges the very next batch: the same hedge (~2 bp of NAV lost to the pool) passes
    ///      at 50 bp max loss and is refused at 1 bp.
    function testRiskChangeThroughTimelockJudgesTheNextBatch() public {
        IHedgedVault.Action[] memory actions = _hedge(2_000_000 * USDC, 200 * WETH);
        uint256 snap = vm.snapshotState();
        _rebalance(actions); // passes under the default 50 bp
        vm.revertToState(snap);
        IHedgedVault.RiskParams memory r = _defaultRisk();
        r.maxLossBps = 1;
        _timelocked(abi.encodeCall(vault.setRiskParams, (r)));
        bytes memory ret = _revertData(keeper, abi.encodeCall(vault.rebalance, (actions, _noIds())));
        assertEq(_selector(ret), IHedgedVault.MaxLossExceeded.selector);
        (,, uint256 bps) = abi.decode(_args(ret), (uint256, uint256, uint256));
        assertEq(bps, 1, "judged with the new bound");
    }

    /// @dev A re-pointed feed prices the next NAV read (the vault owes WETH: a 10 % higher WETH price lowers NAV).
    function testRepointedFeedPricesTheNextNavRead() public {
        _rebalance(_hedge(2_000_000 * USDC, 200 * WETH));
        uint256 before = vault.totalAssets();
        uint256 price = _priceE8(weth) * 11 / 10;
        address replacement = makeAddr("newWethFeed");
        vm.etch(replacement, address(wethFeed).code);
        vm.mockCall(
            replacement,
            abi.encodeWithSelector(IAggregatorV3.latestRoundData.selector),
            abi.encode(uint80(1), int256(price), block.timestamp, block.timestamp, uint80(1))
        );
        vm.mockCall(
            replacement, abi.encodeWithSelector(IAggregatorV3.decimals.selector), abi.encode(uint8(8))
        );
        vm.prank(address(timelock));
        vault.setTrackedTokenFeed(IHedgedVault.TrackedToken(weth, replacement, wethPool, 18));
        assertEq(logic.checkedState(false).tokenPricesE8[0], price);
        // 200 WETH owed, ~10 % dearer: NAV down by ~20 WETH at the old price (~60k USDC on the devnet's 3,000).
        uint256 drop = before - vault.totalAssets();
        assertApproxEqRel(drop, 200 * WETH * (price - _priceE8(weth)) / 1e18 * USDC / 1e8, 0.01e18);
    }

    /// @dev Removing a token shifts the others' Aave reserves with them: WBTC owed on Aave is still counted (at its
    ///      own reserve) once WETH, listed before it, is retired, so NAV does not move.
    function testRemovingATokenKeepsTheOthersReserves() public {
        _rebalance(_actions(_aave(SUPPLY, usdc, 1_000_000 * USDC), _aave(BORROW, wbtc, 2 * WBTC)));
        _rebalance(_actions(_swap(wbtc, usdc, 2 * WBTC)));
        int256 owed = logic.checkedState(false).amounts[1];
        assertLt(owed, -int256(WBTC), "WBTC owed on Aave");
        uint256 before = vault.totalAssets();
        vm.prank(address(timelock));
        vault.removeTrackedToken(weth);
        assertEq(vault.totalAssets(), before, "WBTC's debt still read at WBTC's reserve");
        VaultLogic.State memory s = logic.checkedState(false);
        assertEq(s.amounts.length, 1);
        assertEq(s.amounts[0], owed);
        // And a re-added token comes back with its own reserve (a WETH supply is counted again).
        _rebalance(_actions(_aave(BORROW, weth, 10 * WETH)));
        uint256 withoutWeth = vault.totalAssets();
        vm.prank(address(timelock));
        vault.addTrackedToken(IHedgedVault.TrackedToken(weth, address(wethFeed), wethPool, 18));
        s = logic.checkedState(false);
        assertEq(s.amounts[0], owed, "WBTC first now");
        assertApproxEqAbs(s.amounts[1], 0, 2, "10 WETH in the wallet, 10 owed at WETH's reserve");
        assertApproxEqAbs(vault.totalAssets(), withoutWeth, 1, "the WETH debt offsets the WETH held");
    }
}
