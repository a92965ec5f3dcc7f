"""Deployment records: the devnet's (written by the snapshot) and real networks' (here), one schema.

The keeper and scripts take a record, never hard-coded addresses, so ``--fork-url <real RPC>`` with the
mainnet profile runs the same code as the devnet. ``verify_record`` checks a record against a chain before
anything uses it: chain id, code at every address, and Aave's wiring (Pool, oracle and data provider as the
PoolAddressesProvider reports them).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from web3 import Web3

from keeper.chain.protocols import art
from keeper.model.exceptions import ConfigError
from keeper.paths import DEVNET_RECORD_FILE

# Ethereum mainnet (chain id 1). Aave v3 "Ethereum" market, Uniswap v3 canonical deployments, Chainlink
# aggregator proxies. Pool, oracle and data provider are also re-derived from the addresses provider.
MAINNET: dict[str, Any] = {
    "network": "mainnet",
    "chain_id": 1,
    "tokens": {
        "USDC": {"address": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "decimals": 6, "name": "USD Coin"},
        "WETH": {"address": "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2", "decimals": 18, "name": "Wrapped Ether"},
        "WBTC": {"address": "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599", "decimals": 8, "name": "Wrapped BTC"},
    },
    "feeds": {
        "USDC": "0x8fFfFfd4AfB6115b954Bd326cbe7B4BA576818f6",
        "WETH": "0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419",
        "WBTC": "0xF4030086522a5bEEa4988F8cA5B36dbC97BeE88c",
    },
    "aave": {
        "PoolAddressesProvider": "0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e",
        "Pool": "0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2",
        "AaveOracle": "0x54586bE62E3c3580375aE3723C145253060Ca0C2",
        "AaveProtocolDataProvider": "0x41393e5e337606dc3821075Af65AeE84D7688CBD",
    },
    "uniswap": {
        "UniswapV3Factory": "0x1F98431c8aD98523631AE4a59f267346ea31F984",
        "SwapRouter": "0xE592427A0AEce92De3Edee1F18E0157C05861564",
        "NonfungiblePositionManager": "0xC36442b4a4522E871399CD717aBDD847Ab11FE88",
        "QuoterV2": "0x61fFE014bA17989E743c5F6cB21bF9697530B21e",
        "pools": {
            "WETH/USDC": {
                "address": "0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640",
                "fee": 500,
                "tick_spacing": 10,
                "token0": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
                "token1": "0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2",
                "usdc_is_token0": True,
            },
            "WBTC/USDC": {
                "address": "0x99ac8cA7087fA4A2A1FB6357269965A2014ABc35",
                "fee": 3000,
                "tick_spacing": 60,
                "token0": "0x2260FAC5E5542a773Aa44fBCfeDf7C193bc2C599",
                "token1": "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
                "usdc_is_token0": False,
            },
        },
    },
}

PROFILES = {"mainnet": MAINNET}
REQUIRED = ("chain_id", "tokens", "feeds", "aave", "uniswap")
#: The vault section's contracts the keeper needs (``ape run deploy`` writes them).
VAULT_KEYS = ("HedgedVault", "VaultLens", "AaveV3Adapter", "UniswapV3Adapter")


def load_record(
    source: str | Path, *, need_vault: bool = False, field: str = "network.deployment_path"
) -> dict[str, Any]:
    """A record by profile name (``mainnet``) or from a JSON file (the devnet's ``deployment.json``), checked.

    ``need_vault``: the record must also hold the vault section (what the keeper runs against). ``field`` names
    the setting the source came from, for the error message.
    """
    if str(source) in PROFILES:
        record: dict[str, Any] = json.loads(json.dumps(PROFILES[str(source)]))  # deep copy
    else:
        path = Path(source)
        if not path.is_file():
            raise ConfigError(
                f"{field}={str(path)!r} not found; run `keeper devnet up` (writes {DEVNET_RECORD_FILE}) and deploy "
                f"the vault (`ape run deploy`, or `make demo` on the devnet), or use a profile name: "
                f"{', '.join(PROFILES)}"
            )
        try:
            record = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ConfigError(f"{field}={str(path)!r} is not valid JSON: {err}") from err
    check_record(record, str(source), need_vault=need_vault)
    return record


def check_record(record: Mapping[str, Any], where: str = "the deployment record", *, need_vault: bool = True) -> None:
    """Raise ConfigError naming every missing piece of the record (with ``need_vault``, its vault section too)."""
    missing = [k for k in REQUIRED if k not in record]
    if missing:
        raise ConfigError(f"deployment record {where} lacks {', '.join(missing)}; regenerate it")
    if not need_vault:
        return
    vault = record.get("vault", {})
    problems = ([] if "vault" in record else ["section 'vault'"]) + [f"vault.{k}" for k in VAULT_KEYS if k not in vault]
    if problems:
        raise ConfigError(
            f"{where} lacks {', '.join(problems)}; it must be written by the deploy script (`ape run deploy`), "
            "which adds the vault section to the network's record"
        )


def _addresses(node: Any, prefix: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _addresses(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(node, str) and node.startswith("0x") and len(node) == 42:
        found.append((prefix, node))
    return found


def verify_record(w3: Web3, record: dict[str, Any]) -> list[str]:
    """Problems found checking ``record`` against the chain behind ``w3``; empty when consistent."""
    problems = []
    if w3.eth.chain_id != record["chain_id"]:
        problems.append(f"chain id is {w3.eth.chain_id}, the record is for {record['chain_id']}")
    for where, address in _addresses({k: record[k] for k in ("tokens", "feeds", "aave", "uniswap")}):
        if not w3.eth.get_code(Web3.to_checksum_address(address)):
            problems.append(f"{where}: no code at {address}")
    aave = record["aave"]
    provider = w3.eth.contract(
        address=Web3.to_checksum_address(aave["PoolAddressesProvider"]), abi=art("PoolAddressesProvider").abi
    )
    try:
        wired = {
            "Pool": provider.functions.getPool().call(),
            "AaveOracle": provider.functions.getPriceOracle().call(),
            "AaveProtocolDataProvider": provider.functions.getPoolDataProvider().call(),
        }
    except Exception as err:  # a non-provider at that address
        return [*problems, f"aave.PoolAddressesProvider: not an addresses provider ({err})"]
    for name, actual in wired.items():
        if actual.lower() != aave[name].lower():
            problems.append(f"aave.{name}: record has {aave[name]}, the addresses provider says {actual}")
    return problems
