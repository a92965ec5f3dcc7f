"""Vault operations as calls, validated before anything is simulated: every parameter and role governance can
change through the timelock, and the guardian's immediate powers (pause, tighten, emergency unwind).

Each builder takes the vault's current parameters and hard bounds (``Context``) and returns an ``Operation``:
the calls on the vault, who must make them (the timelock, or the guardian directly) and the addresses the
before → after diff must watch. Invalid input raises ``ParameterError`` naming the field, value and range.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from eth_abi import decode
from web3 import Web3

from governance.bounds import (
    FEE_FIELDS,
    FULFIL_DELAY,
    RISK_FIELDS,
    ParameterError,
    check_all,
    check_field,
    display,
    parse_field,
    parse_scaled,
)
from governance.state import VaultParams
from governance.timelock import Call
from keeper.chain.abi import ZERO_ADDRESS, contract_abi, encode_call
from keeper.chain.client import Chain, RevertError
from keeper.model.roles import ROLES

Route = Literal["timelock", "guardian"]
ADAPTER_KINDS = ("LENDING", "SWAP", "OPTIONS")


@dataclass(frozen=True)
class Context:
    """What validation needs: the record (with its ``vault`` section), current parameters, hard bounds."""

    record: dict[str, Any]
    params: VaultParams
    constants: Mapping[str, int]

    @property
    def section(self) -> dict[str, Any]:
        return dict(self.record["vault"])

    @property
    def vault(self) -> str:
        return Web3.to_checksum_address(self.section["HedgedVault"])

    @property
    def asset_symbol(self) -> str:
        return str(self.section.get("asset", "USDC"))


@dataclass(frozen=True)
class Operation:
    kind: str
    summary: str
    calls: tuple[Call, ...]
    route: Route
    watch_accounts: tuple[str, ...] = ()
    watch_adapters: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())


def _vault_call(ctx: Context, name: str, args: Sequence[Any]) -> Call:
    return Call(ctx.vault, encode_call(contract_abi("HedgedVault"), name, list(args)))


def address_arg(field_name: str, text: str) -> str:
    if not Web3.is_address(text):
        raise ParameterError(field_name, f"{field_name}={text!r} is not an address (0x + 40 hex digits)")
    address = Web3.to_checksum_address(text)
    if address == Web3.to_checksum_address(ZERO_ADDRESS):
        raise ParameterError(field_name, f"{field_name} is the zero address; the vault rejects it (ZeroAddress)")
    return address


# --- parameters through the timelock ---------------------------------------------------------------------


def _merged(current: Mapping[str, int], table: Sequence[Any], changes: Mapping[str, str]) -> dict[str, int]:
    merged = dict(current)
    known = {b.field: b for b in table}
    for name, text in changes.items():
        if name not in known:
            raise ParameterError(name, f"unknown field {name!r}; the struct has {', '.join(known)}")
        merged[name] = parse_field(known[name], text)
    return merged


def set_risk_params(ctx: Context, changes: Mapping[str, str]) -> Operation:
    """``setRiskParams``: the given fields change, the others keep their on-chain values."""
    if not changes:
        raise ParameterError(
            "risk", "no risk field given; pass at least one of " + ", ".join(b.option for b in RISK_FIELDS)
        )
    merged = _merged(ctx.params.risk, RISK_FIELDS, changes)
    check_all(RISK_FIELDS, merged, ctx.constants)
    if merged == ctx.params.risk:
        raise ParameterError("risk", "every given value equals the current one; nothing would change")
    changed = [
        f"{b.field} {display(ctx.params.risk[b.field], b.unit)} → {display(merged[b.field], b.unit)}"
        for b in RISK_FIELDS
        if merged[b.field] != ctx.params.risk[b.field]
    ]
    return Operation(
        "risk",
        "setRiskParams: " + "; ".join(changed),
        (_vault_call(ctx, "setRiskParams", [tuple(merged.values())]),),
        "timelock",
    )


def set_fee_params(ctx: Context, changes: Mapping[str, str], fee_recipient: str | None = None) -> Operation:
    if not changes and fee_recipient is None:
        raise ParameterError(
            "fees", "no fee field given; pass --fee-recipient or one of " + ", ".join(b.option for b in FEE_FIELDS)
        )
    current = {k: v for k, v in ctx.params.fees.items() if k != "feeRecipient"}
    merged = _merged(current, FEE_FIELDS, changes)
    check_all(FEE_FIELDS, merged, ctx.constants)
    recipient = ctx.params.fees["feeRecipient"] if fee_recipient is None else address_arg("feeRecipient", fee_recipient)
    new = {"feeRecipient": recipient, **merged}
    if new == ctx.params.fees:
        raise ParameterError("fees", "every given value equals the current one; nothing would change")
    struct = tuple(new[k] for k in ctx.params.fees)
    summary = "; ".join(f"{k} {ctx.params.fees[k]} → {v}" for k, v in new.items() if v != ctx.params.fees[k])
    return Operation(
        "fees",
        "setFeeParams: " + summary,
        (_vault_call(ctx, "setFeeParams", [struct]),),
        "timelock",
        watch_accounts=(recipient,),
    )


def set_deposit_cap(ctx: Context, amount: str) -> Operation:
    decimals = ctx.params.asset_decimals
    raw = parse_scaled("depositCap", "AMOUNT", amount, decimals)
    if raw >= 2**256:
        raise ParameterError("depositCap", f"depositCap={amount} does not fit uint256")
    if raw == ctx.params.deposit_cap:
        raise ParameterError("depositCap", f"depositCap is already {amount} {ctx.asset_symbol}")
    return Operation(
        "deposit-cap",
        f"setDepositCap: {ctx.params.deposit_cap / 10**decimals:,.2f} → {raw / 10**decimals:,.2f} {ctx.asset_symbol}",
        (_vault_call(ctx, "setDepositCap", [raw]),),
        "timelock",
    )


def set_max_fulfil_delay(ctx: Context, seconds: str) -> Operation:
    value = parse_field(FULFIL_DELAY, seconds)
    check_field(FULFIL_DELAY, value, ctx.constants)
    if value == ctx.params.max_fulfil_delay_seconds:
        raise ParameterError("maxFulfilDelaySeconds", f"maxFulfilDelaySeconds is already {value}")
    return Operation(
        "max-fulfil-delay",
        f"setMaxFulfilDelay: {display(ctx.params.max_fulfil_delay_seconds, 'seconds')} → {display(value, 'seconds')}",
        (_vault_call(ctx, "setMaxFulfilDelay", [value]),),
        "timelock",
    )


def adapter_kind(chain: Chain, adapter: str) -> str:
    try:
        raw = chain.call(adapter, encode_call(contract_abi("AaveV3Adapter"), "kind", []), what="adapter.kind()")
    except RevertError as err:
        raise ParameterError(
            "adapter", f"adapter {adapter}: kind() reverted ({err.reason}); not an IVaultAdapter"
        ) from err
    if len(raw) != 32 or int(decode(["uint256"], raw)[0]) >= len(ADAPTER_KINDS):
        raise ParameterError("adapter", f"adapter {adapter}: kind() returned 0x{raw.hex()}; not an IVaultAdapter")
    return ADAPTER_KINDS[int(decode(["uint256"], raw)[0])]


def set_adapter(ctx: Context, chain: Chain, adapter: str, allowed: bool) -> Operation:
    address = address_arg("adapter", adapter)
    if not chain.code(address):
        raise ParameterError("adapter", f"adapter {address} has no code on this chain")
    kind = adapter_kind(chain, address)
    now = (
        chain.w3.eth.contract(address=Web3.to_checksum_address(ctx.vault), abi=list(contract_abi("HedgedVault")))
        .functions.adapterAllowed(address)
        .call()
    )
    if now == allowed:
        # Re-allowing an OPTIONS adapter would list it twice in the vault's NAV (setAdapter pushes again).
        raise ParameterError(
            "adapter", f"adapter {address} ({kind}) is already {'allowed' if allowed else 'not allowed'}"
        )
    verb = "allow" if allowed else "disallow"
    return Operation(
        "adapter",
        f"setAdapter: {verb} {kind} adapter {address}",
        (_vault_call(ctx, "setAdapter", [address, allowed]),),
        "timelock",
        watch_adapters=(address,),
    )


def add_tracked_token(ctx: Context, chain: Chain, symbol: str) -> Operation:
    """``addTrackedToken`` for a token of the record: its feed, its Uniswap pool against the asset (TWAP check)."""
    record = ctx.record
    if symbol not in record["tokens"] or symbol == ctx.asset_symbol:
        options = [s for s in record["tokens"] if s != ctx.asset_symbol]
        raise ParameterError(
            "token", f"token={symbol!r} is not a trackable token of the record; known: {', '.join(options)}"
        )
    if symbol not in record["feeds"]:
        raise ParameterError(
            "token", f"token={symbol}: the record has no feed for it (feeds: {', '.join(record['feeds'])})"
        )
    token = Web3.to_checksum_address(record["tokens"][symbol]["address"])
    tracked = [t["token"].lower() for t in ctx.params.tracked_tokens]
    if token.lower() in tracked:
        raise ParameterError("token", f"token={symbol} ({token}) is already tracked")
    limit = ctx.constants["MAX_TRACKED_TOKENS"]
    if len(tracked) >= limit:
        raise ParameterError(
            "token", f"the vault tracks {len(tracked)} tokens, the hard bound MAX_TRACKED_TOKENS is {limit}"
        )
    feed = Web3.to_checksum_address(record["feeds"][symbol])
    _require_live_feed(ctx, chain, feed, symbol)
    struct, notes = _tracked_struct(ctx, symbol, token, feed)
    return Operation(
        "track-token",
        f"addTrackedToken: {symbol} {token} (feed {feed}, TWAP pool {struct[2]})",
        (_vault_call(ctx, "addTrackedToken", [struct]),),
        "timelock",
        notes=notes,
    )


def _logic(ctx: Context, chain: Chain) -> str:
    raw = chain.call(ctx.vault, encode_call(contract_abi("HedgedVault"), "logic", []), what="vault.logic()")
    return Web3.to_checksum_address("0x" + raw[-20:].hex())


def _require_live_feed(ctx: Context, chain: Chain, feed: str, what: str) -> None:
    """The vault's own reading (VaultLogic.priceE8: 0 for a feed that reverts or answers ≤ 0) must be positive."""
    if not chain.code(feed):
        raise ParameterError("feed", f"feed {feed} for {what} has no code on this chain")
    price = chain.call(
        _logic(ctx, chain), encode_call(contract_abi("VaultLogic"), "priceE8", [feed]), what="priceE8(feed)"
    )
    if int(decode(["uint256", "uint256"], price)[0]) == 0:
        raise ParameterError("feed", f"feed {feed} for {what} answers no positive price (or reverts)")


