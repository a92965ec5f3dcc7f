"""The vault's hard parameter bounds, read from its public constants, and validation that names the field, the
value and the allowed range before anything is simulated or signed.

The field → (minimum, maximum) table mirrors ``HedgedVault._checkRisk`` / ``_checkFees`` / ``setMaxFulfilDelay``;
the limits themselves are the contract's constants read from the deployed vault's VaultParamChecks (literal minima
such as the ``1`` of a bps field are the only numbers written here). A devnet test drives every field to min − 1,
min, max and max + 1 through the real contract and checks it agrees, so this table cannot drift silently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from eth_abi import decode

from keeper.chain.abi import contract_abi, encode_call
from keeper.model.exceptions import HedgevaultError

Unit = Literal["wad", "bps", "seconds", "count"]
WAD = 10**18


class ParameterError(HedgevaultError, ValueError):
    """Raised when an input is outside the contract's hard bound or malformed; names field, value, range, fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class FieldBound:
    """One bounded field: the contract's name, its CLI option, its unit, and where its limits come from."""

    struct: Literal["risk", "fees", "vault"]
    field: str  # as in the contract: ``maxLossBps``
    option: str  # as on the command line: ``--max-loss-bps``
    unit: Unit
    min_constant: str | None  # contract constant holding the minimum, or None for a literal
    min_literal: int
    max_constant: str

    def limits(self, constants: Mapping[str, int]) -> tuple[int, int]:
        low = constants[self.min_constant] if self.min_constant else self.min_literal
        return low, constants[self.max_constant]


def _b(struct: Any, field: str, option: str, unit: Unit, low: str | int, high: str) -> FieldBound:
    return FieldBound(
        struct, field, option, unit, low if isinstance(low, str) else None, low if isinstance(low, int) else 0, high
    )


RISK_FIELDS: tuple[FieldBound, ...] = (
    _b(
        "risk",
        "healthFactorFloorWad",
        "--health-factor-floor",
        "wad",
        "MIN_HEALTH_FACTOR_FLOOR_WAD",
        "MAX_HEALTH_FACTOR_FLOOR_WAD",
    ),
    _b("risk", "maxLossBps", "--max-loss-bps", "bps", 1, "MAX_LOSS_BPS"),
    _b("risk", "maxSlippageBps", "--max-slippage-bps", "bps", 1, "MAX_SLIPPAGE_BPS"),
    _b("risk", "turnoverBudgetBps", "--turnover-budget-bps", "bps", 1, "MAX_TURNOVER_BUDGET_BPS"),
    _b("risk", "lossBudgetBps", "--loss-budget-bps", "bps", 1, "MAX_LOSS_BUDGET_BPS"),
    _b("risk", "periodSeconds", "--period-seconds", "seconds", "MIN_PERIOD_SECONDS", "MAX_PERIOD_SECONDS"),
    _b("risk", "heartbeatSeconds", "--heartbeat-seconds", "seconds", "MIN_HEARTBEAT_SECONDS", "MAX_HEARTBEAT_SECONDS"),
    _b("risk", "maxOracleDeviationBps", "--max-oracle-deviation-bps", "bps", 1, "MAX_ORACLE_DEVIATION_BPS"),
    _b(
        "risk",
        "twapWindowSeconds",
        "--twap-window-seconds",
        "seconds",
        "MIN_TWAP_WINDOW_SECONDS",
        "MAX_TWAP_WINDOW_SECONDS",
    ),
)
FEE_FIELDS: tuple[FieldBound, ...] = (
    _b("fees", "managementFeeBps", "--management-fee-bps", "bps", 0, "MAX_MANAGEMENT_FEE_BPS"),
    _b("fees", "performanceFeeBps", "--performance-fee-bps", "bps", 0, "MAX_PERFORMANCE_FEE_BPS"),
    _b("fees", "profitUnlockSeconds", "--profit-unlock-seconds", "seconds", 0, "MAX_PROFIT_UNLOCK_SECONDS"),
)
FULFIL_DELAY = _b("vault", "maxFulfilDelaySeconds", "SECONDS", "seconds", 1, "MAX_FULFIL_DELAY_SECONDS")
CONSTANTS: tuple[str, ...] = tuple(
    sorted(
        {c for f in (*RISK_FIELDS, *FEE_FIELDS, FULFIL_DELAY) for c in (f.min_constant, f.max_constant) if c}
        | {"MAX_TRACKED_TOKENS"}
    )
)


