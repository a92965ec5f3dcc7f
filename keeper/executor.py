"""Execute a plan: encode its actions through the protocol adapters into one ``HedgedVault.rebalance`` call,
send it with the transaction manager, confirm it. Every broadcast (replacements too) is reported to the store
through ``on_sent`` before the keeper waits on it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector

from adapters.base import EncodedAction, ProtocolAdapter
from keeper.chain.txmanager import SentTx, TxManager, TxRevertedError
from keeper.exceptions import HedgevaultError
from keeper.loop import Execution
from keeper.policy import Plan

_REBALANCE = function_signature_to_4byte_selector("rebalance((address,bytes)[],uint256[])")


class NoAdapterError(HedgevaultError):
    """Raised when a plan holds an action no configured adapter encodes."""


def rebalance_calldata(actions: Sequence[EncodedAction], fulfil_ids: Sequence[int] = ()) -> str:
    return "0x" + (_REBALANCE + encode(["(address,bytes)[]", "uint256[]"], [list(actions), list(fulfil_ids)])).hex()


class VaultExecutor:
    def __init__(
        self,
        txm: TxManager,
        vault: str,
        adapters: Sequence[ProtocolAdapter],
        *,
        receipt_timeout_s: float = 180.0,
        stuck_after_s: float = 36.0,
        max_replacements: int = 3,
    ) -> None:
        self.txm = txm
        self.vault = vault
        self.adapters = adapters
        self._wait = {
            "timeout_s": receipt_timeout_s,
            "stuck_after_s": stuck_after_s,
            "max_replacements": max_replacements,
        }

    def encode(self, plan: Plan) -> str:
        encoded = []
        for action in plan.actions:
            adapter = next((a for a in self.adapters if a.handles(action)), None)
            if adapter is None:
                raise NoAdapterError(
                    f"no adapter encodes {action.kind!r}; configured: {', '.join(a.name for a in self.adapters)}"
                )
            encoded.append(adapter.encode(action))
        return rebalance_calldata(encoded)

    def execute(self, plan: Plan, on_sent: Callable[[str, int, int, int], None]) -> Execution:
        data = self.encode(plan)

        def report(sent: SentTx) -> None:
            on_sent(sent.tx_hash, sent.nonce, sent.max_fee_wei, sent.priority_fee_wei)

        self.txm.listeners.append(report)
        try:
            sent = self.txm.send(self.vault, data)
            try:
                receipt = self.txm.wait(sent, **self._wait)  # type: ignore[arg-type]
            except TxRevertedError as err:
                r = err.receipt
                return Execution(
                    tuple(sent.hashes),
                    "reverted",
                    int(r["blockNumber"], 16),
                    int(r["gasUsed"], 16),
                    int(r.get("effectiveGasPrice", "0x0"), 16),
                    err.reason,
                )
        finally:
            self.txm.listeners.remove(report)
        return Execution(
            tuple(sent.hashes),
            "mined",
            int(receipt["blockNumber"], 16),
            int(receipt["gasUsed"], 16),
            int(receipt.get("effectiveGasPrice", "0x0"), 16),
            None,
        )

    def receipt_status(self, tx_hash: str) -> Execution | None:
        receipt = self.txm.client.call("eth_getTransactionReceipt", [tx_hash])
        if receipt is None:
            return None
        status = "mined" if int(receipt["status"], 16) == 1 else "reverted"
        return Execution(
            (tx_hash,),
            status,
            int(receipt["blockNumber"], 16),
            int(receipt["gasUsed"], 16),
            int(receipt.get("effectiveGasPrice", "0x0"), 16),
            None,
        )
