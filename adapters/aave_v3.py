"""Aave v3: lens state → per-reserve arrays; supply/withdraw/borrow/repay → AaveV3Adapter calldata."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from eth_abi import encode

from adapters.base import EncodedAction, TokenBook
from adapters.vault_lens import VaultState
from keeper.model import AaveBorrow, AaveRepay, AaveSupply, AaveWithdraw, Action

_OPS = {AaveSupply: 0, AaveWithdraw: 1, AaveBorrow: 2, AaveRepay: 3}


@dataclass(frozen=True)
class AavePositions:
    """Structure of arrays over the vault's reserves (asset first, then tracked tokens). Token units, USD."""

    symbols: tuple[str, ...]
    collateral_units: np.ndarray
    debt_units: np.ndarray
    price_usd: np.ndarray
    liquidation_threshold: np.ndarray  # decimal
    is_stable: np.ndarray
    health_factor: float


class AaveV3:
    name = "aave_v3"

    def __init__(self, adapter_address: str, tokens: TokenBook) -> None:
        self.adapter_address = adapter_address
        self.tokens = tokens

    def handles(self, action: Action) -> bool:
        return type(action) in _OPS

    def encode(self, action: Action) -> EncodedAction:
        assert isinstance(action, AaveSupply | AaveWithdraw | AaveBorrow | AaveRepay)
        raw = self.tokens.to_raw(action.asset, action.amount)
        data = encode(["uint8", "address", "uint256"], [_OPS[type(action)], self.tokens.address(action.asset), raw])
        return self.adapter_address, data

    @staticmethod
    def positions(state: VaultState, symbols: dict[str, str], stable: set[str]) -> AavePositions:
        """``symbols`` maps token address (lower case) → symbol."""
        rows = [state.asset, *state.tokens]
        names = tuple(symbols[t.token.lower()] for t in rows)
        hf = state.aave.health_factor_wad / 1e18 if state.aave.health_factor_wad < 2**255 else float("inf")
        return AavePositions(
            symbols=names,
            collateral_units=np.array([t.aave_collateral / 10**t.decimals for t in rows]),
            debt_units=np.array([t.aave_variable_debt / 10**t.decimals for t in rows]),
            price_usd=np.array([t.price_e8 / 1e8 for t in rows]),
            liquidation_threshold=np.array([t.liquidation_threshold_bps / 1e4 for t in rows]),
            is_stable=np.array([n in stable for n in names]),
            health_factor=hf,
        )
