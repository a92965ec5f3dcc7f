"""The hot-path type-2 signer against eth_account, the reference: byte-identical envelopes and hashes."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from keeper.chain.signing import DynamicFeeSigner, rlp_encode

KEY = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")  # anvil dev key 0

addresses = st.binary(min_size=20, max_size=20).map(lambda b: to_checksum_address("0x" + b.hex()))
slots = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
access_entries = st.fixed_dictionaries({"address": addresses, "storageKeys": st.lists(slots, max_size=70)})
uints = st.one_of(st.just(0), st.integers(1, 2**64), st.integers(0, 2**256 - 1))


@st.composite
def transactions(draw: st.DrawFn) -> dict[str, object]:
    priority = draw(st.integers(0, 2**64))
    return {
        "type": 2,
        "chainId": draw(st.sampled_from([1, 10, 31337, 8453])),
        "nonce": draw(st.integers(0, 2**32)),
        "maxPriorityFeePerGas": priority,
        "maxFeePerGas": priority + draw(st.integers(0, 2**64)),
        "gas": draw(st.integers(21_000, 60_000_000)),
        "to": draw(addresses),
        "value": draw(uints),
        "data": "0x" + draw(st.binary(max_size=2_000)).hex(),
        "accessList": draw(st.lists(access_entries, max_size=4)),
    }


@settings(max_examples=150, deadline=None)
@given(transactions())
def test_sign__random_type2_transactions__identical_to_eth_account(tx: dict[str, object]) -> None:
    reference = Account.from_key(KEY).sign_transaction(tx)
    signed = DynamicFeeSigner(KEY).sign(tx)
    assert signed.raw_transaction == bytes(reference.raw_transaction)
    assert signed.hash == bytes(reference.hash)


def test_sign__large_access_list_without_access_list_key__identical() -> None:
    keys = [f"0x{i:064x}" for i in range(4_000)]
    tx = {
        "type": 2, "chainId": 31337, "nonce": 7, "maxPriorityFeePerGas": 10**9, "maxFeePerGas": 3 * 10**10,
        "gas": 30_000_000, "to": to_checksum_address("0x" + "ab" * 20), "value": 0, "data": "0x" + "cd" * 5_000,
        "accessList": [{"address": to_checksum_address("0x" + "11" * 20), "storageKeys": keys}],
    }  # fmt: skip
    reference = Account.from_key(KEY)
    assert DynamicFeeSigner(KEY).sign(tx).raw_transaction == bytes(reference.sign_transaction(tx).raw_transaction)
    del tx["accessList"]
    assert DynamicFeeSigner(KEY).sign(tx).raw_transaction == bytes(reference.sign_transaction(tx).raw_transaction)


def test_rlp_encode__spec_examples() -> None:
    assert rlp_encode(b"dog") == b"\x83dog"
    assert rlp_encode([b"cat", b"dog"]) == b"\xc8\x83cat\x83dog"
    assert rlp_encode(b"") == b"\x80"
    assert rlp_encode([]) == b"\xc0"
    assert rlp_encode(b"\x0f") == b"\x0f"
    assert rlp_encode(b"\x04\x00") == b"\x82\x04\x00"
    assert rlp_encode([[], [[]], [[], [[]]]]) == b"\xc7\xc0\xc1\xc0\xc3\xc0\xc1\xc0"
    long = b"Lorem ipsum dolor sit amet, consectetur adipisicing elit"
    assert rlp_encode(long) == b"\xb8\x38" + long


def test_sign__bad_field__names_it() -> None:
    tx = {"chainId": 1, "nonce": 0, "maxPriorityFeePerGas": 1, "maxFeePerGas": 1, "gas": 21_000, "to": "0x1234",
          "value": 0, "data": "0x"}  # fmt: skip
    with pytest.raises(ValueError, match="to must be 20 bytes"):
        DynamicFeeSigner(KEY).sign(tx)
