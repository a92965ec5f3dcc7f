"""Assemble a running keeper from its configuration and a deployment record; nothing here runs a tick.

The deployment record is the JSON the devnet and the deploy script write (tokens, feeds, Aave, Uniswap, and a
``vault`` section with the vault, its lens and adapters). A real network uses the same schema, so the same
code path takes a real RPC URL and real addresses. Every problem is reported before the first tick: a missing
record section, a chain id that does not match, a signer that cannot be loaded, a keeper without the role.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from adapters.aave_v3 import AaveV3
from adapters.base import ProtocolAdapter, TokenBook
from adapters.option_market import OptionMarket
from adapters.uniswap_v3 import UniswapV3
from keeper.app.assess import VaultAssessor
from keeper.app.executor import VaultExecutor
from keeper.app.loop import Keeper
from keeper.app.metrics import KeeperMetrics
from keeper.app.reader import LensReader
from keeper.app.routing import PlanRouter, record_tiers
from keeper.app.settlement import Settler
from keeper.chain.abi import contract_abi, decode_outputs, encode_call
from keeper.chain.artifacts import forge_artifact
from keeper.chain.record import VAULT_KEYS, check_record, load_record
from keeper.chain.revert import RevertDecoder
from keeper.chain.rpc import RpcClient
from keeper.chain.txmanager import GWEI, FeePolicy, TxManager
from keeper.config import KeeperSettings, SignerConfig
from keeper.model.exceptions import ConfigError
from keeper.model.roles import ROLES
from keeper.store import KeeperStore, open_store
from keeper.strategy import listing_problems

log = logging.getLogger("hedgevault.keeper")

#: Contracts whose custom errors the keeper decodes in revert reasons.
DECODED_CONTRACTS = (
    "HedgedVault",
    "VaultLogic",
    "AaveV3Adapter",
    "UniswapV3Adapter",
    "OptionMarketAdapter",
    "OptionMarket",
    "OptionMarketViews",
    "OptionMarketGovernance",
    "Timelock",
    "PriceFeed",
)


def load_signer(config: SignerConfig, env: Mapping[str, str] | None = None) -> LocalAccount:
    """The keeper's key, from the environment variable the config names or an encrypted keystore."""
    env = os.environ if env is None else env
    if config.private_key_env is not None:
        key = env.get(config.private_key_env)
        if not key:
            raise ConfigError(
                f"signer.private_key_env={config.private_key_env!r}: that environment variable is empty or unset; "
                f"export {config.private_key_env}=0x… (the keeper key), or use signer.keystore_path"
            )
        try:
            return Account.from_key(key)  # type: ignore[no-any-return]
        except (ValueError, TypeError) as err:
            raise ConfigError(
                f"signer.private_key_env={config.private_key_env!r} does not hold a valid private key "
                "(32 bytes, hex); check the variable's value"
            ) from err
    assert config.keystore_path is not None
    assert config.keystore_password_env is not None
    password = env.get(config.keystore_password_env)
    if password is None:
        raise ConfigError(
            f"signer.keystore_password_env={config.keystore_password_env!r} is unset; export the keystore password"
        )
    try:
        keystore = json.loads(Path(config.keystore_path).read_text())
        return Account.from_key(Account.decrypt(keystore, password))  # type: ignore[no-any-return]
    except FileNotFoundError as err:
        raise ConfigError(f"signer.keystore_path={str(config.keystore_path)!r}: no such file") from err
    except ValueError as err:
        raise ConfigError(
            f"signer.keystore_path={str(config.keystore_path)!r} could not be decrypted: {err}; check the password"
        ) from err


def revert_decoder() -> RevertDecoder:
    return RevertDecoder(forge_artifact(name).abi for name in DECODED_CONTRACTS)


def protocol_adapters(record: Mapping[str, Any]) -> list[ProtocolAdapter]:
    """The Python adapters for the protocols the record's vault is wired to."""
    tokens = TokenBook(dict(record))
    fees = {frozenset(pair.split("/")): int(pool["fee"]) for pair, pool in record["uniswap"]["pools"].items()}
    tiers = record_tiers(record)
    deployed = {(frozenset(pair.split("/")), int(p["fee"])) for pair, pools in tiers.items() for p in pools}
    vault = record["vault"]
    adapters: list[ProtocolAdapter] = [
        AaveV3(vault["AaveV3Adapter"], tokens),
        UniswapV3(vault["UniswapV3Adapter"], tokens, fees, deployed),
    ]
    if "OptionMarketAdapter" in vault:
        adapters.append(OptionMarket(vault["OptionMarketAdapter"]))
    return adapters


