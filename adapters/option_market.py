"""The option venue (OptionMarket): policy actions → OptionMarketAdapter calldata.

Valuing the venue book off-chain from the lens's positions is the keeper's job (``keeper.app.venue_book``).
"""

from __future__ import annotations

import math

from eth_abi import encode

from adapters.base import EncodedAction
from keeper.model import Action, MarginDeposit, OptionTrade, VenueAccountOpen
from keeper.model.exceptions import HedgevaultError

WAD = 10**18
OPEN_ACCOUNT, DEPOSIT, WITHDRAW, BUY, SELL, SETTLE = range(6)


class VenueAccountError(HedgevaultError, ValueError):
    """Raised when an action does not name a venue account the vault owns."""


class OptionMarket:
    """Encodes venue actions for the vault's OptionMarketAdapter (run by DELEGATECALL in the vault)."""

    name = "option_market"

    def __init__(self, adapter_address: str) -> None:
        self.adapter_address = adapter_address

    def handles(self, action: Action) -> bool:
        return isinstance(action, OptionTrade | MarginDeposit | VenueAccountOpen)

    def encode(self, action: Action) -> EncodedAction:
        if isinstance(action, VenueAccountOpen):
            return self._op(OPEN_ACCOUNT, 0, 0, 0, 0)
        assert isinstance(action, OptionTrade | MarginDeposit)
        if action.account_id <= 0:
            raise VenueAccountError(
                f"{action.kind} names venue account {action.account_id}; plans must carry the vault's account id "
                "(the assessor fills it from the lens)"
            )
        if isinstance(action, MarginDeposit):
            return self._op(DEPOSIT, action.account_id, 0, int(action.amount_usdc * (1 - 1e-12) * 1e6), 0)
        size_wad = int(abs(action.size) * (1 - 1e-12) * WAD)
        if action.size > 0:  # buy: pay at most max_cost (rounded up: the bound is a ceiling)
            return self._op(BUY, action.account_id, action.series_id, size_wad, math.ceil(action.max_cost_usd * 1e6))
        min_proceeds = max(0.0, -action.max_cost_usd)  # sell: receive at least this (rounded down)
        return self._op(SELL, action.account_id, action.series_id, size_wad, int(min_proceeds * 1e6))

    def _op(self, op: int, account: int, series: int, amount: int, limit: int) -> EncodedAction:
        data = encode(["uint8", "uint256", "uint256", "uint256", "uint256"], [op, account, series, amount, limit])
        return self.adapter_address, data