def _tracked_struct(ctx: Context, symbol: str, token: str, feed: str) -> tuple[tuple[Any, ...], tuple[str, ...]]:
    record = ctx.record
    pool = record["uniswap"]["pools"].get(f"{symbol}/{ctx.asset_symbol}", {}).get("address", ZERO_ADDRESS)
    notes = () if pool != ZERO_ADDRESS else (f"no {symbol}/{ctx.asset_symbol} pool in the record: no TWAP check",)
    return (token, feed, Web3.to_checksum_address(pool), int(record["tokens"][symbol]["decimals"])), notes


def _tracked(ctx: Context, symbol: str) -> tuple[str, dict[str, Any]]:
    """The token of the record called ``symbol`` and its on-chain tracked entry (ParameterError if untracked)."""
    tokens = ctx.record["tokens"]
    if symbol not in tokens or symbol == ctx.asset_symbol:
        raise ParameterError("token", f"token={symbol!r} is not a tracked token of the record; tracked: {_names(ctx)}")
    token = Web3.to_checksum_address(tokens[symbol]["address"])
    entry = next((t for t in ctx.params.tracked_tokens if t["token"].lower() == token.lower()), None)
    if entry is None:
        raise ParameterError("token", f"token={symbol} ({token}) is not tracked; tracked: {_names(ctx)}")
    return token, entry


