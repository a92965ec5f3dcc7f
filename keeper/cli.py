"""The ``keeper`` command line. Sub-commands live beside what they drive and are mounted here."""

from __future__ import annotations

import typer

app = typer.Typer(help="Hedgevault keeper: devnet, risk, plans and the keeper loop.", no_args_is_help=True)


@app.command()
def version() -> None:
    """Print the keeper's version."""
    from keeper import __version__

    typer.echo(__version__)


def _commands() -> None:
    from keeper import commands
    from keeper.demo.cli import simulate

    for fn in (commands.run, commands.status, commands.plan, commands.report, simulate):
        app.command(name=fn.__name__)(fn)


_commands()


def _mount() -> None:
    # Sub-command groups are optional until their issue lands; each module exposes `app`.
    import importlib

    for module_name, group in (("keeper.devnet.cli", "devnet"),):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name != module_name:
                raise
            continue
        app.add_typer(module.app, name=group)


_mount()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
