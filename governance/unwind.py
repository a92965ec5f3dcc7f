"""Emergency unwind to collateral: the adapter actions that repay every Aave debt, withdraw every Aave
collateral and sell every tracked token back to the vault asset, in one ``emergencyUnwind`` batch.

Per token the plan nets what the vault holds (wallet + Aave collateral) against what it owes (Aave debt):
    A. repay debts the wallet already covers;
    B. sell wallet tokens beyond their debt, for the asset;
    C. if the asset on hand cannot pay for the buys and the asset debt, withdraw asset collateral for it;
    D. buy each short token (exact input sized by QuoterV2's exact-output quote) and repay it, repay the asset debt;
    E. withdraw every remaining collateral (Aave's "all": ``type(uint256).max``);
    F. sell the withdrawn token collateral.
Debts are bought with a small buffer (interest accrues until execution); the surplus stays as tracked dust,
valued at the oracle, and is reported. Each swap is checked against the oracle before anything runs: a quote
worse than ``maxSlippageBps`` or a plan losing more than ``maxLossBps`` of NAV is refused here, with the swap
named. The fork simulation then runs the batch through the real vault checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_abi import decode, encode
from web3 import Web3

from adapters.vault_lens import TokenState, VaultState
from governance.bounds import ParameterError
from keeper.chain.abi import encode_call
from keeper.chain.client import Chain, RevertError
from keeper.chain.protocols import art

SUPPLY, WITHDRAW, BORROW, REPAY = 0, 1, 2, 3
MAX_UINT = 2**256 - 1
BPS = 10_000


@dataclass(frozen=True)
class UnwindSettings:
    debt_buffer_bps: int = 1  # buy this much more than the debt (interest until execution)
    input_margin_bps: int = 5  # exact-input amount over the exact-output quote
    quote_tolerance_bps: int = 30  # amountOutMinimum below the quote (price moves between simulation and send)
    keep_asset_supply: bool = False  # leave the asset's own Aave supply in place


@dataclass
class UnwindPlan:
    actions: list[tuple[str, bytes]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    estimated_loss_assets: float = 0.0
    nav_assets: float = 0.0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        cost = f"{self.estimated_loss_assets:,.2f} ({self.loss_bps:.1f} bps of NAV)"
        return f"emergencyUnwind: {len(self.actions)} actions, est. cost {cost}"

    @property
    def loss_bps(self) -> float:
        return self.estimated_loss_assets / self.nav_assets * BPS if self.nav_assets else 0.0


class _Planner:
    def __init__(self, chain: Chain, state: VaultState, record: dict[str, Any], settings: UnwindSettings) -> None:
        self.chain, self.state, self.record, self.settings = chain, state, record, settings
        section = record["vault"]
        self.aave = Web3.to_checksum_address(section["AaveV3Adapter"])
        self.uniswap = Web3.to_checksum_address(section["UniswapV3Adapter"])
        self.quoter = Web3.to_checksum_address(record["uniswap"]["QuoterV2"])
        self.symbols = {t["address"].lower(): s for s, t in record["tokens"].items()}
        self.asset = state.asset
        self.asset_symbol = self.symbols[self.asset.token.lower()]
        self.max_slippage_bps = int(state.risk.max_slippage_bps)
        self.plan = UnwindPlan(nav_assets=state.total_assets / 10**self.asset.decimals)

    # --- encoding ---

    def _aave(self, op: int, token: TokenState, amount: int, line: str) -> None:
        self.plan.actions.append(
            (self.aave, encode(["uint8", "address", "uint256"], [op, Web3.to_checksum_address(token.token), amount]))
        )
        self.plan.lines.append(line)

    def _fee(self, token: TokenState) -> int:
        symbol = self.symbols[token.token.lower()]
        pool = self.record["uniswap"]["pools"].get(f"{symbol}/{self.asset_symbol}")
        if pool is None:
            raise ParameterError(
                "unwind", f"no {symbol}/{self.asset_symbol} Uniswap pool in the record: {symbol} cannot be swapped back"
            )
        return int(pool["fee"])

    def _swap(
        self, token_in: TokenState, token_out: TokenState, amount_in: int, min_out: int, fee: int, line: str
    ) -> None:
        path = bytes.fromhex(token_in.token[2:]) + fee.to_bytes(3, "big") + bytes.fromhex(token_out.token[2:])
        self.plan.actions.append((self.uniswap, encode(["bytes", "uint256", "uint256"], [path, amount_in, min_out])))
        self.plan.lines.append(line)

    def _quote(self, name: str, params: tuple[Any, ...]) -> int:
        data = encode_call(art("QuoterV2").abi, name, [params])
        try:
            raw = self.chain.call(self.quoter, data, what=f"QuoterV2.{name}")
        except RevertError as err:
            raise ParameterError(
                "unwind", f"QuoterV2.{name}{params[:3]} failed ({err.reason}): the pool cannot fill it"
            ) from err
        return int(decode(["uint256", "uint160", "uint32", "uint256"], raw)[0])

    def _value_assets(self, token: TokenState, raw: int) -> float:
        """Oracle value of ``raw`` units of ``token`` in asset units."""
        return raw / 10**token.decimals * token.price_e8 / self.asset.price_e8

    def _check_swap(self, what: str, value_in: float, value_out: float) -> None:
        loss_bps = (1 - value_out / value_in) * BPS if value_in else 0.0
        if loss_bps > self.max_slippage_bps:
            raise ParameterError(
                "unwind",
                f"{what}: the pool quotes {loss_bps:.1f} bps below the oracle, over "
                f"maxSlippageBps={self.max_slippage_bps}; "
                "the vault would revert (SlippageExceeded). Wait for the pool to re-align or unwind in smaller steps",
            )
        self.plan.estimated_loss_assets += max(value_in - value_out, 0.0)

    def sell(self, token: TokenState, amount: int, why: str) -> int:
        symbol = self.symbols[token.token.lower()]
        fee = self._fee(token)
        out = self._quote("quoteExactInputSingle", (token.token, self.asset.token, amount, fee, 0))
        what = f"sell {amount / 10**token.decimals:,.6f} {symbol}"
        self._check_swap(what, self._value_assets(token, amount), out / 10**self.asset.decimals)
        min_out = out * (BPS - self.settings.quote_tolerance_bps) // BPS
        self._swap(
            token,
            self.asset,
            amount,
            min_out,
            fee,
            f"{what} → ≥ {min_out / 10**self.asset.decimals:,.2f} {self.asset_symbol} ({why})",
        )
        return out

    def buy(self, token: TokenState, amount_out: int) -> int:
        """Buy ``amount_out`` of ``token`` with the asset; returns the asset spent."""
        symbol = self.symbols[token.token.lower()]
        fee = self._fee(token)
        need_in = self._quote("quoteExactOutputSingle", (self.asset.token, token.token, amount_out, fee, 0))
        amount_in = need_in * (BPS + self.settings.input_margin_bps) // BPS
        what = f"buy {amount_out / 10**token.decimals:,.6f} {symbol}"
        self._check_swap(what, amount_in / 10**self.asset.decimals, self._value_assets(token, amount_out))
        self._swap(
            self.asset,
            token,
            amount_in,
            amount_out,
            fee,
            f"{what} for ≤ {amount_in / 10**self.asset.decimals:,.2f} {self.asset_symbol} (repays the debt)",
        )
        return amount_in

    def build(self) -> UnwindPlan:
        s, st = self.settings, self.state
        risky = list(st.tokens)
        buffer = lambda debt: debt * (BPS + s.debt_buffer_bps) // BPS  # noqa: E731
        # A. debts the wallet covers; B. wallet surplus sold.
        short: list[tuple[TokenState, int]] = []
        for t in risky:
            symbol = self.symbols[t.token.lower()]
            if t.aave_variable_debt:
                need = buffer(t.aave_variable_debt)
                if t.wallet_balance >= need:
                    self._aave(REPAY, t, MAX_UINT, f"repay all {symbol} debt from the wallet")
                else:
                    short.append((t, need - t.wallet_balance))
        asset_on_hand = st.idle_assets
        for t in risky:
            surplus = t.wallet_balance - (buffer(t.aave_variable_debt) if t.aave_variable_debt else 0)
            if surplus > 0:
                asset_on_hand += self.sell(t, surplus, "wallet surplus")
        # C/D. buy the shorts, repay them and the asset debt; withdraw asset collateral if needed first.
        costs = [
            (t, amount, self._quote("quoteExactOutputSingle", (self.asset.token, t.token, amount, self._fee(t), 0)))
            for t, amount in short
        ]
        asset_need = sum(c * (BPS + s.input_margin_bps) // BPS for _, _, c in costs) + buffer(
            self.asset.aave_variable_debt
        )
        asset_withdrawn_all = False
        if asset_need > asset_on_hand:
            shortfall = (asset_need - asset_on_hand) * (BPS + 10) // BPS
            if shortfall >= self.asset.aave_collateral:
                if not self.asset.aave_collateral:
                    raise ParameterError(
                        "unwind",
                        f"the vault needs {shortfall / 10**self.asset.decimals:,.2f} more {self.asset_symbol} to "
                        f"repay its debts and has no {self.asset_symbol} collateral to withdraw",
                    )
                self._aave(
                    WITHDRAW, self.asset, MAX_UINT, f"withdraw all {self.asset_symbol} collateral to pay for the buys"
                )
                asset_withdrawn_all = True
            else:
                self._aave(
                    WITHDRAW,
                    self.asset,
                    shortfall,
                    f"withdraw {shortfall / 10**self.asset.decimals:,.2f} {self.asset_symbol} collateral "
                    "to pay for the buys",
                )
        for t, amount, _ in costs:
            self.buy(t, amount)
            self._aave(REPAY, t, MAX_UINT, f"repay all {self.symbols[t.token.lower()]} debt")
        if self.asset.aave_variable_debt:
            self._aave(REPAY, self.asset, MAX_UINT, f"repay all {self.asset_symbol} debt")
        # E/F. withdraw collateral, sell the token collateral.
        if self.asset.aave_collateral and not asset_withdrawn_all and not s.keep_asset_supply:
            self._aave(WITHDRAW, self.asset, MAX_UINT, f"withdraw all {self.asset_symbol} collateral")
        for t in risky:
            if t.aave_collateral:
                symbol = self.symbols[t.token.lower()]
                self._aave(WITHDRAW, t, MAX_UINT, f"withdraw all {symbol} collateral")
                self.sell(t, t.aave_collateral, "withdrawn collateral")
        if short:
            self.plan.notes.append(
                f"debt buffer {s.debt_buffer_bps} bp + input margin {s.input_margin_bps} bp stay as tracked dust "
                "(oracle-valued)"
            )
        return self.plan


def plan_unwind(
    chain: Chain, state: VaultState, record: dict[str, Any], settings: UnwindSettings | None = None
) -> UnwindPlan:
    """The unwind actions for the vault as ``state`` shows it; raises ParameterError if a swap or the whole plan
    would break the vault's slippage or loss bounds."""
    planner = _Planner(chain, state, record, settings or UnwindSettings())
    plan = planner.build()
    max_loss_bps = int(state.risk.max_loss_bps)
    if plan.loss_bps > max_loss_bps:
        raise ParameterError(
            "unwind",
            f"the unwind would cost {plan.loss_bps:.1f} bps of NAV ({plan.estimated_loss_assets:,.2f}), over "
            f"maxLossBps={max_loss_bps}: the vault would revert (MaxLossExceeded). Raise maxLossBps through the "
            "timelock or unwind in smaller steps",
        )
    return plan
