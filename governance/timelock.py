"""OpenZeppelin TimelockController operations: ids exactly as ``hashOperation``/``hashOperationBatch`` compute
them, the schedule/execute/cancel calldata, and queued operations recovered from ``CallScheduled``/``CallSalt``
events with their state from ``getOperationState`` and their ETA from ``getTimestamp``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from eth_abi import decode, encode
from eth_utils import keccak
from web3 import Web3

from keeper.chain.abi import ZERO_BYTES32, contract_abi, encode_call, event_topic
from keeper.chain.client import Chain, Tx
from keeper.model.exceptions import HedgevaultError

_TIMELOCK_ABI = contract_abi("Timelock")
CALL_SCHEDULED = event_topic(_TIMELOCK_ABI, "CallScheduled")
CALL_SALT = event_topic(_TIMELOCK_ABI, "CallSalt")
CANCELLED = event_topic(_TIMELOCK_ABI, "Cancelled")
CALL_EXECUTED = event_topic(_TIMELOCK_ABI, "CallExecuted")


class OperationState(enum.IntEnum):
    """TimelockController.OperationState; CANCELLED is ours (Unset after a ``Cancelled`` event)."""

    UNSET = 0
    WAITING = 1
    READY = 2
    DONE = 3
    CANCELLED = 100


def expected_states(bitmap: int) -> list[str]:
    """Names of the states in a ``TimelockUnexpectedOperationState`` bitmap (bit i = OperationState i)."""
    return [s.name.lower() for s in OperationState if s < 100 and bitmap & (1 << s)]


class TimelockError(HedgevaultError, ValueError):
    """Raised for an operation that cannot be built or found (bad length, unknown id)."""


@dataclass(frozen=True)
class Call:
    """One call the timelock (or a signer) makes."""

    target: str
    data: bytes
    value: int = 0


@dataclass(frozen=True)
class TimelockOperation:
    """A single or batch operation; ``id`` equals the timelock's ``hashOperation[Batch]``."""

    calls: tuple[Call, ...]
    predecessor: bytes = ZERO_BYTES32
    salt: bytes = ZERO_BYTES32

    def __post_init__(self) -> None:
        if not self.calls:
            raise TimelockError("a timelock operation needs at least one call")
        if len(self.predecessor) != 32 or len(self.salt) != 32:
            raise TimelockError("predecessor and salt must be 32 bytes")

    @property
    def is_batch(self) -> bool:
        return len(self.calls) > 1

    @property
    def id(self) -> bytes:
        if self.is_batch:
            encoded = encode(
                ["address[]", "uint256[]", "bytes[]", "bytes32", "bytes32"],
                [
                    [c.target for c in self.calls],
                    [c.value for c in self.calls],
                    [c.data for c in self.calls],
                    self.predecessor,
                    self.salt,
                ],
            )
        else:
            c = self.calls[0]
            encoded = encode(
                ["address", "uint256", "bytes", "bytes32", "bytes32"],
                [c.target, c.value, c.data, self.predecessor, self.salt],
            )
        return bytes(keccak(encoded))

    def _args(self) -> list[object]:
        if self.is_batch:
            return [
                [Web3.to_checksum_address(c.target) for c in self.calls],
                [c.value for c in self.calls],
                [c.data for c in self.calls],
                self.predecessor,
                self.salt,
            ]
        c = self.calls[0]
        return [Web3.to_checksum_address(c.target), c.value, c.data, self.predecessor, self.salt]

    def schedule(self, timelock: str, delay_seconds: int) -> Tx:
        name = "scheduleBatch" if self.is_batch else "schedule"
        data = encode_call(contract_abi("Timelock"), name, [*self._args(), delay_seconds])
        return Tx(Web3.to_checksum_address(timelock), data, 0, f"Timelock.{name}")

    def execute(self, timelock: str) -> Tx:
        name = "executeBatch" if self.is_batch else "execute"
        value = sum(c.value for c in self.calls)
        return Tx(
            Web3.to_checksum_address(timelock),
            encode_call(contract_abi("Timelock"), name, self._args()),
            value,
            f"Timelock.{name}",
        )


