"""Deployment: resumable after a cut, never over an existing vault, verified loudly, simulated on a fork with the
target's real limits."""

from __future__ import annotations

from typing import Any

import pytest

from devnet.devnet import Devnet
from governance.deploy import VaultConfig, VaultDeployment
from governance.deploy_checks import config_from_section, existing_vault_problem, simulate_deployment, verify_vault
from keeper.chain.abi import contract_abi, encode_call
from keeper.chain.anvil import isolated
from keeper.chain.artifacts import forge_artifact
from keeper.chain.client import Chain, Receipt, Tx, UnlockedSender
from keeper.model.roles import ROLES

pytestmark = pytest.mark.chain


def config(accounts: list[str]) -> VaultConfig:
    return VaultConfig(
        guardian=accounts[5], keeper=accounts[6], fee_recipient=accounts[3], proposers=(accounts[0],), executors=()
    )


class CutSender(UnlockedSender):
    """Sends, then dies before the caller sees the receipt on transaction ``cut_at`` (a crash mid-deployment)."""

    def __init__(self, chain: Chain, account: str, cut_at: int) -> None:
        super().__init__(chain, account)
        self.sent, self.cut_at = 0, cut_at

    def send(self, tx: Tx) -> Receipt:
        receipt = super().send(tx)
        self.sent += 1
        if self.sent == self.cut_at:
            raise KeyboardInterrupt("cut")
        return receipt


def test_deploy__cut_after_sending_the_vault__resume_adopts_it_and_completes(devnet: Devnet) -> None:
    with isolated(devnet.url):
        chain, accounts = Chain(devnet.url), devnet.w3.eth.accounts
        saved: dict[str, Any] = {}
        run = VaultDeployment(
            chain,
            CutSender(chain, accounts[0], cut_at=3),  # timelock, logic factory, vault
            devnet.record,
            config(accounts),
            on_progress=lambda s: saved.update(s),
        )
        with pytest.raises(KeyboardInterrupt):
            run.run()
        assert saved["status"] == "partial"
        assert "HedgedVault" not in saved  # sent, but never recorded...
        pending = saved["pending"]
        assert pending["key"] == "HedgedVault"
        assert chain.code(pending["address"])  # ...yet on-chain
        record = dict(devnet.record, vault=saved)
        assert "continue it with --resume" in existing_vault_problem(chain, record, resume=False)
        nonce = chain.nonce(accounts[0])
        resumed = VaultDeployment(
            chain, UnlockedSender(chain, accounts[0]), devnet.record, config_from_section(saved), saved
        ).run()
        assert resumed["HedgedVault"] == pending["address"]  # adopted, not deployed twice
        # 4 contracts (Aave, Uniswap, option adapters, lens) + 3 allows + 2 tokens + 2 grants + 2 renounces
        assert chain.nonce(accounts[0]) == nonce + 13
        assert verify_vault(devnet.w3, resumed, accounts[0], devnet.record) == []
        assert "refusing to deploy over it" in existing_vault_problem(
            chain, dict(devnet.record, vault=resumed), resume=False
        )


def test_deploy__resume_by_another_account__refused(devnet: Devnet) -> None:
    with isolated(devnet.url):
        chain, accounts = Chain(devnet.url), devnet.w3.eth.accounts
        saved: dict[str, Any] = {}
        with pytest.raises(KeyboardInterrupt):
            VaultDeployment(
                chain, CutSender(chain, accounts[0], 1), devnet.record, config(accounts), on_progress=saved.update
            ).run()
        with pytest.raises(Exception, match="resume it with that account"):
            VaultDeployment(chain, UnlockedSender(chain, accounts[1]), devnet.record, config(accounts), saved)


def test_verify_vault__extra_governance_holder__reported(devnet: Devnet) -> None:
    with isolated(devnet.url):
        chain, accounts = Chain(devnet.url), devnet.w3.eth.accounts
        section = VaultDeployment(chain, UnlockedSender(chain, accounts[0]), devnet.record, config(accounts)).run()
        assert verify_vault(devnet.w3, section, accounts[0], devnet.record) == []
        # Governance grants the role to a stranger through the timelock (impersonated here): verification must see it.
        chain.impersonate(section["Timelock"])
        grant = encode_call(contract_abi("HedgedVault"), "grantRole", [ROLES["GOVERNANCE_ROLE"], accounts[9]])
        chain.send_unlocked(section["Timelock"], Tx(section["HedgedVault"], grant))
        problems = verify_vault(devnet.w3, section, accounts[0], devnet.record)
        holders = sorted([section["Timelock"], accounts[9]])
        assert problems == [f"vault GOVERNANCE_ROLE: held by {holders}, expected {[section['Timelock']]}"]


def test_simulate_deployment__devnet__verified_on_fork_and_origin_untouched(devnet: Devnet) -> None:
    chain, accounts = Chain(devnet.url), devnet.w3.eth.accounts
    block = chain.block_number()
    sim = simulate_deployment(devnet.url, devnet.record, config(accounts), accounts[0])
    assert sim.problems == []
    # 7 contracts (with the VaultLogicFactory), 3 adapters allowed, 2 tokens tracked, 2 grants, 2 renounces
    assert sim.transactions == 16
    assert chain.block_number() == block
    assert not chain.code(sim.section["HedgedVault"])  # only on the fork


def test_simulate_deployment__network_with_eip170_limit__every_contract_fits(devnet: Devnet) -> None:
    """On a network named as mainnet's stand-in (every real one enforces EIP-170, as the devnet does too) the
    whole stack deploys and verifies: the vault's runtime code is under 24,576 bytes."""
    accounts = devnet.w3.eth.accounts
    assert len(forge_artifact("HedgedVault").deployed_bytecode) // 2 - 1 <= 24_576
    standin = dict(devnet.record, network="mainnet-standin")
    sim = simulate_deployment(devnet.url, standin, config(accounts), accounts[0])
    assert sim.problems == []
