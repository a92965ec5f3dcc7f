"""The modelled market the vault trades in: Aave's reserve configuration, the Uniswap v3 pools, the vault's guards.

Everything is taken from what the devnet deploys (``devnet.params``: the reserve config passed to Aave's
``configureReserveAsCollateral``, the pools' fee tier and full-range TVL) and from the vault's deployed
``RiskParams`` (``governance.deploy``), so the model and the chain start from the same numbers.

Swaps: each devnet pool holds one full-range position, so within it Uniswap v3's swap maths is exactly the
constant product on the virtual reserves ``x = L/√P`` (risky) and ``y = L·√P`` (USDC), with the fee taken
from the input: ``out = reserve_out · in·(1 − fee) / (reserve_in + in·(1 − fee))`` (up to the pool's integer
rounding). ``L`` is set by the TVL minted at the initial price and does not change when arbitrage moves the
price; the market driver arbitrages each pool back to the oracle every step, as on the devnet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from devnet.params import ASSETS, BACKGROUND_BORROW, BACKGROUND_SUPPLY, POOLS
from governance.deploy import RiskParams

#: Row order of every per-asset array in the model: the vault's asset first, then the tracked tokens.
SYMBOLS = ("USDC", "WETH", "WBTC")
CLOSE_FACTOR_HF_THRESHOLD = 0.95  # Aave v3: below it a liquidation may repay all of the debt
DEFAULT_CLOSE_FACTOR = 0.5


@dataclass(frozen=True)
class Reserve:
    symbol: str
    price0_usd: float  # the devnet's initial oracle price
    ltv: float
    liquidation_threshold: float
    liquidation_bonus: float  # 1.05 = 5 % bonus to the liquidator
    # Aave's DefaultReserveInterestRateStrategy as deployed (decimals per year) and the reserve factor.
    optimal_usage: float = 0.8
    base_rate: float = 0.0
    slope1: float = 0.0
    slope2: float = 0.0
    reserve_factor: float = 0.0
    # The rest of the market on the reserve (units): what other suppliers supplied and other borrowers borrowed.
    pool_supply: float = 0.0
    pool_debt: float = 0.0

    def usage(self, vault_supply: float, vault_debt: float) -> float:
        """Aave v3.0's usage ratio: total debt / (available liquidity + total debt) = debt / supply."""
        supply = self.pool_supply + vault_supply
        return min(1.0, (self.pool_debt + vault_debt) / supply) if supply > 0 else 0.0

    def borrow_rate(self, usage: float) -> float:
        """Variable borrow rate (per year): base + slope1·U/U* below the optimal usage U*, then + slope2 above."""
        if usage <= self.optimal_usage:
            return self.base_rate + self.slope1 * usage / self.optimal_usage
        excess = (usage - self.optimal_usage) / (1.0 - self.optimal_usage)
        return self.base_rate + self.slope1 + self.slope2 * excess

    def liquidity_rate(self, usage: float) -> float:
        """Supply rate (per year): the borrow rate × U × (1 − reserve factor) (no stable debt on the devnet)."""
        return self.borrow_rate(usage) * usage * (1.0 - self.reserve_factor)


@dataclass(frozen=True)
class Pool:
    symbol: str  # the risky token; the other side is USDC
    fee: float  # 0.0005 = 5 bp
    liquidity: float  # L in √(units · USDC)

    def swap_out(self, price_usd: float, amount_in: float, risky_in: bool) -> tuple[float, float]:
        """Output of an exact-input swap at pool price ``price_usd``, and the pool price after it."""
        root = math.sqrt(price_usd)
        x, y = self.liquidity / root, self.liquidity * root
        net = amount_in * (1.0 - self.fee)
        if risky_in:
            out = y * net / (x + net)
            x, y = x + net, y - out
        else:
            out = x * net / (y + net)
            x, y = x - out, y + net
        return out, y / x


@dataclass(frozen=True)
class Guards:
    """The vault's ``RiskParams`` as decimals (the checks ``rebalance`` makes on measured state)."""

    health_factor_floor: float
    max_loss: float
    max_slippage: float
    turnover_budget: float
    loss_budget: float
    period_seconds: int
    max_oracle_deviation_log: float  # maxOracleDeviationBps in ticks × ln(1.0001): |ln(oracle / TWAP)| allowed
    twap_window_seconds: int


@dataclass(frozen=True)
class Market:
    reserves: tuple[Reserve, ...]
    pools: dict[str, Pool]
    guards: Guards
    gas_price_gwei: float = 1.0
    rebalance_gas: int = 900_000
    #: Gas one option trade adds to a rebalance (the venue's buy/sell with its account and pool margin checks:
    #: 690-700k on the devnet's venue, README "OptionMarket" table).
    option_trade_gas: int = 700_000
    #: Accrue Aave interest every step (supply linearly at the liquidity rate, debt compounded at the variable
    #: borrow rate, both at the utilisation the vault's own positions leave), as Aave's indexes do.
    interest: bool = True

    @property
    def ltv(self) -> list[float]:
        return [r.ltv for r in self.reserves]

    @property
    def liquidation_threshold(self) -> list[float]:
        return [r.liquidation_threshold for r in self.reserves]


def devnet_market(risk: RiskParams | None = None, gas_price_gwei: float = 1.0, rebalance_gas: int = 900_000) -> Market:
    """The devnet's market and the vault's guards as deployed (``risk`` defaults to the deployment's defaults)."""
    by_symbol = {a.symbol: a for a in ASSETS}
    reserves = tuple(
        Reserve(
            s,
            by_symbol[s].price_usd,
            by_symbol[s].ltv_bps / 1e4,
            by_symbol[s].liquidation_threshold_bps / 1e4,
            by_symbol[s].liquidation_bonus_bps / 1e4,
            by_symbol[s].optimal_usage,
            by_symbol[s].base_rate,
            by_symbol[s].slope1,
            by_symbol[s].slope2,
            by_symbol[s].reserve_factor_bps / 1e4,
            2.0 * BACKGROUND_SUPPLY.get(s, 0),  # devnet.deploy._background_market: two suppliers of this amount
            float(BACKGROUND_BORROW.get(s, 0)),
        )
        for s in SYMBOLS
    )
    pools = {}
    for symbol, (fee_pips, tvl_usd) in POOLS.items():
        price = by_symbol[symbol].price_usd
        # Minted half in each token at the initial price: x = tvl/2/P, y = tvl/2, L = √(x·y).
        pools[symbol] = Pool(symbol, fee_pips / 1e6, math.sqrt(tvl_usd / 2 / price * (tvl_usd / 2)))
    r = risk or RiskParams()
    guards = Guards(
        r.health_factor_floor_wad / 1e18,
        r.max_loss_bps / 1e4,
        r.max_slippage_bps / 1e4,
        r.turnover_budget_bps / 1e4,
        r.loss_budget_bps / 1e4,
        r.period_seconds,
        r.max_oracle_deviation_bps * math.log(1.0001),
        r.twap_window_seconds,
    )
    return Market(reserves, pools, guards, gas_price_gwei, rebalance_gas)
