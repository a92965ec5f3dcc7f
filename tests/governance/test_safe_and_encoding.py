"""Pure-Python layer, no chain: calldata round trips, Safe batch files, bound checks and their messages."""

from __future__ import annotations

import copy
import json

import pytest
from eth_abi import encode
from eth_utils import keccak

from governance.bounds import (
    FEE_FIELDS,
    FULFIL_DELAY,
    RISK_FIELDS,
    ParameterError,
    bound_for,
    check_field,
    parse_field,
)
from governance.safe import SafeBatchError, build_batch, checksum, read_batch
from governance.timelock import Call, TimelockOperation, expected_states
from keeper.chain.abi import CallDecoder, contract_abi, encode_call
from keeper.chain.client import Tx, humanize
from keeper.model.roles import ROLES

VAULT = "0x1429859428C0aBc9C2C47C8Ee9FBaf82cFA0F20f"
TIMELOCK = "0xcbEAF3BDe82155F56486Fb5a1072cb8baAf547cc"
KEEPER = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"
RISK = (13 * 10**17, 40, 100, 50_000, 200, 86_400, 3600, 200, 600)
CONSTANTS = {
    "MIN_HEALTH_FACTOR_FLOOR_WAD": 105 * 10**16,
    "MAX_HEALTH_FACTOR_FLOOR_WAD": 5 * 10**18,
    "MAX_LOSS_BPS": 500,
    "MAX_SLIPPAGE_BPS": 300,
    "MAX_TURNOVER_BUDGET_BPS": 100_000,
    "MAX_LOSS_BUDGET_BPS": 1000,
    "MIN_PERIOD_SECONDS": 3600,
    "MAX_PERIOD_SECONDS": 7 * 86_400,
    "MIN_HEARTBEAT_SECONDS": 60,
    "MAX_HEARTBEAT_SECONDS": 2 * 86_400,
    "MAX_ORACLE_DEVIATION_BPS": 1000,
    "MIN_TWAP_WINDOW_SECONDS": 60,
    "MAX_TWAP_WINDOW_SECONDS": 7200,
    "MAX_MANAGEMENT_FEE_BPS": 200,
    "MAX_PERFORMANCE_FEE_BPS": 3000,
    "MAX_PROFIT_UNLOCK_SECONDS": 14 * 86_400,
    "MAX_FULFIL_DELAY_SECONDS": 3 * 86_400,
    "MAX_TRACKED_TOKENS": 8,
}


def vault_call(name: str, *args: object) -> Call:
    return Call(VAULT, encode_call(contract_abi("HedgedVault"), name, list(args)))


def sample_txs() -> list[Tx]:
    """A single schedule, a batch schedule (keeper rotation), an executeBatch, and an emergency unwind (tuple[])."""
    single = TimelockOperation((vault_call("setRiskParams", RISK),), salt=b"\x07" * 32)
    batch = TimelockOperation(
        (
            vault_call("grantRole", ROLES["KEEPER_ROLE"], KEEPER),
            vault_call("revokeRole", ROLES["KEEPER_ROLE"], TIMELOCK),
        ),
        salt=b"\x09" * 32,
    )
    unwind_actions = [
        (TIMELOCK, encode(["uint8", "address", "uint256"], [3, KEEPER, 2**256 - 1])),
        (KEEPER, b"\x01\x02"),
    ]
    unwind = vault_call("emergencyUnwind", unwind_actions)
    return [
        single.schedule(TIMELOCK, 86_400),
        batch.schedule(TIMELOCK, 90_000),
        batch.execute(TIMELOCK),
        Tx(unwind.target, unwind.data, 0, "emergencyUnwind"),
    ]


def test_safe_batch__round_trip__decodes_to_exactly_the_same_calls() -> None:
    txs = sample_txs()
    batch = build_batch(31337, txs, name="test", description="d", safe_address=KEEPER, created_at_ms=1)
    parsed = read_batch(json.loads(json.dumps(batch)), chain_id=31337)
    assert [(t.to, t.value, t.data) for t in parsed] == [(t.to, t.value, t.data) for t in txs]
    # Every entry carries the method and its values, and they alone re-encode the data.
    for entry in batch["transactions"]:
        assert entry["contractMethod"]["name"] in ("schedule", "scheduleBatch", "executeBatch", "emergencyUnwind")
    stripped = copy.deepcopy(batch)
    for entry in stripped["transactions"]:
        entry["data"] = None
    stripped["meta"]["checksum"] = checksum(stripped)
    assert [t.data for t in read_batch(stripped)] == [t.data for t in txs]


