"""A JSON-RPC view of one chain for governance work: calls whose reverts come back decoded, transactions from
unlocked or impersonated accounts (anvil: devnet and forks), time travel, and logs.

Transactions signed by real keys go through ape in ``scripts/``; everything here is plain JSON-RPC.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Protocol

from web3 import Web3

from keeper.chain.artifacts import forge_artifact
from keeper.chain.connect import web3_for
from keeper.chain.revert import RevertDecoder
from keeper.chain.rpc import RpcClient, RpcError
from keeper.model.exceptions import HedgevaultError
from keeper.model.roles import ROLE_NAMES

_ADDRESS = re.compile(r"(?<![0-9a-fA-Fx])0x[0-9a-fA-F]{40}(?![0-9a-fA-F])")


_BYTES32 = re.compile(r"(?<![0-9a-fA-Fx])0x([0-9a-f]{64})(?![0-9a-fA-F])")


def _short_text(m: re.Match[str]) -> str:
    """A bytes32 holding a short ASCII name (``ParameterOutOfBounds(name=…)``) shown as that name."""
    raw = bytes.fromhex(m.group(1)).rstrip(b"\0")
    if raw and all(32 <= b < 127 for b in raw) and len(raw) < 32:
        return repr(raw.decode())
    return m.group(0)


class RevertError(HedgevaultError):
    """Raised when a call or transaction reverts; ``reason`` is the decoded custom error (role hashes by name)."""

    def __init__(self, what: str, reason: str, data: str | None = None) -> None:
        super().__init__(f"{what} reverted: {reason}")
        self.what = what
        self.reason = reason
        self.data = data


@cache
def decoder() -> RevertDecoder:
    names = ("HedgedVault", "Timelock", "AaveV3Adapter", "UniswapV3Adapter", "VaultLens", "PriceFeed")
    return RevertDecoder(forge_artifact(n).abi for n in names)


def humanize(reason: str) -> str:
    """Role hashes in a decoded reason shown by name (``neededRole=GUARDIAN_ROLE``)."""
    for role, name in ROLE_NAMES.items():
        if role != bytes(32):
            reason = reason.replace("0x" + role.hex(), name)
    reason = reason.replace("neededRole=0x" + "00" * 32, "neededRole=DEFAULT_ADMIN_ROLE")
    reason = _BYTES32.sub(_short_text, reason)
    return _ADDRESS.sub(lambda m: Web3.to_checksum_address(m.group(0)), reason)


def decode_revert(data: Any) -> str:
    if isinstance(data, dict):  # some nodes nest it
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return humanize(decoder().decode(data))
    return "reverted without data"


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    status: int
    gas_used: int
    block_number: int
    logs: tuple[dict[str, Any], ...] = ()
    contract_address: str | None = None


@dataclass(frozen=True)
class Tx:
    """One transaction to send: ``to`` None deploys ``data`` (creation code with constructor arguments)."""

    to: str | None
    data: bytes
    value: int = 0
    what: str = ""


class Sender(Protocol):
    """Something that signs and sends: an unlocked anvil account here, an ape account in ``scripts/``."""

    @property
    def address(self) -> str: ...

    def send(self, tx: Tx) -> Receipt: ...


@dataclass
class Chain:
    url: str
    rpc: RpcClient = field(init=False)
    w3: Web3 = field(init=False)

    def __post_init__(self) -> None:
        self.rpc = RpcClient(self.url, timeout_s=60.0)
        self.w3 = web3_for(self.url)

    # --- reads ---

    @property
    def chain_id(self) -> int:
        return int(self.rpc.call("eth_chainId"), 16)

    def block(self, tag: str | int = "latest") -> dict[str, Any]:
        return dict(self.rpc.call("eth_getBlockByNumber", [hex(tag) if isinstance(tag, int) else tag, False]))

    def timestamp(self) -> int:
        return int(self.block()["timestamp"], 16)

    def block_number(self) -> int:
        return int(self.rpc.call("eth_blockNumber"), 16)

    def code(self, address: str) -> bytes:
        return bytes.fromhex(self.rpc.call("eth_getCode", [address, "latest"])[2:])

    def nonce(self, address: str) -> int:
        return int(self.rpc.call("eth_getTransactionCount", [address, "latest"]), 16)

    def call(self, to: str | None, data: bytes, sender: str | None = None, what: str = "call", value: int = 0) -> bytes:
        """``eth_call`` (``to`` None: run creation code); raises RevertError with the decoded reason."""
        tx: dict[str, Any] = {"data": "0x" + data.hex()}
        if to is not None:
            tx["to"] = to
        if sender is not None:
            tx["from"] = sender
        if value:
            tx["value"] = hex(value)
        try:
            return bytes.fromhex(self.rpc.call("eth_call", [tx, "latest"])[2:])
        except RpcError as err:
            raise RevertError(
                what, decode_revert(err.data) if err.data else _node_error(err.rpc_message), _hex(err.data)
            ) from err

    def logs(self, address: str, topics: Sequence[str | None], from_block: int = 0) -> list[dict[str, Any]]:
        params = {"address": address, "topics": list(topics), "fromBlock": hex(from_block), "toBlock": "latest"}
        return list(self.rpc.call("eth_getLogs", [params]))

    # --- anvil: unlocked and impersonated senders, time ---

    def impersonate(self, address: str, fund_wei: int = 10**20) -> None:
        self.rpc.call("anvil_impersonateAccount", [address])
        if int(self.rpc.call("eth_getBalance", [address, "latest"]), 16) < fund_wei // 2:
            self.rpc.call("anvil_setBalance", [address, hex(fund_wei)])

    def send_unlocked(self, sender: str, tx: Tx) -> Receipt:
        """Send from an account anvil holds unlocked (or impersonates). A revert is decoded from an ``eth_call``
        at the same state first, so nothing reverting is mined."""
        self.call(tx.to, tx.data, sender=sender, what=tx.what or "transaction", value=tx.value)
        params: dict[str, Any] = {"from": sender, "data": "0x" + tx.data.hex()}
        if tx.to is not None:
            params["to"] = tx.to
        if tx.value:
            params["value"] = hex(tx.value)
        try:
            tx_hash = self.rpc.call("eth_sendTransaction", [params])
        except RpcError as err:
            reason = decode_revert(err.data) if err.data else err.rpc_message
            raise RevertError(tx.what or "transaction", reason) from err
        receipt = self.receipt(tx_hash)
        if receipt.status != 1:
            raise RevertError(tx.what or "transaction", f"mined with status 0 (tx {tx_hash})")
        return receipt

    def receipt(self, tx_hash: str, timeout_s: float = 120.0) -> Receipt:
        deadline = time.monotonic() + timeout_s
        pause = 0.005
        while (raw := self.rpc.call("eth_getTransactionReceipt", [tx_hash])) is None:
            if time.monotonic() > deadline:
                raise HedgevaultError(f"no receipt for {tx_hash} after {timeout_s} s: is the node mining?")
            time.sleep(pause)
            pause = min(pause * 2, 1.0)
        return Receipt(
            tx_hash=tx_hash,
            status=int(raw["status"], 16),
            gas_used=int(raw["gasUsed"], 16),
            block_number=int(raw["blockNumber"], 16),
            logs=tuple(raw["logs"]),
            contract_address=Web3.to_checksum_address(raw["contractAddress"]) if raw.get("contractAddress") else None,
        )

    def advance(self, seconds: int) -> int:
        """Mine one block ``seconds`` after the latest; returns its timestamp."""
        ts = self.timestamp() + seconds
        self.rpc.call("evm_setNextBlockTimestamp", [ts])
        self.rpc.call("evm_mine")
        return ts


@dataclass
class UnlockedSender:
    """A sender anvil signs for (its dev accounts, or an impersonated address on a fork)."""

    chain: Chain
    account: str

    @property
    def address(self) -> str:
        return Web3.to_checksum_address(self.account)

    def send(self, tx: Tx) -> Receipt:
        return self.chain.send_unlocked(self.address, tx)


def _node_error(message: str) -> str:
    if "CreateContractSizeLimit" in message:
        return (
            f"{message}: the runtime code is over EIP-170's 24,576 bytes and this network refuses it "
            "(split the contract, as HedgedVault/VaultLogic and the venue's facets are)"
        )
    return message


def _hex(data: Any) -> str | None:
    return data if isinstance(data, str) else None
