"""A devnet with a funded vault and a keeper runtime wired to it (real reader, assessor, executor, tx manager)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from keeper.app.runtime import KeeperRuntime
from keeper.chain.anvil import dev_account
from keeper.config import KeeperSettings

from ..conftest import stack_fixtures
from ..vault.conftest import Stack, deploy_stack

KEEPER_INDEX = 6  # deploy_stack gives KEEPER_ROLE to anvil account 6


keeper_devnet, keeper_session, stack = stack_fixtures("keeper", deploy_stack)


def record_of(stack: Stack) -> dict[str, Any]:
    return {**stack.devnet.record, "vault": stack.section}


def settings_for(stack: Stack, tmp_path: Path, **sections: Any) -> KeeperSettings:
    """Keeper settings for the devnet: loopback RPC, a fresh store, quick transaction patience."""
    base: dict[str, Any] = {
        "network": {"rpc_url": stack.devnet.url, "poll_interval_s": 0.05},
        "store": {"path": str(tmp_path / "keeper.sqlite")},
        "metrics": {"enabled": False},
        "tx": {"stuck_after_s": 2.0, "receipt_timeout_s": 30.0},
    }
    for name, values in sections.items():
        base[name] = {**base.get(name, {}), **values}
    return KeeperSettings(**base)


def runtime_for(stack: Stack, settings: KeeperSettings, **kw: Any) -> KeeperRuntime:
    return KeeperRuntime.build(settings, record_of(stack), account=dev_account(KEEPER_INDEX), **kw)


class FlakyProxy:
    """A loopback HTTP proxy in front of a node that can be taken down and brought back, or made to fail
    after a number of requests: the keeper's RPC outage, mid-tick."""

    def __init__(self, upstream: str) -> None:
        import http.server
        import threading
        import urllib.request

        self.upstream = upstream
        self.down = False
        self.fail_after: int | None = None  # requests still allowed before the outage starts
        self.requests = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                proxy.requests += 1
                if proxy.fail_after is not None:
                    if proxy.fail_after <= 0:
                        proxy.down = True
                    proxy.fail_after -= 1
                if proxy.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                request = urllib.request.Request(proxy.upstream, body, {"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=30) as response:
                    reply = response.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
