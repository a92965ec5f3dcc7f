"""The demo's world: a devnet from its snapshot, a deployed and funded HedgedVault, its roles as anvil's dev
accounts, and the keeper runtime wired to it. Everything real: Aave v3, Uniswap v3, the project's contracts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

from adapters.vault_lens import VaultState, decode_snapshot, snapshot_calldata
from devnet.deployer import Deployer
from devnet.devnet import Devnet
from devnet.driver import MarketDriver
from governance.deploy import RiskParams, deploy_vault
from keeper.app.runtime import KeeperRuntime
from keeper.chain.anvil import dev_account, rpc
from keeper.chain.artifacts import forge_artifact
from keeper.chain.connect import checksum, contract_at
from keeper.config import KeeperSettings

MAX_UINT = 2**256 - 1

#: anvil dev-account indices by role (0 is the devnet admin, 8 and 9 run its background market).
ROLES = {"deployer": 0, "depositor_a": 1, "depositor_b": 2, "fee_recipient": 3, "liquidator": 4, "guardian": 5}
KEEPER_INDEX = 6
DEPOSITS_USDC = {"depositor_a": 2_000_000, "depositor_b": 1_000_000}


@dataclass
class World:
    devnet: Devnet
    driver: MarketDriver
    record: dict[str, Any]  # the devnet record with the vault section: what `keeper run` would be given
    vault: Contract
    accounts: dict[str, str]
    keeper_address: str
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def w3(self) -> Web3:
        return self.devnet.w3

    @property
    def url(self) -> str:
        return self.devnet.url

    def token(self, symbol: str) -> Contract:
        return contract_at(
            self.w3, self.record["tokens"][symbol]["address"], "WETH9" if symbol == "WETH" else "MintableERC20"
        )

    def keeper_runtime(self, settings: KeeperSettings, *, read_only: bool = False) -> KeeperRuntime:
        account = None if read_only else dev_account(KEEPER_INDEX)
        return KeeperRuntime.build(settings, self.record, account=account, read_only=read_only)

    def lens_state(self) -> VaultState:
        """The vault as the keeper reads it: one VaultLens call."""
        lens = self.record["vault"]["VaultLens"]
        raw = rpc(self.url, "eth_call", [{"to": lens, "data": snapshot_calldata(self.vault.address)}, "latest"])
        return decode_snapshot(bytes.fromhex(raw[2:]))

    def snapshot(self) -> str:
        return str(rpc(self.url, "evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        if not rpc(self.url, "evm_revert", [snapshot_id]):
            raise RuntimeError(f"evm_revert({snapshot_id}) failed")
        self.driver.forget()


def build_world(devnet: Devnet, risk: RiskParams | None = None) -> World:
    """Deploy the vault (timelock governance, guardian, keeper), let the pools' TWAP fill, fund depositors."""
    w3 = devnet.w3
    accounts: dict[str, str] = {role: str(w3.eth.accounts[i]) for role, i in ROLES.items()}
    keeper = str(w3.eth.accounts[KEEPER_INDEX])
    driver = MarketDriver(w3, devnet.url, devnet.record)
    driver.advance(900)  # a TWAP window of history at the current prices
    section = deploy_vault(
        w3,
        devnet.record,
        deployer=accounts["deployer"],
        guardian=accounts["guardian"],
        keeper=keeper,
        fee_recipient=accounts["fee_recipient"],
        risk=risk,
    )
    vault = w3.eth.contract(address=checksum(section["HedgedVault"]), abi=forge_artifact("HedgedVault").abi)
    world = World(devnet, driver, {**devnet.record, "vault": section}, vault, accounts, keeper)
    usdc = world.token("USDC")
    for role, amount in DEPOSITS_USDC.items():
        who = Deployer(w3, accounts[role])
        raw = amount * 10**6
        who.send(usdc.functions.mint(accounts[role], raw), f"fund {role}")
        who.send(usdc.functions.approve(vault.address, MAX_UINT), f"{role} approves the vault")
        who.send(vault.functions.deposit(raw, accounts[role]), f"{role} deposits")
    for symbol in ("USDC", "WETH", "WBTC"):
        driver.set_price(symbol, driver.oracle_price(symbol))
    return world


def write_record(world: World, path: Path) -> Path:
    """The deployment record a separate `keeper run` would use against this world."""
    import json

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(world.record, indent=2))
    return path