def _names(ctx: Context) -> str:
    by_address = {t["address"].lower(): s for s, t in ctx.record["tokens"].items()}
    return ", ".join(by_address.get(t["token"].lower(), t["token"]) for t in ctx.params.tracked_tokens) or "none"


def set_asset_feed(ctx: Context, chain: Chain, feed: str) -> Operation:
    """``setAssetFeed``: re-point the asset's USD feed (e.g. after the old one died; exits run meanwhile)."""
    address = address_arg("feed", feed)
    if address == ctx.params.asset_feed:
        raise ParameterError("feed", f"the asset feed is already {address}")
    _require_live_feed(ctx, chain, address, ctx.asset_symbol)
    return Operation(
        "asset-feed",
        f"setAssetFeed: {ctx.asset_symbol} feed {ctx.params.asset_feed} → {address}",
        (_vault_call(ctx, "setAssetFeed", [address]),),
        "timelock",
    )


def set_tracked_token_feed(ctx: Context, chain: Chain, symbol: str, feed: str | None = None) -> Operation:
    """``setTrackedTokenFeed``: re-point a tracked token's feed (default: the record's) and TWAP pool."""
    token, entry = _tracked(ctx, symbol)
    if feed is not None:
        address = address_arg("feed", feed)
    elif symbol in ctx.record["feeds"]:
        address = Web3.to_checksum_address(ctx.record["feeds"][symbol])
    else:
        raise ParameterError("feed", f"token={symbol}: the record has no feed for it; pass --feed 0x…")
    struct, notes = _tracked_struct(ctx, symbol, token, address)
    if (address.lower(), struct[2].lower()) == (entry["feed"].lower(), entry["twapPool"].lower()):
        raise ParameterError("feed", f"{symbol} already uses feed {address} and TWAP pool {struct[2]}")
    _require_live_feed(ctx, chain, address, symbol)
    return Operation(
        "token-feed",
        f"setTrackedTokenFeed: {symbol} feed {entry['feed']} → {address} (TWAP pool {struct[2]})",
        (_vault_call(ctx, "setTrackedTokenFeed", [struct]),),
        "timelock",
        notes=notes,
    )


