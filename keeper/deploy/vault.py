"""Deploy HedgedVault with its adapters, lens and TimelockController onto a network described by a deployment
record (the devnet's, or a real network's profile).

Wiring is done by the deployer while it still holds governance; then governance and role administration move
to the timelock and the deployer renounces every role, so from then on parameters change only through the
timelock's delay. ``verify_vault`` checks that end state.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from web3 import Web3
from web3.contract import Contract

from keeper.artifacts import forge_artifact
from keeper.devnet.chain import Deployer, checksum

ZERO = "0x" + "00" * 20


@dataclass(frozen=True)
class RiskParams:
    """HedgedVault.RiskParams; units in the names."""

    health_factor_floor_wad: int = 13 * 10**17  # 1.3
    max_loss_bps: int = 50
    max_slippage_bps: int = 100
    turnover_budget_bps: int = 50_000  # 5 × NAV per period
    loss_budget_bps: int = 200
    period_seconds: int = 86_400
    heartbeat_seconds: int = 3_600
    max_oracle_deviation_bps: int = 200
    twap_window_seconds: int = 600

    def as_tuple(self) -> tuple[int, ...]:
        return tuple(asdict(self).values())


@dataclass(frozen=True)
class FeeParams:
    fee_recipient: str
    management_fee_bps: int = 100
    performance_fee_bps: int = 1000
    profit_unlock_seconds: int = 6 * 3600

    def as_tuple(self) -> tuple[Any, ...]:
        return (self.fee_recipient, self.management_fee_bps, self.performance_fee_bps, self.profit_unlock_seconds)


def roles(vault: Contract) -> dict[str, bytes]:
    return {
        name: vault.functions[name]().call()
        for name in ("GOVERNANCE_ROLE", "GUARDIAN_ROLE", "KEEPER_ROLE", "DEFAULT_ADMIN_ROLE")
    }


def deploy_vault(
    w3: Web3,
    record: dict[str, Any],
    *,
    deployer: str,
    guardian: str,
    keeper: str,
    fee_recipient: str,
    timelock_delay_seconds: int = 86_400,
    proposers: list[str] | None = None,
    risk: RiskParams | None = None,
    deposit_cap_usdc: int = 100_000_000,
    tracked: tuple[str, ...] = ("WETH", "WBTC"),
) -> dict[str, Any]:
    """Deploy and wire; returns the ``vault`` section of the deployment record."""
    d = Deployer(w3, deployer)
    usdc = record["tokens"]["USDC"]
    proposers = proposers or [deployer]
    timelock = d.deploy(forge_artifact("Timelock"), timelock_delay_seconds, proposers, proposers, ZERO)
    risk = risk or RiskParams()
    vault = d.deploy(
        forge_artifact("HedgedVault"),
        checksum(usdc["address"]),
        "Hedgevault USDC",
        "hvUSDC",
        checksum(record["aave"]["Pool"]),
        checksum(record["feeds"]["USDC"]),
        deployer,
        guardian,
        keeper,
        risk.as_tuple(),
        FeeParams(fee_recipient).as_tuple(),
        deposit_cap_usdc * 10 ** usdc["decimals"],
    )
    aave = d.deploy(forge_artifact("AaveV3Adapter"), checksum(record["aave"]["Pool"]))
    uniswap = d.deploy(forge_artifact("UniswapV3Adapter"), checksum(record["uniswap"]["SwapRouter"]))
    lens = d.deploy(forge_artifact("VaultLens"))
    f = vault.functions
    d.send(f.setAdapter(aave.address, True), "allow Aave adapter")
    d.send(f.setAdapter(uniswap.address, True), "allow Uniswap adapter")
    for symbol in tracked:
        token = record["tokens"][symbol]
        pool = record["uniswap"]["pools"].get(f"{symbol}/USDC", {}).get("address", ZERO)
        d.send(
            f.addTrackedToken(
                (checksum(token["address"]), checksum(record["feeds"][symbol]), checksum(pool), token["decimals"])
            ),
            f"track {symbol}",
        )
    r = roles(vault)
    d.send(f.grantRole(r["GOVERNANCE_ROLE"], timelock.address), "governance → timelock")
    d.send(f.grantRole(r["DEFAULT_ADMIN_ROLE"], timelock.address), "role admin → timelock")
    d.send(f.renounceRole(r["GOVERNANCE_ROLE"], deployer), "deployer renounces governance")
    d.send(f.renounceRole(r["DEFAULT_ADMIN_ROLE"], deployer), "deployer renounces role admin")
    return {
        "HedgedVault": vault.address,
        "Timelock": timelock.address,
        "AaveV3Adapter": aave.address,
        "UniswapV3Adapter": uniswap.address,
        "VaultLens": lens.address,
        "guardian": guardian,
        "keeper": keeper,
        "fee_recipient": fee_recipient,
        "timelock_delay_seconds": timelock_delay_seconds,
        "deploy_gas": d.gas_used,
    }


def verify_vault(w3: Web3, section: dict[str, Any], deployer: str) -> list[str]:
    """Problems with the deployed wiring (empty when correct): roles, adapters, timelock as sole governance."""
    vault = w3.eth.contract(address=checksum(section["HedgedVault"]), abi=forge_artifact("HedgedVault").abi)
    r = roles(vault)
    has = vault.functions.hasRole
    problems = []
    expectations = [
        ("GOVERNANCE_ROLE", section["Timelock"], True),
        ("DEFAULT_ADMIN_ROLE", section["Timelock"], True),
        ("GOVERNANCE_ROLE", deployer, False),
        ("DEFAULT_ADMIN_ROLE", deployer, False),
        ("KEEPER_ROLE", section["keeper"], True),
        ("GUARDIAN_ROLE", section["guardian"], True),
    ]
    for role, who, expected in expectations:
        if has(r[role], checksum(who)).call() != expected:
            problems.append(f"{role} {'missing for' if expected else 'still held by'} {who}")
    for name in ("AaveV3Adapter", "UniswapV3Adapter"):
        if not vault.functions.adapterAllowed(checksum(section[name])).call():
            problems.append(f"{name} {section[name]} is not allowed")
    return problems
