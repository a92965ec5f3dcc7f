from __future__ import annotations

import os

import pytest

from keeper.chain.anvil import AnvilProcess, alive_pids, free_port, rpc
from keeper.model.exceptions import AnvilError


def test_start__default__answers_rpc_on_loopback_and_stops() -> None:
    process = AnvilProcess(chain_id=4242).start()
    try:
        assert process.url.startswith("http://127.0.0.1:")
        assert int(rpc(process.url, "eth_chainId"), 16) == 4242
        pid = process.pid
        assert pid in alive_pids()
    finally:
        process.stop()
    assert not process.is_running()
    assert not os.path.exists(f"/proc/{pid}")
    process.stop()  # idempotent


def test_context_manager__test_body_raises__process_is_stopped() -> None:
    process = AnvilProcess()

    def body() -> None:
        with process:
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        body()
    assert not process.is_running()
    assert process.pid not in alive_pids()


def test_start__invalid_argument__raises_with_anvil_message() -> None:
    with pytest.raises(AnvilError, match="anvil exited"):
        AnvilProcess(extra_args=["--no-such-flag"]).start()


def test_start__port_taken__raises_instead_of_reusing_foreign_node() -> None:
    with AnvilProcess() as first, pytest.raises(AnvilError, match="already in use"):
        AnvilProcess(port=first.port).start()


def test_rpc__unknown_method__raises_naming_method(anvil: AnvilProcess) -> None:
    with pytest.raises(AnvilError, match="no_such_method"):
        rpc(anvil.url, "no_such_method")


def test_free_port__called_twice__returns_bindable_ports() -> None:
    assert 1024 < free_port() < 65536
