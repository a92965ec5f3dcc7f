// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AaveV3Adapter} from "../../../adapters/AaveV3Adapter.sol";
import {UniswapV3Adapter} from "../../../adapters/UniswapV3Adapter.sol";
import {Timelock} from "../../../governance/Timelock.sol";
import {IHedgedVault} from "../../../interfaces/IHedgedVault.sol";
import {HedgedVault} from "../../../vault/HedgedVault.sol";
import {HandlerBase} from "./HandlerBase.sol";

/// @notice Governance through the timelock (propose, execute once ready, or too early), the guardian (pause,
///         tighten), and attackers calling every setter directly. Ghosts: the risk parameters the vault should
///         have (changed only by executed timelock operations and guardian tightening), and counters of changes
///         that should have been impossible.
contract GovernanceHandler is HandlerBase {
    struct Op {
        bytes data;
        bytes32 salt;
        uint256 readyAt;
        bool done;
        bool isRisk;
        IHedgedVault.RiskParams risk;
    }

    Op[] internal _ops;
    IHedgedVault.RiskParams internal _expected;
    uint256 public ghost_unauthorizedChanges;
    uint256 public ghost_earlyExecutions;
    uint256 public ghost_executed;
    uint256 public ghost_tightenings;
    address internal _evil = makeAddr("evil");

    constructor(HedgedVault vault_, Timelock timelock_, AaveV3Adapter aave_, UniswapV3Adapter uni_)
        HandlerBase(vault_, timelock_, aave_, uni_)
    {
        _expected = vault_.riskParams();
    }

    function expectedRisk() external view returns (IHedgedVault.RiskParams memory) {
        return _expected;
    }

    /* TIMELOCK */

    function proposeRisk(uint256 seed) external counted("proposeRisk") {
        IHedgedVault.RiskParams memory r = IHedgedVault.RiskParams({
            healthFactorFloorWad: bound(seed, 1.1e18, 2e18),
            maxLossBps: uint16(bound(seed >> 64, 10, 100)),
            maxSlippageBps: uint16(bound(seed >> 80, 50, 300)),
            turnoverBudgetBps: uint32(bound(seed >> 96, 10_000, 100_000)),
            lossBudgetBps: uint16(bound(seed >> 128, 20, 500)),
            periodSeconds: uint32(bound(seed >> 144, 1 hours, 7 days)),
            heartbeatSeconds: uint32(bound(seed >> 176, 1 hours, 1 days)),
            maxOracleDeviationBps: uint16(bound(seed >> 208, 100, 1000)),
            twapWindowSeconds: 600
        });
        _schedule(abi.encodeCall(vault.setRiskParams, (r)), true, r);
    }

    function proposeUnpause() external counted("proposeUnpause") {
        IHedgedVault.RiskParams memory none;
        _schedule(abi.encodeCall(vault.unpause, ()), false, none);
    }

    /// @dev Executes the oldest ready operation (as a diligent multisig would), or, when none is ready, tries a
    ///      pending one too early: that must fail.
    function execute(uint256 seed) external counted("execute") {
        uint256 n = _ops.length;
        if (n == 0) return _skip("execute.none");
        uint256 pick = n;
        for (uint256 i; i < n; ++i) {
            if (!_ops[i].done && _ops[i].readyAt <= block.timestamp) {
                pick = i;
                break;
            }
        }
        if (pick == n) pick = seed % n;
        Op storage op = _ops[pick];
        if (op.done) return _skip("execute.done");
        vm.prank(proposer);
        try timelock.execute(address(vault), 0, op.data, bytes32(0), op.salt) {
            if (block.timestamp < op.readyAt) ++ghost_earlyExecutions;
            op.done = true;
            ++ghost_executed;
            if (op.isRisk) _expected = op.risk;
        } catch {
            // too early, or an unpause while not paused: nothing changed
            if (op.readyAt <= block.timestamp) op.done = true;
        }
    }

    function _schedule(bytes memory data, bool isRisk, IHedgedVault.RiskParams memory r) internal {
        bytes32 s = bytes32(_ops.length + 1);
        vm.prank(proposer);
        timelock.schedule(address(vault), 0, data, bytes32(0), s, TIMELOCK_DELAY);
        _ops.push(Op(data, s, block.timestamp + TIMELOCK_DELAY, false, isRisk, r));
    }

    /* GUARDIAN */

    /// @dev The guardian pauses now and then (one call in eight); governance answers with a timelocked unpause.
    function pause(uint256 seed) external counted("pause") {
        if (vault.paused() || seed % 8 != 0) return _skip("pause.skipped");
        vm.prank(guardian);
        vault.pause();
        IHedgedVault.RiskParams memory none;
        _schedule(abi.encodeCall(vault.unpause, ()), false, none);
    }

    /// @dev Tighten one field a little (when it can be); the vault must accept it.
    function tighten(uint256 field) external counted("tighten") {
        IHedgedVault.RiskParams memory r = vault.riskParams();
        field %= 4;
        if (field == 0 && r.healthFactorFloorWad < 5e18) r.healthFactorFloorWad += 0.01e18;
        else if (field == 1 && r.maxLossBps > 5) r.maxLossBps -= 1;
        else if (field == 2 && r.lossBudgetBps > 10) r.lossBudgetBps -= 1;
        else if (field == 3 && r.maxSlippageBps > 30) r.maxSlippageBps -= 1;
        else return _skip("tighten.floor");
        vm.prank(guardian);
        try vault.tightenRiskParams(r) {
            _expected = r;
            ++ghost_tightenings;
        } catch {
            ++ghost_unauthorizedChanges; // a valid tightening must pass
        }
    }

    /* ATTACKERS */

    /// @dev Anyone but the timelock (keeper, guardian, proposer, depositors, an outsider) calls a governance
    ///      entry point directly, or the guardian tries to loosen: every one must revert.
    function attack(uint256 callerSeed, uint256 which) external counted("attack") {
        address[5] memory callers = [keeper, guardian, proposer, alice, _evil];
        address caller = callers[callerSeed % 5];
        IHedgedVault.RiskParams memory loose = vault.riskParams();
        loose.maxLossBps = 500;
        loose.lossBudgetBps = 1000;
        bytes memory data;
        which %= 9;
        if (which == 0) {
            data = abi.encodeCall(vault.setRiskParams, (loose));
        } else if (which == 1) {
            data = abi.encodeCall(vault.setFeeParams, (IHedgedVault.FeeParams(_evil, 200, 3000, 0)));
        } else if (which == 2) {
            data = abi.encodeCall(vault.setDepositCap, (type(uint256).max));
        } else if (which == 3) {
            data = abi.encodeCall(vault.setAdapter, (_evil, true));
        } else if (which == 4) {
            data = abi.encodeCall(vault.setMaxFulfilDelay, (3 days));
        } else if (which == 5) {
            data = abi.encodeCall(vault.unpause, ());
        } else if (which == 6) {
            data = abi.encodeCall(vault.grantRole, (vault.KEEPER_ROLE(), _evil));
        } else if (which == 7) {
            data = abi.encodeCall(vault.tightenRiskParams, (loose)); // loosening
        } else {
            data = abi.encodeCall(
                vault.addTrackedToken, (IHedgedVault.TrackedToken(_evil, _evil, address(0), 18))
            );
        }
        bytes32 before = keccak256(abi.encode(vault.riskParams(), vault.feeParams(), vault.depositCap()));
        vm.prank(caller);
        (bool ok,) = address(vault).call(data);
        bytes32 afterwards = keccak256(abi.encode(vault.riskParams(), vault.feeParams(), vault.depositCap()));
        if (ok) ++ghost_unauthorizedChanges;
        if (before != afterwards) ++ghost_unauthorizedChanges;
    }

    /// @dev An outsider tries to schedule or execute on the timelock (no proposer/executor role).
    function attackTimelock(uint256 seed) external counted("attackTimelock") {
        bytes memory data = abi.encodeCall(vault.setDepositCap, (seed));
        vm.prank(_evil);
        try timelock.schedule(address(vault), 0, data, bytes32(0), bytes32(seed), TIMELOCK_DELAY) {
            ++ghost_unauthorizedChanges;
        } catch {}
    }
}
