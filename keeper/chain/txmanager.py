"""Send the keeper's transactions: simulate, price, sign, track, replace when stuck, confirm.

The manager owns the signer's nonce outright (one in-flight transaction per nonce, no monkeypatching):
it reads the pending count once, then counts locally and re-syncs only when the node says the nonce is
wrong. Fees are EIP-1559: ``maxFee = min(cap, baseFee × multiplier + tip)``; when the base fee alone
exceeds the cap nothing is sent. A transaction not mined within ``stuck_after_s`` is re-sent with the
same nonce and both fees bumped (≥ 12.5 %, above the 10 % nodes require), up to ``max_replacements``.

Simulation is ``eth_createAccessList`` (one or two executions: gas used and the slots touched, batched with the
fee and nonce reads in one round trip), then an ``eth_call`` of the exact transaction — gas limit and access
list as they will be signed — so what is sent has been executed as sent. ``eth_estimateGas`` binary-searches
the gas limit with a dozen executions (anvil does): with a large option book valued on-chain that was most of
a tick. It remains the fallback when the node lacks ``eth_createAccessList`` or the limit proves short.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount

from keeper.chain.revert import RevertDecoder
from keeper.chain.rpc import Call, RpcClient, RpcError
from keeper.chain.signing import DynamicFeeSigner
from keeper.model.exceptions import HedgevaultError

GWEI = 10**9


class TxError(HedgevaultError):
    """Raised for any transaction that could not be sent or did not succeed."""


class TxSimulationError(TxError):
    """Raised when the transaction reverts in simulation; nothing was signed or sent."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"simulation reverted: {reason}")
        self.reason = reason


class FeeCapExceededError(TxError):
    """Raised when the current base fee alone is above the configured fee cap; nothing was sent."""


class TxRevertedError(TxError):
    """Raised when a mined transaction has status 0; ``reason`` is decoded from the vault's errors."""

    def __init__(self, tx_hash: str, reason: str, receipt: dict[str, Any]) -> None:
        super().__init__(f"transaction {tx_hash} reverted on-chain: {reason}")
        self.tx_hash = tx_hash
        self.reason = reason
        self.receipt = receipt


class TxTimeoutError(TxError):
    """Raised when no version of the transaction was mined within the timeout."""


@dataclass(frozen=True)
class FeePolicy:
    """EIP-1559 pricing. Wei amounts; ``replacement_bump_bps`` of 1250 is +12.5 % per replacement."""

    max_fee_cap_wei: int = 300 * GWEI
    priority_fee_wei: int = 1 * GWEI
    base_fee_multiplier: int = 2
    replacement_bump_bps: int = 1250

    def __post_init__(self) -> None:
        if self.priority_fee_wei > self.max_fee_cap_wei:
            raise ValueError(
                f"priority_fee_wei={self.priority_fee_wei} exceeds max_fee_cap_wei={self.max_fee_cap_wei}; "
                "lower the tip or raise the cap in the [tx] section"
            )
        if self.replacement_bump_bps < 1000:
            raise ValueError(
                f"replacement_bump_bps={self.replacement_bump_bps} is below 1000 (10 %), the minimum nodes "
                "accept for a replacement; set it to at least 1000"
            )


@dataclass
class SentTx:
    """A transaction as sent; ``hashes`` lists every version (replacements append)."""

    nonce: int
    to: str
    data: str
    value_wei: int
    gas: int
    max_fee_wei: int
    priority_fee_wei: int
    sent_at_s: float
    hashes: list[str] = field(default_factory=list)
    access_list: list[dict[str, Any]] = field(default_factory=list)  # EIP-2930, as simulated

    @property
    def tx_hash(self) -> str:
        return self.hashes[-1]


