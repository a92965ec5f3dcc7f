from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from keeper.chain.artifacts import forge_artifact
from keeper.chain.revert import RevertDecoder


def sel(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def test_decode__custom_error_from_forge_abi__names_error_and_arguments() -> None:
    decoder = RevertDecoder([forge_artifact("PriceFeed").abi])
    data = sel("NonPositiveAnswer(int256)") + encode(["int256"], [-5])
    assert decoder.decode(data) == "NonPositiveAnswer(answer=-5)"
    assert decoder.decode("0x" + data.hex()) == "NonPositiveAnswer(answer=-5)"


def test_decode__inherited_openzeppelin_error__decoded_with_bytes32() -> None:
    decoder = RevertDecoder([forge_artifact("PriceFeed").abi])
    role = keccak(text="FEEDER_ROLE")
    data = sel("AccessControlUnauthorizedAccount(address,bytes32)") + encode(
        ["address", "bytes32"], ["0x" + "ab" * 20, role]
    )
    assert decoder.decode(data) == (
        f"AccessControlUnauthorizedAccount(account=0x{'ab' * 20}, neededRole=0x{role.hex()})"
    )


def test_decode__error_string_and_panic__builtin_forms() -> None:
    decoder = RevertDecoder()
    assert decoder.decode(sel("Error(string)") + encode(["string"], ["too much loss"])) == "too much loss"
    assert decoder.decode(sel("Panic(uint256)") + encode(["uint256"], [0x11])) == (
        "Panic(0x11: arithmetic overflow or underflow)"
    )


def test_decode__unknown_or_empty_or_malformed__never_raises() -> None:
    decoder = RevertDecoder()
    assert decoder.decode(b"") == "reverted without data"
    assert decoder.decode(None) == "reverted without data"
    assert decoder.decode(bytes.fromhex("deadbeef01")).startswith("unknown error 0xdeadbeef")
    assert decoder.decode(sel("Panic(uint256)") + b"\x01").startswith("undecodable revert")


def test_decode__bytes_argument_holding_revert_data__decoded_inside() -> None:
    decoder = RevertDecoder([forge_artifact("HedgedVault").abi])
    inner = sel("Error(string)") + encode(["string"], ["36"])
    outer = sel("AdapterCallFailed(uint256,bytes)") + encode(["uint256", "bytes"], [1, inner])
    assert decoder.decode(outer) == "AdapterCallFailed(index=1, reason=<36>)"
