"""Vault governance through the timelock, every operation simulated on a fork before anything is signed.

    ape run governance queue risk --max-loss-bps 40 --health-factor-floor 1.4 --account TEST::0 [--send]
    ape run governance queue fees --performance-fee-bps 1500 --account proposer
    ape run governance queue deposit-cap 250000000 | max-fulfil-delay 43200 | unpause
    ape run governance queue adapter 0xAdapter… --allow | --disallow
    ape run governance queue track-token WBTC
    ape run governance queue token-feed WBTC [--feed 0xFeed…] | retire-token WBTC   (a dead or retired feed)
    ape run governance queue asset-feed 0xFeed…                     (re-point the asset's USD feed)
    ape run governance queue rotate-keeper 0xNew… [--old 0xOld…]   (grant + revoke in one batch)
    ape run governance queue rotate-guardian 0xNew… [--old 0xOld…]
    ape run governance pending [--all]
    ape run governance execute 0xOPERATION_ID --account TEST::0 [--send]
    ape run governance cancel 0xOPERATION_ID --account TEST::0 [--send]
    ape run governance pause --account guardian [--send]           (guardian, immediate)
    ape run governance unpause --account proposer [--send]         (= queue unpause)
    ape run governance tighten --max-slippage-bps 50 --account guardian [--send]
    ape run governance unwind --account guardian [--send]          (while paused: back to the asset)
    ape run governance show

Every command reads the deployment record (``--record``: a file, default var/devnet/deployment.json, or a
profile name), validates its input against the vault's hard bounds, runs the operation on a fork of the
connected network (schedule → time travel → execute for timelock operations) and prints the before → after
diff of parameters and risk. Nothing is signed unless ``--send`` is given (and the simulation succeeded).
``--safe-json PATH`` writes the Safe transaction-builder batch of what would be signed; ``--safe ALIAS|0x…``
makes a Safe the signer (ape-safe: executes with local owner keys, or ``--propose`` posts it for co-signers).
Exit codes: 0 ok, 1 simulation or transaction failed, 2 bad input.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand
from rich.table import Table

from governance import ops
from governance.bounds import FEE_FIELDS, RISK_FIELDS
from governance.safe import build_batch, write_batch
from governance.service import Governance, Prepared
from governance.timelock import TimelockError, parse_operation_id
from governance.unwind import UnwindSettings, plan_unwind
from keeper.paths import DEVNET_RECORD_FILE as RECORD_FILE
from scripts._ape_support import (
    EXIT_SIMULATION_FAILED,
    ApeSender,
    SafeSender,
    address_or_account,
    console,
    err_console,
    fail,
    guarded,
    load_account,
    load_safe,
    target_url,
)


def common(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Options of every signing command."""
    options = [
        click.option("--record", default=str(RECORD_FILE), show_default=True, help="deployment record file or profile"),
        click.option("--account", "account_alias", help="signer: ape account alias or TEST::N (dev networks)"),
        click.option("--safe", "safe_ref", help="the signer is this Safe (ape-safe alias or address)"),
        click.option("--propose", is_flag=True, help="with --safe: post the Safe proposal instead of executing"),
        click.option("--send", is_flag=True, help="sign and send after a successful simulation"),
        click.option("--json", "as_json", is_flag=True, help="one JSON document on stdout"),
        click.option("--safe-json", type=click.Path(dir_okay=False, path_type=Path), help="write a Safe batch file"),
        click.option("--block-time", default=12, show_default=True, help="seconds per block on the fork"),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def queue_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option("--delay", type=int, help="timelock delay in seconds (default: the timelock's minimum)"),
        click.option("--salt", help="32-byte hex salt (default: random)"),
        click.option("--after", "predecessor", help="operation id that must execute first"),
        click.option("--executor", help="who executes at the ETA in the simulation (default: the signer if allowed)"),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _bytes32(text: str | None, name: str) -> bytes | None:
    if text is None:
        return None
    try:
        return parse_operation_id(text)
    except TimelockError as err:
        raise click.BadParameter(str(err).replace("operation id", name)) from err


class Run:
    """One command invocation: the target, the signer, and what to do with the prepared operation."""

    def __init__(self, opts: dict[str, Any], needs_signer: bool = True) -> None:
        self.opts = opts
        self.gov = Governance(target_url(), opts["record"], opts["block_time"])
        self.account = load_account(opts["account_alias"]) if opts.get("account_alias") else None
        self.safe = load_safe(opts["safe_ref"]) if opts.get("safe_ref") else None
        if needs_signer and self.account is None and self.safe is None:
            fail("name the signer with --account ALIAS (or TEST::N) or --safe ALIAS|ADDRESS")

    @property
    def signer(self) -> str:
        return str(self.safe.address if self.safe is not None else self.account.address)

    def sender(self) -> Any:
        if self.safe is not None:
            return SafeSender(self.safe, self.account, self.opts["propose"])
        return ApeSender(self.account)

    def finish(self, prepared: Prepared) -> int:
        gov, opts = self.gov, self.opts
        sim = gov.simulate(prepared)
        if opts.get("safe_json"):
            batch = build_batch(
                gov.chain.chain_id,
                prepared.signed,
                name=f"Hedgevault {prepared.command}",
                description=prepared.summary,
                safe_address=self.safe.address if self.safe else "",
            )
            write_batch(opts["safe_json"], batch)
            prepared.extra["safe_json"] = str(opts["safe_json"])
        code = 0 if sim.ok else EXIT_SIMULATION_FAILED
        if opts.get("send") and sim.ok:
            sender = self.sender()
            if isinstance(sender, SafeSender) and sender.propose_only:
                for tx in prepared.signed:  # nothing on-chain yet: the co-signers confirm, then anyone executes
                    sender.send(tx)
                prepared.extra["safe_proposals"] = sender.proposals
                prepared.notes.append("posted to the Safe Transaction Service for the other owners to confirm")
            else:
                gov.send(prepared, sender)
        elif opts.get("send"):
            prepared.extra["not_sent"] = "the simulation failed; nothing was signed"
        try:
            report = gov.report(prepared)
        except Exception:
            for r in prepared.receipts:  # sent already: never lose the hashes
                err_console.print(f"sent {r.tx_hash} (block {r.block_number}, gas {r.gas_used:,})")
            raise
        if opts.get("as_json"):
            click.echo(report.json_text())
        else:
            report.render(console)
            if not opts.get("send"):
                console.print("[dim]dry run: nothing signed (add --send to sign and send)[/dim]")
        return code


def command(group: click.Group, name: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
    """A leaf command: connected to ape's --network, common options, errors → exit codes."""

    def wrap(fn: Callable[..., Any]) -> Any:
        @functools.wraps(fn)
        def body(**opts: Any) -> None:
            guarded(lambda: fn(**opts))

        return group.command(name, cls=ConnectedProviderCommand, **kwargs)(common(body))

    return wrap


@click.group()
def cli() -> None:
    """HedgedVault governance: queue, execute, cancel, pending, pause, unpause, tighten, unwind, show."""


@cli.group()
def queue() -> None:
    """Queue a timelock operation (simulated through schedule → ETA → execute)."""


def _queue(opts: dict[str, Any], build: Callable[[ops.Context, Governance], ops.Operation]) -> int:
    run = Run(opts)
    op = build(run.gov.context(), run.gov)
    prepared = run.gov.prepare_queue(
        op,
        run.signer,
        executor=address_or_account(opts["executor"]) if opts.get("executor") else None,
        delay_seconds=opts.get("delay"),
        salt=_bytes32(opts.get("salt"), "--salt"),
        predecessor=_bytes32(opts.get("predecessor"), "--after") or bytes(32),
    )
    return run.finish(prepared)


def _field_options(table: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        for b in reversed(table):
            unit = "decimal, e.g. 1.4" if b.unit == "wad" else b.unit
            fn = click.option(b.option, b.field, help=f"{b.field} ({unit})")(fn)
        return fn

    return deco


def _changes(table: Any, opts: dict[str, Any]) -> dict[str, str]:
    return {b.field: opts[b.field] for b in table if opts.get(b.field) is not None}


@command(queue, "risk")
@queue_options
@_field_options(RISK_FIELDS)
def queue_risk(**opts: Any) -> int:
    """setRiskParams: the given fields change, the rest keep their on-chain values."""
    return _queue(opts, lambda ctx, _: ops.set_risk_params(ctx, _changes(RISK_FIELDS, opts)))


@command(queue, "fees")
@queue_options
@_field_options(FEE_FIELDS)
@click.option("--fee-recipient", help="address, TEST::N or alias")
def queue_fees(**opts: Any) -> int:
    """setFeeParams (fees accrue first, at the old rates)."""
    recipient = address_or_account(opts["fee_recipient"]) if opts.get("fee_recipient") else None
    return _queue(opts, lambda ctx, _: ops.set_fee_params(ctx, _changes(FEE_FIELDS, opts), recipient))


@command(queue, "deposit-cap")
@queue_options
@click.argument("amount")
def queue_deposit_cap(**opts: Any) -> int:
    """setDepositCap: AMOUNT in asset units (e.g. 250000000 for 250M USDC)."""
    return _queue(opts, lambda ctx, _: ops.set_deposit_cap(ctx, opts["amount"]))


@command(queue, "max-fulfil-delay")
@queue_options
@click.argument("seconds")
def queue_max_fulfil_delay(**opts: Any) -> int:
    """setMaxFulfilDelay: SECONDS a queued redemption may wait."""
    return _queue(opts, lambda ctx, _: ops.set_max_fulfil_delay(ctx, opts["seconds"]))


@command(queue, "adapter")
@queue_options
@click.argument("adapter")
@click.option("--allow/--disallow", default=True, show_default=True)
def queue_adapter(**opts: Any) -> int:
    """setAdapter: allow or disallow ADAPTER (its kind() is checked)."""
    return _queue(opts, lambda ctx, gov: ops.set_adapter(ctx, gov.chain, opts["adapter"], opts["allow"]))


@command(queue, "track-token")
@queue_options
@click.argument("symbol")
def queue_track_token(**opts: Any) -> int:
    """addTrackedToken: SYMBOL of the record, with its feed and its Uniswap pool against the asset."""
    return _queue(opts, lambda ctx, gov: ops.add_tracked_token(ctx, gov.chain, opts["symbol"]))


@command(queue, "asset-feed")
@queue_options
@click.argument("feed")
def queue_asset_feed(**opts: Any) -> int:
    """setAssetFeed: re-point the asset's USD feed to FEED (it must answer a positive price)."""
    return _queue(opts, lambda ctx, gov: ops.set_asset_feed(ctx, gov.chain, opts["feed"]))


@command(queue, "token-feed")
@queue_options
@click.argument("symbol")
@click.option("--feed", default=None, help="the new feed (default: the record's feed for SYMBOL)")
def queue_token_feed(**opts: Any) -> int:
    """setTrackedTokenFeed: re-point tracked SYMBOL's feed (and its TWAP pool, from the record)."""
    return _queue(opts, lambda ctx, gov: ops.set_tracked_token_feed(ctx, gov.chain, opts["symbol"], opts["feed"]))


@command(queue, "retire-token")
@queue_options
@click.argument("symbol")
def queue_retire_token(**opts: Any) -> int:
    """removeTrackedToken: stop tracking SYMBOL (its balance leaves NAV; sell it first if its feed still works)."""
    return _queue(opts, lambda ctx, gov: ops.remove_tracked_token(ctx, gov.chain, opts["symbol"]))


def _rotate(role: str) -> Callable[..., int]:
    def body(**opts: Any) -> int:
        new = address_or_account(opts["new"])
        old = address_or_account(opts["old"]) if opts.get("old") else None
        return _queue(opts, lambda ctx, _: ops.rotate_role(ctx, role, new, old))  # type: ignore[arg-type]

    return body


for _role, _name in (("KEEPER_ROLE", "rotate-keeper"), ("GUARDIAN_ROLE", "rotate-guardian")):
    _fn = _rotate(_role)
    _fn.__doc__ = f"grant {_role} to NEW and revoke it from --old (default: the one holder), one batch."
    _fn.__name__ = _name.replace("-", "_")
    command(queue, _name)(queue_options(click.argument("new")(click.option("--old")(_fn))))


@command(queue, "unpause")
@queue_options
def queue_unpause(**opts: Any) -> int:
    """unpause (governance, through the timelock)."""
    return _queue(opts, lambda ctx, _: ops.unpause(ctx))


@command(cli, "unpause")
@queue_options
def unpause(**opts: Any) -> int:
    """Queue the unpause operation (same as `queue unpause`)."""
    return _queue(opts, lambda ctx, _: ops.unpause(ctx))


@command(cli, "execute")
@click.argument("operation_id")
def execute(**opts: Any) -> int:
    """Execute a queued operation once its ETA has passed (calls recovered from CallScheduled events)."""
    run = Run(opts)
    return run.finish(run.gov.prepare_execute(parse_operation_id(opts["operation_id"]), run.signer))


@command(cli, "cancel")
@click.argument("operation_id")
def cancel(**opts: Any) -> int:
    """Cancel a queued operation (CANCELLER_ROLE: the proposers)."""
    run = Run(opts)
    return run.finish(run.gov.prepare_cancel(parse_operation_id(opts["operation_id"]), run.signer))


@command(cli, "pause")
def pause(**opts: Any) -> int:
    """Pause the vault now (guardian)."""
    run = Run(opts)
    return run.finish(run.gov.prepare_direct(ops.pause(run.gov.context()), run.signer))


@command(cli, "tighten")
@_field_options(RISK_FIELDS)
def tighten(**opts: Any) -> int:
    """tightenRiskParams now (guardian): every given field at least as strict as today."""
    run = Run(opts)
    return run.finish(
        run.gov.prepare_direct(ops.tighten_risk_params(run.gov.context(), _changes(RISK_FIELDS, opts)), run.signer)
    )


@command(cli, "unwind")
@click.option("--keep-asset-supply", is_flag=True, help="leave the asset's own Aave supply in place")
@click.option("--quote-tolerance-bps", default=30, show_default=True, help="amountOutMinimum below the quote")
def unwind(**opts: Any) -> int:
    """Emergency unwind while paused (guardian): repay Aave debt, withdraw collateral, sell tracked tokens."""
    from governance.state import read_lens

    run = Run(opts)
    gov = run.gov
    ctx = gov.context()
    settings = UnwindSettings(
        keep_asset_supply=opts["keep_asset_supply"], quote_tolerance_bps=opts["quote_tolerance_bps"]
    )
    plan = plan_unwind(gov.chain, read_lens(gov.chain, gov.section), gov.record, settings)
    prepared = gov.prepare_direct(ops.emergency_unwind(ctx, plan.actions, plan.summary()), run.signer)
    prepared.notes += [f"{i}. {line}" for i, line in enumerate(plan.lines)] + plan.notes
    return run.finish(prepared)


@cli.command("pending", cls=ConnectedProviderCommand)
@click.option("--record", default=str(RECORD_FILE), show_default=True)
@click.option("--all", "include_all", is_flag=True, help="also done and cancelled operations")
@click.option("--json", "as_json", is_flag=True)
def pending(record: str, include_all: bool, as_json: bool) -> None:
    """Queued timelock operations: state, ETA, decoded calls."""

    def body() -> int:
        rows = Governance(target_url(), record).pending(include_all)
        if as_json:
            click.echo(json.dumps(rows, indent=2))
            return 0
        table = Table(title=f"timelock operations ({'all' if include_all else 'waiting or ready'})")
        for col in ("id", "state", "ETA (UTC)", "in", "calls"):
            table.add_column(col, overflow="fold")
        for r in rows:
            left = r["seconds_to_eta"]
            table.add_row(
                r["id"],
                r["state"],
                r["eta_utc"],
                "" if left is None else f"{left // 3600} h {left % 3600 // 60} min",
                "\n".join(r["calls"]),
            )
        console.print(table)
        return 0

    guarded(body)


@cli.command("show", cls=ConnectedProviderCommand)
@click.option("--record", default=str(RECORD_FILE), show_default=True)
@click.option("--json", "as_json", is_flag=True)
def show(record: str, as_json: bool) -> None:
    """Current parameters, roles and risk of the vault."""
    from governance.state import read_view

    def body() -> int:
        gov = Governance(target_url(), record)
        view = read_view(gov.chain, gov.record)
        params, risk = view.params.flat(gov.names()), view.risk.flat()
        if as_json:
            click.echo(json.dumps({"params": params, "risk": view.risk.numbers()}, indent=2, default=str))
            return 0
        for title, rows in (("parameters", params), ("risk", risk)):
            table = Table(title=title)
            table.add_column("")
            table.add_column("value", overflow="fold")
            for k, v in rows.items():
                table.add_row(k, v)
            console.print(table)
        return 0

    guarded(body)
