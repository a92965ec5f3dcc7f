"""Start and stop anvil processes on loopback, and never leave one behind.

Every process started here is registered for an ``atexit`` stop, so an interrupted test run or
keeper does not leak anvils. Ports are picked free on 127.0.0.1.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from keeper.chain.rpc import RpcClient, RpcError
from keeper.model.exceptions import AnvilError
from keeper.paths import ROOT

_LIVE: set[AnvilProcess] = set()
# anvil's default mnemonic; account 0 is the devnet's deployer and admin.
DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"


def anvil_binary() -> Path:
    """The anvil shipped by npm ``@foundry-rs/anvil``, else one on PATH."""
    bundled = ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
    if bundled.is_file():
        return bundled
    found = shutil.which("anvil")
    if found is None:
        raise AnvilError("anvil not found: run `make setup` (npm ci installs @foundry-rs/anvil)")
    return Path(found)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of the call."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def rpc(url: str, method: str, params: Sequence[Any] = (), timeout: float = 10.0) -> Any:
    """One JSON-RPC call on a connection of its own; raises AnvilError on a JSON-RPC error."""
    client = RpcClient(url, timeout_s=timeout, retries=0)
    try:
        return client.call(method, params)
    except RpcError as err:
        raise AnvilError(f"{method} failed at {url}: {err}") from err
    finally:
        client.close()


class AnvilProcess:
    """One anvil on 127.0.0.1. Use as a context manager, or call ``start()``/``stop()``.

    Args:
        port: TCP port; a free one when None.
        chain_id: chain id anvil reports (31337 by default; 1 to stand in for mainnet).
        fork_url: upstream RPC to fork; the fork never caches storage on disk
            (``--no-storage-caching``: anvil's cache is keyed by chain and block only and returns
            another chain's state otherwise).
        fork_block_number: block of the upstream to fork at.
        load_state: a state file written by ``anvil --dump-state`` (plain JSON).
        extra_args: further anvil arguments.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        chain_id: int | None = None,
        fork_url: str | None = None,
        fork_block_number: int | None = None,
        load_state: Path | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.port = port or free_port()
        args = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(self.port), "--silent"]
        if chain_id is not None:
            args += ["--chain-id", str(chain_id)]
        if fork_url is not None:
            args += ["--fork-url", fork_url, "--no-storage-caching"]
            if fork_block_number is not None:
                args += ["--fork-block-number", str(fork_block_number)]
        if load_state is not None:
            args += ["--load-state", str(load_state)]
        self.args = [*args, *extra_args]
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout_s: float = 20.0) -> AnvilProcess:
        """Start anvil and wait until it answers ``eth_chainId``.

        Refuses a port something already listens on: answering there would be a foreign node.
        """
        if _listening(self.port):
            raise AnvilError(
                f"port {self.port} on 127.0.0.1 is already in use; pass another port (or None for a free "
                "one), or stop the process holding it"
            )
        self._process = subprocess.Popen(
            self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        _LIVE.add(self)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = (self._process.stderr.read() if self._process.stderr else b"").decode()[-2000:]
                self._forget()
                raise AnvilError(f"anvil exited with {self._process.returncode}: {err.strip()}")
            try:
                rpc(self.url, "eth_chainId", timeout=1.0)
            except (OSError, AnvilError):
                time.sleep(0.02)
                continue
            if self._process.poll() is None:
                return self
        self.stop()
        raise AnvilError(f"anvil on port {self.port} did not answer within {timeout_s} s")

    def stop(self) -> None:
        """Stop anvil (SIGTERM, then SIGKILL after 5 s). Idempotent."""
        process = self._process
        if process is None or process.poll() is not None:
            self._forget()
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        self._forget()

    def detach(self) -> int:
        """Leave the process running after this Python process exits (``keeper devnet up``); returns its pid."""
        if not self.is_running() or self._process is None:
            raise AnvilError("cannot detach: anvil is not running")
        _LIVE.discard(self)
        return self._process.pid

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _forget(self) -> None:
        if self._process is not None and self._process.stderr is not None:
            self._process.stderr.close()
        _LIVE.discard(self)

    def __enter__(self) -> AnvilProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"AnvilProcess(url={self.url!r}, pid={self.pid})"


@atexit.register
def _stop_all() -> None:
    for process in list(_LIVE):
        process.stop()


def alive_pids() -> list[int]:
    """PIDs of the anvils this Python process started and has not stopped (for leak checks)."""
    return [p.pid for p in _LIVE if p.pid is not None and os.path.exists(f"/proc/{p.pid}")]


@contextmanager
def isolated(url: str) -> Iterator[None]:
    """Everything done inside is undone after: ``evm_snapshot`` before, ``evm_revert`` after.

    Snapshot ids are single-use on anvil, so each use takes a new one.
    """
    snapshot_id = rpc(url, "evm_snapshot")
    try:
        yield
    finally:
        if not rpc(url, "evm_revert", [snapshot_id]):
            raise AnvilError(f"evm_revert({snapshot_id}) failed at {url}: state may have leaked")


def dev_account(index: int) -> Any:
    """anvil's well-known development account ``index`` (from the default mnemonic) as a signing account.

    For the devnet and tests only: these keys are public. A real network uses a keystore or an env secret."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return Account.from_mnemonic(DEFAULT_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
