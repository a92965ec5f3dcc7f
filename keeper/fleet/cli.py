"""``keeper fleet check | run | status``: the fleet file's commands (see :mod:`keeper.fleet`)."""

from __future__ import annotations

import logging
import signal
import socket
import threading
from pathlib import Path
from types import FrameType

import typer

from keeper.fleet.config import check_fleet
from keeper.fleet.view import render
from keeper.model.exceptions import HedgevaultError

app = typer.Typer(
    help="Many vaults on several chains: check, run (supervised, replicated), status.", no_args_is_help=True
)
FleetOption = typer.Option(..., "--fleet", "-f", help="fleet TOML file")
log = logging.getLogger("hedgevault.fleet")


def _load(path: Path):  # type: ignore[no-untyped-def]
    try:
        return check_fleet(path)
    except HedgevaultError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from err


@app.command()
def check(fleet: Path = FleetOption) -> None:
    """Validate the fleet file against its nodes, records and database; start nothing."""
    checked = _load(fleet)
    for v in checked.vaults:
        typer.echo(f"{v.entry.name:<16} chain {v.entry.chain_id:<8} vault {v.address}  rpc x{len(v.entry.rpc_urls)}")
    typer.echo(f"fleet {fleet}: {len(checked.vaults)} vaults ok")


@app.command()
def status(fleet: Path = FleetOption) -> None:
    """Every vault (block, NAV, HF, liquidation move, stress, leader) and the aggregate across chains."""
    from keeper.fleet.status import fleet_status

    checked = _load(fleet)
    for line in render(fleet_status(checked), title=f"fleet {fleet.name}"):
        typer.echo(line)


@app.command()
def run(
    fleet: Path = FleetOption,
    replica: str = typer.Option(socket.gethostname(), help="this replica's name in the leases"),
    metrics_port: int | None = typer.Option(None, help="override fleet.metrics_port (0: no endpoint)"),
    view_every_s: float = typer.Option(60.0, help="print the aggregated view this often"),
    log_format: str = typer.Option("json", help="json | text"),
) -> None:
    """Run a supervised worker per vault (leases when fleet.store_url is set) until SIGTERM/SIGINT."""
    from keeper.app.logs import configure_logging
    from keeper.fleet.run import FleetRunner

    if log_format not in ("json", "text"):
        raise typer.BadParameter(f"--log-format={log_format!r}: choose json or text", param_hint="--log-format")
    configure_logging(json_lines=log_format == "json")
    checked = _load(fleet)
    runner = FleetRunner(checked, replica)
    stop = threading.Event()

    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: stopping the workers after their current tick", signal.Signals(signum).name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handle)
    runner.start(metrics_port)
    typer.echo(f"fleet {fleet}: {len(runner.workers)} workers started as replica {replica!r}")
    while not stop.wait(view_every_s):
        for line in render(runner.view(), title=f"fleet {fleet.name} ({replica})"):
            typer.echo(line)
    runner.stop()
    for line in render(runner.view(), title=f"fleet {fleet.name} ({replica}), stopped"):
        typer.echo(line)
