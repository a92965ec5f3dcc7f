"""VaultLens snapshot: the keeper's one eth_call per block, pre-encoded and decoded with eth_abi (no web3 objects
on the hot path). Integers stay integers here; adapters convert to floats with explicit units."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from functools import cache
from typing import Any

import numpy as np
from eth_abi import decode
from eth_utils.abi import get_abi_output_types

from keeper.chain.abi import AbiParam, FunctionAbi, contract_abi, function_abi, selector


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
    ltv_bps: int


@dataclass(frozen=True)
class AaveAccount:
    total_collateral_base_e8: int
    total_debt_base_e8: int
    available_borrows_base_e8: int
    liquidation_threshold_bps: int
    ltv_bps: int
    health_factor_wad: int


@dataclass(frozen=True)
class VenueAccount:
    account_id: int
    collateral_e6: int
    equity_e6: int  # from the venue when the snapshot is valued, else 0
    fresh: bool


@dataclass(frozen=True, eq=False)
class OptionPositions:
    """Every option position of the vault on one venue, structure of arrays (shape (n,)). Integers as on-chain;
    floats in base units: strike in USD, size in units of underlying (+ long), settlement in USD (0 = not fixed)."""

    account_id: np.ndarray  # int64
    series_id: np.ndarray  # int64
    underlying_id: np.ndarray  # int64 (the venue's underlying ids)
    expiry_s: np.ndarray  # int64, unix seconds
    strike_usd: np.ndarray
    is_call: np.ndarray  # bool
    size: np.ndarray
    settlement_usd: np.ndarray

    def __len__(self) -> int:
        return int(self.size.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, OptionPositions):
            return NotImplemented
        return all(np.array_equal(getattr(self, f.name), getattr(other, f.name)) for f in fields(self))

    __hash__ = None  # type: ignore[assignment]  # arrays: compared by value, not hashable


@dataclass(frozen=True)
class VenueUnderlying:
    asset: str
    spot_wad: int
    spot_updated_at: int
    max_price_age_seconds: int


@dataclass(frozen=True)
class VenueSurface:
    underlying_id: int
    expiry_s: int
    atm_vol_wad: int
    skew_wad: int
    smile_wad: int
    updated_at: int


@dataclass(frozen=True)
class OptionsState:
    """One options adapter's venue, as the lens returns it (risk/market params by the venue's Solidity field names,
    integers: ``keeper.venue.model.RiskParams.from_chain`` reads them)."""

    adapter: str
    market: str
    margin_floor_wad: int
    risk: dict[str, int]
    params: dict[str, int]
    accounts: tuple[VenueAccount, ...]
    positions: OptionPositions
    underlyings: tuple[VenueUnderlying, ...]
    surfaces: tuple[VenueSurface, ...]


@dataclass(frozen=True)
class VaultRisk:
    """The vault's RiskParams (IHedgedVault), as integers."""

    health_factor_floor_wad: int
    max_loss_bps: int
    max_slippage_bps: int
    turnover_budget_bps: int
    loss_budget_bps: int
    period_seconds: int
    heartbeat_seconds: int
    max_oracle_deviation_bps: int
    twap_window_seconds: int


@dataclass(frozen=True)
class VaultState:
    block_number: int
    block_timestamp: int
    total_assets: int  # 0 when not valued
    total_supply: int
    idle_assets: int
    locked_profit: int
    escrowed_shares: int
    first_pending_redeem: int
    redeem_requests: int
    deposit_cap: int
    paused: bool
    risk: VaultRisk
    period_start: int
    period_turnover_e8: int
    period_loss_e8: int
    asset: TokenState
    tokens: tuple[TokenState, ...]
    aave: AaveAccount
    valued: bool = True
    options: tuple[OptionsState, ...] = ()

    @property
    def share_price(self) -> float:
        """Assets per share in asset units (shares carry 6 extra decimals: the virtual-share offset)."""
        return self.total_assets * 10**6 / self.total_supply if self.total_supply else 1.0


@cache
def _snapshot_abi() -> FunctionAbi:
    return function_abi(contract_abi("VaultLens"), "snapshot")


@cache
def _output_types() -> list[str]:
    return list(get_abi_output_types(_snapshot_abi()))  # type: ignore[arg-type]


