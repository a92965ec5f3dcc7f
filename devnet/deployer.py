"""web3.py helpers for deploying and calling from anvil's unlocked accounts (devnet and tests only)."""

from __future__ import annotations

from typing import Any

from web3 import Web3
from web3.contract import Contract

from keeper.chain.artifacts import Artifact
from keeper.model.exceptions import HedgevaultError


class DevnetTxError(HedgevaultError):
    """Raised when a devnet transaction reverts or a deployment produces no code."""


class Deployer:
    """Sends from one unlocked anvil account and waits for each receipt; counts gas."""

    def __init__(self, w3: Web3, sender: str) -> None:
        self.w3 = w3
        self.sender = Web3.to_checksum_address(sender)
        self.gas_used = 0
        self.transactions = 0
        self.pending: list[tuple[dict[str, Any], str]] | None = None  # batch mode: encoded, not yet sent

    def deploy(self, artifact: Artifact, *args: Any, libraries: dict[str, str] | None = None) -> Contract:
        bytecode = artifact.linked(libraries or {}) if artifact.needs_linking else artifact.bytecode
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=bytecode)
        receipt = self._wait(factory.constructor(*args).transact({"from": self.sender}), f"deploy {artifact.name}")
        address = receipt["contractAddress"]
        if not self.w3.eth.get_code(address):
            raise DevnetTxError(f"deploy {artifact.name}: no code at {address}")
        return self.w3.eth.contract(address=address, abi=artifact.abi)

    def send(
        self, call: Any, what: str, sender: str | None = None, value: int = 0, gas: int | None = None
    ) -> dict[str, Any]:
        """Send and wait for the receipt; inside a ``pending`` list (see MarketDriver.one_block) only send."""
        tx: dict[str, Any] = {"from": Web3.to_checksum_address(sender) if sender else self.sender}
        if value:
            tx["value"] = value
        if gas is not None:
            tx["gas"] = gas
        if self.pending is not None:
            if gas is None:
                raise DevnetTxError(f"{what}: a batched transaction needs an explicit gas limit (no estimate)")
            # Encoded here, sent later in one JSON-RPC batch by whoever owns the batch (MarketDriver.one_block).
            tx.update(to=call.address, data=call._encode_transaction_data(), gas=hex(gas), value=hex(value))
            self.pending.append((tx, what))
            return {}
        return self._wait(call.transact(tx), what)

    def _wait(self, tx_hash: Any, what: str) -> dict[str, Any]:
        receipt: dict[str, Any] = dict(self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60))
        self.transactions += 1
        self.gas_used += int(receipt["gasUsed"])
        if receipt["status"] != 1:
            raise DevnetTxError(f"{what} reverted (tx {tx_hash.hex()})")
        return receipt