class TxManager:
    """Signs with a local account and sends through ``client``; see the module docstring."""

    def __init__(
        self,
        client: RpcClient,
        account: LocalAccount,
        chain_id: int,
        fees: FeePolicy,
        decoder: RevertDecoder | None = None,
        *,
        gas_margin_bps: int = 2000,
        access_lists: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.account = account
        self.chain_id = chain_id
        self.fees = fees
        self.decoder = decoder or RevertDecoder()
        self.gas_margin_bps = gas_margin_bps
        self._signer = DynamicFeeSigner(bytes(account.key))
        self.access_lists = access_lists  # simulate with eth_createAccessList (+ exact eth_call); else estimateGas
        self._clock = clock
        self._sleep = sleep
        self._nonce: int | None = None
        self.listeners: list[Callable[[SentTx], None]] = []  # called before every broadcast (replacements too)
        self.timings: dict[str, float] = {}  # of the last send: simulate, fees and nonce, sign, broadcast

    @property
    def address(self) -> str:
        return str(self.account.address)

    # --- simulation and pricing ---

    def simulate(self, to: str, data: str, value_wei: int = 0) -> int:
        """Gas estimate for the call (``eth_estimateGas``), or TxSimulationError with the decoded revert reason."""
        tx = {"from": self.address, "to": to, "data": data, "value": hex(value_wei)}
        try:
            return int(self.client.call("eth_estimateGas", [tx, "pending"]), 16)
        except RpcError as err:
            raise TxSimulationError(self._reason(err)) from err

    def _with_margin(self, gas: int) -> int:
        return gas * (10_000 + self.gas_margin_bps) // 10_000

    def _simulate_with_access_list(
        self, tx: dict[str, Any]
    ) -> tuple[tuple[int, list[dict[str, Any]]] | None, dict[str, Any] | None]:
        """One batch: ``eth_createAccessList``, the latest block (fees), the pending nonce if unknown. Returns
        ((gas limit, access list), latest block); None for the first when ``eth_estimateGas`` must decide (the
        node lacks the method, or the exact call ran out of gas), and for the block when it was not read."""
        calls = [Call("eth_createAccessList", [tx, "pending"]), Call("eth_getBlockByNumber", ["latest", False])]
        if self._nonce is None:
            calls.append(Call("eth_getTransactionCount", [self.address, "pending"]))
        try:
            replies = self.client.batch(calls)
        except RpcError as err:
            if err.method != "eth_createAccessList":
                raise
            message = err.rpc_message.lower()
            if err.code == -32601 or "not found" in message or "not supported" in message:
                self.access_lists = False  # this node cannot: eth_estimateGas from now on
                return None, None
            raise TxSimulationError(self._reason(err)) from err
        result, block = replies[0], replies[1]
        if len(replies) > 2:
            self._nonce = int(replies[2], 16)
        if result.get("error"):  # geth reports a revert inside the result, without the revert data
            try:
                self.client.call("eth_call", [tx, "pending"])
            except RpcError as err:
                raise TxSimulationError(self._reason(err)) from err
            raise TxSimulationError(str(result["error"]))
        gas_limit = min(self._with_margin(int(result["gasUsed"], 16)), int(block.get("gasLimit", "0x0"), 16) or 2**63)
        access_list = list(result.get("accessList") or [])
        # The exact transaction, executed as it will be signed: a limit short of what execution needs (refunds
        # and the 63/64 rule make the need exceed the gas used) fails here, and eth_estimateGas decides instead.
        try:
            self.client.call("eth_call", [{**tx, "gas": hex(gas_limit), "accessList": access_list}, "pending"])
        except RpcError as err:
            if not _is_out_of_gas(err):
                # Not necessarily the call's own revert: an inner call starved of gas comes back from a proxy or
                # facet dispatcher as a revert without data, and a staticcall read that runs dry reads as "no
                # answer" and reverts with a reason. The same call at the node's cap (no gas field) decides.
                try:
                    self.client.call("eth_call", [{**tx, "accessList": access_list}, "pending"])
                except RpcError as at_cap:
                    raise TxSimulationError(self._reason(at_cap)) from at_cap
            return None, block
        return (gas_limit, access_list), block

    def quote_fees(self, block: dict[str, Any] | None = None) -> tuple[int, int]:
        """(maxFeePerGas, maxPriorityFeePerGas) in wei for the next block, within the cap (``block``: the latest
        block if already read)."""
        if block is None:
            block = self.client.call("eth_getBlockByNumber", ["latest", False])
        base_fee = int(block.get("baseFeePerGas", "0x0"), 16)
        if base_fee > self.fees.max_fee_cap_wei:
            raise FeeCapExceededError(
                f"base fee {base_fee / GWEI:.2f} gwei exceeds max_fee_cap "
                f"{self.fees.max_fee_cap_wei / GWEI:.2f} gwei; nothing was sent. Wait for fees to fall "
                "or raise tx.max_fee_cap_gwei in the keeper config"
            )
        priority = self.fees.priority_fee_wei
        max_fee = min(self.fees.max_fee_cap_wei, base_fee * self.fees.base_fee_multiplier + priority)
        return max_fee, min(priority, max_fee)

    # --- sending ---

    def next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = int(self.client.call("eth_getTransactionCount", [self.address, "pending"]), 16)
        return self._nonce

    def resync_nonce(self) -> int:
        """Forget the local nonce and read the node's pending count (after a restart or an error)."""
        self._nonce = None
        return self.next_nonce()

    def send(self, to: str, data: str, value_wei: int = 0, gas: int | None = None) -> SentTx:
        """Simulate, price, sign and broadcast. Raises before signing when simulation reverts."""
        t0 = time.perf_counter()
        tx = {"from": self.address, "to": to, "data": data, "value": hex(value_wei)}
        simulated, block = self._simulate_with_access_list(tx) if self.access_lists else (None, None)
        gas_limit, access_list = simulated or (self._with_margin(self.simulate(to, data, value_wei)), [])
        t1 = time.perf_counter()
        max_fee, priority = self.quote_fees(block)
        nonce = self.next_nonce()
        sent = SentTx(nonce, to, data, value_wei, gas or gas_limit, max_fee, priority, self._clock(), [], access_list)
        t2 = time.perf_counter()
        self._broadcast(sent)
        self._nonce = sent.nonce + 1
        self.timings = {"simulate_s": t1 - t0, "fees_and_nonce_s": t2 - t1, **self.timings}
        return sent

    def replace(self, sent: SentTx) -> SentTx:
        """Re-send ``sent`` with the same nonce and both fees bumped (the cap still applies)."""
        bump = 10_000 + self.fees.replacement_bump_bps
        new_priority = -(-sent.priority_fee_wei * bump // 10_000)
        new_max_fee = -(-sent.max_fee_wei * bump // 10_000)
        if new_max_fee > self.fees.max_fee_cap_wei:
            raise FeeCapExceededError(
                f"replacing nonce {sent.nonce} needs max fee {new_max_fee / GWEI:.2f} gwei, above the cap "
                f"{self.fees.max_fee_cap_wei / GWEI:.2f} gwei; raise tx.max_fee_cap_gwei or wait"
            )
        sent.max_fee_wei, sent.priority_fee_wei, sent.sent_at_s = new_max_fee, new_priority, self._clock()
        self._broadcast(sent)
        return sent

    def wait(
        self,
        sent: SentTx,
        *,
        timeout_s: float = 120.0,
        stuck_after_s: float = 36.0,
        max_replacements: int = 3,
        poll_s: float = 0.5,
    ) -> dict[str, Any]:
        """Receipt of whichever version was mined; replaces when stuck; raises on revert or timeout."""
        deadline = self._clock() + timeout_s
        replacements = 0
        while self._clock() < deadline:
            for tx_hash in reversed(sent.hashes):
                receipt = self.client.call("eth_getTransactionReceipt", [tx_hash])
                if receipt is not None:
                    return self._check(sent, tx_hash, receipt)
            if self._clock() - sent.sent_at_s >= stuck_after_s and replacements < max_replacements:
                if self.fill_gap(sent.nonce):
                    sent.sent_at_s = self._clock()  # the gap is filled: give the queued version its chance
                    continue
                try:
                    self.replace(sent)  # also re-broadcasts a version the node dropped from its pool
                except TxError:
                    if self.mined_nonce() <= sent.nonce:
                        raise
                    # The nonce is used: by one of our versions (its receipt is read now) or by a stranger.
                    for tx_hash in reversed(sent.hashes):
                        receipt = self.client.call("eth_getTransactionReceipt", [tx_hash])
                        if receipt is not None:
                            return self._check(sent, tx_hash, receipt)
                    raise TxError(
                        f"nonce {sent.nonce} was used by another transaction of {self.address}; none of this "
                        f"transaction's versions ({', '.join(sent.hashes)}) was mined"
                    ) from None
                replacements += 1
                continue
            self._sleep(poll_s)
        raise TxTimeoutError(
            f"nonce {sent.nonce} not mined within {timeout_s} s after {replacements} replacements "
            f"(hashes {', '.join(sent.hashes)}); it may still be mined: the manager keeps the nonce"
        )

    def fill_gap(self, nonce: int) -> list[SentTx]:
        """If nonces below ``nonce`` were never mined (a dropped or lost transaction left a gap), a transaction
        at ``nonce`` can never be mined: fill each missing nonce with a zero-value self-transfer. Returns them."""
        return [self.cancel(missing) for missing in range(self.mined_nonce(), nonce)]

    def cancel(self, nonce: int, *, above_max_fee_wei: int = 0, above_priority_fee_wei: int = 0) -> SentTx:
        """Occupy ``nonce`` with a zero-value self-transfer priced above a known version (by the replacement
        bump), so whatever else was signed at that nonce can never be mined. Not waited for."""
        bump = 10_000 + self.fees.replacement_bump_bps
        max_fee, priority = self.quote_fees()
        priority = max(priority, -(-above_priority_fee_wei * bump // 10_000))
        max_fee = max(max_fee, priority, -(-above_max_fee_wei * bump // 10_000))
        if max_fee > self.fees.max_fee_cap_wei:
            raise FeeCapExceededError(
                f"cancelling nonce {nonce} needs max fee {max_fee / GWEI:.2f} gwei, above the cap "
                f"{self.fees.max_fee_cap_wei / GWEI:.2f} gwei; raise tx.max_fee_cap_gwei or wait"
            )
        sent = SentTx(nonce, self.address, "0x", 0, 21_000, max_fee, priority, self._clock())
        self._broadcast(sent)
        return sent

    def mined_nonce(self) -> int:
        """Number of the signer's transactions mined (the next nonce the chain will accept to mine)."""
        return int(self.client.call("eth_getTransactionCount", [self.address, "latest"]), 16)

    def balance_wei(self) -> int:
        return int(self.client.call("eth_getBalance", [self.address, "latest"]), 16)

    # --- internals ---

    def _broadcast(self, sent: SentTx) -> None:
        tx: dict[str, Any] = {
            "chainId": self.chain_id,
            "nonce": sent.nonce,
            "to": sent.to,
            "data": sent.data,
            "value": sent.value_wei,
            "gas": sent.gas,
            "maxFeePerGas": sent.max_fee_wei,
            "maxPriorityFeePerGas": sent.priority_fee_wei,
            "accessList": sent.access_list,
        }
        t0 = time.perf_counter()
        signed = self._signer.sign(tx)  # byte-identical to eth_account's, without its per-field formatting
        tx_hash = "0x" + bytes(signed.hash).hex()
        self.timings = {"sign_s": time.perf_counter() - t0}
        sent.hashes.append(tx_hash)
        # Listeners (the keeper's store) learn the hash BEFORE the node does: a process killed right after
        # the broadcast still knows what it may have sent, and reconciles it on restart.
        for listener in self.listeners:
            listener(sent)
        t1 = time.perf_counter()
        try:
            self.client.call("eth_sendRawTransaction", ["0x" + bytes(signed.raw_transaction).hex()])
            self.timings["broadcast_s"] = time.perf_counter() - t1
        except RpcError as err:
            message = err.rpc_message.lower()
            if "already known" in message or "already imported" in message:
                return  # the node has exactly this version: fine
            if "nonce" in message:
                self.resync_nonce()
            raise TxError(f"node rejected nonce {sent.nonce}: {err.rpc_message}") from err

    def _check(self, sent: SentTx, tx_hash: str, receipt: dict[str, Any]) -> dict[str, Any]:
        if int(receipt["status"], 16) == 1:
            return receipt
        # Replay at the receipt's block parent to recover the revert data for the reason.
        block = int(receipt["blockNumber"], 16)
        call = {"from": self.address, "to": sent.to, "data": sent.data, "value": hex(sent.value_wei)}
        reason = "reverted (no reason recovered)"
        try:
            self.client.call("eth_call", [call, hex(block - 1)])
        except RpcError as err:
            reason = self._reason(err)
        raise TxRevertedError(tx_hash, reason, receipt)

    def _reason(self, err: RpcError) -> str:
        data = err.data
        if isinstance(data, dict):
            data = data.get("data")
        if isinstance(data, str) and data.startswith("0x"):
            return self.decoder.decode(data)
        return err.rpc_message


def _is_out_of_gas(err: RpcError) -> bool:
    message = err.rpc_message.lower().replace(" ", "")
    return "outofgas" in message or "oog" in message or "gasrequiredexceeds" in message
