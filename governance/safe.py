"""Safe transaction-builder batch files: what a multisig signer loads into the Safe{Wallet} Transaction Builder.

Format (tx-builder ``BatchFile``): ``version``, ``chainId`` (string), ``createdAt`` (ms), ``meta`` (name,
description, txBuilderVersion, createdFromSafeAddress, createdFromOwnerAddress, checksum) and ``transactions``:
``{to, value, data, contractMethod, contractInputsValues}``. ``data`` is the exact calldata; ``contractMethod`` and
``contractInputsValues`` (arguments as text, arrays and tuples as JSON) let the builder show the call, and
:func:`read_batch` checks that they re-encode to exactly ``data``. The checksum is the builder's: keccak-256 of
its canonical serialisation (sorted keys) with ``meta.name`` set to null.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eth_abi import decode
from eth_utils import keccak
from eth_utils.abi import get_abi_input_types
from web3 import Web3

from keeper.chain.abi import AbiError, CallDecoder, FunctionAbi, selector, value_from_text, value_to_text
from keeper.chain.client import Tx
from keeper.model.exceptions import HedgevaultError

BATCH_VERSION = "1.0"
TX_BUILDER_VERSION = "1.16.5"


class SafeBatchError(HedgevaultError, ValueError):
    """Raised when a batch file is malformed, for another chain, fails its checksum, or its method and values do
    not encode to its data."""


def _js(value: Any) -> str:
    """``JSON.stringify`` of a primitive, as the tx builder's checksum sees it (undefined → null)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _serialize(node: Any) -> str:
    if isinstance(node, list):
        return "[" + ",".join(_serialize(x) for x in node) + "]"
    if isinstance(node, dict):
        keys = sorted(node)
        return "{" + _js(keys) + "".join(_serialize(node[k]) + "," for k in keys) + "}"
    return _js(node)


def checksum(batch: dict[str, Any]) -> str:
    """The Transaction Builder's checksum of ``batch`` (its ``meta.name`` does not count)."""
    body = dict(batch, meta=dict(batch.get("meta", {}), name=None))
    body["meta"].pop("checksum", None)
    return "0x" + keccak(text=_serialize(body)).hex()


def _inputs(params: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for p in params:
        item = {"internalType": p.get("internalType", p["type"]), "name": p["name"], "type": p["type"]}
        if "components" in p:
            item["components"] = _inputs(p["components"])
        out.append(item)
    return out


def _method(fn: FunctionAbi) -> dict[str, Any]:
    return {"inputs": _inputs(fn["inputs"]), "name": fn["name"], "payable": fn.get("stateMutability") == "payable"}


def build_batch(
    chain_id: int,
    txs: Sequence[Tx],
    *,
    name: str,
    description: str = "",
    safe_address: str = "",
    created_at_ms: int | None = None,
    decoder: CallDecoder | None = None,
) -> dict[str, Any]:
    """A batch of ``txs`` for the Safe ``safe_address`` on ``chain_id`` (every tx needs a ``to``)."""
    decoder = decoder or CallDecoder()
    transactions = []
    for tx in txs:
        if tx.to is None:
            raise SafeBatchError(f"{tx.what}: a Safe batch cannot deploy contracts (no `to`)")
        entry: dict[str, Any] = {
            "to": Web3.to_checksum_address(tx.to),
            "value": str(tx.value),
            "data": "0x" + tx.data.hex(),
        }
        try:
            fn = decoder.function(tx.data)
        except AbiError:
            fn = None
        if fn is not None:
            values = decode(get_abi_input_types(fn), tx.data[4:])  # type: ignore[arg-type]
            entry["contractMethod"] = _method(fn)
            entry["contractInputsValues"] = {
                p["name"]: value_to_text(p, v) for p, v in zip(fn["inputs"], values, strict=True)
            }
        transactions.append(entry)
    batch: dict[str, Any] = {
        "version": BATCH_VERSION,
        "chainId": str(chain_id),
        "createdAt": created_at_ms if created_at_ms is not None else int(time.time() * 1000),
        "meta": {
            "name": name,
            "description": description,
            "txBuilderVersion": TX_BUILDER_VERSION,
            "createdFromSafeAddress": Web3.to_checksum_address(safe_address) if safe_address else "",
            "createdFromOwnerAddress": "",
        },
        "transactions": transactions,
    }
    batch["meta"]["checksum"] = checksum(batch)
    return batch


def _encode_method(method: dict[str, Any], values: dict[str, str]) -> bytes:
    from eth_abi import encode

    fn = {"type": "function", "name": method["name"], "inputs": method["inputs"]}
    missing = [p["name"] for p in method["inputs"] if p["name"] not in values]
    if missing:
        raise SafeBatchError(f"{method['name']}: contractInputsValues lacks {', '.join(missing)}")
    args = [value_from_text(p, values[p["name"]]) for p in method["inputs"]]
    return selector(fn) + encode(get_abi_input_types(fn), args)  # type: ignore[arg-type]


def read_batch(batch: dict[str, Any], chain_id: int | None = None) -> list[Tx]:
    """The transactions of a batch, checked: version, chain, checksum (when present), and for every entry with a
    method, that method and values encode to exactly its data."""
    if batch.get("version") != BATCH_VERSION:
        raise SafeBatchError(f"batch version {batch.get('version')!r}; expected {BATCH_VERSION!r}")
    if chain_id is not None and str(batch.get("chainId")) != str(chain_id):
        raise SafeBatchError(f"batch is for chain {batch.get('chainId')}, not {chain_id}")
    stated = batch.get("meta", {}).get("checksum")
    if stated is not None and stated != checksum(batch):
        raise SafeBatchError(f"checksum {stated} does not match the content ({checksum(batch)}): the file was edited")
    txs = []
    for i, entry in enumerate(batch["transactions"]):
        data = bytes.fromhex(entry["data"][2:]) if entry.get("data") else None
        method = entry.get("contractMethod")
        if method:
            encoded = _encode_method(method, entry.get("contractInputsValues") or {})
            if data is not None and encoded != data:
                raise SafeBatchError(
                    f"transaction {i}: {method['name']} with its values encodes to different calldata than `data`"
                )
            data = encoded
        if data is None:
            raise SafeBatchError(f"transaction {i} has neither data nor contractMethod")
        txs.append(
            Tx(Web3.to_checksum_address(entry["to"]), data, int(entry["value"]), method["name"] if method else "")
        )
    return txs


def write_batch(path: Path, batch: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(batch, indent=2) + "\n")


def load_batch(path: Path, chain_id: int | None = None) -> list[Tx]:
    return read_batch(json.loads(path.read_text()), chain_id)
