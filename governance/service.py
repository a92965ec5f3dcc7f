"""The governance workflow on one target network: build an operation, simulate it on a fork, then (only if
asked) send what the signer must sign and check the real result against the simulation.

``scripts/governance.py`` is a click/ape front end over this class; tests drive it directly against anvil.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3

from governance.bounds import read_constants
from governance.explain import when
from governance.ops import Context, Operation
from governance.report import DECODER, Report, describe_tx
from governance.simulate import (
    Mark,
    PlanItem,
    Simulation,
    Step,
    compare,
    direct_plan,
    execute_plan,
    queue_plan,
    simulate,
)
from governance.state import read_params, read_view
from governance.timelock import (
    OperationState,
    TimelockOperation,
    cancel_tx,
    find_operation,
    min_delay,
    operation_state,
    scheduled_operations,
)
from keeper.chain.abi import ZERO_ADDRESS, ZERO_BYTES32, AbiError
from keeper.chain.client import Chain, Receipt, Sender, Tx
from keeper.chain.record import load_record
from keeper.model.exceptions import ConfigError


@dataclass
class Prepared:
    """An operation ready to simulate and send."""

    command: str
    summary: str
    plan: list[PlanItem]
    operation: Operation | None = None
    timelock_operation: TimelockOperation | None = None
    delay_seconds: int | None = None
    watch_accounts: tuple[str, ...] = ()
    watch_adapters: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
    simulation: Simulation | None = None
    receipts: list[Receipt] = field(default_factory=list)
    real_vs_simulation: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def signed(self) -> list[Tx]:
        return [s.tx for s in self.plan if isinstance(s, Step) and s.signed]

    @property
    def operation_id(self) -> bytes | None:
        return self.timelock_operation.id if self.timelock_operation else None


class Governance:
    """One vault deployment (a record with a ``vault`` section) on the chain at ``url``."""

    def __init__(self, url: str, record: dict[str, Any] | str, block_time_seconds: int = 12) -> None:
        self.url = url
        self.record = load_record(record) if isinstance(record, str) else record
        if "vault" not in self.record:
            raise ConfigError(
                f"the deployment record for {self.record.get('network', '?')} has no `vault` section; "
                "deploy first with `ape run deploy`"
            )
        self.chain = Chain(url)
        self.block_time_seconds = block_time_seconds
        chain_id = self.chain.chain_id
        if chain_id != int(self.record["chain_id"]):
            raise ConfigError(
                f"the node is chain {chain_id}, the record is for chain {self.record['chain_id']}; "
                "pick the matching --network"
            )
        if not self.chain.code(self.section["HedgedVault"]):
            raise ConfigError(f"no code at the record's HedgedVault {self.section['HedgedVault']} on chain {chain_id}")

    @property
    def section(self) -> dict[str, Any]:
        return dict(self.record["vault"])

    @property
    def timelock(self) -> str:
        return Web3.to_checksum_address(self.section["Timelock"])

    @property
    def vault(self) -> str:
        return Web3.to_checksum_address(self.section["HedgedVault"])

    @property
    def from_block(self) -> int:
        return int(self.section.get("deploy_block", 0))

    def names(self) -> dict[str, str]:
        """Known addresses → labels, for readable diffs."""
        s = self.section
        out: dict[str, str] = {
            s[k]: k for k in ("HedgedVault", "Timelock", "AaveV3Adapter", "UniswapV3Adapter", "VaultLens") if k in s
        }
        out |= {s[k]: k for k in ("guardian", "keeper", "fee_recipient", "deployer") if k in s}
        out |= {t["address"]: sym for sym, t in self.record["tokens"].items()}
        return out

    def context(self, extra_accounts: Sequence[str] = ()) -> Context:
        params = read_params(self.chain, self.section, extra_accounts=extra_accounts)
        constants = read_constants(lambda to, data: self.chain.call(to, data, what="vault bound constant"), self.vault)
        return Context(self.record, params, constants)

    # --- preparing ---

    def executor_for(self, signer: str) -> str:
        """Who executes at the ETA in a simulation: the signer if it may (or the role is open), else a holder."""
        holders = read_params(self.chain, self.section, extra_accounts=[signer]).timelock_roles["EXECUTOR_ROLE"]
        if Web3.to_checksum_address(ZERO_ADDRESS) in holders or Web3.to_checksum_address(signer) in holders:
            return Web3.to_checksum_address(signer)
        if not holders:
            raise ConfigError("the timelock has no executor; grant EXECUTOR_ROLE through a timelock operation")
        return holders[0]

    def prepare_queue(
        self,
        op: Operation,
        proposer: str,
        *,
        executor: str | None = None,
        delay_seconds: int | None = None,
        salt: bytes | None = None,
        predecessor: bytes = ZERO_BYTES32,
    ) -> Prepared:
        if op.route != "timelock":
            raise ConfigError(f"{op.kind} is a guardian operation; it does not go through the timelock")
        delay = min_delay(self.chain, self.timelock) if delay_seconds is None else delay_seconds
        tl_op = TimelockOperation(op.calls, predecessor, salt if salt is not None else secrets.token_bytes(32))
        state, _ = operation_state(self.chain, self.timelock, tl_op.id)
        if state != OperationState.UNSET:
            raise ConfigError(f"operation 0x{tl_op.id.hex()} already exists ({state.name.lower()}); use another --salt")
        plan = queue_plan(tl_op, self.timelock, proposer, executor or self.executor_for(proposer), delay)
        return Prepared(
            f"queue {op.kind}",
            op.summary,
            plan,
            op,
            tl_op,
            delay,
            op.watch_accounts,
            op.watch_adapters,
            notes=[*op.notes, f"diff taken at the ETA (now + {delay} s), so interest over the delay is not counted"],
        )

    def prepare_direct(self, op: Operation, signer: str) -> Prepared:
        if op.route != "guardian":
            raise ConfigError(f"{op.kind} must go through the timelock (`queue`)")
        return Prepared(
            op.kind,
            op.summary,
            direct_plan(op, signer),
            op,
            None,
            None,
            op.watch_accounts,
            op.watch_adapters,
            notes=list(op.notes),
        )

    def prepare_execute(self, operation_id: bytes, executor: str) -> Prepared:
        found = find_operation(self.chain, self.timelock, operation_id, self.from_block)
        notes = [f"operation is {found.state.name.lower()}" + (f", ETA {when(found.eta)}" if found.eta > 1 else "")]
        accounts, adapters = watched(found.operation.calls)
        return Prepared(
            "execute",
            f"execute 0x{operation_id.hex()}",
            execute_plan(found.operation, self.timelock, executor),
            None,
            found.operation,
            found.delay_seconds,
            watch_accounts=accounts,
            watch_adapters=adapters,
            notes=notes,
        )

    def prepare_cancel(self, operation_id: bytes, canceller: str) -> Prepared:
        found = find_operation(self.chain, self.timelock, operation_id, self.from_block)
        plan: list[PlanItem] = [
            Mark("before"),
            Step("cancel", canceller, cancel_tx(self.timelock, operation_id), True),
            Mark("after"),
        ]
        return Prepared(
            "cancel",
            f"cancel 0x{operation_id.hex()} ({found.state.name.lower()})",
            plan,
            None,
            found.operation,
            found.delay_seconds,
        )

    # --- simulating and sending ---

    def simulate(self, prepared: Prepared) -> Simulation:
        prepared.simulation = simulate(
            self.url,
            self.record,
            prepared.plan,
            watch_accounts=prepared.watch_accounts,
            watch_adapters=prepared.watch_adapters,
            operation_id=prepared.operation_id,
            block_time_seconds=self.block_time_seconds,
        )
        return prepared.simulation

    def send(self, prepared: Prepared, sender: Sender) -> list[Receipt]:
        """Send the signed transactions; refuses unless the simulation ran and succeeded."""
        if prepared.simulation is None or not prepared.simulation.ok:
            raise ConfigError(
                "refusing to send: the fork simulation did not succeed ("
                + str(prepared.simulation and prepared.simulation.error)
                + ")"
            )
        for step in prepared.plan:
            if (
                isinstance(step, Step)
                and step.signed
                and Web3.to_checksum_address(step.sender) != Web3.to_checksum_address(sender.address)
            ):
                raise ConfigError(f"the plan was simulated for {step.sender}, the signer is {sender.address}")
        prepared.receipts = [sender.send(tx) for tx in prepared.signed]
        prepared.real_vs_simulation = self.check_against_simulation(prepared)
        return prepared.receipts

    def check_against_simulation(self, prepared: Prepared) -> list[str]:
        """After sending: the real chain against the fork's prediction (empty when they agree)."""
        sim = prepared.simulation
        assert sim is not None
        if prepared.command.startswith("queue") and prepared.timelock_operation is not None:
            state, eta = operation_state(self.chain, self.timelock, prepared.timelock_operation.id)
            want_state, want_eta = sim.operation_states["queued"]
            problems = []
            if state != want_state:
                problems.append(f"operation state: simulated {want_state.name.lower()}, real {state.name.lower()}")
            if eta != want_eta:  # the block landed at another time than on the fork: the same result otherwise
                prepared.notes.append(f"ETA {when(eta)} is {eta - want_eta:+d} s from the simulated one (block time)")
            prepared.extra["eta"] = eta
            return problems
        real = read_view(self.chain, self.record, prepared.watch_adapters, prepared.watch_accounts)
        return compare(sim.views["after"], real)

    # --- reading ---

    def pending(self, include_all: bool = False) -> list[dict[str, Any]]:
        now = self.chain.timestamp()
        rows = []
        for op in scheduled_operations(self.chain, self.timelock, self.from_block):
            if not include_all and op.state not in (OperationState.WAITING, OperationState.READY):
                continue
            calls = [
                describe_tx(Tx(c.target, c.data, c.value))["decoded"] if c.target else "" for c in op.operation.calls
            ]
            rows.append(
                {
                    "id": "0x" + op.id.hex(),
                    "state": op.state.name.lower(),
                    "eta": op.eta if op.eta > 1 else None,
                    "eta_utc": when(op.eta) if op.eta > 1 else "",
                    "seconds_to_eta": max(op.eta - now, 0) if op.eta > 1 else None,
                    "delay_seconds": op.delay_seconds,
                    "scheduled_block": op.scheduled_block,
                    "predecessor": "0x" + op.operation.predecessor.hex(),
                    "salt": "0x" + op.operation.salt.hex(),
                    "calls": calls,
                }
            )
        return rows

    def report(self, prepared: Prepared) -> Report:
        op = prepared.operation
        calls: list[dict[str, Any]] = []
        if op is not None:
            calls = [describe_tx(Tx(c.target, c.data, c.value)) for c in op.calls]
        elif prepared.timelock_operation is not None:
            calls = [describe_tx(Tx(c.target, c.data, c.value)) for c in prepared.timelock_operation.calls]
        info: dict[str, Any] = {"route": op.route if op else "timelock", "calls": calls}
        tl = prepared.timelock_operation
        if tl is not None:
            info |= {"id": "0x" + tl.id.hex(), "salt": "0x" + tl.salt.hex(), "predecessor": "0x" + tl.predecessor.hex()}
            if prepared.delay_seconds is not None:
                info["delay_seconds"] = prepared.delay_seconds
            sim = prepared.simulation
            if sim is not None and "queued" in sim.operation_states:
                info["eta"] = sim.operation_states["queued"][1]
        extra = dict(prepared.extra)
        if prepared.receipts:
            extra["sent"] = [
                {"tx": r.tx_hash, "gas_used": r.gas_used, "block": r.block_number} for r in prepared.receipts
            ]
        if prepared.real_vs_simulation is not None:
            extra["real_vs_simulation"] = prepared.real_vs_simulation or "the real result matches the simulation"
        return Report(
            prepared.command,
            self.chain.chain_id,
            prepared.summary,
            info,
            [describe_tx(tx) for tx in prepared.signed],
            prepared.simulation,
            self.names(),
            extra=extra,
            notes=prepared.notes,
        )


def watched(calls: Sequence[Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(accounts, adapters) named in vault calls, so the diff shows their roles and adapter status."""
    accounts: list[str] = []
    adapters: list[str] = []
    for c in calls:
        try:
            call = DECODER.decode(c.data)
        except AbiError:
            continue
        if call.function == "setAdapter":
            adapters.append(call.args["adapter"])
        elif call.function in ("grantRole", "revokeRole"):
            accounts.append(call.args["account"])
        elif call.function == "setFeeParams":
            accounts.append(call.args["params"]["feeRecipient"])
    return tuple(dict.fromkeys(accounts)), tuple(dict.fromkeys(adapters))
