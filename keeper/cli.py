"""The ``keeper`` command line: the one module that mounts every package's commands.

The bot's own commands (run, status, plan, report) come from :mod:`keeper.app.commands`. The tooling groups
live in packages of their own and are mounted when importable: ``keeper devnet …`` (:mod:`devnet.cli`) and
``keeper simulate`` (:mod:`sim.demo.cli`) and ``keeper risk montecarlo`` (:mod:`sim.montecarlo.cli`) run from a
source checkout; an installed wheel holds only the bot,
its adapters and the governance library, and says so instead of failing on an import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import typer

app = typer.Typer(help="Hedgevault keeper: devnet, risk, plans and the keeper loop.", no_args_is_help=True)

#: (module, attribute, how it is mounted: "group" for a Typer app, "command" for one function).
TOOLING: tuple[tuple[str, str, str, str], ...] = (
    ("devnet.cli", "app", "devnet", "group"),
    ("sim.demo.cli", "simulate", "simulate", "command"),
    ("sim.montecarlo.cli", "app", "risk", "group"),
)


@app.command()
def version() -> None:
    """Print the keeper's version."""
    from keeper import __version__

    typer.echo(__version__)


def _commands() -> None:
    from keeper.app import commands

    for fn in (commands.run, commands.status, commands.plan, commands.report):
        app.command(name=fn.__name__)(fn)
    from keeper.fleet.cli import app as fleet

    app.add_typer(fleet, name="fleet")


def _missing(name: str, module: str) -> Callable[..., Any]:
    def unavailable() -> None:
        typer.echo(
            f"keeper {name}: needs the `{module.split('.')[0]}` package, which ships with the source checkout "
            "(git clone the project and run `make demo`), not with the keeper wheel",
            err=True,
        )
        raise typer.Exit(2)

    unavailable.__doc__ = f"(unavailable here: needs the source checkout's `{module.split('.')[0]}` package)"
    return unavailable


def _mount() -> None:
    for module_name, attribute, name, kind in TOOLING:
        try:
            target = getattr(importlib.import_module(module_name), attribute)
        except ModuleNotFoundError as err:
            if err.name is None or not module_name.startswith(err.name):
                raise  # a real missing dependency inside the package: not ours to hide
            app.command(name=name)(_missing(name, module_name))
            continue
        if kind == "group":
            app.add_typer(target, name=name)
        else:
            app.command(name=name)(target)


_commands()
_mount()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
