"""Calldata for the vault and the timelock from the project's forge ABIs, and back: every call a governance script
builds can be decoded to a readable ``name(field=value, …)`` with struct fields named and role hashes shown by name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode, encode
from eth_utils import function_abi_to_4byte_selector, keccak
from eth_utils.abi import get_abi_input_types, get_abi_output_types
from web3 import Web3

from keeper.chain.artifacts import forge_artifact
from keeper.model.exceptions import HedgevaultError
from keeper.model.roles import ROLE_NAMES

AbiParam = dict[str, Any]
FunctionAbi = dict[str, Any]
ZERO_ADDRESS = "0x" + "00" * 20
ZERO_BYTES32 = bytes(32)


class AbiError(HedgevaultError, ValueError):
    """Raised when a function is unknown to an ABI, or arguments do not fit its types."""


@cache
def contract_abi(name: str) -> tuple[FunctionAbi, ...]:
    """The forge ABI of the project's contract ``name`` (``HedgedVault``, ``Timelock``, ``VaultLens``, …)."""
    return tuple(forge_artifact(name).abi)


def function_abi(abi: Iterable[FunctionAbi], name: str) -> FunctionAbi:
    """The one function called ``name`` in ``abi`` (overloads are refused: say which one by signature)."""
    matches = [f for f in abi if f.get("type") == "function" and (f["name"] == name or signature(f) == name)]
    if len(matches) != 1:
        known = sorted({f["name"] for f in abi if f.get("type") == "function"})
        raise AbiError(f"function {name!r}: {len(matches)} matches in the ABI; known: {', '.join(known)}")
    return matches[0]


def signature(fn: FunctionAbi) -> str:
    return f"{fn['name']}({','.join(get_abi_input_types(fn))})"  # type: ignore[arg-type]


def selector(fn: FunctionAbi) -> bytes:
    return bytes(function_abi_to_4byte_selector(fn))  # type: ignore[arg-type]


def encode_call(abi: Iterable[FunctionAbi], name: str, args: Sequence[Any]) -> bytes:
    """Calldata of ``name(*args)``; struct arguments are tuples in field order."""
    fn = function_abi(abi, name)
    types = get_abi_input_types(fn)  # type: ignore[arg-type]
    if len(args) != len(types):
        raise AbiError(f"{signature(fn)} takes {len(types)} arguments, got {len(args)}")
    try:
        return selector(fn) + encode(types, list(args))
    except Exception as err:
        raise AbiError(f"{signature(fn)}: arguments {args!r} do not fit the types ({err})") from err


def decode_outputs(abi: Iterable[FunctionAbi], name: str, raw: bytes) -> tuple[Any, ...]:
    """The return values of ``name`` decoded by its ABI; structs become dicts by field name."""
    fn = function_abi(abi, name)
    try:
        values = decode(get_abi_output_types(fn), bytes(raw))  # type: ignore[arg-type]
    except Exception as err:
        raise AbiError(f"{signature(fn)}: return data does not decode ({err})") from err
    return tuple(_name_value(o, v) for o, v in zip(fn["outputs"], values, strict=True))


def event_topic(abi: Iterable[FunctionAbi], name: str) -> str:
    """``topic0`` of the event ``name`` (keccak of its canonical signature, from the ABI)."""
    events = [e for e in abi if e.get("type") == "event" and e["name"] == name]
    if len(events) != 1:
        raise AbiError(f"event {name!r}: {len(events)} matches in the ABI")
    types = ",".join(get_abi_input_types(events[0]))  # type: ignore[arg-type]
    return "0x" + keccak(text=f"{name}({types})").hex()


@dataclass(frozen=True)
class DecodedCall:
    """One decoded call: ``args`` are named, structs become dicts of their fields, addresses are checksummed."""

    contract: str
    function: str
    signature: str
    args: dict[str, Any]

    def text(self) -> str:
        inner = ", ".join(f"{k}={show(v)}" for k, v in self.args.items())
        return f"{self.contract}.{self.function}({inner})"


def show(value: Any) -> str:
    """A decoded value as short text (role hashes by name, bytes as hex, structs as {field: value})."""
    if isinstance(value, bytes):
        if value == ZERO_BYTES32:
            return "0x0"
        if value in ROLE_NAMES:
            return ROLE_NAMES[value]
        if len(value) > 36:
            return f"0x{value[:4].hex()}…({len(value)} bytes)"
        return "0x" + value.hex()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)


