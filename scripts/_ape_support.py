"""ape glue shared by the scripts (``deploy.py``, ``governance.py``, ``feed.py``) (not a script: the leading underscore
keeps ``ape run`` from listing it): signer resolution (ape keyfile aliases, ``TEST::N`` dev accounts, Safes),
sending through an ape account, and the common output and exit codes.

Private keys never pass through here: keyfile accounts sign inside ape (passphrase prompted, or from
``APE_ACCOUNTS_<alias>_PASSPHRASE``), test accounts are ape's dev mnemonic.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console

from keeper.chain.artifacts import forge_artifact
from keeper.chain.client import Receipt, RevertError, Tx, decode_revert
from keeper.model.exceptions import HedgevaultError

console = Console(width=140)
err_console = Console(stderr=True, width=140)

EXIT_BAD_INPUT = 2
EXIT_SIMULATION_FAILED = 1


def forge_contract(name: str) -> Any:
    """An ape ``ContractContainer`` for the project's contract ``name`` from forge's build (``out/``), the one
    artifact source: ape compiles nothing. ``.at(address)`` for a deployed one, ``account.deploy(container, …)``
    to deploy."""
    from ape.contracts import ContractContainer
    from ethpm_types import ContractType

    artifact = forge_artifact(name)
    contract_type = ContractType.model_validate(
        {
            "contractName": name,
            "abi": artifact.abi,
            "deploymentBytecode": {"bytecode": artifact.bytecode},
            "runtimeBytecode": {"bytecode": artifact.deployed_bytecode},
        }
    )
    return ContractContainer(contract_type)


def target_url() -> str:
    """The connected provider's HTTP endpoint (never printed: it may hold an API key)."""
    from ape import networks

    provider = networks.provider
    url = getattr(provider, "http_uri", None) or getattr(provider, "uri", None)
    if not url:
        fail("the connected ape provider has no HTTP endpoint; use a node or foundry provider", EXIT_BAD_INPUT)
    return str(url)


def load_account(alias: str) -> Any:
    """An ape account by alias, or ``TEST::N`` (ape's dev mnemonic = anvil's default accounts)."""
    from ape import accounts

    if alias.upper().startswith("TEST::"):
        index = int(alias.split("::", 1)[1])
        return accounts.test_accounts[index]
    try:
        return accounts.load(alias)
    except Exception as err:
        known = ", ".join(accounts.aliases) or "none"
        fail(
            f"--account {alias}: no such ape account ({err}); known aliases: {known}, or TEST::N on a dev network",
            EXIT_BAD_INPUT,
        )


def address_or_account(text: str) -> str:
    """An address given as ``0x…``, ``TEST::N`` or an ape alias (for role holders and recipients)."""
    if text.startswith("0x"):
        return text
    return str(load_account(text).address)


class ApeSender:
    """Signs and sends through an ape account (keyfile or dev account)."""

    def __init__(self, account: Any) -> None:
        self.account = account

    @property
    def address(self) -> str:
        return str(self.account.address)

    def send(self, tx: Tx) -> Receipt:
        from ape import networks
        from ape.exceptions import ApeException

        ecosystem = networks.provider.network.ecosystem
        kwargs: dict[str, Any] = {"data": tx.data, "value": tx.value, "sender": self.address}
        if tx.to is not None:
            kwargs["receiver"] = tx.to
        txn = ecosystem.create_transaction(**kwargs)
        try:
            receipt = self.account.call(txn)
        except ApeException as err:
            data = getattr(err, "revert_message", None) or str(err)
            reason = decode_revert(data) if isinstance(data, str) and data.startswith("0x") else str(data)
            raise RevertError(tx.what or "transaction", reason) from err
        status = int(getattr(receipt.status, "value", receipt.status))
        if status != 1:
            raise RevertError(tx.what or "transaction", f"mined with status {status} (tx {receipt.txn_hash})")
        return Receipt(
            tx_hash=str(receipt.txn_hash),
            status=status,
            gas_used=int(receipt.gas_used),
            block_number=int(receipt.block_number),
            contract_address=receipt.contract_address,
        )


class SafeSender:
    """Sends as a Safe through ape-safe: signs with the owners' local keys and executes when the threshold is
    met, or (``propose_only``) posts the SafeTx with the local signatures to the Safe Transaction Service
    (ape-safe's mock service on a local network)."""

    def __init__(self, safe: Any, submitter: Any | None, propose_only: bool) -> None:
        self.safe, self.submitter, self.propose_only = safe, submitter, propose_only
        self.proposals: list[str] = []

    @property
    def address(self) -> str:
        return str(self.safe.address)

    def send(self, tx: Tx) -> Receipt:
        from ape import networks

        txn = networks.provider.network.ecosystem.create_transaction(
            receiver=tx.to, data=tx.data, value=tx.value, sender=self.address
        )
        if self.propose_only:
            safe_tx = self.safe.create_safe_tx(txn)
            self.proposals.append(str(self.safe.propose_safe_tx(safe_tx, submitter=self.submitter)))
            return Receipt(tx_hash="", status=1, gas_used=0, block_number=0)
        receipt = self.safe.call(txn, submitter=self.submitter) if self.submitter else self.safe.call(txn)
        return Receipt(
            str(receipt.txn_hash),
            int(getattr(receipt.status, "value", receipt.status)),
            int(receipt.gas_used),
            int(receipt.block_number),
        )


def load_safe(text: str) -> Any:
    """A Safe by ape-safe alias, or by address (cached in a temporary ape-safe account file). On a local network
    the Safe's singleton is registered from its proxy storage, so ape-safe never looks it up online."""
    from ape import accounts, chain
    from ape_safe.accounts import SafeAccount
    from ape_safe.factory import SafeFactory
    from ape_safe.packages import PackageType

    if text.startswith("0x"):
        folder = Path(tempfile.mkdtemp(prefix="hv-safe-"))
        path = folder / f"safe-{text[2:10].lower()}.json"
        path.write_text(json.dumps({"address": text, "deployed_chain_ids": [chain.chain_id]}))
        safe = SafeAccount(account_file_path=path)
    else:
        safe = accounts.containers["safe"].load_account(text)
    if chain.provider.network.is_local:
        version = safe.version
        raw = chain.provider.get_storage(safe.address, 0)
        singleton = chain.provider.network.ecosystem.decode_address(raw[-20:])
        SafeFactory._singleton[version] = PackageType.SINGLETON(version).at(singleton)
    return safe


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    err_console.print(f"[red bold]error:[/red bold] {message}")
    sys.exit(code)


def guarded(fn: Callable[[], int]) -> None:
    """Run a command body: bad input → exit 2 with the message, a failed simulation → exit 1."""
    try:
        code = fn()
    except HedgevaultError as err:
        fail(str(err), EXIT_BAD_INPUT if isinstance(err, ValueError) else EXIT_SIMULATION_FAILED)
    except click.ClickException:
        raise
    sys.exit(code)
