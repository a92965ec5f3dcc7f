"""The operator's commands end to end on the devnet: status and plan read without the key, plan --simulate asks
the vault, run hedges and stops after N ticks, report shows what happened; bad config exits 2 naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keeper.chain.anvil import dev_account
from keeper.cli import app
from keeper.model import Swap

from ..vault.conftest import Stack
from .conftest import KEEPER_INDEX, record_of
from .test_keeper_devnet import keeper_rebalance

pytestmark = pytest.mark.chain


def write_config(stack: Stack, tmp_path: Path, extra: str = "") -> Path:
    record = tmp_path / "deployment.json"
    record.write_text(json.dumps(record_of(stack)))
    config = tmp_path / "keeper.toml"
    config.write_text(
        f"""
[network]
rpc_url = "{stack.devnet.url}"
deployment_path = "{record}"
poll_interval_s = 0.05

[signer]
private_key_env = "HV_TEST_KEEPER_KEY"

[store]
path = "{tmp_path / "keeper.sqlite"}"

[metrics]
enabled = false
{extra}
"""
    )
    return config


def test_status_and_plan__out_of_band_book__tables_and_simulation(stack: Stack, tmp_path: Path) -> None:
    keeper_rebalance(stack, Swap("USDC", "WETH", 300_000.0, 99.0))
    config = write_config(stack, tmp_path)
    runner = CliRunner()
    status = runner.invoke(app, ["status", "-c", str(config)], terminal_width=80)
    assert status.exit_code == 0, status.output
    assert "net delta per underlying" in status.output
    assert "WETH" in status.output
    # Readable in an 80-column terminal: no line wider, no header or number cut to "…".
    assert max(len(line) for line in status.output.splitlines()) <= 80
    assert "…" not in status.output, status.output
    plan = runner.invoke(app, ["plan", "-c", str(config), "--simulate"], terminal_width=200)
    assert plan.exit_code == 0, plan.output
    assert "delta:WETH" in plan.output
    assert "the vault would accept this plan now" in plan.output
    as_json = runner.invoke(app, ["plan", "-c", str(config), "--json"])
    actions = json.loads(as_json.output)["actions"]
    assert [a["kind"] for a in actions] == ["swap"]


def test_run_then_report__hedges_and_records(stack: Stack, tmp_path: Path) -> None:
    keeper_rebalance(stack, Swap("USDC", "WETH", 300_000.0, 99.0))
    config = write_config(stack, tmp_path)
    key = "0x" + bytes(dev_account(KEEPER_INDEX).key).hex()
    runner = CliRunner()
    ran = runner.invoke(
        app, ["run", "-c", str(config), "--max-ticks", "1", "--log-format", "text"], env={"HV_TEST_KEEPER_KEY": key}
    )
    assert ran.exit_code == 0, ran.output
    assert "after 1 ticks, 1 rebalances" in ran.output
    report = runner.invoke(app, ["report", "-c", str(config)], terminal_width=200)
    assert report.exit_code == 0, report.output
    assert "confirmed" in report.output


def test_run__missing_key__exits_2_naming_the_variable(stack: Stack, tmp_path: Path) -> None:
    config = write_config(stack, tmp_path)
    result = CliRunner().invoke(app, ["run", "-c", str(config)], env={"HV_TEST_KEEPER_KEY": ""})
    assert result.exit_code == 2
    assert "HV_TEST_KEEPER_KEY" in result.output


def test_status__bad_config_value__exits_2_naming_field_and_fix(stack: Stack, tmp_path: Path) -> None:
    config = write_config(stack, tmp_path, extra="\n[policy]\nhealth_factor_trigger = 0.9\n")
    result = CliRunner().invoke(app, ["status", "-c", str(config)], terminal_width=200)
    assert result.exit_code == 2
    assert "policy.health_factor_trigger=0.9" in result.output


def test_run__sigterm__current_tick_finishes_and_exits_0(stack: Stack, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    config = write_config(stack, tmp_path)
    env = {**os.environ, "HV_TEST_KEEPER_KEY": "0x" + bytes(dev_account(KEEPER_INDEX).key).hex()}
    process = subprocess.Popen(
        [sys.executable, "-m", "keeper.cli", "run", "-c", str(config)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (tmp_path / "keeper.sqlite").exists():
            time.sleep(0.1)
        stack.driver.mine()  # a block to tick on
        time.sleep(1.0)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert lines[0]["msg"] == "keeper starting"
    assert lines[0]["banner"]["chain_id"] == 31337
    assert any(line["msg"].startswith("received SIGTERM") for line in lines)
    assert lines[-1]["msg"] == "keeper stopped"
