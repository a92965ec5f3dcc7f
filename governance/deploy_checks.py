"""Checks around a vault deployment: ``verify_vault`` (the wiring as intended), ``simulate_deployment`` (the whole
deployment on a fork first), resuming a partial one (``config_from_section``, ``existing_vault_problem``) and
writing the record. The deployment itself is :mod:`governance.deploy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3 import Web3

from governance.deploy import ZERO, RiskParams, VaultConfig, VaultDeployment, tracked_token
from governance.simulate import fork_args
from governance.state import role_holders
from keeper.chain.anvil import AnvilProcess
from keeper.chain.artifacts import forge_artifact
from keeper.chain.client import Chain, UnlockedSender
from keeper.chain.connect import checksum

# --- verification ---------------------------------------------------------------------------------------------


def verify_vault(w3: Web3, section: dict[str, Any], deployer: str, record: dict[str, Any] | None = None) -> list[str]:
    """Problems with the deployed wiring (empty when correct): role holders exactly as intended on the vault
    and the timelock, the timelock's delay, adapters, and — when the section says what was intended, or the
    record is given — parameters, tracked tokens and immutables."""

    chain = Chain(str(w3.provider.endpoint_uri))  # type: ignore[attr-defined]
    problems: list[str] = []
    for name in ("HedgedVault", "Timelock", "AaveV3Adapter", "UniswapV3Adapter", "VaultLens"):
        if name not in section or not chain.code(section[name]):
            problems.append(f"{name}: no code at {section.get(name)}")
    if problems:
        return problems
    vault = w3.eth.contract(address=checksum(section["HedgedVault"]), abi=forge_artifact("HedgedVault").abi)
    timelock_address = checksum(section["Timelock"])
    deployer = checksum(deployer)
    start = int(section.get("deploy_block", 0))
    watch = [deployer, section["guardian"], section["keeper"], timelock_address]
    expected_vault: dict[str, set[str]] = {
        "GOVERNANCE_ROLE": {timelock_address},
        "DEFAULT_ADMIN_ROLE": {timelock_address},
        "KEEPER_ROLE": {str(checksum(section["keeper"]))} - {str(checksum(ZERO))},
        "GUARDIAN_ROLE": {str(checksum(section["guardian"]))} - {str(checksum(ZERO))},
    }
    for role, want in expected_vault.items():
        have = set(role_holders(chain, vault.address, "HedgedVault", role, watch, start))
        if have != want:
            problems.append(f"vault {role}: held by {sorted(have) or 'nobody'}, expected {sorted(want)}")
    timelock = w3.eth.contract(address=timelock_address, abi=forge_artifact("Timelock").abi)
    proposers: set[str] = {checksum(p) for p in section.get("proposers", [])}
    executors: set[str] = {checksum(e) for e in section.get("executors", [])}
    expected_timelock: dict[str, set[str]] = {"DEFAULT_ADMIN_ROLE": {str(timelock_address)}}
    if proposers:
        expected_timelock |= {"PROPOSER_ROLE": proposers, "CANCELLER_ROLE": proposers}
    if executors:
        expected_timelock["EXECUTOR_ROLE"] = executors
    tl_watch = [*watch, *proposers, *executors, checksum(ZERO)]
    for role, want in expected_timelock.items():
        have = set(role_holders(chain, timelock_address, "Timelock", role, tl_watch, start))
        if have != want:
            problems.append(f"timelock {role}: held by {sorted(have) or 'nobody'}, expected {sorted(want)}")
    delay = timelock.functions.getMinDelay().call()
    if delay != int(section["timelock_delay_seconds"]):
        problems.append(f"timelock minDelay is {delay} s, expected {section['timelock_delay_seconds']} s")
    f = vault.functions
    for name in ("AaveV3Adapter", "UniswapV3Adapter", "OptionMarketAdapter"):
        if name in section and not f.adapterAllowed(checksum(section[name])).call():
            problems.append(f"{name} {section[name]} is not allowed")
    if "OptionMarketAdapter" in section and checksum(section["OptionMarketAdapter"]) not in [
        checksum(a) for a in f.optionsAdapters().call()
    ]:
        problems.append(
            f"OptionMarketAdapter {section['OptionMarketAdapter']} is not among the vault's options adapters"
        )
    if "risk" in section:
        have_risk = list(f.riskParams().call())
        if have_risk != list(section["risk"].values()):
            problems.append(f"riskParams on-chain {have_risk}, intended {list(section['risk'].values())}")
    if "fees" in section:
        fees = f.feeParams().call()
        want_fees = [checksum(section["fee_recipient"]), *section["fees"].values()]
        if list(fees) != want_fees:
            problems.append(f"feeParams on-chain {list(fees)}, intended {want_fees}")
    if "deposit_cap" in section and f.depositCap().call() != int(section["deposit_cap"]):
        problems.append(f"depositCap on-chain {f.depositCap().call()}, intended {section['deposit_cap']}")
    if record is not None:
        problems += _verify_against_record(w3, section, record)
    try:
        lens = w3.eth.contract(address=checksum(section["VaultLens"]), abi=forge_artifact("VaultLens").abi)
        lens.functions.snapshot(vault.address).call()
    except Exception as err:
        problems.append(f"VaultLens.snapshot(vault) fails: {err}")
    return problems


def _verify_against_record(w3: Web3, section: dict[str, Any], record: dict[str, Any]) -> list[str]:
    problems = []
    asset = section.get("asset", "USDC")
    vault = w3.eth.contract(address=checksum(section["HedgedVault"]), abi=forge_artifact("HedgedVault").abi)
    f = vault.functions
    expected = {
        "asset": (f.asset().call(), record["tokens"][asset]["address"]),
        "aavePool": (f.aavePool().call(), record["aave"]["Pool"]),
        "assetFeed": (f.assetFeed().call(), record["feeds"][asset]),
        "VaultLogic.vault": (
            w3.eth.contract(address=checksum(f.logic().call()), abi=forge_artifact("VaultLogic").abi)
            .functions.vault()
            .call(),
            section["HedgedVault"],
        ),
        "AaveV3Adapter.pool": (
            w3.eth.contract(address=checksum(section["AaveV3Adapter"]), abi=forge_artifact("AaveV3Adapter").abi)
            .functions.pool()
            .call(),
            record["aave"]["Pool"],
        ),
        "UniswapV3Adapter.router": (
            w3.eth.contract(address=checksum(section["UniswapV3Adapter"]), abi=forge_artifact("UniswapV3Adapter").abi)
            .functions.router()
            .call(),
            record["uniswap"]["SwapRouter"],
        ),
    }
    for name, (have, want) in expected.items():
        if have.lower() != want.lower():
            problems.append(f"{name} is {have}, the record says {want}")
    tracked = [tuple(t) for t in f.trackedTokens().call()]
    for symbol in section.get("tracked", []):
        want_t = tracked_token(record, symbol, asset)
        if want_t not in tracked:
            problems.append(f"tracked token {symbol}: expected {want_t}, vault tracks {tracked}")
    return problems


# --- simulation, config from a partial section, record files ------------------------------------------------


@dataclass
class DeploySimulation:
    section: dict[str, Any]
    problems: list[str]
    gas_used: int
    transactions: int
    seconds: float


def simulate_deployment(
    target_url: str, record: dict[str, Any], config: VaultConfig, deployer: str, section: dict[str, Any] | None = None
) -> DeploySimulation:
    """The whole deployment on a fork of ``target_url`` with ``deployer`` impersonated, verified there. Contract
    addresses equal the real ones as long as the deployer's nonce does not move in between."""
    import time

    started = time.perf_counter()
    with AnvilProcess(fork_url=target_url, extra_args=fork_args(record)) as fork:
        chain = Chain(fork.url)
        chain.impersonate(deployer)
        run = VaultDeployment(chain, UnlockedSender(chain, deployer), record, config, section)
        done = run.run()
        problems = verify_vault(chain.w3, done, deployer, record)
    return DeploySimulation(done, problems, run.gas_used, run.transactions, time.perf_counter() - started)