@dataclass
class KeeperRuntime:
    """Every long-lived object of one keeper process."""

    settings: KeeperSettings
    record: dict[str, Any]
    client: RpcClient
    txm: TxManager | None
    store: KeeperStore
    metrics: KeeperMetrics
    keeper: Keeper
    chain_id: int
    fork_of: str | None  # the upstream RPC when the node is an anvil fork, else None

    @property
    def fork_mode(self) -> bool:
        return self.fork_of is not None

    @classmethod
    def build(
        cls,
        settings: KeeperSettings,
        record: dict[str, Any] | None = None,
        *,
        account: LocalAccount | None = None,
        read_only: bool = False,
        dry_run: bool = False,
        metrics: KeeperMetrics | None = None,
        client: RpcClient | None = None,
    ) -> KeeperRuntime:
        """Connect, check the chain and the record, load the signer (unless ``read_only``), open the store.
        ``client`` replaces the one made from ``network.rpc_url`` (the fleet's health-checked failover client)."""
        record = record if record is not None else load_record(settings.network.deployment_path, need_vault=True)
        check_record(record)
        client = client or RpcClient(settings.network.rpc_url)
        chain_id = int(client.call("eth_chainId"), 16)
        expected = settings.network.chain_id or record.get("chain_id")
        if expected is not None and int(expected) != chain_id:
            raise ConfigError(
                f"network.chain_id: the node at {settings.network.rpc_url} is chain {chain_id}, but "
                f"{int(expected)} is expected (config or deployment record); point network.rpc_url at the right node"
            )
        fork_url = _fork_url(client)
        vault = record["vault"]
        check_against_vault(settings, vault_risk_params(client, vault["HedgedVault"]))
        decoder = revert_decoder()
        txm = None
        if not read_only:
            account = account or load_signer(settings.signer)
            txm = TxManager(client, account, chain_id, fee_policy(settings), decoder)
            _require_keeper_role(client, vault["HedgedVault"], str(account.address))
        metrics = metrics or KeeperMetrics()
        store = open_store(settings.store)
        reader = LensReader(
            client,
            vault["VaultLens"],
            vault["HedgedVault"],
            valued=settings.loop.lens_valuation == "onchain",
            listed_series=settings.policy.tail.enabled
            or bool(settings.policy.strategies)
            or settings.policy.delta_via_venue,
            aave_pool=record.get("aave", {}).get("Pool"),
            aave_reserves={symbol: t["address"] for symbol, t in record.get("tokens", {}).items()},
            venue_markets=(record["venue"]["OptionMarket"],)
            if "OptionMarketAdapter" in vault and "venue" in record
            else (),
        )
        assessor = VaultAssessor(settings, record)
        assessor.history.seed(store.last_ticks(settings.policy.tail.history_max_obs))  # the oracle history so far
        if settings.policy.strategies:  # a strategy naming nothing the venue lists is a config error, before a tick
            problems = listing_problems(VaultAssessor(settings, record).assess(reader.read()).book, settings.policy)
            if problems:
                raise ConfigError("; ".join(problems))
        executor = VaultExecutor(
            txm,  # type: ignore[arg-type]  # read-only runtimes never execute
            vault["HedgedVault"],
            protocol_adapters(record),
            receipt_timeout_s=settings.tx.receipt_timeout_s,
            stuck_after_s=settings.tx.stuck_after_s,
            max_replacements=settings.tx.max_replacements,
        )
        jobs, pre_jobs = [], []
        if txm is not None and "OptionMarketAdapter" in vault:
            settler = Settler(client, txm, timeout_s=settings.tx.receipt_timeout_s)
            pre_jobs.append(lambda snapshot: settler.settle_expiries(snapshot.data[0]))  # before the plan
            jobs.append(lambda snapshot: settler.run(snapshot.data[0]))
        execution = settings.execution
        router = PlanRouter(client, record, settings, store) if execution.routing or execution.slicing else None
        keeper = Keeper(
            settings,
            reader,
            assessor,
            executor,
            store,
            metrics,
            dry_run=dry_run or read_only,
            jobs=jobs,
            pre_jobs=pre_jobs,
            router=router,
        )
        return cls(settings, record, client, txm, store, metrics, keeper, chain_id, fork_url)

    def banner(self) -> dict[str, Any]:
        """What the keeper is about to operate, logged once at start."""
        vault = self.record["vault"]
        return {
            "network": self.record.get("network", "unknown"),
            "rpc_url": self.settings.network.rpc_url,
            "chain_id": self.chain_id,
            "fork_mode": self.fork_mode,
            "fork_of": self.fork_of,
            "signer": self.txm.address if self.txm else None,
            "dry_run": self.keeper.dry_run,
            "store": str(self.settings.store.path),
            **{key: vault[key] for key in VAULT_KEYS},
        }

    def close(self) -> None:
        self.store.close()
        self.client.close()


