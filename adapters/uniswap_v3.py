"""Uniswap v3: policy swaps → UniswapV3Adapter calldata (exactInput along a one-hop path)."""

from __future__ import annotations

from eth_abi import encode

from adapters.base import EncodedAction, TokenBook
from keeper.model import Action, Swap


class UniswapV3:
    name = "uniswap_v3"

    def __init__(self, adapter_address: str, tokens: TokenBook, fees: dict[frozenset[str], int]) -> None:
        """``fees`` maps an unordered token pair to its pool fee (pips), e.g. {frozenset({"WETH","USDC"}): 500}."""
        self.adapter_address = adapter_address
        self.tokens = tokens
        self.fees = fees

    def handles(self, action: Action) -> bool:
        return isinstance(action, Swap)

    def encode(self, action: Action) -> EncodedAction:
        assert isinstance(action, Swap)
        pair = frozenset({action.token_in, action.token_out})
        if pair not in self.fees:
            raise KeyError(f"no Uniswap pool for {action.token_in}/{action.token_out}; known: {list(self.fees)}")
        path = (
            bytes.fromhex(self.tokens.address(action.token_in)[2:])
            + self.fees[pair].to_bytes(3, "big")
            + bytes.fromhex(self.tokens.address(action.token_out)[2:])
        )
        amount_in = self.tokens.to_raw(action.token_in, action.amount_in)
        min_out = self.tokens.to_raw(action.token_out, action.min_amount_out)
        return self.adapter_address, encode(["bytes", "uint256", "uint256"], [path, amount_in, min_out])
