"""Decode revert data into readable reasons, using every custom error in the project's ABIs.

``Error(string)`` and ``Panic(uint256)`` are built in; custom errors come from forge's ``out/``, so a
reverted rebalance reads ``HealthFactorBelowFloor(healthFactorWad=…, floorWad=…)``, not ``0x5a3b…``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from eth_abi import decode
from eth_utils import keccak

PANIC_CODES = {
    0x01: "assert failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x31: "pop on empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to uninitialised function",
}


@dataclass(frozen=True)
class _ErrorAbi:
    name: str
    arg_names: tuple[str, ...]
    arg_types: tuple[str, ...]


def _canonical_type(param: dict[str, Any]) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param["components"])
        return f"({inner}){kind[5:]}"
    return kind


class RevertDecoder:
    """Maps 4-byte selectors to error ABIs; ``decode(data)`` returns a one-line reason."""

    def __init__(self, abis: Iterable[list[dict[str, Any]]] = ()) -> None:
        self._errors: dict[bytes, _ErrorAbi] = {}
        for abi in abis:
            self.add_abi(abi)

    def add_abi(self, abi: list[dict[str, Any]]) -> None:
        for item in abi:
            if item.get("type") != "error":
                continue
            types = tuple(_canonical_type(p) for p in item["inputs"])
            selector = keccak(text=f"{item['name']}({','.join(types)})")[:4]
            names = tuple(p.get("name") or f"arg{i}" for i, p in enumerate(item["inputs"]))
            self._errors[selector] = _ErrorAbi(item["name"], names, types)

    def decode(self, data: bytes | str | None) -> str:
        """A readable reason for revert ``data`` (bytes or 0x-hex); never raises."""
        raw = bytes.fromhex(data[2:] if data.startswith("0x") else data) if isinstance(data, str) else data
        if not raw:
            return "reverted without data"
        selector, body = raw[:4], raw[4:]
        try:
            if selector == keccak(text="Error(string)")[:4]:
                return str(decode(["string"], body)[0])
            if selector == keccak(text="Panic(uint256)")[:4]:
                code = int(decode(["uint256"], body)[0])
                return f"Panic(0x{code:02x}: {PANIC_CODES.get(code, 'unknown panic')})"
            error = self._errors.get(selector)
            if error is not None:
                values = decode(list(error.arg_types), body)
                args = ", ".join(f"{n}={self._show(v)}" for n, v in zip(error.arg_names, values, strict=True))
                return f"{error.name}({args})"
        except Exception as err:  # malformed data: still say what we saw
            return f"undecodable revert 0x{raw.hex()} ({err})"
        return f"unknown error 0x{selector.hex()} (data 0x{body.hex()})"

    def _show(self, value: Any) -> str:
        """Arguments as text; a ``bytes`` argument that is itself revert data (e.g. an adapter's reason) is decoded."""
        if isinstance(value, bytes):
            if len(value) >= 4:
                inner = self.decode(value)
                if not inner.startswith(("unknown error", "undecodable")):
                    return f"<{inner}>"
            return "0x" + value.hex()
        return str(value)
