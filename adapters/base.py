"""The adapter interface: each protocol adapter turns on-chain state into normalised arrays (units explicit) and
turns a policy action into that protocol's encoded vault action ``(adapter_address, calldata)``.

Adding a protocol = one module here (a class implementing ``ProtocolAdapter``) + one Solidity adapter implementing
``IVaultAdapter``, whitelisted by governance.
"""

from __future__ import annotations

from typing import Any, Protocol

from keeper.model import Action

EncodedAction = tuple[str, bytes]  # (on-chain adapter address, calldata for IVaultAdapter.execute)


class ProtocolAdapter(Protocol):
    """One protocol. ``handles`` says which policy actions it encodes."""

    name: str

    def handles(self, action: Action) -> bool: ...

    def encode(self, action: Action) -> EncodedAction: ...


class TokenBook:
    """Token symbol ↔ address and decimals, from the deployment record; converts float units to integers."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.by_symbol = {s: (t["address"], int(t["decimals"])) for s, t in record["tokens"].items()}

    def address(self, symbol: str) -> str:
        if symbol not in self.by_symbol:
            raise KeyError(f"unknown token {symbol!r}; the deployment record has {', '.join(self.by_symbol)}")
        return self.by_symbol[symbol][0]

    def to_raw(self, symbol: str, amount: float) -> int:
        """Float token units → integer base units, rounded down and shaded by 1e-12 relative, so an amount
        computed from an on-chain balance (``balance / 10**decimals`` in float) never encodes to more than
        that balance: a double carries ~16 significant digits, an 18-decimal balance up to ~26."""
        if amount < 0:
            raise ValueError(f"amount={amount} of {symbol} is negative; plans carry unsigned amounts")
        return int(amount * (1 - 1e-12) * 10 ** self.by_symbol[symbol][1])