def config_from_section(section: dict[str, Any]) -> VaultConfig:
    """The configuration a partial deployment was started with (a resume must not change it)."""
    risk_values = list(section["risk"].values())
    executors = tuple(e for e in section["executors"] if Web3.to_checksum_address(e) != Web3.to_checksum_address(ZERO))
    asset_decimals_cap = int(section["deposit_cap"])
    return VaultConfig(
        guardian=section["guardian"],
        keeper=section["keeper"],
        fee_recipient=section["fee_recipient"],
        proposers=tuple(section["proposers"]),
        executors=executors,
        timelock_delay_seconds=int(section["timelock_delay_seconds"]),
        risk=RiskParams(*risk_values),
        management_fee_bps=int(section["fees"]["managementFeeBps"]),
        performance_fee_bps=int(section["fees"]["performanceFeeBps"]),
        profit_unlock_seconds=int(section["fees"]["profitUnlockSeconds"]),
        deposit_cap_assets=asset_decimals_cap // 10 ** int(section.get("asset_decimals", 6)),
        tracked=tuple(section["tracked"]),
        asset=section.get("asset", "USDC"),
        options=bool(section.get("options", True)),
        venue_margin_floor_wad=int(section.get("venue_margin_floor_wad", 15 * 10**17)),
        venue_max_accounts=int(section.get("venue_max_accounts", 4)),
    )


def existing_vault_problem(chain: Chain, record: dict[str, Any], resume: bool) -> str | None:
    """Why a deployment must not start over ``record`` (None when it may)."""
    section = record.get("vault")
    if not section:
        return "nothing to resume: the record has no partial vault section" if resume else None
    address = section.get("HedgedVault")
    live = bool(address) and bool(chain.code(address))
    if section.get("status") == "complete":
        where = f"at {address} ({'live' if live else 'no code on this chain: a stale record'})"
        return (
            f"the record already has a complete vault {where}; refusing to deploy over it. "
            "Write the new deployment elsewhere with --out PATH, or remove the `vault` section deliberately"
        )
    if not resume:
        return (
            f"the record holds a partial deployment (started by {section.get('deployer')}); continue it with --resume"
        )
    return None


def write_record(path: Any, record: dict[str, Any]) -> None:
    """Write a deployment record atomically (same JSON format as the devnet's)."""
    import json
    import os
    from pathlib import Path

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    tmp.replace(target)
