"""Run an operation on a fork of the target network before anything is signed.

A plan is a list of steps: transactions from impersonated senders (the proposer, the executor, the guardian),
time travel (to a timelock operation's ETA) and marks where the vault's parameters and risk are read. The fork
is a fresh ``anvil --fork-url <target>`` on a free loopback port, stopped afterwards whatever happens; the
target is never written. Blocks on the fork follow the target's block time from its latest block, so a direct
operation lands at the same timestamp it would on the devnet and the fork predicts the real result exactly.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3

from governance.explain import explain
from governance.ops import Operation
from governance.state import VaultView, read_view
from governance.timelock import OperationState, TimelockOperation, operation_state
from keeper.chain.anvil import AnvilProcess
from keeper.chain.client import Chain, RevertError, Tx


@dataclass(frozen=True)
class Step:
    """A transaction in the plan; ``signed`` marks the ones the signer sends now (the rest happen later)."""

    what: str
    sender: str
    tx: Tx
    signed: bool


@dataclass(frozen=True)
class Travel:
    seconds: int


@dataclass(frozen=True)
class Mark:
    name: str


PlanItem = Step | Travel | Mark


@dataclass(frozen=True)
class StepResult:
    what: str
    sender: str
    to: str | None
    ok: bool
    gas_used: int = 0
    tx_hash: str = ""
    block_timestamp: int = 0
    reason: str = ""
    contract_address: str | None = None


@dataclass
class Simulation:
    fork_block: int
    chain_id: int
    seconds: float = 0.0
    steps: list[StepResult] = field(default_factory=list)
    views: dict[str, VaultView] = field(default_factory=dict)
    operation_states: dict[str, tuple[OperationState, int]] = field(default_factory=dict)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def fork_args(record: dict[str, Any]) -> list[str]:
    """anvil flags of the target that change execution, repeated on its fork: the record's ``node_args`` (the
    devnet raises the block gas limit); a real network's record has none, so its fork keeps the real limits."""
    return [str(a) for a in record.get("node_args", ())]


def direct_plan(op: Operation, signer: str) -> list[PlanItem]:
    steps: list[PlanItem] = [Mark("before")]
    steps += [Step(op.summary, signer, Tx(c.target, c.data, c.value, f"HedgedVault {op.kind}"), True) for c in op.calls]
    return [*steps, Mark("after")]


def queue_plan(
    tl_op: TimelockOperation, timelock: str, proposer: str, executor: str, delay_seconds: int
) -> list[PlanItem]:
    """Schedule now (signed), then on the fork only: travel to the ETA, read, execute, read."""
    return [
        Mark("now"),
        Step("schedule", proposer, tl_op.schedule(timelock, delay_seconds), True),
        Mark("queued"),
        Travel(delay_seconds),
        Mark("before"),
        Step("execute at ETA", executor, tl_op.execute(timelock), False),
        Mark("after"),
    ]


def execute_plan(tl_op: TimelockOperation, timelock: str, executor: str) -> list[PlanItem]:
    return [Mark("before"), Step("execute", executor, tl_op.execute(timelock), True), Mark("after")]


def simulate(
    target_url: str,
    record: dict[str, Any],
    plan: Sequence[PlanItem],
    *,
    watch_accounts: Iterable[str] = (),
    watch_adapters: Iterable[str] = (),
    operation_id: bytes | None = None,
    block_time_seconds: int = 12,
) -> Simulation:
    """Fork ``target_url`` at its latest block and run ``plan`` there (deploy plans need no ``vault`` section:
    marks are skipped until one exists)."""
    started = time.perf_counter()
    accounts, adapters = list(watch_accounts), list(watch_adapters)
    with AnvilProcess(fork_url=target_url, extra_args=fork_args(record)) as fork:
        chain = Chain(fork.url)
        latest = chain.block()
        chain.rpc.call("evm_setNextBlockTimestamp", [int(latest["timestamp"], 16) + block_time_seconds])
        chain.rpc.call("anvil_setBlockTimestampInterval", [block_time_seconds])
        sim = Simulation(fork_block=int(latest["number"], 16), chain_id=chain.chain_id)
        timelock = record.get("vault", {}).get("Timelock")
        for item in plan:
            if isinstance(item, Mark):
                if "vault" in record:
                    sim.views[item.name] = read_view(chain, record, adapters, accounts)
                if operation_id is not None and timelock:
                    sim.operation_states[item.name] = operation_state(chain, timelock, operation_id)
            elif isinstance(item, Travel):
                chain.advance(item.seconds)
            else:
                sender = Web3.to_checksum_address(item.sender)
                chain.impersonate(sender)
                try:
                    receipt = chain.send_unlocked(sender, item.tx)
                except RevertError as err:
                    reason = explain(err.reason, item.tx, sender, record, chain)
                    sim.steps.append(StepResult(item.what, sender, item.tx.to, False, reason=reason))
                    sim.error = f"{item.what} ({item.tx.what}) reverted on the fork: {reason}"
                    break
                ts = int(chain.block(receipt.block_number)["timestamp"], 16)
                sim.steps.append(
                    StepResult(
                        item.what,
                        sender,
                        item.tx.to,
                        True,
                        receipt.gas_used,
                        receipt.tx_hash,
                        ts,
                        contract_address=receipt.contract_address,
                    )
                )
    sim.seconds = time.perf_counter() - started
    return sim


def compare(expected: VaultView, actual: VaultView, rel: float = 1e-9) -> list[str]:
    """Differences between a simulated view and the real one: parameters exactly, risk within ``rel``."""
    problems = []
    want, got = expected.params.flat(), actual.params.flat()
    for key in sorted(set(want) | set(got)):
        if want.get(key) != got.get(key):
            problems.append(f"{key}: simulated {want.get(key)}, real {got.get(key)}")
    wn, gn = expected.risk.numbers(), actual.risk.numbers()
    for key in sorted(set(wn) | set(gn)):
        a, b = wn.get(key, float("nan")), gn.get(key, float("nan"))
        if a == b or (a != a and b != b):  # equal, or both NaN
            continue
        if abs(a - b) > rel * max(abs(a), abs(b)):
            problems.append(f"risk {key}: simulated {a!r}, real {b!r}")
    return problems