def fee_policy(settings: KeeperSettings) -> FeePolicy:
    tx = settings.tx
    return FeePolicy(
        max_fee_cap_wei=int(tx.max_fee_cap_gwei * GWEI),
        priority_fee_wei=int(tx.priority_fee_gwei * GWEI),
        replacement_bump_bps=tx.replacement_bump_bps,
    )


def _fork_url(client: RpcClient) -> str | None:
    """The upstream of an anvil fork (``anvil_nodeInfo``); None for any other node or a plain anvil."""
    from keeper.chain.rpc import RpcError

    try:
        info = client.call("anvil_nodeInfo")
    except RpcError:
        return None  # not anvil: a real node
    url = (info.get("forkConfig") or {}).get("forkUrl")
    return str(url) if url else None


def vault_risk_params(client: RpcClient, vault: str) -> dict[str, int]:
    """The vault's ``riskParams()`` by Solidity field name."""
    abi = contract_abi("HedgedVault")
    (risk,) = decode_outputs(abi, "riskParams", client.eth_call(vault, "0x" + encode_call(abi, "riskParams", []).hex()))
    return dict(risk)


def check_against_vault(settings: KeeperSettings, risk: Mapping[str, int]) -> None:
    """Refuse a policy the vault's own guards would defeat: a deleverage target or trigger under the vault's
    health-factor floor (every repay, or every batch in between, would revert), a swap slippage allowance wider
    than the vault's (its minimum outputs would be refused). Every problem is named with both values."""
    policy = settings.policy
    floor = risk["healthFactorFloorWad"] / 1e18
    problems = []
    if policy.health_factor_target <= floor:
        problems.append(
            f"policy.health_factor_target={policy.health_factor_target} is not above the vault's "
            f"riskParams.healthFactorFloorWad={floor:g}: a deleverage would land under the floor and revert; "
            f"set it above {floor:g}"
        )
    if policy.health_factor_trigger < floor:
        problems.append(
            f"policy.health_factor_trigger={policy.health_factor_trigger} is under the vault's "
            f"riskParams.healthFactorFloorWad={floor:g}: between them the keeper would not deleverage while the "
            f"vault refuses every batch; set it to at least {floor:g}"
        )
    if policy.max_slippage_bps > risk["maxSlippageBps"]:
        problems.append(
            f"policy.max_slippage_bps={policy.max_slippage_bps} exceeds the vault's riskParams.maxSlippageBps="
            f"{risk['maxSlippageBps']}: swaps at the keeper's bound would be refused; set it to at most "
            f"{risk['maxSlippageBps']}"
        )
    if problems:
        raise ConfigError("; ".join(problems))


def _require_keeper_role(client: RpcClient, vault: str, keeper: str) -> None:
    abi = contract_abi("HedgedVault")
    raw = client.eth_call(vault, "0x" + encode_call(abi, "hasRole", [ROLES["KEEPER_ROLE"], keeper]).hex())
    (has,) = decode_outputs(abi, "hasRole", raw)
    if not has:
        raise ConfigError(
            f"signer {keeper} does not hold KEEPER_ROLE on vault {vault}; rotate the keeper through governance "
            "(`ape run governance rotate-keeper …`) or configure the key that holds it"
        )