def snapshot_calldata(vault: str, valued: bool = True) -> str:
    """Pre-encoded ``VaultLens.snapshot(vault)`` (or ``snapshotUnvalued``: no on-chain repricing)."""
    fn = function_abi(contract_abi("VaultLens"), "snapshot" if valued else "snapshotUnvalued")
    return "0x" + (selector(fn) + bytes(12) + bytes.fromhex(vault[2:])).hex()


_WORDS = 8  # OptionPosition: accountId, seriesId, underlyingId, expiry, strikeWad, isCall, sizeWad, settlementWad


def decode_positions(encoded: bytes) -> OptionPositions:
    """abi.encode(OptionPosition[]) → arrays, vectorised: 8 big-endian words per position after the offset and
    length words. Words are split into four 64-bit limbs; unsigned fields fit the low 128 bits (two limbs), the
    signed size is two's complement (its high limb carries the sign)."""
    n = int.from_bytes(encoded[32:64], "big") if len(encoded) >= 64 else 0
    limbs = np.frombuffer(encoded, dtype=">u8", count=n * _WORDS * 4, offset=64).reshape(n, _WORDS, 4)
    low = limbs[:, :, 3].astype(np.uint64)
    high = limbs[:, :, 2].astype(np.uint64)

    def unsigned(field: int) -> np.ndarray:
        return high[:, field].astype(np.float64) * 2.0**64 + low[:, field].astype(np.float64)

    signed_high = np.ascontiguousarray(high[:, 6]).view(np.int64)  # native order: reinterpret, don't convert
    size_wad = signed_high.astype(np.float64) * 2.0**64 + low[:, 6].astype(np.float64)
    return OptionPositions(
        account_id=low[:, 0].astype(np.int64),
        series_id=low[:, 1].astype(np.int64),
        underlying_id=low[:, 2].astype(np.int64),
        expiry_s=low[:, 3].astype(np.int64),
        strike_usd=unsigned(4) / 1e18,
        is_call=low[:, 5] != 0,
        size=size_wad / 1e18,
        settlement_usd=unsigned(7) / 1e18,
    )


# The lens's structs → these dataclasses, by the ABI's field names (camelCase → snake_case), never by position: a
# field added to or moved in a Solidity struct cannot shift the others. A struct not listed here is flattened into
# its parent (VenueSurface.surface → atm_vol_wad, skew_wad, …) or, for the venue's parameter structs, kept as a
# dict by Solidity name. tests/test_lens_mirrors.py checks every dataclass against the ABI.
STRUCTS: dict[str, type] = {
    "struct VaultLens.VaultState": VaultState,
    "struct VaultLens.TokenState": TokenState,
    "struct VaultLens.AaveAccount": AaveAccount,
    "struct VaultLens.OptionsState": OptionsState,
    "struct VaultLens.VenueAccount": VenueAccount,
    "struct VaultLens.VenueUnderlying": VenueUnderlying,
    "struct VaultLens.VenueSurface": VenueSurface,
    "struct IHedgedVault.RiskParams": VaultRisk,
}
DICT_STRUCTS = ("struct IOptionMarketTypes.RiskParams", "struct IOptionMarketTypes.MarketParams")
RENAMES = {"expiry": "expiry_s"}  # Solidity name → field name where the unit is added


def field_name(solidity_name: str) -> str:
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", solidity_name).lower()
    return RENAMES.get(solidity_name, snake)


def _value(param: AbiParam, value: Any) -> Any:
    kind = str(param["type"])
    if kind.endswith("[]"):
        inner = dict(param, type=kind[:-2], internalType=str(param.get("internalType", "")).removesuffix("[]"))
        return tuple(_value(inner, v) for v in value)
    if kind == "tuple":
        struct = str(param.get("internalType", ""))
        if struct in DICT_STRUCTS:
            return {c["name"]: v for c, v in zip(param["components"], value, strict=True)}
        cls = STRUCTS[struct]
        return cls(**_fields(param, value))
    if kind == "bytes" and param["name"] == "positions":
        return decode_positions(bytes(value))
    return value


def _fields(param: AbiParam, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for c, v in zip(param["components"], value, strict=True):
        nested = str(c.get("internalType", ""))
        if c["type"] == "tuple" and nested not in STRUCTS and nested not in DICT_STRUCTS:
            out.update(_fields(c, v))  # flattened into the parent
        else:
            out[field_name(c["name"])] = _value(c, v)
    return out


def decode_snapshot(raw: bytes) -> VaultState:
    (s,) = decode(_output_types(), raw)
    state = _value(_snapshot_abi()["outputs"][0], s)
    assert isinstance(state, VaultState)
    return state
