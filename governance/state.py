"""What a governance change is judged by: the vault's parameters and roles (``VaultParams``) and its risk
(``RiskSummary``: NAV, share price, Aave health factor, liquidation distance, net delta per underlying), both read
from a chain — the target, or a fork of it after a simulated change.

Risk comes from one ``VaultLens.snapshot`` call through ``keeper.risk`` (closed-form Aave liquidation distance,
net Greeks of the linear book); there are no venue options on-chain yet, so the option book is empty.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from web3 import Web3

from adapters.vault_lens import VaultState, decode_snapshot, snapshot_calldata
from governance.bounds import FEE_FIELDS, RISK_FIELDS, WAD, display, struct_fields
from keeper.chain.abi import ZERO_ADDRESS, contract_abi, event_topic
from keeper.chain.client import Chain
from keeper.model.roles import ROLES
from keeper.risk.liquidation import aave_liquidation
from keeper.risk.portfolio import OptionBook, net_greeks

ROLE_GRANTED = event_topic(contract_abi("HedgedVault"), "RoleGranted")  # the timelock emits the same event
VAULT_ROLES = ("DEFAULT_ADMIN_ROLE", "GOVERNANCE_ROLE", "GUARDIAN_ROLE", "KEEPER_ROLE")
TIMELOCK_ROLES = ("DEFAULT_ADMIN_ROLE", "PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE")


@dataclass(frozen=True)
class VaultParams:
    """Everything governance can change, as read at one block."""

    risk: dict[str, int]
    fees: dict[str, Any]
    deposit_cap: int
    max_fulfil_delay_seconds: int
    paused: bool
    adapters: dict[str, bool]  # known adapter address → allowed
    tracked_tokens: tuple[dict[str, Any], ...]
    asset_feed: str
    roles: dict[str, tuple[str, ...]]  # vault role → holders
    timelock_min_delay: int
    timelock_roles: dict[str, tuple[str, ...]]
    asset_decimals: int

    def flat(self, names: dict[str, str] | None = None) -> dict[str, str]:
        """Ordered ``name → readable value`` rows (``names`` labels known addresses)."""
        label = _labeller(names or {})
        rows: dict[str, str] = {}
        units = {b.field: b.unit for b in (*RISK_FIELDS, *FEE_FIELDS)}
        for k, v in self.risk.items():
            rows[f"risk.{k}"] = display(v, units[k])
        for k, v in self.fees.items():
            rows[f"fees.{k}"] = label(v) if k == "feeRecipient" else display(v, units[k])
        rows["depositCap"] = (
            f"{self.deposit_cap / 10**self.asset_decimals:,.{min(self.asset_decimals, 2)}f} (raw {self.deposit_cap})"
        )
        rows["maxFulfilDelaySeconds"] = display(self.max_fulfil_delay_seconds, "seconds")
        rows["paused"] = str(self.paused).lower()
        for address, allowed in self.adapters.items():
            rows[f"adapter {label(address)}"] = "allowed" if allowed else "not allowed"
        rows["trackedTokens"] = ", ".join(label(t["token"]) for t in self.tracked_tokens) or "none"
        for t in self.tracked_tokens:
            rows[f"feed {label(t['token'])}"] = label(t["feed"])
        rows["assetFeed"] = label(self.asset_feed)
        for role, holders in self.roles.items():
            rows[f"vault {role}"] = ", ".join(label(h) for h in holders) or "nobody"
        rows["timelock minDelay"] = display(self.timelock_min_delay, "seconds")
        for role, holders in self.timelock_roles.items():
            rows[f"timelock {role}"] = ", ".join(label(h) for h in holders) or "nobody"
        return rows


def _labeller(names: dict[str, str]) -> Any:
    lower = {k.lower(): v for k, v in names.items()}

    def label(address: Any) -> str:
        text = str(address)
        if text.lower() == ZERO_ADDRESS:
            return "anyone (0x0)"
        name = lower.get(text.lower())
        return f"{name} {text[:10]}…" if name else text

    return label


def role_holders(
    chain: Chain, contract: str, abi_name: str, role: str, candidates: Iterable[str], from_block: int
) -> tuple[str, ...]:
    """Holders of ``role`` on an AccessControl contract: every account ever granted it (``RoleGranted``) plus
    ``candidates``, filtered by ``hasRole`` now."""
    role_hash = ROLES[role]
    logs = chain.logs(contract, [ROLE_GRANTED, "0x" + role_hash.hex()], from_block)
    accounts = {Web3.to_checksum_address("0x" + log["topics"][2][-40:]) for log in logs}
    accounts |= {Web3.to_checksum_address(c) for c in candidates}
    c = chain.w3.eth.contract(address=Web3.to_checksum_address(contract), abi=contract_abi(abi_name))
    return tuple(sorted(a for a in accounts if c.functions.hasRole(role_hash, a).call()))


def read_params(
    chain: Chain, section: dict[str, Any], extra_adapters: Iterable[str] = (), extra_accounts: Iterable[str] = ()
) -> VaultParams:
    vault = chain.w3.eth.contract(
        address=Web3.to_checksum_address(section["HedgedVault"]), abi=contract_abi("HedgedVault")
    )
    f = vault.functions
    risk_names = [n for n, _ in struct_fields("riskParams")]
    fee_names = [n for n, _ in struct_fields("feeParams")]
    from_block = int(section.get("deploy_block", 0))
    adapters = dict.fromkeys(
        [section[k] for k in ("AaveV3Adapter", "UniswapV3Adapter") if k in section] + list(extra_adapters)
    )
    extra = list(extra_accounts)
    tracked = tuple({"token": t[0], "feed": t[1], "twapPool": t[2], "decimals": t[3]} for t in f.trackedTokens().call())
    asset = chain.w3.eth.contract(
        address=f.asset().call(),
        abi=[
            {
                "name": "decimals",
                "type": "function",
                "stateMutability": "view",
                "inputs": [],
                "outputs": [{"type": "uint8", "name": ""}],
            }
        ],
    )
    return VaultParams(
        risk=dict(zip(risk_names, f.riskParams().call(), strict=True)),
        fees=dict(zip(fee_names, f.feeParams().call(), strict=True)),
        deposit_cap=f.depositCap().call(),
        max_fulfil_delay_seconds=f.maxFulfilDelaySeconds().call(),
        paused=f.paused().call(),
        adapters={Web3.to_checksum_address(a): f.adapterAllowed(Web3.to_checksum_address(a)).call() for a in adapters},
        tracked_tokens=tracked,
        asset_feed=Web3.to_checksum_address(f.assetFeed().call()),
        roles={r: role_holders(chain, vault.address, "HedgedVault", r, extra, from_block) for r in VAULT_ROLES},
        timelock_min_delay=chain.w3.eth.contract(
            address=Web3.to_checksum_address(section["Timelock"]), abi=contract_abi("Timelock")
        )
        .functions.getMinDelay()
        .call(),
        timelock_roles={
            r: role_holders(chain, section["Timelock"], "Timelock", r, [*extra, ZERO_ADDRESS], from_block)
            for r in TIMELOCK_ROLES
        },
        asset_decimals=asset.functions.decimals().call(),
    )


# --- risk ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RiskSummary:
    """Risk of the vault at one block. Asset amounts in asset units (USDC), prices in USD."""

    block_number: int
    timestamp: int
    nav_assets: float
    share_price: float
    idle_assets: float
    aave_collateral_usd: float
    aave_debt_usd: float
    health_factor: float  # inf without debt
    health_factor_floor: float
    joint_liquidation_move: float  # every risky asset together; NaN = never
    liquidation_moves: dict[str, float]  # per asset alone; NaN = never
    net_delta_units: dict[str, float]
    net_delta_usd: dict[str, float]
    paused: bool

    def flat(self) -> dict[str, str]:
        rows = {
            "NAV (totalAssets)": f"{self.nav_assets:,.2f}",
            "share price": f"{self.share_price:.8f}",
            "idle assets": f"{self.idle_assets:,.2f}",
            "Aave collateral USD": f"{self.aave_collateral_usd:,.2f}",
            "Aave debt USD": f"{self.aave_debt_usd:,.2f}",
            "health factor": _num(self.health_factor, ".4f"),
            "HF floor (headroom)": (
                f"{self.health_factor_floor:.4f} ({_headroom(self.health_factor, self.health_factor_floor)})"
            ),
            "liquidation: all risky assets together": _move(self.joint_liquidation_move),
        }
        for symbol, move in self.liquidation_moves.items():
            rows[f"liquidation: {symbol} alone"] = _move(move)
        for symbol, units in self.net_delta_units.items():
            rows[f"net delta {symbol}"] = f"{units:+,.6f} ({self.net_delta_usd[symbol]:+,.2f} USD)"
        return rows

    def numbers(self) -> dict[str, float]:
        """The numeric fields, flat (for JSON and for comparing a simulation with a real execution)."""
        out = {
            "nav_assets": self.nav_assets,
            "share_price": self.share_price,
            "idle_assets": self.idle_assets,
            "aave_collateral_usd": self.aave_collateral_usd,
            "aave_debt_usd": self.aave_debt_usd,
            "health_factor": self.health_factor,
            "health_factor_floor": self.health_factor_floor,
            "joint_liquidation_move": self.joint_liquidation_move,
        }
        out |= {f"liquidation_move.{k}": v for k, v in self.liquidation_moves.items()}
        out |= {f"net_delta_units.{k}": v for k, v in self.net_delta_units.items()}
        out |= {f"net_delta_usd.{k}": v for k, v in self.net_delta_usd.items()}
        return out


def _num(x: float, fmt: str) -> str:
    return "∞ (no debt)" if math.isinf(x) else format(x, fmt)


def _move(m: float) -> str:
    return "never" if math.isnan(m) else f"{m:+.2%} price move"


def _headroom(hf: float, floor: float) -> str:
    if math.isinf(hf):
        return "no debt"
    return f"HF {hf / floor - 1:+.1%} vs floor"


def read_lens(chain: Chain, section: dict[str, Any]) -> VaultState:
    raw = chain.call(
        section["VaultLens"], bytes.fromhex(snapshot_calldata(section["HedgedVault"])[2:]), what="VaultLens.snapshot"
    )
    return decode_snapshot(raw)


def risk_summary(state: VaultState, record: dict[str, Any], asset_symbol: str = "USDC") -> RiskSummary:
    """Risk from a lens snapshot: Aave HF and closed-form liquidation distance, net delta per underlying."""
    symbols = {t["address"].lower(): s for s, t in record["tokens"].items()}
    rows = [state.asset, *state.tokens]
    names = [symbols.get(t.token.lower(), t.token) for t in rows]
    collateral = np.array([t.aave_collateral / 10**t.decimals for t in rows])
    debt = np.array([t.aave_variable_debt / 10**t.decimals for t in rows])
    price = np.array([t.price_e8 / 1e8 for t in rows])
    lt = np.array([t.liquidation_threshold_bps / 1e4 for t in rows])
    stable = np.array([n == asset_symbol for n in names])
    if state.aave.total_debt_base_e8 > 0 and np.all(price > 0):
        liq = aave_liquidation(collateral, debt, price, lt, stable)
        # Aave's own HF (its oracle, its rounding); the closed form gives the distance to HF = 1.
        hf, joint, per_asset = state.aave.health_factor_wad / WAD, liq.joint_move, liq.per_asset_move()
    else:
        hf, joint, per_asset = math.inf, math.nan, np.full(len(rows), np.nan)
    risky = list(range(1, len(rows)))
    held = np.array([rows[i].wallet_balance / 10 ** rows[i].decimals for i in risky])
    linear = held + collateral[risky] - debt[risky]
    empty = OptionBook(
        underlying_index=np.zeros(0, dtype=np.int64),
        size=np.zeros(0),
        strike=np.zeros(0),
        t_years=np.zeros(0),
        vol=np.zeros(0),
        is_call=np.zeros(0, dtype=bool),
    )
    greeks = net_greeks(empty, price[risky], 0.0, linear) if risky else None
    decimals = state.asset.decimals
    return RiskSummary(
        block_number=state.block_number,
        timestamp=state.block_timestamp,
        nav_assets=state.total_assets / 10**decimals,
        share_price=state.share_price,
        idle_assets=state.idle_assets / 10**decimals,
        aave_collateral_usd=state.aave.total_collateral_base_e8 / 1e8,
        aave_debt_usd=state.aave.total_debt_base_e8 / 1e8,
        health_factor=hf,
        health_factor_floor=state.risk.health_factor_floor_wad / WAD,
        joint_liquidation_move=float(joint),
        liquidation_moves={names[i]: float(per_asset[i]) for i in range(len(rows)) if names[i] != asset_symbol},
        net_delta_units={names[i]: float(greeks.delta_units[j]) for j, i in enumerate(risky)} if greeks else {},
        net_delta_usd={names[i]: float(greeks.delta_usd[j]) for j, i in enumerate(risky)} if greeks else {},
        paused=state.paused,
    )


@dataclass(frozen=True)
class VaultView:
    """Parameters and risk at one point (before or after a change)."""

    params: VaultParams
    lens: VaultState
    risk: RiskSummary


def read_view(
    chain: Chain, record: dict[str, Any], extra_adapters: Iterable[str] = (), extra_accounts: Iterable[str] = ()
) -> VaultView:
    section = record["vault"]
    lens = read_lens(chain, section)
    return VaultView(read_params(chain, section, extra_adapters, extra_accounts), lens, risk_summary(lens, record))