def cancel_tx(timelock: str, operation_id: bytes) -> Tx:
    return Tx(
        Web3.to_checksum_address(timelock),
        encode_call(contract_abi("Timelock"), "cancel", [operation_id]),
        0,
        "Timelock.cancel",
    )


@dataclass(frozen=True)
class ScheduledOperation:
    """An operation found in the timelock's events, with its state and ETA now."""

    operation: TimelockOperation
    delay_seconds: int
    scheduled_block: int
    state: OperationState
    eta: int  # unix time it becomes ready (0 when unset; 1 = done, as the timelock stores it)
    tx_hash: str = ""
    calls_executed: int = field(default=0)

    @property
    def id(self) -> bytes:
        return self.operation.id


def _view(chain: Chain, timelock: str, name: str, args: Sequence[object]) -> bytes:
    return chain.call(timelock, encode_call(contract_abi("Timelock"), name, list(args)), what=f"Timelock.{name}")


def operation_state(chain: Chain, timelock: str, operation_id: bytes) -> tuple[OperationState, int]:
    state = OperationState(decode(["uint8"], _view(chain, timelock, "getOperationState", [operation_id]))[0])
    eta = int(decode(["uint256"], _view(chain, timelock, "getTimestamp", [operation_id]))[0])
    return state, eta


def min_delay(chain: Chain, timelock: str) -> int:
    return int(decode(["uint256"], _view(chain, timelock, "getMinDelay", []))[0])


def scheduled_operations(chain: Chain, timelock: str, from_block: int = 0) -> list[ScheduledOperation]:
    """Every operation ever scheduled on ``timelock`` (oldest first), rebuilt from its events and checked
    against its id; state and ETA as the timelock reports them now."""
    scheduled = chain.logs(timelock, [CALL_SCHEDULED], from_block)
    salts = {
        log["topics"][1]: bytes(decode(["bytes32"], bytes.fromhex(log["data"][2:]))[0])
        for log in chain.logs(timelock, [CALL_SALT], from_block)
    }
    cancelled = {log["topics"][1] for log in chain.logs(timelock, [CANCELLED], from_block)}
    grouped: dict[str, list[dict[str, object]]] = {}
    for log in scheduled:
        grouped.setdefault(log["topics"][1], []).append(log)
    result = []
    for op_hex, logs in grouped.items():
        calls, predecessor, delay = [], ZERO_BYTES32, 0
        ordered = sorted(logs, key=lambda lg: int(str(lg["topics"][2]), 16))  # type: ignore[index]
        for log in ordered:
            target, value, data, predecessor, delay = decode(
                ["address", "uint256", "bytes", "bytes32", "uint256"], bytes.fromhex(str(log["data"])[2:])
            )
            calls.append(Call(Web3.to_checksum_address(target), bytes(data), int(value)))
        op = TimelockOperation(tuple(calls), bytes(predecessor), salts.get(op_hex, ZERO_BYTES32))
        if "0x" + op.id.hex() != op_hex:
            raise TimelockError(f"operation {op_hex}: events do not hash back to the id (got 0x{op.id.hex()})")
        state, eta = operation_state(chain, timelock, op.id)
        if state == OperationState.UNSET and op_hex in cancelled:
            state = OperationState.CANCELLED
        first = ordered[0]
        result.append(
            ScheduledOperation(
                op, int(delay), int(str(first["blockNumber"]), 16), state, eta, str(first.get("transactionHash", ""))
            )
        )
    return sorted(result, key=lambda s: s.scheduled_block)


def find_operation(chain: Chain, timelock: str, operation_id: bytes, from_block: int = 0) -> ScheduledOperation:
    for op in scheduled_operations(chain, timelock, from_block):
        if op.id == operation_id:
            return op
    raise TimelockError(
        f"operation 0x{operation_id.hex()} was never scheduled on timelock {timelock}; list queued ones with "
        "`ape run governance pending`"
    )


def parse_operation_id(text: str) -> bytes:
    raw = text.removeprefix("0x")
    if len(raw) != 64:
        raise TimelockError(f"operation id {text!r} must be 32 bytes of hex (0x + 64 digits), as `pending` prints it")
    try:
        return bytes.fromhex(raw)
    except ValueError as err:
        raise TimelockError(f"operation id {text!r} is not hex") from err
