"""Execute a plan: encode its actions through the protocol adapters into one ``HedgedVault.rebalance`` call,
send it with the transaction manager, confirm it. Every broadcast (replacements too) is reported to the store
through ``on_sent`` before the keeper waits on it."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from adapters.base import EncodedAction, ProtocolAdapter
from keeper.app.loop import Execution, PlanRejectedError
from keeper.chain.abi import contract_abi, encode_call
from keeper.chain.txmanager import SentTx, TxManager, TxRevertedError, TxSimulationError
from keeper.model import Plan
from keeper.model.exceptions import HedgevaultError

_VAULT_ABI = contract_abi("HedgedVault")


class NoAdapterError(HedgevaultError):
    """Raised when a plan holds an action no configured adapter encodes."""


def rebalance_calldata(actions: Sequence[EncodedAction], fulfil_ids: Sequence[int] = ()) -> str:
    return "0x" + encode_call(_VAULT_ABI, "rebalance", [list(actions), list(fulfil_ids)]).hex()


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
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock, self._sleep = clock, sleep
        self.timings: dict[str, float] = {}  # of the last execute: encode, then the tx manager's send phases
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
        t0 = time.perf_counter()
        data = self.encode(plan)
        self.timings = {"encode_s": time.perf_counter() - t0}

        def report(sent: SentTx) -> None:
            on_sent(sent.tx_hash, sent.nonce, sent.max_fee_wei, sent.priority_fee_wei)

        self.txm.listeners.append(report)
        try:
            try:
                sent = self.txm.send(self.vault, data)
            except TxSimulationError as err:
                raise PlanRejectedError(err.reason) from err
            self.timings.update(self.txm.timings, sent_at=time.perf_counter())
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

    def resync(self) -> None:
        """Forget the local nonce (after a node reset); the next send reads it from the chain."""
        if self.txm is not None:
            self.txm.resync_nonce()

    def await_or_cancel(self, tx_hashes: list[str], *, nonce: int, max_fee_wei: int, priority_fee_wei: int) -> str:
        """Make a transaction left by a previous run final: ``"mined"`` if a version lands (it may still be in
        the pool, so wait for it first), otherwise cancel the nonce so no version ever can. Returns what
        happened, in words, or ``"mined"``."""
        deadline = self._clock() + float(self._wait["stuck_after_s"])
        while self._clock() < deadline:
            if any(self.receipt_status(h) is not None for h in tx_hashes):
                return "mined"
            if self.txm.mined_nonce() > nonce:
                break  # the nonce was used by something else, and none of our versions has a receipt
            self._sleep(0.5)
        if any(self.receipt_status(h) is not None for h in tx_hashes):
            return "mined"
        if self.txm.mined_nonce() > nonce:
            return f"nonce {nonce} was used by another transaction; none of the plan's versions was mined"
        self.txm.fill_gap(nonce)
        cancel = self.txm.cancel(nonce, above_max_fee_wei=max_fee_wei, above_priority_fee_wei=priority_fee_wei)
        try:
            self.txm.wait(cancel, **self._wait)  # type: ignore[arg-type]
        except HedgevaultError as err:
            return f"cancellation of nonce {nonce} not confirmed: {err}"
        finally:
            self.txm.resync_nonce()
        if any(self.receipt_status(h) is not None for h in tx_hashes):
            return "mined"
        return f"cancelled: nonce {nonce} taken by self-transfer {cancel.tx_hash}"
