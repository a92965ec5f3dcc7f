from __future__ import annotations

import json
from pathlib import Path

import pytest
from web3 import Web3

from devnet.devnet import Devnet
from keeper.chain.record import MAINNET, load_record, verify_record
from keeper.model.exceptions import ConfigError

pytestmark = pytest.mark.chain


def test_verify__devnet_record__consistent(devnet: Devnet) -> None:
    assert verify_record(devnet.w3, devnet.record) == []


def test_verify__wrong_pool_address__names_field_and_truth(devnet: Devnet) -> None:
    record = json.loads(json.dumps(devnet.record))
    record["aave"]["Pool"] = record["aave"]["AaveOracle"]
    problems = verify_record(devnet.w3, record)
    assert any(p.startswith("aave.Pool: record has") and "the addresses provider says" in p for p in problems)


def test_verify__mainnet_profile_against_devnet__chain_and_code_mismatch_reported(devnet: Devnet) -> None:
    problems = verify_record(devnet.w3, load_record("mainnet"))
    assert problems[0] == "chain id is 31337, the record is for 1"
    assert any("no code at" in p for p in problems)


def test_mainnet_profile__same_schema_as_devnet__valid_checksums(devnet: Devnet) -> None:
    for key in ("tokens", "feeds", "aave", "uniswap"):
        assert set(MAINNET[key]) <= set(devnet.record[key]) | {"pools"}
    for pool in MAINNET["uniswap"]["pools"].values():
        assert Web3.is_checksum_address(pool["address"])
        assert int(pool["token0"], 16) < int(pool["token1"], 16)


def test_load_record__missing_file__tells_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="run `keeper devnet up`"):
        load_record(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ConfigError, match="lacks chain_id, tokens"):
        load_record(tmp_path / "bad.json")
