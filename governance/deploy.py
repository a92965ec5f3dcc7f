"""Deploy HedgedVault with its adapters, lens and TimelockController onto a network described by a deployment
record (the devnet's, or a real network's profile), resumably, and verify the wiring.

Wiring is done by the deployer while it still holds governance; then governance and role administration move
to the timelock and the deployer renounces every role, so from then on parameters change only through the
timelock's delay. ``verify_vault`` checks that end state: role holders exactly as intended (rebuilt from
``RoleGranted`` events and confirmed with ``hasRole``), the timelock's proposers, executors, admin and delay,
immutables against the record, adapters, tracked tokens and parameters.

The deployment is a list of steps, each with an on-chain "done?" check. Progress goes into the record's ``vault``
section after every step (``status: partial``); a contract about to be deployed is recorded first with its
predicted CREATE address, so a run cut off between sending and recording is adopted, not deployed twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import rlp
from eth_abi import encode
from eth_utils import keccak
from eth_utils.abi import get_abi_input_types
from web3 import Web3
from web3.contract import Contract

from keeper.chain.abi import ZERO_ADDRESS, contract_abi, encode_call
from keeper.chain.artifacts import forge_artifact
from keeper.chain.client import Chain, Sender, Tx, UnlockedSender
from keeper.chain.connect import checksum
from keeper.model.exceptions import HedgevaultError
from keeper.model.roles import ROLES

ZERO = ZERO_ADDRESS
SCHEMA_VERSION = 1

#: The contracts :func:`deploy_vault` deploys for every vault, in order (VaultLogic's code is inside its factory's),
#: and the one it adds when the vault trades on the option venue.
CORE_CONTRACTS = ("Timelock", "VaultLogicFactory", "HedgedVault", "AaveV3Adapter", "UniswapV3Adapter", "VaultLens")
VENUE_CONTRACTS = ("OptionMarketAdapter",)


class VaultDeployError(HedgevaultError):
    """Raised when a deployment cannot start or resume (existing vault, wrong deployer) or verifies wrong."""


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


@dataclass(frozen=True)
class VaultConfig:
    """Everything a deployment decides. Addresses checksummed; ``executors`` empty = open (anyone executes)."""

    guardian: str
    keeper: str
    fee_recipient: str
    proposers: tuple[str, ...]
    executors: tuple[str, ...]
    timelock_delay_seconds: int = 86_400
    risk: RiskParams = field(default_factory=RiskParams)
    management_fee_bps: int = 100
    performance_fee_bps: int = 1000
    profit_unlock_seconds: int = 6 * 3600
    deposit_cap_assets: int = 100_000_000  # whole asset units
    tracked: tuple[str, ...] = ("WETH", "WBTC")
    asset: str = "USDC"
    name: str = "Hedgevault USDC"
    symbol: str = "hvUSDC"
    # The option venue (when the record has one): after every rebalance that trades there, each venue account
    # must hold equity ≥ this × its maintenance margin (an immutable of the adapter).
    options: bool = True
    venue_margin_floor_wad: int = 15 * 10**17  # above the venue's IM (1.25 × MM): the vault keeps a buffer
    # Most venue accounts the vault may own (≤ VaultBounds.MAX_VENUE_ACCOUNTS = 8; every NAV read values each one).
    venue_max_accounts: int = 4

    @property
    def fees(self) -> FeeParams:
        return FeeParams(
            self.fee_recipient, self.management_fee_bps, self.performance_fee_bps, self.profit_unlock_seconds
        )


def roles(vault: Contract) -> dict[str, bytes]:
    return {
        name: vault.functions[name]().call()
        for name in ("GOVERNANCE_ROLE", "GUARDIAN_ROLE", "KEEPER_ROLE", "DEFAULT_ADMIN_ROLE")
    }


def create_address(sender: str, nonce: int) -> str:
    return Web3.to_checksum_address(keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


def creation_code(name: str, *args: Any) -> bytes:
    """Forge creation bytecode of ``name`` with ABI-encoded constructor arguments."""
    artifact = forge_artifact(name)
    ctor: dict[str, Any] = next((f for f in artifact.abi if f.get("type") == "constructor"), {"inputs": []})
    encoded = encode(get_abi_input_types(ctor), list(args)) if ctor["inputs"] else b""  # type: ignore[arg-type]
    return bytes.fromhex(artifact.bytecode[2:]) + encoded


@dataclass(frozen=True)
class _Step:
    name: str
    done: Callable[[], bool]
    run: Callable[[], None]


class VaultDeployment:
    """One resumable deployment of the vault stack by ``sender`` on ``chain``."""

    def __init__(
        self,
        chain: Chain,
        sender: Sender,
        record: dict[str, Any],
        config: VaultConfig,
        section: dict[str, Any] | None = None,
        on_progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.chain, self.sender, self.record, self.config = chain, sender, record, config
        self.on_progress = on_progress or (lambda _: None)
        self.gas_used = 0
        self.transactions = 0
        self.section = dict(section) if section else self._new_section()
        if Web3.to_checksum_address(self.section["deployer"]) != Web3.to_checksum_address(sender.address):
            raise VaultDeployError(
                f"the partial deployment was started by {self.section['deployer']}, who still holds governance; "
                f"resume it with that account, not {sender.address}"
            )

    def _new_section(self) -> dict[str, Any]:
        c = self.config
        asset = self.record["tokens"][c.asset]
        return {
            "schema": SCHEMA_VERSION,
            "status": "partial",
            "chain_id": self.chain.chain_id,
            "deployer": Web3.to_checksum_address(self.sender.address),
            "deploy_block": self.chain.block_number(),
            "asset": c.asset,
            "guardian": Web3.to_checksum_address(c.guardian),
            "keeper": Web3.to_checksum_address(c.keeper),
            "fee_recipient": Web3.to_checksum_address(c.fee_recipient),
            "proposers": [Web3.to_checksum_address(p) for p in c.proposers],
            "executors": [Web3.to_checksum_address(e) for e in c.executors] or [ZERO],
            "timelock_delay_seconds": c.timelock_delay_seconds,
            "tracked": list(c.tracked),
            "risk": dict(zip(_risk_names(), c.risk.as_tuple(), strict=True)),
            "fees": {
                "managementFeeBps": c.management_fee_bps,
                "performanceFeeBps": c.performance_fee_bps,
                "profitUnlockSeconds": c.profit_unlock_seconds,
            },
            "deposit_cap": c.deposit_cap_assets * 10 ** int(asset["decimals"]),
            "asset_decimals": int(asset["decimals"]),
            "options": c.options,
            "venue_margin_floor_wad": c.venue_margin_floor_wad,
            "venue_max_accounts": c.venue_max_accounts,
            "deploy_gas": 0,
            "transactions": [],
        }

    # --- sending ---

    def _send(self, tx: Tx) -> Any:
        receipt = self.sender.send(tx)
        self.gas_used += receipt.gas_used
        self.transactions += 1
        self.section["deploy_gas"] = int(self.section.get("deploy_gas", 0)) + receipt.gas_used
        self.section.setdefault("transactions", []).append(
            {"what": tx.what, "tx": receipt.tx_hash, "gas": receipt.gas_used}
        )
        return receipt

    def _deploy(self, key: str, name: str, *args: Any) -> None:
        nonce = self.chain.nonce(self.sender.address)
        predicted = create_address(self.sender.address, nonce)
        self.section["pending"] = {"key": key, "address": predicted, "nonce": nonce}
        self.on_progress(self.section)
        receipt = self._send(Tx(None, creation_code(name, *args), 0, f"deploy {name}"))
        address = receipt.contract_address or predicted
        if not self.chain.code(address):
            raise VaultDeployError(f"deploy {name}: no code at {address} (tx {receipt.tx_hash})")
        self.section[key] = Web3.to_checksum_address(address)
        self.section.pop("pending", None)

    def _deployed(self, key: str) -> bool:
        if key in self.section and self.chain.code(self.section[key]):
            return True
        pending = self.section.get("pending")
        if pending and pending["key"] == key and self.chain.code(pending["address"]):
            self.section[key] = pending["address"]  # sent by an earlier run that was cut off before recording it
            self.section.pop("pending")
            return True
        return False

    def _vault_tx(self, fn: str, args: list[Any], what: str) -> None:
        self._send(Tx(self.section["HedgedVault"], encode_call(contract_abi("HedgedVault"), fn, args), 0, what))

    def _vault_view(self, fn: str, *args: Any) -> Any:
        vault = self.chain.w3.eth.contract(address=self.section["HedgedVault"], abi=contract_abi("HedgedVault"))
        return vault.functions[fn](*args).call()

    # --- steps ---

    def steps(self) -> list[_Step]:
        c, rec = self.config, self.record
        usdc = rec["tokens"][c.asset]
        deployer = Web3.to_checksum_address(self.sender.address)
        executors: list[str] = [Web3.to_checksum_address(e) for e in c.executors] or [ZERO]
        steps = [
            _Step(
                "deploy Timelock",
                lambda: self._deployed("Timelock"),
                lambda: self._deploy(
                    "Timelock",
                    "Timelock",
                    c.timelock_delay_seconds,
                    [checksum(p) for p in c.proposers],
                    executors,
                    ZERO,
                ),
            ),
            _Step(
                "deploy VaultLogicFactory",
                lambda: self._deployed("VaultLogicFactory"),
                lambda: self._deploy("VaultLogicFactory", "VaultLogicFactory", checksum(rec["aave"]["Pool"])),
            ),
            _Step(
                "deploy HedgedVault",
                lambda: self._deployed("HedgedVault"),
                lambda: self._deploy(
                    "HedgedVault",
                    "HedgedVault",
                    checksum(usdc["address"]),
                    c.name,
                    c.symbol,
                    checksum(rec["feeds"][c.asset]),
                    deployer,
                    checksum(c.guardian),
                    checksum(c.keeper),
                    c.risk.as_tuple(),
                    (checksum(c.fee_recipient), c.management_fee_bps, c.performance_fee_bps, c.profit_unlock_seconds),
                    c.deposit_cap_assets * 10 ** int(usdc["decimals"]),
                    self.section["VaultLogicFactory"],
                ),
            ),
            _Step(
                "deploy AaveV3Adapter",
                lambda: self._deployed("AaveV3Adapter"),
                lambda: self._deploy("AaveV3Adapter", "AaveV3Adapter", checksum(rec["aave"]["Pool"])),
            ),
            _Step(
                "deploy UniswapV3Adapter",
                lambda: self._deployed("UniswapV3Adapter"),
                lambda: self._deploy("UniswapV3Adapter", "UniswapV3Adapter", checksum(rec["uniswap"]["SwapRouter"])),
            ),
            _Step(
                "deploy VaultLens", lambda: self._deployed("VaultLens"), lambda: self._deploy("VaultLens", "VaultLens")
            ),
        ]
        adapters = ["AaveV3Adapter", "UniswapV3Adapter"]
        if c.options and "venue" in rec:
            adapters.append("OptionMarketAdapter")
            steps.append(
                _Step(
                    "deploy OptionMarketAdapter",
                    lambda: self._deployed("OptionMarketAdapter"),
                    lambda: self._deploy(
                        "OptionMarketAdapter",
                        "OptionMarketAdapter",
                        checksum(rec["venue"]["OptionMarket"]),
                        checksum(rec["feeds"][c.asset]),
                        c.venue_margin_floor_wad,
                        c.venue_max_accounts,
                    ),
                )
            )
        for key in adapters:
            steps.append(
                _Step(
                    f"allow {key}",
                    lambda key=key: bool(self._vault_view("adapterAllowed", self.section[key])),  # type: ignore[misc]
                    lambda key=key: self._vault_tx("setAdapter", [self.section[key], True], f"allow {key}"),  # type: ignore[misc]
                )
            )
        for symbol in c.tracked:
            steps.append(
                _Step(
                    f"track {symbol}",
                    lambda symbol=symbol: (
                        checksum(rec["tokens"][symbol]["address"]) in [t[0] for t in self._vault_view("trackedTokens")]
                    ),  # type: ignore[misc]
                    lambda symbol=symbol: self._vault_tx(
                        "addTrackedToken", [tracked_token(rec, symbol, c.asset)], f"track {symbol}"
                    ),  # type: ignore[misc]
                )
            )
        for role in ("GOVERNANCE_ROLE", "DEFAULT_ADMIN_ROLE"):
            steps.append(
                _Step(
                    f"{role} → Timelock",
                    lambda role=role: bool(self._vault_view("hasRole", ROLES[role], self.section["Timelock"])),  # type: ignore[misc]
                    lambda role=role: self._vault_tx(
                        "grantRole", [ROLES[role], self.section["Timelock"]], f"{role} → timelock"
                    ),  # type: ignore[misc]
                )
            )
        for role in ("GOVERNANCE_ROLE", "DEFAULT_ADMIN_ROLE"):
            steps.append(
                _Step(
                    f"deployer renounces {role}",
                    lambda role=role: not self._vault_view("hasRole", ROLES[role], deployer),  # type: ignore[misc]
                    lambda role=role: self._vault_tx(
                        "renounceRole", [ROLES[role], deployer], f"deployer renounces {role}"
                    ),  # type: ignore[misc]
                )
            )
        return steps

    def run(self) -> dict[str, Any]:
        """Run every step not done yet; returns the completed ``vault`` section."""
        done = []
        for step in self.steps():
            if not step.done():
                step.run()
                self.on_progress(self.section)
            done.append(step.name)
        self.section["status"] = "complete"
        self.section["steps_done"] = done
        self.on_progress(self.section)
        return self.section


def tracked_token(record: dict[str, Any], symbol: str, asset: str = "USDC") -> tuple[str, str, str, int]:
    token = record["tokens"][symbol]
    pool = record["uniswap"]["pools"].get(f"{symbol}/{asset}", {}).get("address", ZERO)
    return (checksum(token["address"]), checksum(record["feeds"][symbol]), checksum(pool), int(token["decimals"]))


def _risk_names() -> list[str]:
    from governance.bounds import struct_fields

    return [n for n, _ in struct_fields("riskParams")]


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
    executors: list[str] | None = None,
    risk: RiskParams | None = None,
    deposit_cap_usdc: int = 100_000_000,
    tracked: tuple[str, ...] = ("WETH", "WBTC"),
) -> dict[str, Any]:
    """Deploy and wire from an account anvil holds unlocked (devnet, tests); returns the ``vault`` section.
    Proposers default to the deployer, executors to the proposers."""
    chain = Chain(str(w3.provider.endpoint_uri))  # type: ignore[attr-defined]
    proposers = proposers or [deployer]
    config = VaultConfig(
        guardian=guardian,
        keeper=keeper,
        fee_recipient=fee_recipient,
        proposers=tuple(proposers),
        executors=tuple(executors if executors is not None else proposers),
        timelock_delay_seconds=timelock_delay_seconds,
        risk=risk or RiskParams(),
        deposit_cap_assets=deposit_cap_usdc,
        tracked=tracked,
    )
    return VaultDeployment(chain, UnlockedSender(chain, deployer), record, config).run()
