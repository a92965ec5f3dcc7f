"""``keeper run | status | plan | report``: the operator's commands.

``status`` and ``plan`` only read (one lens call) and never need the key; ``plan --simulate`` asks the node
whether the vault would accept the plan (``eth_call`` from the keeper address), still without signing.
``run`` is the long-lived process. ``report`` reads the keeper's SQLite memory.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from keeper.app.loop import Assessment, band_metrics
from keeper.config import KeeperSettings, load_settings
from keeper.model import Plan
from keeper.model.exceptions import HedgevaultError
from keeper.policy import decide

console = Console()
ConfigOption = typer.Option(None, "--config", "-c", help="keeper TOML config (HV_* environment overrides it)")
DeploymentOption = typer.Option(None, "--deployment", help="deployment record JSON (overrides the config)")


def _settings(config: Path | None, deployment: Path | None) -> KeeperSettings:
    settings = load_settings(config)
    if deployment is not None:
        network = settings.network.model_copy(update={"deployment_path": deployment})
        settings = settings.model_copy(update={"network": network})
    return settings


def _fail(err: HedgevaultError) -> typer.Exit:
    console.print(f"[red]error:[/red] {err}")
    return typer.Exit(2)


def _read(settings: KeeperSettings) -> tuple[Any, Assessment, Plan]:
    from dataclasses import replace

    from keeper.app.runtime import KeeperRuntime

    runtime = KeeperRuntime.build(settings, read_only=True)
    try:
        keeper = runtime.keeper
        snapshot = keeper.reader.read()
        assessment = keeper.assessor.assess(snapshot)
        deep = keeper.assessor.deep(force=True)  # type: ignore[attr-defined]  # the VaultAssessor
        assessment = replace(assessment, risk={**assessment.risk, **deep})
        book = replace(assessment.book, last_action_block=dict(keeper._last_action_blocks()))
        plan = decide(book, settings.policy)
        assessment = replace(assessment, risk={**assessment.risk, **band_metrics(plan, book)})
    finally:
        runtime.store.close()
    return runtime, assessment, plan


def _fmt(value: float, digits: int = 2) -> str:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return "—" if math.isnan(value) else "∞"
    return f"{value:,.{digits}f}"


def risk_tables(assessment: Assessment) -> list[Table]:
    """The one-shot risk view: vault, per-underlying Greeks and positions, liquidation and stress."""
    book, risk = assessment.book, assessment.risk
    vault = Table(title=f"vault at block {book.block_number}")
    for column in ("NAV (USD)", "share price", "idle USDC", "Aave HF", "venue margin ratio"):
        vault.add_column(column, justify="right")
    margin = risk.get("venue_margin_ratio", float("nan"))
    vault.add_row(
        _fmt(assessment.nav_usd),
        _fmt(assessment.share_price, 6),
        _fmt(book.idle_usdc),
        _fmt(book.health_factor, 3),
        _fmt(margin, 2),
    )
    # Two narrow tables rather than one wide one: each stays readable in an 80-column terminal.
    delta = Table(title="net delta per underlying (band centred on the target)")
    for column in ("", "spot", "Δ units", "target", "Δ−target USD", "band ± USD", "in band", "σ fcst"):
        delta.add_column(column, justify="right")
    greeks = Table(title="other Greeks and positions (units)")
    for column in ("", "Γ USD/1%", "vega/pt", "θ USD/day", "held", "Aave coll.", "Aave debt"):
        greeks.add_column(column, justify="right")
    for u in book.underlyings:
        s = u.symbol
        inside = risk.get(f"delta_inside_band:{s}", float("nan"))
        delta.add_row(
            s,
            _fmt(u.spot_usd, 0),
            _fmt(u.net_delta_units, 2),
            _fmt(risk.get(f"delta_target_units:{s}", 0.0), 2),
            _fmt(risk.get(f"delta_deviation_usd:{s}", float("nan")), 0),
            _fmt(risk.get(f"delta_band_usd:{s}", float("nan")), 0),
            "—" if math.isnan(inside) else ("yes" if inside else "NO"),
            f"{u.sigma_annual:.0%}",
        )
        greeks.add_row(
            s,
            _fmt(risk.get(f"net_gamma_usd_per_pct:{s}", 0.0), 0),
            _fmt(u.net_vega_usd_per_vol_pt, 0),
            _fmt(risk.get(f"net_theta_usd_per_day:{s}", 0.0), 0),
            _fmt(u.held_units, 2),
            _fmt(u.collateral_units, 2),
            _fmt(u.debt_units, 2),
        )
    liquidation = Table(title="liquidation distance and stress")
    for column in ("nearest liquidation", "in σ (horizon)", "stress worst loss (USD)", "scenarios liquidated"):
        liquidation.add_column(column, justify="right")
    pct = risk.get("liquidation_distance_pct", float("nan"))
    liquidation.add_row(
        "none" if math.isnan(pct) else f"{pct:.1%}",
        _fmt(risk.get("liquidation_distance_sigma", float("nan")), 1),
        _fmt(risk.get("stress_worst_loss_usd", float("nan")), 0),
        _fmt(risk.get("stress_liquidated_scenarios", 0.0), 0),
    )
    return [vault, delta, greeks, liquidation]


def plan_tables(plan: Plan) -> list[Table]:
    decisions = Table(title="policy decisions (in order of urgency)")
    decisions.add_column("rule")
    decisions.add_column("acts")
    decisions.add_column("why")
    for d in plan.decisions:
        decisions.add_row(d.rule, "yes" if d.acted else "no", d.reason)
    actions = Table(title="plan" if plan.actions else "plan: nothing to do")
    actions.add_column("#", justify="right")
    actions.add_column("action")
    actions.add_column("details")
    for i, a in enumerate(plan.actions):
        fields = {k: v for k, v in a.__dict__.items() if k != "kind"}
        actions.add_row(
            str(i), a.kind, ", ".join(f"{k}={_fmt(v, 6) if isinstance(v, float) else v}" for k, v in fields.items())
        )
    return [decisions, actions]


def status(config: Path | None = ConfigOption, deployment: Path | None = DeploymentOption) -> None:
    """One-shot risk table: positions, Greeks, liquidation distance, stress worst case."""
    try:
        _, assessment, _ = _read(_settings(config, deployment))
    except HedgevaultError as err:
        raise _fail(err) from err
    for table in risk_tables(assessment):
        console.print(table)
    for blocker in assessment.blockers:
        console.print(f"[yellow]blocked:[/yellow] {blocker}")


def plan(
    config: Path | None = ConfigOption,
    deployment: Path | None = DeploymentOption,
    simulate: bool = typer.Option(False, help="ask the node whether the vault would accept it (no signing)"),
    as_json: bool = typer.Option(False, "--json", help="print the plan as JSON"),
) -> None:
    """Dry run: what the keeper would do now, and why."""
    try:
        runtime, _, the_plan = _read(_settings(config, deployment))
    except HedgevaultError as err:
        raise _fail(err) from err
    if as_json:
        typer.echo(json.dumps(the_plan.to_dict(), indent=2))
    else:
        for table in plan_tables(the_plan):
            console.print(table)
    if simulate and not the_plan.empty:
        console.print(simulate_plan(runtime, the_plan))


def simulate_plan(runtime: Any, the_plan: Plan) -> str:
    """``eth_call`` of the plan's rebalance from the keeper address: would the vault accept it now?"""
    from keeper.app.runtime import revert_decoder
    from keeper.chain.rpc import RpcError

    executor = runtime.keeper.executor
    data = executor.encode(the_plan)
    keeper_address = runtime.record["vault"].get("keeper")
    try:
        runtime.client.call("eth_call", [{"from": keeper_address, "to": executor.vault, "data": data}, "latest"])
    except RpcError as err:
        raw = err.data.get("data") if isinstance(err.data, dict) else err.data
        reason = revert_decoder().decode(raw) if isinstance(raw, str) and raw.startswith("0x") else err.rpc_message
        return f"[red]the vault would refuse this plan:[/red] {reason}"
    return "[green]the vault would accept this plan now[/green]"