def _name_value(param: AbiParam, value: Any) -> Any:
    kind = str(param["type"])
    if kind.endswith("]"):
        inner = dict(param, type=kind[: kind.rindex("[")])
        return [_name_value(inner, v) for v in value]
    if kind == "tuple":
        return {c["name"]: _name_value(c, v) for c, v in zip(param["components"], value, strict=True)}
    if kind == "address":
        return Web3.to_checksum_address(value)
    return value


class CallDecoder:
    """Selector → function over several contracts' ABIs (the vault and the timelock by default)."""

    def __init__(self, contracts: Iterable[str] = ("HedgedVault", "Timelock")) -> None:
        self._by_selector: dict[bytes, tuple[str, FunctionAbi]] = {}
        for name in contracts:
            for fn in contract_abi(name):
                if fn.get("type") == "function":
                    self._by_selector.setdefault(selector(fn), (name, fn))

    def decode(self, data: bytes) -> DecodedCall:
        """The call ``data`` encodes; raises AbiError for an unknown selector or malformed arguments."""
        found = self._by_selector.get(bytes(data[:4]))
        if found is None:
            raise AbiError(f"unknown selector 0x{bytes(data[:4]).hex()} (not a vault or timelock function)")
        contract, fn = found
        try:
            values = decode(get_abi_input_types(fn), bytes(data[4:]))  # type: ignore[arg-type]
        except Exception as err:
            raise AbiError(f"{signature(fn)}: calldata does not decode ({err})") from err
        args = {
            p["name"] or f"arg{i}": _name_value(p, v) for i, (p, v) in enumerate(zip(fn["inputs"], values, strict=True))
        }
        return DecodedCall(contract, fn["name"], signature(fn), args)

    def function(self, data: bytes) -> FunctionAbi:
        found = self._by_selector.get(bytes(data[:4]))
        if found is None:
            raise AbiError(f"unknown selector 0x{bytes(data[:4]).hex()}")
        return found[1]


# --- text form of ABI values (Safe transaction builder's contractInputsValues) --------------------------------


def _to_jsonable(param: AbiParam, value: Any) -> Any:
    kind = str(param["type"])
    if kind.endswith("]"):
        inner = dict(param, type=kind[: kind.rindex("[")])
        return [_to_jsonable(inner, v) for v in value]
    if kind == "tuple":
        items = value.values() if isinstance(value, dict) else value
        return [_to_jsonable(c, v) for c, v in zip(param["components"], items, strict=True)]
    if kind == "bool":
        return bool(value)
    if kind.startswith(("uint", "int")):
        return str(int(value))  # strings: JavaScript numbers lose precision above 2**53
    if kind.startswith("bytes"):
        return "0x" + bytes(value).hex()
    if kind == "address":
        return Web3.to_checksum_address(value)
    return str(value)


def value_to_text(param: AbiParam, value: Any) -> str:
    """An argument as the Safe transaction builder writes it: scalars as text, arrays and tuples as JSON."""
    jsonable = _to_jsonable(param, value)
    if isinstance(jsonable, list):
        return json.dumps(jsonable, separators=(",", ":"))
    if isinstance(jsonable, bool):
        return "true" if jsonable else "false"
    return str(jsonable)


def _from_jsonable(param: AbiParam, value: Any) -> Any:
    kind = str(param["type"])
    if kind.endswith("]"):
        inner = dict(param, type=kind[: kind.rindex("[")])
        return [_from_jsonable(inner, v) for v in value]
    if kind == "tuple":
        return tuple(_from_jsonable(c, v) for c, v in zip(param["components"], value, strict=True))
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if str(value).lower() not in ("true", "false"):
            raise AbiError(f"{param.get('name')}: {value!r} is not a bool (true or false)")
        return str(value).lower() == "true"
    if kind.startswith(("uint", "int")):
        return int(str(value), 0)
    if kind.startswith("bytes"):
        return bytes.fromhex(str(value).removeprefix("0x"))
    if kind == "address":
        return Web3.to_checksum_address(str(value))
    return value


def value_from_text(param: AbiParam, text: str) -> Any:
    """Inverse of :func:`value_to_text` (arrays and tuples are parsed from JSON)."""
    kind = str(param["type"])
    raw: Any = json.loads(text) if kind.endswith("]") or kind == "tuple" else text
    return _from_jsonable(param, raw)
