"""VaultLens snapshot: the keeper's one eth_call per block, pre-encoded and decoded with eth_abi (no web3 objects
on the hot path). Integers stay integers here; adapters convert to floats with explicit units."""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache

from eth_abi import decode
from eth_utils import function_signature_to_4byte_selector
from eth_utils.abi import get_abi_output_types

from keeper.artifacts import forge_artifact


@dataclass(frozen=True)
class TokenState:
    token: str
    decimals: int
    wallet_balance: int
    aave_collateral: int
    aave_variable_debt: int
    price_e8: int
    price_updated_at: int
    liquidation_threshold_bps: int


@dataclass(frozen=True)
class AaveAccount:
    total_collateral_base_e8: int
    total_debt_base_e8: int
    available_borrows_base_e8: int
    liquidation_threshold_bps: int
    ltv_bps: int
    health_factor_wad: int


@dataclass(frozen=True)
class VaultState:
    block_number: int
    block_timestamp: int
    total_assets: int
    total_supply: int
    idle_assets: int
    locked_profit: int
    escrowed_shares: int
    first_pending_redeem: int
    redeem_requests: int
    deposit_cap: int
    paused: bool
    risk: tuple[int, ...]
    period_start: int
    period_turnover_e8: int
    period_loss_e8: int
    asset: TokenState
    tokens: tuple[TokenState, ...]
    aave: AaveAccount

    @property
    def share_price(self) -> float:
        """Assets per share in asset units (shares carry 6 extra decimals: the virtual-share offset)."""
        return self.total_assets * 10**6 / self.total_supply if self.total_supply else 1.0


@cache
def _output_types() -> list[str]:
    fn = next(x for x in forge_artifact("VaultLens").abi if x.get("name") == "snapshot")
    return list(get_abi_output_types(fn))  # type: ignore[arg-type]


def snapshot_calldata(vault: str) -> str:
    """Pre-encoded ``VaultLens.snapshot(vault)``."""
    return (
        "0x" + (function_signature_to_4byte_selector("snapshot(address)") + bytes(12) + bytes.fromhex(vault[2:])).hex()
    )


def decode_snapshot(raw: bytes) -> VaultState:
    (s,) = decode(_output_types(), raw)
    values = [
        *s[:11],
        tuple(s[11]),
        *s[12:15],
        TokenState(*s[15]),
        tuple(TokenState(*t) for t in s[16]),
        AaveAccount(*s[17]),
    ]
    names = [f.name for f in fields(VaultState)]
    return VaultState(**dict(zip(names, values, strict=True)))
