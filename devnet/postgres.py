"""A real PostgreSQL server for tests, benches and ``make fleet-demo``: the binaries pgserver ships on PyPI
(PostgreSQL 16, no system package needed), one throw-away cluster per run on a free loopback port.

PostgreSQL refuses to run as root; when the caller is root the cluster is owned by and runs as ``nobody``.
``stop()`` is a fast shutdown, ``kill()`` a SIGKILL of the postmaster (a crash), ``start()`` again restarts the
same cluster on the same port (the data survives), which is what the PostgreSQL-restart fault test needs.
Production points ``store.url`` at any PostgreSQL instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from importlib.util import find_spec
from pathlib import Path
from types import TracebackType

from keeper.chain.anvil import free_port
from keeper.model.exceptions import HedgevaultError


def _bin_dir() -> Path:
    # Located without importing pgserver (its import touches the user's runtime dir and warns).
    spec = find_spec("pgserver")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresError("pgserver is not installed: run make build (it is in the project's dependencies)")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _reachable_by_others(bin_dir: Path) -> Path:
    """pgserver's install where ``nobody`` can run it. A checkout under a private directory (CI's fresh clone
    lives under mktemp's 0700 directory) cannot be traversed by another user, so the install and the wheel's
    bundled libraries (``pgserver.libs``, found through a relative rpath) are copied once, world-readable,
    under the system temp directory (keyed by their path) and run from there."""
    install = bin_dir.parent  # …/site-packages/pgserver/pginstall
    site = install.parent.parent
    tag = hashlib.sha256(str(install.resolve()).encode()).hexdigest()[:12]
    target = Path(tempfile.gettempdir()) / f"hv-pgserver-{tag}"
    runnable = target / "pgserver" / "pginstall" / "bin"
    if (runnable / "postgres").is_file():
        return runnable
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
    shutil.copytree(install, staging / "pgserver" / "pginstall", symlinks=True)
    if (site / "pgserver.libs").is_dir():
        shutil.copytree(site / "pgserver.libs", staging / "pgserver.libs", symlinks=True)
    for path in [staging, *staging.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        path.chmod(mode | 0o055 if path.is_dir() or mode & 0o100 else mode | 0o044)
    try:
        staging.rename(target)
    except OSError:  # another process won the race: use its copy
        shutil.rmtree(staging, ignore_errors=True)
    return runnable


class PostgresError(HedgevaultError):
    """Raised when the local PostgreSQL cluster cannot be initialised or started."""


class PostgresServer:
    """One local cluster; a context manager that always stops it (and deletes a temporary data dir)."""

    def __init__(self, data_dir: Path | None = None, port: int | None = None) -> None:
        self._own_dir = data_dir is None
        self.root = Path(tempfile.mkdtemp(prefix="hv-pg-")) if data_dir is None else Path(data_dir)
        self.data = self.root / "data"
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self._user = "nobody" if os.geteuid() == 0 else None
        entry = pwd.getpwnam(self._user) if self._user else None
        self._uid: int | None = entry.pw_uid if entry else None
        self._gid: int | None = entry.pw_gid if entry else None
        self._groups: list[int] | None = [] if entry else None
        self.bin = _reachable_by_others(_bin_dir()) if self._user else _bin_dir()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if (self.data / "PG_VERSION").exists():
            return
        if self._user is not None:
            entry = pwd.getpwnam(self._user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        out = subprocess.run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "utf8",
                "--no-sync",
            ],
            capture_output=True,
            user=self._uid,
            group=self._gid,
            extra_groups=self._groups,
        )
        if out.returncode != 0:
            raise PostgresError(f"initdb failed in {self.data}: {out.stderr.decode(errors='replace')[-400:]}")

    def start(self, timeout_s: float = 20.0) -> PostgresServer:
        self.init()
        log = open(self.root / "postgres.log", "ab")  # noqa: SIM115  (kept open by the server process)
        self.proc = subprocess.Popen(
            [
                str(self.bin / "postgres"),
                "-D",
                str(self.data),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-k",
                str(self.root),
                "-c",
                "fsync=off",
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=32MB",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=self._uid,
            group=self._gid,
            extra_groups=self._groups,
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PostgresError(f"postgres exited with {self.proc.returncode}; see {self.root / 'postgres.log'}")
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"], capture_output=True
            )
            if ready.returncode == 0:
                return self
            time.sleep(0.1)
        self.kill()
        raise PostgresError(f"postgres not ready on 127.0.0.1:{self.port} after {timeout_s}s")

    def stop(self) -> None:
        """Fast shutdown (SIGINT): open sessions are cut, the data is kept."""
        self._signal(signal.SIGINT)

    def kill(self) -> None:
        """A crash: SIGKILL to the postmaster and its backends."""
        self._signal(signal.SIGKILL)

    def _signal(self, sig: signal.Signals) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        if sig == signal.SIGKILL:
            (self.data / "postmaster.pid").unlink(missing_ok=True)

    def close(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *_exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()