def test_safe_batch__values_encoded_as_tx_builder_text__arrays_and_tuples_as_json() -> None:
    batch = build_batch(1, sample_txs(), name="n", created_at_ms=1)
    schedule_batch = batch["transactions"][1]["contractInputsValues"]
    assert json.loads(schedule_batch["targets"]) == [VAULT, VAULT]
    assert json.loads(schedule_batch["values"]) == ["0", "0"]
    assert schedule_batch["delay"] == "90000"
    assert schedule_batch["salt"] == "0x" + "09" * 32
    unwind = json.loads(batch["transactions"][3]["contractInputsValues"]["actions"])
    assert unwind[1] == [KEEPER, "0x0102"]


def test_safe_checksum__transaction_builder_export__matches_its_checksum() -> None:
    # A batch exported by the Safe{Wallet} Transaction Builder 1.18.2 (an ERC-20 approve, as published in
    # 5afe/safe-cli-nodejs TRANSACTION_BUILDER_FORMAT_ANALYSIS.md) with the checksum the builder wrote.
    exported = {
        "version": "1.0",
        "chainId": "1",
        "createdAt": 1761326849944,
        "meta": {
            "name": "Transactions Batch",
            "description": "",
            "txBuilderVersion": "1.18.2",
            "createdFromSafeAddress": "0xA77DE01e157f9f57C7c4A326eeE9C4874D0598b6",
            "createdFromOwnerAddress": "",
            "checksum": "0x8b5032f716845c8b08bab3d63dbd9ba92e056f3557793cd041e59b84e16aa989",
        },
        "transactions": [
            {
                "to": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
                "value": "0",
                "data": None,
                "contractMethod": {
                    "inputs": [
                        {"internalType": "address", "name": "spender", "type": "address"},
                        {"internalType": "uint256", "name": "value", "type": "uint256"},
                    ],
                    "name": "approve",
                    "payable": False,
                },
                "contractInputsValues": {
                    "spender": "0x474e5Ded6b5D078163BFB8F6dBa355C3aA5478C8",
                    "value": "100000000000",
                },
            }
        ],
    }
    assert checksum(exported) == exported["meta"]["checksum"]
    (tx,) = read_batch(exported, chain_id=1)
    expected = keccak(text="approve(address,uint256)")[:4] + encode(
        ["address", "uint256"], ["0x474e5Ded6b5D078163BFB8F6dBa355C3aA5478C8", 100_000_000_000]
    )
    assert tx.data == expected


def test_safe_batch__edited_file__rejected() -> None:
    batch = build_batch(1, sample_txs(), name="n", created_at_ms=1)
    edited = copy.deepcopy(batch)
    edited["transactions"][0]["contractInputsValues"]["delay"] = "1"
    with pytest.raises(SafeBatchError, match=r"checksum .* does not match"):
        read_batch(edited)
    edited["meta"]["checksum"] = checksum(edited)  # a consistent checksum, but values no longer encode `data`
    with pytest.raises(SafeBatchError, match="encodes to different calldata"):
        read_batch(edited)
    with pytest.raises(SafeBatchError, match="batch is for chain 1, not 5"):
        read_batch(batch, chain_id=5)


def test_decoder__timelock_and_vault_calls__named_fields_and_roles() -> None:
    decoder = CallDecoder()
    call = decoder.decode(vault_call("grantRole", ROLES["KEEPER_ROLE"], KEEPER).data)
    assert call.text() == f"HedgedVault.grantRole(role=KEEPER_ROLE, account={KEEPER})"
    risk = decoder.decode(vault_call("setRiskParams", RISK).data)
    assert risk.args["params"]["maxLossBps"] == 40
    assert list(risk.args["params"]) == [b.field for b in RISK_FIELDS]


def test_operation_id__single_vs_batch__openzeppelin_encoding() -> None:
    call = vault_call("unpause")
    single = TimelockOperation((call,), salt=b"\x01" * 32)
    assert single.id == keccak(
        encode(["address", "uint256", "bytes", "bytes32", "bytes32"], [VAULT, 0, call.data, bytes(32), b"\x01" * 32])
    )
    batch = TimelockOperation((call, call), salt=b"\x01" * 32)
    assert batch.id == keccak(
        encode(
            ["address[]", "uint256[]", "bytes[]", "bytes32", "bytes32"],
            [[VAULT, VAULT], [0, 0], [call.data, call.data], bytes(32), b"\x01" * 32],
        )
    )
    assert TimelockOperation((call,), salt=b"\x02" * 32).id != single.id


