"""A running devnet: anvil started from the snapshot, with its deployment record and a driver."""

from __future__ import annotations

import time
from pathlib import Path
from types import TracebackType
from typing import Any

from devnet.snapshot import STATE_DIR, anvil_args, ensure_snapshot, prepare_time
from keeper.chain.anvil import AnvilProcess
from keeper.chain.connect import web3_for


class Devnet:
    """``with Devnet.start() as devnet:`` gives ``devnet.url``, ``devnet.w3``, ``devnet.record``."""

    def __init__(self, anvil: AnvilProcess, record: dict[str, Any], ready_seconds: float) -> None:
        self.anvil = anvil
        self.record = record
        self.ready_seconds = ready_seconds
        self.w3 = web3_for(anvil.url)

    @property
    def url(self) -> str:
        return self.anvil.url

    @classmethod
    def start(cls, port: int | None = None, state_dir: Path = STATE_DIR) -> Devnet:
        """Start anvil from the snapshot (building it first if needed). ``ready_seconds`` excludes a build."""
        snap = ensure_snapshot(state_dir)
        t0 = time.perf_counter()
        anvil = AnvilProcess(port, load_state=snap.state_path, extra_args=anvil_args()).start()
        prepare_time(anvil.url)
        return cls(anvil, snap.record, time.perf_counter() - t0)

    def stop(self) -> None:
        self.anvil.stop()

    def __enter__(self) -> Devnet:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
