"""Decoded reverts in words a signer acts on: who lacks which role on which contract, what state a timelock
operation is in and when it is ready, which bound was hit."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from governance.timelock import OperationState, expected_states, operation_state
from keeper.chain.client import Chain, Tx


def _contract_name(address: str | None, record: dict[str, Any]) -> str:
    section = record.get("vault", {})
    for name in ("HedgedVault", "Timelock"):
        if address and str(section.get(name, "")).lower() == address.lower():
            return name
    return address or "contract creation"


def when(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def explain(reason: str, tx: Tx, sender: str, record: dict[str, Any], chain: Chain | None = None) -> str:
    """``reason`` (a decoded revert) with a sentence saying what it means for this transaction."""
    contract = _contract_name(tx.to, record)
    m = re.match(r"AccessControlUnauthorizedAccount\(account=(0x[0-9a-fA-F]{40}), neededRole=(\w+)\)", reason)
    if m:
        return f"{reason}: {m.group(1)} does not hold {m.group(2)} on the {contract}; sign with an account that does"
    m = re.match(
        r"TimelockUnexpectedOperationState\(operationId=(0x[0-9a-f]{64}), expectedStates=(0x[0-9a-f]+)\)", reason
    )
    if m:
        wanted = " or ".join(expected_states(int(m.group(2), 16)))
        text = f"{reason}: the operation must be {wanted}"
        if chain is not None and tx.to is not None:
            state, eta = operation_state(chain, tx.to, bytes.fromhex(m.group(1)[2:]))
            text += f", it is {state.name.lower()}"
            if state == OperationState.WAITING:
                wait = eta - chain.timestamp()
                text += f" until its ETA {when(eta)} (in {wait // 3600} h {wait % 3600 // 60} min)"
            elif state == OperationState.UNSET:
                text += " (never scheduled, or cancelled)"
        return text
    m = re.match(r"TimelockInsufficientDelay\(delay=(\d+), minDelay=(\d+)\)", reason)
    if m:
        minimum = m.group(2)
        return (
            f"{reason}: the delay {m.group(1)} s is below the timelock's minimum {minimum} s; pass --delay ≥ {minimum}"
        )
    m = re.match(r"TimelockUnexecutedPredecessor\(predecessorId=(0x[0-9a-f]{64})\)", reason)
    if m:
        return f"{reason}: execute the predecessor operation {m.group(1)} first"
    if reason.startswith("EnforcedPause"):
        return f"{reason}: the vault is paused"
    if reason.startswith("ExpectedPause"):
        return f"{reason}: the vault must be paused first"
    if reason.startswith("NotGuardianOrGovernance"):
        return f"{reason}: only the guardian or governance may unwind"
    return reason
