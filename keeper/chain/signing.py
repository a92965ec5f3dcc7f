"""Sign EIP-1559 (type 2) transactions on the keeper's hot path.

``eth_account`` validates and reformats every field of the dict through generic formatter layers; with the
access list of a rebalance over a large option book (thousands of storage keys) that took ~12 ms per signature,
more than half of the keeper's own time in an acting tick. This encoder does only what a type-2 transaction
needs: RLP of ``[chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to, value, data, accessList]``,
keccak of ``0x02 ‖ rlp``, a deterministic (RFC 6979) secp256k1 signature from ``eth_keys``, and the signed
envelope. The output is byte-identical to ``eth_account``'s (tested), which stays the reference and the signer
of everything off the hot path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_hash.auto import keccak
from eth_keys import keys

RlpItem = bytes | Sequence["RlpItem"]


def _length_prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes([offset + length])
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([offset + 55 + len(size)]) + size


def rlp_encode(item: RlpItem) -> bytes:
    """Recursive-length prefix encoding of bytes and (nested) lists of bytes."""
    if isinstance(item, bytes | bytearray):
        if len(item) == 1 and item[0] < 0x80:
            return bytes(item)
        return _length_prefix(len(item), 0x80) + bytes(item)
    payload = b"".join(rlp_encode(x) for x in item)
    return _length_prefix(len(payload), 0xC0) + payload


def _uint(value: int) -> bytes:
    if value < 0:
        raise ValueError(f"transaction integer field is negative: {value}")
    return value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""


def _hex_bytes(value: str, size: int | None, what: str) -> bytes:
    raw = bytes.fromhex(value[2:] if value.startswith(("0x", "0X")) else value)
    if size is not None and len(raw) != size:
        raise ValueError(f"{what} must be {size} bytes, got {len(raw)}: {value}")
    return raw


@dataclass(frozen=True)
class SignedTx:
    raw_transaction: bytes
    hash: bytes


class DynamicFeeSigner:
    """Signs type-2 transactions with one private key (held only in memory)."""

    def __init__(self, private_key: bytes) -> None:
        self._key = keys.PrivateKey(private_key)

    def sign(self, tx: dict[str, Any]) -> SignedTx:
        """``tx``: chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to, value (ints), data (hex),
        accessList (optional: ``[{"address", "storageKeys"}]``, hex)."""
        access_list: list[RlpItem] = [
            [
                _hex_bytes(e["address"], 20, "accessList address"),
                [_hex_bytes(k, 32, "storage key") for k in e["storageKeys"]],
            ]
            for e in tx.get("accessList") or ()
        ]
        fields: list[RlpItem] = [
            _uint(tx["chainId"]),
            _uint(tx["nonce"]),
            _uint(tx["maxPriorityFeePerGas"]),
            _uint(tx["maxFeePerGas"]),
            _uint(tx["gas"]),
            _hex_bytes(tx["to"], 20, "to"),
            _uint(tx["value"]),
            _hex_bytes(tx["data"], None, "data"),
            access_list,
        ]
        signature = self._key.sign_msg_hash(keccak(b"\x02" + rlp_encode(fields)))
        raw = b"\x02" + rlp_encode([*fields, _uint(signature.v), _uint(signature.r), _uint(signature.s)])
        return SignedTx(raw, keccak(raw))
