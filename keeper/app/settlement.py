"""Settlement, the venue's keeper job: after an expiry the vault holds, fix its settlement price (anyone may,
once, from the feed's first round at or after expiry) and cash the vault's accounts holding it.

Until the price is fixed the venue values an expired position strictly (``ExpiryNotSettled``): it refuses the
account's trades and withdrawals, and ``marginOf`` reverts, so the vault's venue-margin post-check refuses *every*
rebalance of a vault holding one. The keeper therefore fixes due prices first, before it decides the tick's plan
(:meth:`Settler.settle_expiries`, a job the loop runs ahead of the plan), and cashes the accounts after the tick
(:meth:`Settler.run`). Both are plain venue calls signed by the keeper (no vault rebalance: settlement moves value
only between an account and the venue's pool). Each is simulated before it is signed; a failure is logged and
retried next block, never fatal to the loop (the assessor then blocks the tick's rebalance, which the vault would
refuse anyway: :func:`unsettled_expiries`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from adapters.vault_lens import VaultState
from keeper.chain.abi import FunctionAbi, contract_abi, decode_outputs, encode_call
from keeper.chain.rpc import RpcClient
from keeper.chain.txmanager import TxManager
from keeper.model.exceptions import HedgevaultError

log = logging.getLogger("hedgevault.keeper")


MARKET_ABI = contract_abi("IOptionMarket")
FEED_ABI = contract_abi("PriceFeed")


@dataclass(frozen=True)
class Due:
    market: str
    underlying_id: int
    expiry_s: int


def unsettled_expiries(state: VaultState) -> list[Due]:
    """Expiries the vault holds a position in whose settlement price is not fixed yet (expired, size ≠ 0)."""
    due: set[Due] = set()
    for venue in state.options:
        p = venue.positions
        expired = (p.expiry_s <= state.block_timestamp) & (p.size != 0) & (p.settlement_usd == 0)
        for i in expired.nonzero()[0]:
            due.add(Due(venue.market, int(p.underlying_id[i]), int(p.expiry_s[i])))
    return sorted(due, key=lambda d: (d.expiry_s, d.underlying_id))


class Settler:
    """Fixes settlement prices and cashes accounts for the vault's expired venue positions."""

    def __init__(self, client: RpcClient, txm: TxManager | None, timeout_s: float = 120.0) -> None:
        self.client, self.txm, self.timeout_s = client, txm, timeout_s

    def due(self, state: VaultState) -> tuple[list[Due], list[tuple[str, int]]]:
        """Expiries to settle (expired, held, price not fixed) and accounts to cash (holding a settled expiry)."""
        accounts: set[tuple[str, int]] = set()
        for venue in state.options:
            p = venue.positions
            settled = (p.expiry_s <= state.block_timestamp) & (p.size != 0) & (p.settlement_usd != 0)
            for i in settled.nonzero()[0]:
                accounts.add((venue.market, int(p.account_id[i])))
        return unsettled_expiries(state), sorted(accounts)

    def settle_expiries(self, state: VaultState) -> list[str]:
        """Fix the settlement price of every expiry the vault holds that is due; returns what was done (or why not).
        Run before the tick decides: until the price is fixed the vault refuses every rebalance."""
        if self.txm is None or not state.options:
            return []
        notes: list[str] = []
        for d in unsettled_expiries(state):
            try:
                round_id = self.settlement_round(d)
                self._send(d.market, "settleExpiry", [d.underlying_id, d.expiry_s, round_id])
                notes.append(f"settled expiry {d.expiry_s} of underlying {d.underlying_id} (round {round_id})")
            except HedgevaultError as err:
                notes.append(f"settling expiry {d.expiry_s} of underlying {d.underlying_id} failed: {err}")
        for note in notes:
            log.info("settlement: %s", note)
        return notes

    def run(self, state: VaultState) -> list[str]:
        """Settle what is due; returns what was done (or why not), one line each."""
        if self.txm is None or not state.options:
            return []
        expiries, accounts = self.due(state)
        if expiries:
            return self.settle_expiries(state)  # the accounts are cashed next block, from a lens with the prices
        notes: list[str] = []
        for market, account in accounts:
            try:
                self._send(market, "settleAccount", [account])
                notes.append(f"cashed the settled positions of venue account {account}")
            except HedgevaultError as err:
                notes.append(f"cashing venue account {account} failed: {err}")
        for note in notes:
            log.info("settlement: %s", note)
        return notes

    def settlement_round(self, d: Due) -> int:
        """The feed's first round with updatedAt ≥ expiry (binary search over round ids)."""
        (info,) = self._view(d.market, MARKET_ABI, "underlying", [d.underlying_id])
        feed = info["feed"]
        (latest,) = self._view(feed, FEED_ABI, "latestRound", [])
        if self._updated_at(feed, latest) < d.expiry_s:
            raise SettlementError(f"the feed {feed} has no round at or after expiry {d.expiry_s} yet")
        lo, hi = 1, latest
        while lo < hi:
            mid = (lo + hi) // 2
            if self._updated_at(feed, mid) >= d.expiry_s:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _updated_at(self, feed: str, round_id: int) -> int:
        _, _, _, updated_at, _ = self._view(feed, FEED_ABI, "getRoundData", [round_id])
        return int(updated_at)

    def _view(self, to: str, abi: tuple[FunctionAbi, ...], fn: str, args: list[int]) -> tuple[Any, ...]:
        raw = self.client.eth_call(to, "0x" + encode_call(abi, fn, args).hex())
        return decode_outputs(abi, fn, raw)

    def _send(self, to: str, fn: str, args: list[int]) -> None:
        assert self.txm is not None
        sent = self.txm.send(to, "0x" + encode_call(MARKET_ABI, fn, args).hex())
        self.txm.wait(sent, timeout_s=self.timeout_s)


class SettlementError(HedgevaultError):
    """Raised when an expiry cannot be settled yet (no feed round at or after it)."""
