from __future__ import annotations

import os
import subprocess

import pytest

from keeper.chain.anvil import free_port, rpc
from keeper.paths import ROOT

pytestmark = pytest.mark.chain


def keeper(*args: str, group: tuple[str, ...] = ("devnet",), **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / ".venv/bin/keeper"), *group, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, **env},
    )


def test_devnet_cli__up_status_down__lifecycle() -> None:
    keeper("down")
    port = free_port()
    started = keeper("up", "--port", str(port))
    try:
        assert started.returncode == 0, started.stderr
        assert f"devnet up at http://127.0.0.1:{port}" in started.stdout
        assert int(rpc(f"http://127.0.0.1:{port}", "eth_chainId"), 16) == 31337
        again = keeper("up", "--port", str(port))
        assert "already running" in again.stdout
        shown = keeper("status")
        assert shown.returncode == 0
        assert "Aave Pool" in shown.stdout
        assert "pool WETH/USDC" in shown.stdout
    finally:
        stopped = keeper("down")
    assert "stopped" in stopped.stdout
    assert keeper("status").returncode == 1


def test_newcomer_path__devnet_up_readme_deploy_then_status__runs_as_printed() -> None:
    """The README's commands in order, as a new user types them: `keeper devnet up`, `ape run deploy …`, then the
    keeper commands with the config `devnet up` wrote."""
    keeper("down")
    port = free_port()
    started = keeper("up", "--port", str(port))
    try:
        assert started.returncode == 0, started.stderr
        assert "keeper config: var/devnet/keeper.toml" in started.stdout
        deploy = [
            *("--account", "TEST::0", "--guardian", "TEST::5", "--keeper", "TEST::6", "--fee-recipient", "TEST::3"),
            *("--proposer", "TEST::0", "--delay", "86400", "--track", "WETH", "--track", "WBTC", "--send"),
        ]
        deployed = subprocess.run(
            [str(ROOT / ".venv/bin/ape"), "run", "deploy", *deploy, "--network", "ethereum:local:foundry"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=300,
            env={**os.environ, "APE_FOUNDRY_HOST": f"http://127.0.0.1:{port}"},
        )
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        status = keeper("status", "-c", "var/devnet/keeper.toml", group=())
        assert status.returncode == 0, status.stdout + status.stderr
        assert "net delta per underlying" in status.stdout
        key = keeper("key").stdout.strip()
        plan = keeper("plan", "-c", "var/devnet/keeper.toml", "--simulate", group=(), HV_KEEPER_KEY=key)
        assert plan.returncode == 0, plan.stdout + plan.stderr
    finally:
        keeper("down")