def remove_tracked_token(ctx: Context, chain: Chain, symbol: str) -> Operation:
    """``removeTrackedToken``: stop valuing a tracked token (its wallet balance leaves NAV: say so)."""
    token, _ = _tracked(ctx, symbol)
    raw = chain.call(token, encode_call(_ERC20_BALANCE, "balanceOf", [ctx.vault]), what=f"{symbol}.balanceOf(vault)")
    balance = int(decode(["uint256"], raw)[0])
    decimals = int(ctx.record["tokens"][symbol]["decimals"])
    notes: tuple[str, ...] = ()
    if balance:
        notes = (
            f"the vault holds {balance / 10**decimals:,.{min(decimals, 8)}f} {symbol}: that balance stops counting "
            "in NAV (written off; TokenRetired reports it) — sell it first unless its feed is dead",
        )
    return Operation(
        "retire-token",
        f"removeTrackedToken: {symbol} {token}",
        (_vault_call(ctx, "removeTrackedToken", [token]),),
        "timelock",
        notes=notes,
    )


_ERC20_BALANCE = (
    {
        "name": "balanceOf",
        "type": "function",
        "stateMutability": "view",
        "inputs": [{"type": "address", "name": "account"}],
        "outputs": [{"type": "uint256", "name": ""}],
    },
)


