"""``keeper risk montecarlo``: the book under the keeper's policy over many paths, on Dask."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from keeper.model.exceptions import HedgevaultError

app = typer.Typer(help="Risk tooling that runs from the source checkout (Monte Carlo).", no_args_is_help=True)
console = Console()
BOOKS = ("live", "levered-long", "short-vol")


@app.command()
def montecarlo(
    paths: int = typer.Option(1_000, help="number of paths"),
    days: float = typer.Option(30.0, help="horizon in days"),
    scenario: str = typer.Option(
        "gbm", help="path model: gbm | garch | merton | regime | gaps | crash | calm | vol_crush"
    ),
    book: str | None = typer.Option(
        None,
        help="starting book: live (the vault -c points at, read through its lens; the default with -c) | "
        "levered-long (Aave; the default without -c) | short-vol (venue): the demo's, opened in the model",
    ),
    config: Annotated[
        Path | None, typer.Option("-c", "--config", help="keeper.toml: run with this keeper's policy settings")
    ] = None,
    seed: int = typer.Option(16, help="run seed; path i draws from default_rng([seed, i])"),
    step_minutes: float = typer.Option(60.0, help="minutes between keeper steps"),
    workers: int | None = typer.Option(None, help="LocalCluster workers (default: one per core; 0: in-process)"),
    scheduler: str | None = typer.Option(None, help="a running Dask scheduler, e.g. tcp://HOST:8786"),
    memory_mb: float = typer.Option(1_024.0, help="MB of path arrays a worker may hold"),
    calibrate: bool = typer.Option(
        True, help="with the live book: fit the scenario's vols and WETH/WBTC correlation on the keeper's store"
    ),
    history_ticks: int = typer.Option(20_000, help="recorded keeper ticks read for the calibration (newest)"),
    gas_price_gwei: float = typer.Option(1.0, help="gas price the keeper's rebalances are costed at"),
    out: Annotated[Path, typer.Option(help="directory for montecarlo.html, PNGs, summary.json, .prom")] = Path(
        "report/montecarlo"
    ),
) -> None:
    """Simulate the book under the keeper's own policy: P(liquidation), drawdown, ES, hedging cost, NAV fan."""
    from sim.montecarlo.books import levered_long, short_vol
    from sim.montecarlo.engine import run
    from sim.montecarlo.job import make_job, settings_for
    from sim.montecarlo.market import devnet_market
    from sim.montecarlo.reduce import summarise
    from sim.montecarlo.report import write_outputs

    try:
        book = book or ("live" if config is not None else "levered-long")
        if book not in BOOKS:
            raise typer.BadParameter(f"{book!r}: choose one of {', '.join(BOOKS)}", param_hint="--book")
        if book == "live" and config is None:
            raise typer.BadParameter(
                "the live book needs the vault's keeper.toml: pass -c keeper.toml", param_hint="--book"
            )
        base = _settings(config)
        path_model: Any = None
        calibration: dict[str, Any] | None = None
        if book == "live":
            from sim.montecarlo.live import live_start

            live = live_start(base, gas_price_gwei, history_ticks)
            market, start = live.market, live.book
            console.print(f"start: the live vault at block {live.block_number} ({start.description})")
            from sim.montecarlo.paths import SCENARIOS

            if calibrate and scenario in SCENARIOS:  # an unknown scenario is refused by make_job below
                from sim.montecarlo.calibrate import calibrate as fit

                fitted = fit(SCENARIOS[scenario], live.history, days, ewma_decay=base.loop.ewma_decay)
                path_model, calibration = fitted.model, fitted.summary()
                v = fitted.sigma_annual
                console.print(
                    f"calibrated on {len(live.history):,} recorded ticks: vol WETH {v[0]:.1%} ({fitted.methods[0]}), "
                    f"WBTC {v[1]:.1%} ({fitted.methods[1]}), correlation {fitted.correlation:.2f}"
                )
                for note in fitted.notes:
                    console.print(f"  [yellow]{note}[/yellow]")
        else:
            market = devnet_market(gas_price_gwei=gas_price_gwei, rebalance_gas=base.loop.rebalance_gas)
            start = levered_long(market, base) if book == "levered-long" else short_vol(market, base)
        job = make_job(
            scenario,
            paths,
            days,
            book=start,
            market=market,
            settings=settings_for(start, base),
            seed=seed,
            step_minutes=step_minutes,
            memory_mb=memory_mb,
            path_model=path_model,
        )
        with Progress(
            TextColumn("[bold]paths"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
        ) as bar:
            task = bar.add_task("paths", total=paths)
            result = run(
                job, workers=workers, scheduler=scheduler, progress=lambda done, total: bar.update(task, completed=done)
            )
    except HedgevaultError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from err
    nav0 = job.book.world(job.market, job.settings).nav_usd(list(job.book.prices_usd), 0)
    summary = {
        "scenario": scenario,
        "book": start.name,
        "seed": seed,
        "step_minutes": step_minutes,
        "engine": {
            "where": result.where,
            "workers": result.workers,
            "chunks": result.chunks,
            "seconds": result.seconds,
        },
        **summarise(result.result, nav0),
        **({"calibration": calibration} if calibration is not None else {}),
    }
    files = write_outputs(out, result.result, summary)
    _print(summary)
    console.print(f"report: {files['html']}  (summary: {files['summary']}, gauges: {files['prometheus']})")


def _settings(config: Path | None) -> Any:
    from keeper.config import KeeperSettings, load_settings

    return load_settings(config) if config is not None else KeeperSettings()


def _print(s: dict[str, Any]) -> None:
    e = s["engine"]
    t = Table(title=f"{s['paths']:,} paths × {s['days']} days, {s['scenario']}, {e['where']} ({e['seconds']:.1f} s)")
    t.add_column("figure")
    t.add_column("value ± MC s.e.", justify="right")
    p = s["p_liquidation"]
    t.add_row("P(any liquidation)", f"{p['p']:.2%} ± {p['se']:.2%} (95 % CI {p['ci95_low']:.2%}–{p['ci95_high']:.2%})")
    for k, label in (
        ("q01", "final NAV change, 1 %"),
        ("q05", "final NAV change, 5 %"),
        ("q50", "final NAV change, median"),
    ):
        q = s["final_nav_ratio"][k]
        t.add_row(label, f"{(q['value'] - 1):+.2%} ± {q['se']:.2%}")
    for k in ("q95", "q99"):
        q = s["max_drawdown"][k]
        t.add_row(f"max drawdown, {k[1:]} %", f"{q['value']:.2%} ± {q['se']:.2%}")
    for k in ("es95", "es99"):
        es = s["expected_shortfall"][k]
        t.add_row(f"expected shortfall {k[2:]} %", f"{es['es']:.2%} ± {es['se']:.2%}")
    if s["book"] != "levered-long":
        v = s["p_venue_liquidation"]
        t.add_row(
            "P(venue liquidation)", f"{v['p']:.2%} ± {v['se']:.2%} (95 % CI {v['ci95_low']:.2%}–{v['ci95_high']:.2%})"
        )
    r = s["rebalances_per_path"]
    t.add_row("rebalances per path", f"{r['mean']:.2f} ± {r['se']:.2f}")
    c = s["hedging_cost_usd"]
    t.add_row(
        "hedging cost per path (swaps + gas)", f"${c['swap']['mean'] + c['gas']['mean']:,.0f} ± {c['swap']['se']:,.0f}"
    )
    console.print(t)