def test_expected_states__bitmap__state_names() -> None:
    assert expected_states(0b100) == ["ready"]
    assert expected_states(0b110) == ["waiting", "ready"]


@pytest.mark.parametrize(
    ("option", "text", "message"),
    [
        (
            "--max-loss-bps",
            "600",
            r"risk\.maxLossBps=600 bps \(6 %\) is outside the contract's hard bound "
            r"\[1 bps .*500 bps .*MAX_LOSS_BPS.*--max-loss-bps",
        ),
        (
            "--health-factor-floor",
            "1.01",
            r"risk\.healthFactorFloorWad=1\.01 .*\[1\.05, 5\] "
            r"\(MIN_HEALTH_FACTOR_FLOOR_WAD … MAX_HEALTH_FACTOR_FLOOR_WAD",
        ),
        ("--period-seconds", "60", r"risk\.periodSeconds=60 s .*\[3600 s \(1 h\), 604800 s \(7 d\)\]"),
        ("--performance-fee-bps", "3001", r"fees\.performanceFeeBps=3001 .*3000 bps"),
    ],
)
def test_check_field__out_of_bound__names_field_value_and_range(option: str, text: str, message: str) -> None:
    bound = bound_for(option)
    with pytest.raises(ParameterError, match=message) as caught:
        check_field(bound, parse_field(bound, text), CONSTANTS)
    assert caught.value.field == bound.field


def test_check_field__edges__inclusive() -> None:
    for bound in (*RISK_FIELDS, *FEE_FIELDS, FULFIL_DELAY):
        low, high = bound.limits(CONSTANTS)
        check_field(bound, low, CONSTANTS)
        check_field(bound, high, CONSTANTS)
        with pytest.raises(ParameterError, match=bound.field):
            check_field(bound, high + 1, CONSTANTS)
        if low > 0:
            with pytest.raises(ParameterError, match=bound.field):
                check_field(bound, low - 1, CONSTANTS)


def test_parse_field__too_precise_or_not_a_number__names_option() -> None:
    with pytest.raises(
        ParameterError, match=r"--max-loss-bps=40\.5 \(maxLossBps\) must be ≥ 0 with at most 0 decimals"
    ):
        parse_field(bound_for("--max-loss-bps"), "40.5")
    with pytest.raises(ParameterError, match=r"--health-factor-floor='x' \(healthFactorFloorWad\) is not a number"):
        parse_field(bound_for("--health-factor-floor"), "x")
    assert parse_field(bound_for("--health-factor-floor"), "1.35") == 135 * 10**16


def test_humanize__role_hash_and_bytes32_name__readable() -> None:
    role = "0x" + ROLES["GUARDIAN_ROLE"].hex()
    text = humanize(
        f"AccessControlUnauthorizedAccount(account=0x15d34aaf54267db7d7c367839aaf71a00a2c6a65, neededRole={role})"
    )
    assert text == f"AccessControlUnauthorizedAccount(account={KEEPER}, neededRole=GUARDIAN_ROLE)"
    name = "0x" + b"maxLossBps".ljust(32, b"\0").hex()
    assert humanize(f"ParameterOutOfBounds(name={name}, value=600, min=1, max=500)") == (
        "ParameterOutOfBounds(name='maxLossBps', value=600, min=1, max=500)"
    )


def test_describe_tx__timelock_schedule_and_execute__inner_call_decoded() -> None:
    from governance.report import describe_tx

    single = TimelockOperation((vault_call("setDepositCap", 5),), salt=b"\x07" * 32)
    for tx in (single.schedule(TIMELOCK, 60), single.execute(TIMELOCK)):
        described = describe_tx(tx)
        assert described["inner_calls"] == ["HedgedVault.setDepositCap(cap=5)"]
        assert "<HedgedVault.setDepositCap(cap=5)>" in described["decoded"]
    batch = TimelockOperation((vault_call("unpause"), vault_call("pause")))
    assert describe_tx(batch.execute(TIMELOCK))["inner_calls"] == ["HedgedVault.unpause()", "HedgedVault.pause()"]