def struct_fields(function: str) -> tuple[tuple[str, str], ...]:
    """(name, solidity type) of the struct a vault view returns, from the ABI (``riskParams``, ``feeParams``)."""
    fn = next(f for f in contract_abi("HedgedVault") if f.get("type") == "function" and f["name"] == function)
    return tuple((c["name"], c["type"]) for c in fn["outputs"][0]["components"])


def _check_table_matches_abi() -> None:
    for function, table in (("riskParams", RISK_FIELDS), ("feeParams", FEE_FIELDS)):
        abi_fields = {n for n, t in struct_fields(function) if t.startswith("uint")}
        bounded = {f.field for f in table}
        if abi_fields != bounded:
            raise HedgevaultError(
                f"{function}: the vault ABI has fields {sorted(abi_fields)} but governance/bounds.py bounds "
                f"{sorted(bounded)}; update the table to mirror HedgedVault._checkRisk/_checkFees"
            )


def read_constants(call: Callable[[str, bytes], bytes], vault: str, names: Iterable[str] = CONSTANTS) -> dict[str, int]:
    """The hard bounds by name, from the vault's VaultParamChecks (``vault.logic().paramChecks()``, which serves
    VaultBounds' constants so the vault and its VaultLogic stay under EIP-170); ``call(address, calldata) -> return
    bytes`` is an eth_call."""
    _check_table_matches_abi()
    logic = "0x" + call(vault, encode_call(contract_abi("HedgedVault"), "logic", []))[-20:].hex()
    checks = "0x" + call(logic, encode_call(contract_abi("VaultLogic"), "paramChecks", []))[-20:].hex()
    abi = contract_abi("VaultParamChecks")
    return {name: int(decode(["uint256"], call(checks, encode_call(abi, name, [])))[0]) for name in names}


# --- display and parsing -----------------------------------------------------------------------------------


def display(value: int, unit: Unit) -> str:
    if unit == "wad":
        return f"{(Decimal(value) / WAD).normalize():f}"
    if unit == "bps":
        return f"{value} bps ({Decimal(value) / 100:f} %)"
    if unit == "seconds":
        return f"{value} s ({_duration(value)})"
    return str(value)


def _duration(seconds: int) -> str:
    """``93784`` → ``1 d 2 h 3 min 4 s``."""
    if seconds == 0:
        return "0 s"
    parts = []
    for size, unit in ((86_400, "d"), (3600, "h"), (60, "min"), (1, "s")):
        if seconds >= size:
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    return " ".join(parts)


def parse_scaled(field: str, option: str, text: str, decimals: int) -> int:
    """``text`` (a decimal number) × 10**decimals as an exact integer, or a ParameterError naming the option."""
    try:
        value = Decimal(text.replace("_", ""))
    except InvalidOperation as err:
        raise ParameterError(field, f"{option}={text!r} ({field}) is not a number; give e.g. 1.5") from err
    scaled = value * (Decimal(10) ** decimals)
    if scaled != scaled.to_integral_value() or scaled < 0:
        raise ParameterError(
            field, f"{option}={text} ({field}) must be ≥ 0 with at most {decimals} decimals (the on-chain precision)"
        )
    return int(scaled)


def parse_field(bound: FieldBound, text: str) -> int:
    """A CLI value for ``bound``: a decimal for a WAD field (``1.4`` → 1.4e18), an integer otherwise."""
    return parse_scaled(bound.field, bound.option, text, 18 if bound.unit == "wad" else 0)


def check_field(bound: FieldBound, value: int, constants: Mapping[str, int]) -> None:
    low, high = bound.limits(constants)
    if low <= value <= high:
        return
    low_name = bound.min_constant or str(low)
    raise ParameterError(
        bound.field,
        f"{bound.struct}.{bound.field}={display(value, bound.unit)} is outside the contract's hard bound "
        f"[{display(low, bound.unit)}, {display(high, bound.unit)}] ({low_name} … {bound.max_constant}, read from the "
        f"vault); give {bound.option} within that range",
    )


def check_all(table: Iterable[FieldBound], values: Mapping[str, int], constants: Mapping[str, int]) -> None:
    for bound in table:
        check_field(bound, int(values[bound.field]), constants)


def bound_for(option_or_field: str) -> FieldBound:
    for b in (*RISK_FIELDS, *FEE_FIELDS, FULFIL_DELAY):
        if option_or_field in (b.field, b.option, b.option.removeprefix("--").replace("-", "_")):
            return b
    raise KeyError(option_or_field)
