"""The vault's and the timelock's access-control roles: name → bytes32 id (OpenZeppelin AccessControl)."""

from __future__ import annotations

from eth_utils import keccak

_ROLE_LABELS = (
    "GOVERNANCE_ROLE",
    "GUARDIAN_ROLE",
    "KEEPER_ROLE",
    "PROPOSER_ROLE",
    "EXECUTOR_ROLE",
    "CANCELLER_ROLE",
)
ROLES: dict[str, bytes] = {"DEFAULT_ADMIN_ROLE": bytes(32)} | {n: keccak(text=n) for n in _ROLE_LABELS}
ROLE_NAMES: dict[bytes, str] = {v: k for k, v in ROLES.items()}
