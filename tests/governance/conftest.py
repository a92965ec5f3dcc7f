"""A devnet with a deployed, funded and hedged HedgedVault (Aave debt, swapped proceeds), for governance tests.

Roles: ``deployer`` (account 0) is the timelock's proposer and executor, ``guardian`` 5, ``keeper`` 6,
``depositor`` 7, ``fee_recipient`` 3, ``outsider`` 4 (holds nothing). Each test runs inside evm_snapshot/revert.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi import encode
from web3 import Web3

from keeper.chain.anvil import isolated
from keeper.deploy.vault import deploy_vault
from keeper.devnet.chain import contract_at
from keeper.devnet.devnet import Devnet
from keeper.devnet.driver import MarketDriver
from keeper.governance.abi import contract_abi, encode_call
from keeper.governance.chain import Chain, Tx, UnlockedSender
from keeper.governance.service import Governance

USDC, WETH = 10**6, 10**18
MAX = 2**256 - 1


@dataclass
class GovStack:
    devnet: Devnet
    record: dict[str, Any]
    deployer: str
    guardian: str
    keeper: str
    depositor: str
    fee_recipient: str
    outsider: str

    @property
    def url(self) -> str:
        return self.devnet.url

    @property
    def chain(self) -> Chain:
        return Chain(self.devnet.url)

    @property
    def section(self) -> dict[str, Any]:
        return dict(self.record["vault"])

    def gov(self) -> Governance:
        return Governance(self.url, self.record)

    def sender(self, who: str) -> UnlockedSender:
        return UnlockedSender(self.chain, who)

    def vault_call(self, fn: str, *args: Any) -> Tx:
        return Tx(self.section["HedgedVault"], encode_call(contract_abi("HedgedVault"), fn, list(args)), 0, fn)

    def view(self, fn: str, *args: Any) -> Any:
        vault = self.devnet.w3.eth.contract(address=self.section["HedgedVault"], abi=contract_abi("HedgedVault"))
        return vault.functions[fn](*args).call()

    def refresh_oracles(self) -> None:
        driver = MarketDriver(self.devnet.w3, self.url, self.devnet.record)
        for symbol in ("USDC", "WETH", "WBTC"):
            driver.set_price(symbol, driver.oracle_price(symbol))


def aave_action(stack: GovStack, op: int, symbol: str, amount: int) -> tuple[str, bytes]:
    token = stack.record["tokens"][symbol]["address"]
    return (stack.section["AaveV3Adapter"], encode(["uint8", "address", "uint256"], [op, token, amount]))


def swap_action(stack: GovStack, token_in: str, token_out: str, amount_in: int, fee: int = 500) -> tuple[str, bytes]:
    rec = stack.record["tokens"]
    path = (
        bytes.fromhex(rec[token_in]["address"][2:])
        + fee.to_bytes(3, "big")
        + bytes.fromhex(rec[token_out]["address"][2:])
    )
    return (stack.section["UniswapV3Adapter"], encode(["bytes", "uint256", "uint256"], [path, amount_in, 0]))


def build_stack(devnet: Devnet) -> GovStack:
    w3, accounts = devnet.w3, devnet.w3.eth.accounts
    MarketDriver(w3, devnet.url, devnet.record).advance(900)  # fill the pools' TWAP window
    deployer, guardian, keeper, depositor, fee_recipient, outsider = (accounts[i] for i in (0, 5, 6, 7, 3, 4))
    section = deploy_vault(
        w3, devnet.record, deployer=deployer, guardian=guardian, keeper=keeper, fee_recipient=fee_recipient
    )
    stack = GovStack(
        devnet, dict(devnet.record, vault=section), deployer, guardian, keeper, depositor, fee_recipient, outsider
    )
    usdc = contract_at(w3, devnet.record["tokens"]["USDC"]["address"], "MintableERC20")
    vault = Web3.to_checksum_address(section["HedgedVault"])
    for tx in (usdc.functions.mint(depositor, 10_000_000 * USDC), usdc.functions.approve(vault, MAX)):
        w3.eth.wait_for_transaction_receipt(tx.transact({"from": depositor}))
    stack.sender(depositor).send(stack.vault_call("deposit", 3_000_000 * USDC, depositor))
    stack.refresh_oracles()
    hedge = [
        aave_action(stack, 0, "USDC", 2_000_000 * USDC),
        aave_action(stack, 2, "WETH", 200 * WETH),
        swap_action(stack, "WETH", "USDC", 200 * WETH),
    ]
    stack.sender(keeper).send(stack.vault_call("rebalance", hedge, []))
    return stack


@pytest.fixture(scope="session")
def gov_devnet() -> Iterator[Devnet]:
    """A devnet of its own: the stack moves pools and time, which the shared ``devnet`` must not see."""
    with Devnet.start() as running:
        yield running


@pytest.fixture(scope="session")
def gov_session(gov_devnet: Devnet) -> GovStack:
    return build_stack(gov_devnet)


@pytest.fixture
def stack(gov_session: GovStack) -> Iterator[GovStack]:
    with isolated(gov_session.url):
        yield gov_session
