"""scripts/deploy.py and scripts/governance.py run as real `ape run` processes against a devnet (~9 s of ape
start-up each, so only a few): deploy + refusal, queue → travel → execute with --send/--json/--safe-json, a wrong
role, bad input, and a Safe as the timelock's proposer signing through ape-safe."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import Web3
from web3.logs import DISCARD

from devnet.devnet import Devnet
from devnet.fixtures import hedged_vault
from governance.deploy import deploy_vault
from governance.deploy_checks import verify_vault
from governance.safe import load_batch
from governance.timelock import OperationState, operation_state, parse_operation_id
from keeper.chain.client import Chain
from keeper.paths import ROOT

pytestmark = pytest.mark.chain


def ape_run(url: str, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ape", "run", script, *args, "--network", "ethereum:local:foundry"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "APE_FOUNDRY_HOST": url},
        timeout=300,
    )


def json_out(result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    start = result.stdout.index("{")
    return json.loads(result.stdout[start:])  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def script_devnet() -> Iterator[Devnet]:
    with Devnet.start() as running:
        yield running


@pytest.fixture(scope="module")
def stack_record(script_devnet: Devnet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    hedged = hedged_vault(script_devnet.w3, script_devnet.url, script_devnet.record)
    path = tmp_path_factory.mktemp("gov") / "deployment.json"
    path.write_text(json.dumps(hedged.record, indent=2))
    return path


def test_deploy_script__devnet__deploys_verifies_writes_record_then_refuses(
    script_devnet: Devnet, tmp_path: Path
) -> None:
    record = tmp_path / "deployment.json"
    record.write_text(json.dumps(script_devnet.record))
    args = ["--record", str(record), "--account", "TEST::0", "--guardian", "TEST::5", "--keeper", "TEST::6"]
    args += ["--fee-recipient", "TEST::3", "--proposer", "TEST::0", "--delay", "3600", "--send", "--json"]
    deployed = ape_run(script_devnet.url, "deploy", *args)
    assert deployed.returncode == 0, deployed.stderr + deployed.stdout
    doc = json_out(deployed)
    assert doc["simulation"]["verify"] == "ok"
    assert doc["deployed"]["verify"] == "ok"
    assert doc["deployed"]["same_as_simulated"] is True  # the fork predicted the real addresses
    section = json.loads(record.read_text())["vault"]
    assert section["status"] == "complete"
    assert section["timelock_delay_seconds"] == 3600
    assert verify_vault(script_devnet.w3, section, script_devnet.w3.eth.accounts[0], script_devnet.record) == []
    again = ape_run(script_devnet.url, "deploy", *args)
    assert again.returncode == 2
    assert "already has a complete vault" in again.stderr
    assert "refusing to deploy over it" in again.stderr


def test_governance_script__queue_travel_execute__state_changes_and_safe_json_decodes(
    script_devnet: Devnet, stack_record: Path, tmp_path: Path
) -> None:
    url, safe_json = script_devnet.url, tmp_path / "batch.json"
    common = ["--record", str(stack_record), "--account", "TEST::0", "--json"]
    queued = ape_run(
        url, "governance", "queue", "risk", "--max-loss-bps", "40", *common, "--send", "--safe-json", str(safe_json)
    )
    assert queued.returncode == 0, queued.stderr + queued.stdout
    doc = json_out(queued)
    assert doc["simulation"]["ok"] is True
    assert [(r["name"], r["before"], r["after"]) for r in doc["params_diff"]] == [
        ("risk.maxLossBps", "50 bps (0.5 %)", "40 bps (0.4 %)")
    ]
    assert doc["real_vs_simulation"] == "the real result matches the simulation"
    chain_id = Chain(url).chain_id
    (tx,) = load_batch(safe_json, chain_id)
    assert (tx.to, "0x" + tx.data.hex()) == (doc["signed"][0]["to"], doc["signed"][0]["data"])
    op_id = parse_operation_id(doc["operation"]["id"])
    record = json.loads(stack_record.read_text())
    chain = Chain(url)
    assert operation_state(chain, record["vault"]["Timelock"], op_id)[0] == OperationState.WAITING
    chain.advance(86_400)
    executed = ape_run(url, "governance", "execute", doc["operation"]["id"], *common, "--send")
    assert executed.returncode == 0, executed.stderr + executed.stdout
    assert json_out(executed)["real_vs_simulation"] == "the real result matches the simulation"
    assert operation_state(chain, record["vault"]["Timelock"], op_id)[0] == OperationState.DONE
    vault = script_devnet.w3.eth.contract(
        address=record["vault"]["HedgedVault"],
        abi=[
            {
                "name": "riskParams",
                "type": "function",
                "stateMutability": "view",
                "inputs": [],
                "outputs": [
                    {
                        "type": "tuple",
                        "name": "",
                        "components": [
                            {"type": t, "name": f"f{i}"}
                            for i, t in enumerate(
                                [
                                    "uint256",
                                    "uint16",
                                    "uint16",
                                    "uint32",
                                    "uint16",
                                    "uint32",
                                    "uint32",
                                    "uint16",
                                    "uint32",
                                ]
                            )
                        ],
                    }
                ],
            }
        ],
    )
    assert vault.functions.riskParams().call()[1] == 40


def test_governance_script__pause_by_non_guardian__exit_1_and_names_missing_role(
    script_devnet: Devnet, stack_record: Path
) -> None:
    result = ape_run(
        script_devnet.url, "governance", "pause", "--record", str(stack_record), "--account", "TEST::4", "--send"
    )
    assert result.returncode == 1
    outsider = Web3.to_checksum_address(script_devnet.w3.eth.accounts[4])
    text = " ".join((result.stdout + result.stderr).split())  # rich wraps long lines
    assert f"AccessControlUnauthorizedAccount(account={outsider}, neededRole=GUARDIAN_ROLE)" in text
    assert "nothing was signed" in text or "not_sent" in text or "simulation failed" in text


def test_governance_script__risk_out_of_bound__exit_2_names_field_and_range(
    script_devnet: Devnet, stack_record: Path
) -> None:
    result = ape_run(
        script_devnet.url,
        "governance",
        "queue",
        "risk",
        "--heartbeat-seconds",
        "30",
        "--record",
        str(stack_record),
        "--account",
        "TEST::0",
    )
    assert result.returncode == 2
    text = " ".join(result.stderr.split())
    assert (
        "risk.heartbeatSeconds=30 s (30 s) is outside the contract's hard bound [60 s (1 min), 172800 s (2 d)]" in text
    )
    assert "--heartbeat-seconds" in text


def _deploy_safe(w3: Web3, owners: list[str], threshold: int) -> str:
    """A Safe v1.4.1 (SafeL2 singleton + proxy factory from ape-safe's manifest) owned by ``owners``."""
    import ape_safe

    manifest = json.loads((Path(ape_safe.__file__).parent / "manifests" / "safe-v1.4.1.json").read_text())
    types = manifest["contractTypes"]
    sender = w3.eth.accounts[0]

    def deploy(name: str) -> Any:
        ct = types[name]
        factory = w3.eth.contract(abi=ct["abi"], bytecode=ct["deploymentBytecode"]["bytecode"])
        receipt = w3.eth.wait_for_transaction_receipt(factory.constructor().transact({"from": sender}))
        return w3.eth.contract(address=receipt["contractAddress"], abi=ct["abi"])

    singleton, factory = deploy("SafeL2"), deploy("SafeProxyFactory")
    zero = "0x" + "00" * 20
    setup = singleton.encode_abi("setup", args=[owners, threshold, zero, b"", zero, zero, 0, zero])
    tx = factory.functions.createProxyWithNonce(singleton.address, setup, 7).transact({"from": sender})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    (event,) = factory.events.ProxyCreation().process_receipt(receipt, errors=DISCARD)
    return str(event["args"]["proxy"])


def test_governance_script__safe_is_proposer__ape_safe_signs_and_schedules(
    script_devnet: Devnet, tmp_path: Path
) -> None:
    w3, accounts = script_devnet.w3, script_devnet.w3.eth.accounts
    safe = _deploy_safe(w3, accounts[:3], 2)
    section = deploy_vault(
        w3,
        script_devnet.record,
        deployer=accounts[0],
        guardian=accounts[5],
        keeper=accounts[6],
        fee_recipient=accounts[3],
        proposers=[safe],
        executors=[accounts[0]],
    )
    record = tmp_path / "deployment.json"
    record.write_text(json.dumps(dict(script_devnet.record, vault=section)))
    safe_json = tmp_path / "safe-batch.json"
    result = ape_run(
        script_devnet.url,
        "governance",
        "queue",
        "deposit-cap",
        "5000000",
        "--record",
        str(record),
        "--safe",
        safe,
        "--account",
        "TEST::0",
        "--send",
        "--json",
        "--safe-json",
        str(safe_json),
    )
    assert result.returncode == 0, result.stderr + result.stdout
    doc = json_out(result)
    assert doc["simulation"]["steps"][0]["sender"] == Web3.to_checksum_address(safe)  # the fork impersonated the Safe
    op_id = parse_operation_id(doc["operation"]["id"])
    assert operation_state(Chain(script_devnet.url), section["Timelock"], op_id)[0] == OperationState.WAITING
    batch = json.loads(safe_json.read_text())
    assert batch["meta"]["createdFromSafeAddress"] == Web3.to_checksum_address(safe)
    assert batch["transactions"][0]["contractMethod"]["name"] == "schedule"
    # The same schedule from an owner's EOA is refused: only the Safe proposes.
    eoa = ape_run(
        script_devnet.url,
        "governance",
        "queue",
        "deposit-cap",
        "6000000",
        "--record",
        str(record),
        "--account",
        "TEST::1",
    )
    assert eoa.returncode == 1
    assert "neededRole=PROPOSER_ROLE" in " ".join((eoa.stdout + eoa.stderr).split())
