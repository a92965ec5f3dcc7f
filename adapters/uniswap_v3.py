"""Uniswap v3: policy swaps → UniswapV3Adapter calldata (exactInput along the swap's path, or the pair's primary
pool)."""

from __future__ import annotations

from eth_abi import encode

from adapters.base import EncodedAction, TokenBook
from keeper.model import Action, Swap


class UniswapV3:
    name = "uniswap_v3"

    def __init__(
        self,
        adapter_address: str,
        tokens: TokenBook,
        fees: dict[frozenset[str], int],
        deployed: set[tuple[frozenset[str], int]] | None = None,
    ) -> None:
        """``fees`` maps an unordered token pair to its primary pool's fee (pips), e.g. {frozenset({"WETH","USDC"}):
        500}; ``deployed`` is every (pair, fee) pool a routed swap may name (default: the primary pools)."""
        self.adapter_address = adapter_address
        self.tokens = tokens
        self.fees = fees
        self.deployed = deployed if deployed is not None else {(pair, fee) for pair, fee in fees.items()}

    def handles(self, action: Action) -> bool:
        return isinstance(action, Swap)

    def encode(self, action: Action) -> EncodedAction:
        assert isinstance(action, Swap)
        return self.adapter_address, encode(["bytes", "uint256", "uint256"], [self.path(action), *self.amounts(action)])

    def path(self, action: Swap) -> bytes:
        """tokenIn, fee, token, …, tokenOut: the swap's own route, else the pair's primary pool."""
        if action.fees:
            if len(action.via) != len(action.fees) - 1:
                raise ValueError(
                    f"swap {action.token_in}->{action.token_out}: {len(action.fees)} fees need "
                    f"{len(action.fees) - 1} intermediate tokens in via, got {list(action.via)}"
                )
            tokens, fees = [action.token_in, *action.via, action.token_out], list(action.fees)
            for a, b, fee in zip(tokens, tokens[1:], fees, strict=False):
                if (frozenset({a, b}), fee) not in self.deployed:
                    have = sorted(f for pair, f in self.deployed if pair == frozenset({a, b}))
                    raise KeyError(
                        f"swap {action.token_in}->{action.token_out}: no {a}/{b} pool at fee {fee} "
                        f"({fee / 1e4:g} %); deployed fees for the pair: {have or 'none'}"
                    )
        else:
            pair = frozenset({action.token_in, action.token_out})
            if pair not in self.fees:
                raise KeyError(f"no Uniswap pool for {action.token_in}/{action.token_out}; known: {list(self.fees)}")
            tokens, fees = [action.token_in, action.token_out], [self.fees[pair]]
        path = bytes.fromhex(self.tokens.address(tokens[0])[2:])
        for fee, token in zip(fees, tokens[1:], strict=True):
            path += fee.to_bytes(3, "big") + bytes.fromhex(self.tokens.address(token)[2:])
        return path

    def amounts(self, action: Swap) -> tuple[int, int]:
        amount_in = action.raw_in or self.tokens.to_raw(action.token_in, action.amount_in)
        min_out = action.raw_min_out or self.tokens.to_raw(action.token_out, action.min_amount_out)
        return amount_in, min_out
