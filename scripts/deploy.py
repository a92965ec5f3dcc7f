"""Deploy HedgedVault, its Aave and Uniswap adapters, VaultLens and the TimelockController on the connected
network, described by a deployment record; simulated on a fork first, verified after.

    APE_FOUNDRY_HOST=http://127.0.0.1:PORT ape run deploy --network ethereum:local:foundry \\
        --account TEST::0 --guardian TEST::5 --keeper TEST::6 --fee-recipient TEST::3 --proposer TEST::0 [--send]
    ape run deploy --record mainnet --out var/mainnet.json --network ethereum:mainnet:node --account deployer \\
        --proposer 0xSafe… --guardian 0x… --keeper 0x… --fee-recipient 0x… --send

``--record`` is a record file (default var/devnet/deployment.json, written by ``keeper devnet up``) or a profile
name (``mainnet``); the new ``vault`` section is written to ``--out`` (default: the record file itself) after
every step. A record with a complete vault is never deployed over; a partial one continues with ``--resume``
(same configuration, taken from the record). Without ``--send`` only the fork simulation runs.
Exit codes: 0 ok, 1 deployment or verification failed, 2 bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand
from rich.table import Table

from governance.bounds import RISK_FIELDS, parse_field
from governance.deploy import (
    CORE_CONTRACTS,
    VENUE_CONTRACTS,
    RiskParams,
    VaultConfig,
    VaultDeployError,
    VaultDeployment,
)
from governance.deploy_checks import (
    config_from_section,
    existing_vault_problem,
    simulate_deployment,
    verify_vault,
    write_record,
)
from keeper.chain.client import Chain
from keeper.chain.record import PROFILES, load_record, verify_record
from keeper.paths import DEVNET_RECORD_FILE as RECORD_FILE
from scripts._ape_support import (
    EXIT_BAD_INPUT,
    EXIT_SIMULATION_FAILED,
    ApeSender,
    address_or_account,
    console,
    fail,
    guarded,
    load_account,
    target_url,
)


def _risk(opts: dict[str, Any]) -> RiskParams:
    defaults = list(RiskParams().as_tuple())
    for i, b in enumerate(RISK_FIELDS):
        if opts.get(b.field) is not None:
            defaults[i] = parse_field(b, opts[b.field])
    return RiskParams(*defaults)


def _executors(opts: dict[str, Any]) -> tuple[str, ...]:
    """Explicit executors, or the open role (``()``) with --open-executor, else the proposers."""
    if opts["open_executor"]:
        if opts["executors"]:
            fail("--open-executor and --executor exclude each other")
        return ()
    return tuple(address_or_account(e) for e in (opts["executors"] or opts["proposers"]))


def _options(fn: Any) -> Any:
    for b in reversed(RISK_FIELDS):
        fn = click.option(b.option, b.field, help=f"{b.field} ({'decimal' if b.unit == 'wad' else b.unit})")(fn)
    return fn


@click.command(cls=ConnectedProviderCommand)
@click.option("--record", default=str(RECORD_FILE), show_default=True, help="record file or profile name")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="where to write the record")
@click.option("--account", "account_alias", required=True, help="deployer: ape alias or TEST::N")
@click.option("--guardian", required=True, help="address, alias or TEST::N")
@click.option("--keeper", "keeper_", required=True, help="address, alias or TEST::N")
@click.option("--fee-recipient", required=True)
@click.option("--proposer", "proposers", multiple=True, required=True, help="timelock proposer (repeatable)")
@click.option("--executor", "executors", multiple=True, help="timelock executor (repeatable; default: the proposers)")
@click.option("--open-executor", is_flag=True, help="anyone may execute a ready operation (EXECUTOR_ROLE to 0x0)")
@click.option("--delay", "delay_seconds", default=86_400, show_default=True, type=click.IntRange(0))
@click.option("--deposit-cap", default=100_000_000, show_default=True, type=click.IntRange(0), help="asset units")
@click.option("--management-fee-bps", default=100, show_default=True, type=int)
@click.option("--performance-fee-bps", default=1000, show_default=True, type=int)
@click.option("--profit-unlock-seconds", default=6 * 3600, show_default=True, type=int)
@click.option("--track", multiple=True, default=("WETH", "WBTC"), show_default=True, help="tracked token symbol")
@click.option("--resume", is_flag=True, help="continue a partial deployment recorded in the record")
@click.option("--send", is_flag=True, help="deploy for real after a successful fork simulation")
@click.option("--json", "as_json", is_flag=True)
@_options
def cli(**opts: Any) -> None:
    """Deploy and verify the vault stack (fork simulation first)."""
    guarded(lambda: _deploy(opts))


def _deploy(opts: dict[str, Any]) -> int:
    url = target_url()
    chain = Chain(url)
    source = opts["record"]
    record = load_record(source)
    out = opts["out"] or (None if source in PROFILES else Path(source))
    if out is None:
        fail(f"--record {source} is a profile: give --out PATH for the record with the new vault section")
    if out.is_file() and out != Path(source):
        record = json.loads(out.read_text())  # resuming, or refusing, against what was written there
    problems = verify_record(chain.w3, {k: v for k, v in record.items() if k != "vault"})
    if problems:
        fail("the record does not match this network:\n  " + "\n  ".join(problems))
    if (problem := existing_vault_problem(chain, record, opts["resume"])) is not None:
        fail(problem)
    deployer = load_account(opts["account_alias"])
    partial = record.get("vault") if opts["resume"] else None
    if partial:
        config = config_from_section(partial)
    else:
        unknown = [s for s in opts["track"] if s not in record["tokens"] or s == "USDC"]
        if unknown:
            fail(f"--track {', '.join(unknown)}: not a risky token of the record ({', '.join(record['tokens'])})")
        config = VaultConfig(
            guardian=address_or_account(opts["guardian"]),
            keeper=address_or_account(opts["keeper_"]),
            fee_recipient=address_or_account(opts["fee_recipient"]),
            proposers=tuple(address_or_account(p) for p in opts["proposers"]),
            executors=_executors(opts),
            timelock_delay_seconds=opts["delay_seconds"],
            risk=_risk(opts),
            management_fee_bps=opts["management_fee_bps"],
            performance_fee_bps=opts["performance_fee_bps"],
            profit_unlock_seconds=opts["profit_unlock_seconds"],
            deposit_cap_assets=opts["deposit_cap"],
            tracked=tuple(opts["track"]),
        )
    base = {k: v for k, v in record.items() if k != "vault"}
    sim = simulate_deployment(url, base, config, str(deployer.address), partial)
    doc: dict[str, Any] = {
        "chain_id": chain.chain_id,
        "simulation": {
            "seconds": round(sim.seconds, 2),
            "gas_used": sim.gas_used,
            "transactions": sim.transactions,
            "addresses": {k: sim.section[k] for k in CORE_CONTRACTS + VENUE_CONTRACTS if k in sim.section},
            "verify": sim.problems or "ok",
        },
    }
    code = 0
    if sim.problems:
        code = EXIT_SIMULATION_FAILED
    elif opts["send"]:

        def progress(section: dict[str, Any]) -> None:
            write_record(out, base | {"vault": section})

        run = VaultDeployment(chain, ApeSender(deployer), base, config, partial, on_progress=progress)
        section = run.run()
        problems = verify_vault(chain.w3, section, str(deployer.address), base)
        doc["deployed"] = {
            "record": str(out),
            "gas_used": run.gas_used,
            "transactions": run.transactions,
            "addresses": {k: section[k] for k in doc["simulation"]["addresses"]},
            "same_as_simulated": all(section[k] == v for k, v in doc["simulation"]["addresses"].items()),
            "verify": problems or "ok",
        }
        if problems:
            code = EXIT_SIMULATION_FAILED
    _print(doc, opts["as_json"], opts["send"])
    return code


def _print(doc: dict[str, Any], as_json: bool, sent: bool) -> None:
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    for key in ("simulation", "deployed"):
        if key not in doc:
            continue
        part = doc[key]
        table = Table(
            title=f"{key} on chain {doc['chain_id']}: {part['transactions']} transactions, {part['gas_used']:,} gas"
        )
        table.add_column("contract")
        table.add_column("address")
        for name, address in part["addresses"].items():
            table.add_row(name, address)
        console.print(table)
        verdict = part["verify"]
        if verdict == "ok":
            console.print(f"[green]{key}: wiring verified (roles, timelock, adapters, parameters, immutables)[/green]")
        else:
            console.print(f"[red bold]{key}: verification FAILED[/red bold]\n  " + "\n  ".join(verdict))
    if "deployed" in doc:
        console.print(f"record written: {doc['deployed']['record']}")
    elif not sent:
        console.print("[dim]dry run: nothing deployed (add --send)[/dim]")


__all__ = ["EXIT_BAD_INPUT", "VaultDeployError", "cli"]
