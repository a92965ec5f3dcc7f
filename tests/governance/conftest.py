"""A devnet with a deployed, funded and hedged HedgedVault (Aave debt, swapped proceeds), for governance tests.

Roles: ``deployer`` (account 0) is the timelock's proposer and executor, ``guardian`` 5, ``keeper`` 6,
``depositor`` 7, ``fee_recipient`` 3, ``outsider`` 4 (holds nothing). Each test runs inside evm_snapshot/revert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devnet.devnet import Devnet
from devnet.driver import MarketDriver
from devnet.fixtures import hedged_vault
from governance.service import Governance
from keeper.chain.abi import contract_abi, encode_call
from keeper.chain.client import Chain, Tx, UnlockedSender

from ..conftest import stack_fixtures


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


def build_stack(devnet: Devnet) -> GovStack:
    hedged = hedged_vault(devnet.w3, devnet.url, devnet.record)
    a = hedged.accounts
    roles = (a[k] for k in ("deployer", "guardian", "keeper", "depositor", "fee_recipient", "outsider"))
    return GovStack(devnet, hedged.record, *roles)


gov_devnet, gov_session, stack = stack_fixtures("gov", build_stack)