def run(
    config: Path | None = ConfigOption,
    deployment: Path | None = DeploymentOption,
    dry_run: bool = typer.Option(False, help="plan every block but send nothing"),
    max_ticks: int | None = typer.Option(None, help="stop after this many ticks"),
    log_format: str = typer.Option("json", help="json | text"),
) -> None:
    """Run the keeper: one tick per new block until SIGTERM/SIGINT."""
    from keeper.app.logs import configure_logging
    from keeper.app.loop import CircuitBreakerOpenError
    from keeper.app.runner import Runner
    from keeper.app.runtime import KeeperRuntime

    if log_format not in ("json", "text"):
        raise typer.BadParameter(f"--log-format={log_format!r}: choose json or text", param_hint="--log-format")
    configure_logging(json_lines=log_format == "json")
    try:
        runtime = KeeperRuntime.build(_settings(config, deployment), dry_run=dry_run)
    except HedgevaultError as err:
        raise _fail(err) from err
    runner = Runner(runtime)
    restore = runner.install_signal_handlers()
    try:
        summary = runner.run(max_ticks=max_ticks)
    except CircuitBreakerOpenError as err:
        console.print(f"[red]circuit breaker open, keeper stopped:[/red] {err}")
        raise typer.Exit(3) from err
    finally:
        restore()
        runtime.close()
    console.print(f"stopped ({summary.stopped_by}) after {summary.ticks} ticks, {summary.acted} rebalances")


