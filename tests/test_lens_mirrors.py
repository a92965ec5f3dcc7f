"""The Python mirrors of Solidity structs agree with forge's ABI: the lens decoder fills every dataclass field from
the ABI field of the same name (never by position), and the venue's parameter tuples list the struct's fields in
the struct's order."""

from __future__ import annotations

import itertools
from dataclasses import fields, is_dataclass
from typing import Any

import pytest
from eth_abi import encode
from eth_utils.abi import get_abi_output_types

from adapters.vault_lens import (
    DICT_STRUCTS,
    STRUCTS,
    VaultState,
    _snapshot_abi,
    decode_snapshot,
    field_name,
)
from keeper.chain.abi import contract_abi, function_abi
from keeper.venue.model import MarketParams, RiskParams

_EMPTY_POSITIONS = (32).to_bytes(32, "big") + bytes(32)  # abi.encode(OptionPosition[]) with no position


def _element(param: dict[str, Any]) -> dict[str, Any]:
    return dict(param, type=str(param["type"])[:-2], internalType=str(param.get("internalType", "")).removesuffix("[]"))


def _sample(param: dict[str, Any], counter: itertools.count) -> Any:  # type: ignore[type-arg]
    """A value of the ABI type with a distinct number in every scalar, so a field read from the wrong place shows."""
    kind = str(param["type"])
    if kind.endswith("[]"):
        return [_sample(_element(param), counter) for _ in range(2)]
    if kind == "tuple":
        return tuple(_sample(c, counter) for c in param["components"])
    n = next(counter)
    if kind == "address":
        return "0x" + f"{n:040x}"
    if kind == "bool":
        return n % 2 == 1
    if kind == "bytes":
        return _EMPTY_POSITIONS
    return n


def _expected(param: dict[str, Any], value: Any) -> dict[str, Any]:
    """Field name → sample value, flattening structs that have no dataclass of their own."""
    out: dict[str, Any] = {}
    for c, v in zip(param["components"], value, strict=True):
        struct = str(c.get("internalType", ""))
        if c["type"] == "tuple" and struct not in STRUCTS and struct not in DICT_STRUCTS:
            out.update(_expected(c, v))
        else:
            out[field_name(c["name"])] = (c, v)
    return out


def _check(param: dict[str, Any], value: Any, decoded: Any, where: str) -> None:
    kind = str(param["type"])
    if kind.endswith("[]"):
        assert len(decoded) == len(value), where
        for i, (v, d) in enumerate(zip(value, decoded, strict=True)):
            _check(_element(param), v, d, f"{where}[{i}]")
        return
    if kind == "tuple":
        struct = str(param.get("internalType", ""))
        if struct in DICT_STRUCTS:
            assert decoded == {c["name"]: v for c, v in zip(param["components"], value, strict=True)}, where
            return
        assert is_dataclass(decoded), f"{where}: {struct} has no dataclass"
        expected = _expected(param, value)
        names = [f.name for f in fields(decoded)]
        assert sorted(names) == sorted(expected), f"{where} ({struct}): dataclass fields differ from the ABI's"
        for name, (c, v) in expected.items():
            _check(c, v, getattr(decoded, name), f"{where}.{name}")
        return
    if kind == "bytes":
        assert len(decoded) == 0, where  # the positions array, decoded vectorised
        return
    if kind == "address":
        assert decoded.lower() == value.lower(), where
        return
    assert decoded == value, where


def test_decode_snapshot__distinct_value_per_field__each_lands_in_its_named_field() -> None:
    output = _snapshot_abi()["outputs"][0]
    value = _sample(output, itertools.count(1))
    raw = encode(list(get_abi_output_types(_snapshot_abi())), [value])  # type: ignore[arg-type]
    state = decode_snapshot(raw)
    assert isinstance(state, VaultState)
    _check(output, value, state, "VaultState")


def test_struct_registry__every_dataclass__used_by_the_lens_abi() -> None:
    seen: set[str] = set()

    def walk(param: dict[str, Any]) -> None:
        seen.add(str(param.get("internalType", "")).removesuffix("[]"))
        for c in param.get("components", []):
            walk(c)

    walk(_snapshot_abi()["outputs"][0])
    assert set(STRUCTS) <= seen
    assert set(DICT_STRUCTS) <= seen


@pytest.mark.parametrize(("mirror", "getter"), [(RiskParams, "riskParams"), (MarketParams, "marketParams")])
def test_venue_params__chain_fields__match_struct_order(mirror: Any, getter: str) -> None:
    fn = function_abi(contract_abi("IOptionMarket"), getter)
    (struct,) = fn["outputs"]
    assert tuple(c["name"] for c in struct["components"]) == mirror.CHAIN_FIELDS
    assert mirror.from_chain(dict(zip(mirror.CHAIN_FIELDS, mirror().to_chain(), strict=True))) == mirror()