def rotate_role(ctx: Context, role: Literal["KEEPER_ROLE", "GUARDIAN_ROLE"], new: str, old: str | None) -> Operation:
    """Grant ``role`` to ``new`` and revoke it from ``old`` in one batch (``old`` defaults to the one holder)."""
    field_name = role.removesuffix("_ROLE").lower()
    new_address = address_arg(f"new {field_name}", new)
    holders = ctx.params.roles[role]
    if old is None:
        if len(holders) != 1:
            raise ParameterError(
                f"old {field_name}",
                f"{role} is held by {len(holders)} accounts ({', '.join(holders) or 'none'}); "
                "name the one to revoke with --old",
            )
        old = holders[0]
    old_address = address_arg(f"old {field_name}", old)
    if old_address == new_address:
        raise ParameterError(f"new {field_name}", f"new {field_name} equals the old one ({new_address})")
    if old_address not in holders:
        raise ParameterError(
            f"old {field_name}", f"{old_address} does not hold {role} (holders: {', '.join(holders) or 'none'})"
        )
    if new_address in holders:
        raise ParameterError(f"new {field_name}", f"{new_address} already holds {role}")
    calls = (
        _vault_call(ctx, "grantRole", [ROLES[role], new_address]),
        _vault_call(ctx, "revokeRole", [ROLES[role], old_address]),
    )
    return Operation(
        f"rotate-{field_name}",
        f"{role}: {old_address} → {new_address} (grant + revoke, one batch)",
        calls,
        "timelock",
        watch_accounts=(new_address, old_address),
    )


def unpause(ctx: Context) -> Operation:
    if not ctx.params.paused:
        raise ParameterError("paused", "the vault is not paused; nothing to unpause")
    return Operation("unpause", "unpause the vault", (_vault_call(ctx, "unpause", []),), "timelock")


# --- guardian: immediate ----------------------------------------------------------------------------------


def pause(ctx: Context) -> Operation:
    if ctx.params.paused:
        raise ParameterError("paused", "the vault is already paused")
    return Operation("pause", "pause the vault (guardian, immediate)", (_vault_call(ctx, "pause", []),), "guardian")


def tighten_risk_params(ctx: Context, changes: Mapping[str, str]) -> Operation:
    """The guardian's ``tightenRiskParams``: every field at least as strict; period and TWAP window unchanged."""
    if not changes:
        raise ParameterError("risk", "no risk field given to tighten")
    merged = _merged(ctx.params.risk, RISK_FIELDS, changes)
    check_all(RISK_FIELDS, merged, ctx.constants)
    current = ctx.params.risk
    for b in RISK_FIELDS:
        if b.field in ("periodSeconds", "twapWindowSeconds"):
            if merged[b.field] != current[b.field]:
                raise ParameterError(
                    b.field,
                    f"{b.field} cannot change by tightening (the contract requires it unchanged); use `queue risk`",
                )
            continue
        looser = (
            merged[b.field] < current[b.field]
            if b.field == "healthFactorFloorWad"
            else merged[b.field] > current[b.field]
        )
        if looser:
            direction = "lower" if b.field == "healthFactorFloorWad" else "higher"
            raise ParameterError(
                b.field,
                f"{b.field}={display(merged[b.field], b.unit)} is {direction} than the current "
                f"{display(current[b.field], b.unit)}: "
                "the guardian may only tighten; loosening goes through the timelock (`queue risk`)",
            )
    if merged == current:
        raise ParameterError("risk", "every given value equals the current one; nothing would change")
    return Operation(
        "tighten",
        "tightenRiskParams (guardian, immediate)",
        (_vault_call(ctx, "tightenRiskParams", [tuple(merged.values())]),),
        "guardian",
    )


def emergency_unwind(ctx: Context, actions: Sequence[tuple[str, bytes]], summary: str) -> Operation:
    if not ctx.params.paused:
        raise ParameterError(
            "paused", "emergencyUnwind runs only while the vault is paused; pause it first (`governance pause`)"
        )
    if not actions:
        raise ParameterError("actions", "nothing to unwind: no Aave debt or collateral and no tracked token balance")
    for adapter, _ in actions:
        if not ctx.params.adapters.get(Web3.to_checksum_address(adapter), False):
            raise ParameterError("actions", f"adapter {adapter} is not allowed by the vault")
    return Operation("unwind", summary, (_vault_call(ctx, "emergencyUnwind", [list(actions)]),), "guardian")
