from __future__ import annotations

import subprocess

import pytest

from keeper.chain.anvil import free_port, rpc
from keeper.paths import ROOT

pytestmark = pytest.mark.chain


def keeper(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / ".venv/bin/keeper"), "devnet", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
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
