"""A devnet with a deployed, funded HedgedVault: one per session, each test isolated by snapshot/revert."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract import Contract

from devnet.devnet import Devnet
from devnet.driver import MarketDriver
from devnet.venue_reads import revert_reason as chain_revert_reason
from governance.deploy import RiskParams, deploy_vault
from keeper.app.runtime import revert_decoder
from keeper.chain.artifacts import forge_artifact
from keeper.chain.connect import contract_at

from ..conftest import stack_fixtures

MAX = 2**256 - 1
DECODER = revert_decoder()  # every project contract the vault may bubble a revert from


@dataclass
class Stack:
    devnet: Devnet
    driver: MarketDriver
    vault: Contract
    section: dict[str, Any]
    deployer: str
    guardian: str
    keeper: str
    depositor: str
    fee_recipient: str

    @property
    def w3(self) -> Web3:
        return self.devnet.w3

    def token(self, symbol: str) -> Contract:
        return contract_at(
            self.w3, self.devnet.record["tokens"][symbol]["address"], "WETH9" if symbol == "WETH" else "MintableERC20"
        )

    def send(self, call: Any, sender: str) -> dict[str, Any]:
        receipt = dict(self.w3.eth.wait_for_transaction_receipt(call.transact({"from": sender})))
        assert receipt["status"] == 1
        return receipt

    def refresh_oracles(self) -> None:
        for symbol in ("USDC", "WETH", "WBTC"):
            self.driver.set_price(symbol, self.driver.oracle_price(symbol))


def revert_reason(call: Any, sender: str) -> str:
    """The decoded reason ``call`` reverts with (eth_call), or '' if it would succeed."""
    return chain_revert_reason(call, sender, DECODER)


def deploy_stack(devnet: Devnet, risk: RiskParams | None = None) -> Stack:
    w3, accounts = devnet.w3, devnet.w3.eth.accounts
    driver = MarketDriver(w3, devnet.url, devnet.record)
    driver.advance(900)  # let the pools' TWAP window fill
    deployer, guardian, keeper, depositor, fee_recipient = (
        accounts[0],
        accounts[5],
        accounts[6],
        accounts[7],
        accounts[3],
    )
    section = deploy_vault(
        w3, devnet.record, deployer=deployer, guardian=guardian, keeper=keeper, fee_recipient=fee_recipient, risk=risk
    )
    vault = w3.eth.contract(
        address=Web3.to_checksum_address(section["HedgedVault"]), abi=forge_artifact("HedgedVault").abi
    )
    stack = Stack(devnet, driver, vault, section, deployer, guardian, keeper, depositor, fee_recipient)
    usdc = stack.token("USDC")
    stack.send(usdc.functions.mint(depositor, 10_000_000 * 10**6), depositor)
    stack.send(usdc.functions.approve(vault.address, MAX), depositor)
    stack.send(vault.functions.deposit(3_000_000 * 10**6, depositor), depositor)
    stack.refresh_oracles()
    return stack


vault_devnet, vault_session, stack = stack_fixtures("vault", deploy_stack)
