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

from devnet.params import ASSETS, POOLS
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