def report(
    config: Path | None = ConfigOption,
    limit: int = typer.Option(20, help="rows per table"),
    as_json: bool = typer.Option(False, "--json", help="print as JSON"),
) -> None:
    """What the keeper did: recent ticks, plans and their transactions, NAV series (from its store)."""
    from keeper.store import Store

    settings = _settings(config, None)
    if not Path(settings.store.path).is_file():
        raise _fail(
            HedgevaultError(f"store.path={str(settings.store.path)!r} does not exist yet: run the keeper first")
        )
    store = Store(settings.store.path)
    try:
        ticks, plans, nav = store.last_ticks(limit), store.recent_plans(limit), store.nav_series()
        txs = {p.id: store.txs_for_plan(p.id) for p in plans}
    finally:
        store.close()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ticks": [{k: v for k, v in t.items() if k != "risk_json"} for t in ticks],
                    "plans": [
                        {
                            "id": p.id,
                            "block": p.block_number,
                            "status": p.status,
                            "reason": p.reason,
                            "txs": [t.__dict__ for t in txs[p.id]],
                        }
                        for p in plans
                    ],
                    "nav": nav,
                },
                default=str,
                indent=2,
            )
        )
        return
    tick_table = Table(title=f"last {len(ticks)} ticks")
    for column in ("block", "latency ms", "RPC", "outcome", "HF", "NAV USD"):
        tick_table.add_column(column)
    for t in ticks:
        r = t["risk"]
        tick_table.add_row(
            str(t["block_number"]),
            f"{t['latency_ms']:.1f}",
            str(t["rpc_requests"]),
            t["outcome"],
            _fmt(r.get("health_factor", float("nan")), 3),
            _fmt(r.get("nav_usd", float("nan")), 0),
        )
    plan_table = Table(title=f"last {len(plans)} plans")
    for column in ("id", "block", "status", "reason", "txs (gas)"):
        plan_table.add_column(column)
    for p in plans:
        shown = ", ".join(f"{t.tx_hash[:10]}… {t.status} ({t.gas_used or '—'})" for t in txs[p.id])
        plan_table.add_row(str(p.id), str(p.block_number), p.status, p.reason[:80], shown)
    console.print(tick_table)
    console.print(plan_table)
    if nav:
        first, last = nav[0], nav[-1]
        console.print(
            f"NAV {first[2]:,.0f} → {last[2]:,.0f} USD over blocks {first[0]}–{last[0]}; "
            f"share price {first[3]:.6f} → {last[3]:.6f}"
        )
