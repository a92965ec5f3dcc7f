"""``keeper simulate``: run a market scenario on the embedded devnet with the keeper live."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from keeper.model.exceptions import HedgevaultError

console = Console()
DEFAULT_OUT = Path("report")


def simulate(
    scenario: str = typer.Option("crash", help="scenario name (scenarios/<name>.toml)"),
    out: Annotated[Path, typer.Option(help="directory for report.html, the PNGs and summary.json")] = DEFAULT_OUT,
    book: str = typer.Option("short-vol", help="the book opened before the scenario: short-vol | levered-long"),
    every: int | None = typer.Option(None, help="path points per keeper step (default: ~240 steps per run)"),
    sizing: str = typer.Option(
        "fixed",
        help="short-vol book size: fixed (1,000 a side) | tail_budget (the keeper's sizing rule at the open, ≤ 1,000)",
    ),
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="policy setting KEY=VALUE over the demo's (JSON value; tail.* for policy.tail), repeatable",
        ),
    ] = None,
) -> None:
    """Run a scenario end to end: devnet, vault, book, keeper live vs unhedged, dashboard, HTML report."""
    from sim.demo.simulate import simulate as run
    from sim.scenarios import list_scenarios

    if scenario not in list_scenarios():
        raise typer.BadParameter(f"{scenario!r}: choose one of {', '.join(list_scenarios())}", param_hint="--scenario")
    if sizing not in ("fixed", "tail_budget"):
        raise typer.BadParameter(f"{sizing!r}: choose fixed or tail_budget", param_hint="--sizing")
    from sim.demo.settings import parse_overrides

    try:
        overrides = parse_overrides(set_ or [])
        result = run(scenario, out, book_name=book, every=every, console=console, sizing=sizing, overrides=overrides)
    except (HedgevaultError, ValueError) as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from err
    from sim.demo.run import summary_row

    rows = [summary_row(r) for r in (result.predictive, result.hedged, result.unhedged) if r is not None]
    table = books_table(f"{result.scenario}: three books on the same path ({result.seconds:.0f} s)", rows)
    console.print(table)
    console.print(f"report: {result.report_path}  (summary: {result.summary_path})")


def books_table(title: str, rows: list[dict[str, Any]]) -> Table:
    """The books side by side, readable in an 80-column terminal: the run's short name (its policy is in the
    report), gas in millions."""
    table = Table(title=title)
    for column in ("book", "max DD", "liq.", "rebal.", "gas", "final NAV $", "min HF"):
        table.add_column(column, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(
            str(row["run"]).split(" (")[0],
            f"{row['max_drawdown']:.2%}",
            str(row["liquidations"]),
            str(row["rebalances"]),
            f"{row['gas_used'] / 1e6:,.1f}M",
            f"{row['final_nav_usd']:,.0f}",
            f"{row['min_health_factor']:.3f}",
        )
    return table
