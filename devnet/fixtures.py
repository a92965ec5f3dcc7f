"""A deployed, funded and hedged vault on a running devnet: what governance tests and figures work against.

Roles (anvil accounts): deployer 0 (the timelock's proposer and executor), fee recipient 3, guardian 5, keeper 6,
depositor 7. The depositor puts in 3M USDC; the keeper supplies 2M to Aave, borrows 200 WETH and sells it, so
the vault has Aave debt, a health factor, a liquidation distance and a short WETH delta.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from web3 import Web3

from devnet.driver import MarketDriver
from governance.deploy import deploy_vault
from keeper.chain.abi import contract_abi, encode_call
from keeper.chain.client import Chain, Tx, UnlockedSender
from keeper.chain.connect import contract_at

USDC_UNIT, WETH_UNIT = 10**6, 10**18
MAX_UINT = 2**256 - 1
DEPLOYER, FEE_RECIPIENT, OUTSIDER, GUARDIAN, KEEPER, DEPOSITOR = 0, 3, 4, 5, 6, 7


@dataclass(frozen=True)
class HedgedVault:
    record: dict[str, Any]  # the devnet record with the ``vault`` section
    accounts: dict[str, str]  # role → address


def aave_action(record: dict[str, Any], op: int, symbol: str, amount: int) -> tuple[str, bytes]:
    token = record["tokens"][symbol]["address"]
    return (record["vault"]["AaveV3Adapter"], encode(["uint8", "address", "uint256"], [op, token, amount]))


def swap_action(record: dict[str, Any], token_in: str, token_out: str, amount_in: int, fee: int) -> tuple[str, bytes]:
    t = record["tokens"]
    path = bytes.fromhex(t[token_in]["address"][2:]) + fee.to_bytes(3, "big")
    path += bytes.fromhex(t[token_out]["address"][2:])
    return (record["vault"]["UniswapV3Adapter"], encode(["bytes", "uint256", "uint256"], [path, amount_in, 0]))


def hedged_vault(
    w3: Web3, url: str, record: dict[str, Any], deposit_usdc: int = 3_000_000, keeper_index: int = KEEPER
) -> HedgedVault:
    """``keeper_index``: the anvil account given the keeper role (several vaults on one chain need one each: a
    keeper key per vault, or their nonces collide)."""
    accounts = w3.eth.accounts
    roles: dict[str, str] = {
        "deployer": accounts[DEPLOYER],
        "fee_recipient": accounts[FEE_RECIPIENT],
        "outsider": accounts[OUTSIDER],
        "guardian": accounts[GUARDIAN],
        "keeper": accounts[keeper_index],
        "depositor": accounts[DEPOSITOR],
    }
    driver = MarketDriver(w3, url, record)
    driver.advance(900)  # fill the pools' TWAP window
    section = deploy_vault(
        w3,
        record,
        deployer=roles["deployer"],
        guardian=roles["guardian"],
        keeper=roles["keeper"],
        fee_recipient=roles["fee_recipient"],
    )
    full = dict(record, vault=section)
    chain = Chain(url)
    vault = Web3.to_checksum_address(section["HedgedVault"])
    usdc = contract_at(w3, record["tokens"]["USDC"]["address"], "MintableERC20")
    depositor = roles["depositor"]
    funding = (usdc.functions.mint(depositor, 10 * deposit_usdc * USDC_UNIT), usdc.functions.approve(vault, MAX_UINT))
    for call in funding:
        w3.eth.wait_for_transaction_receipt(call.transact({"from": depositor}))
    abi = contract_abi("HedgedVault")
    UnlockedSender(chain, depositor).send(Tx(vault, encode_call(abi, "deposit", [deposit_usdc * USDC_UNIT, depositor])))
    for symbol in ("USDC", "WETH", "WBTC"):
        driver.set_price(symbol, driver.oracle_price(symbol))  # fresh rounds after the time jump
    fee = int(record["uniswap"]["pools"]["WETH/USDC"]["fee"])
    hedge = [
        aave_action(full, 0, "USDC", 2 * deposit_usdc * USDC_UNIT // 3),
        aave_action(full, 2, "WETH", 200 * WETH_UNIT),
        swap_action(full, "WETH", "USDC", 200 * WETH_UNIT, fee),
    ]
    UnlockedSender(chain, roles["keeper"]).send(Tx(vault, encode_call(abi, "rebalance", [hedge, []]), 0, "hedge"))
    return HedgedVault(full, roles)
