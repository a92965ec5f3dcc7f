"""Market parameters of the devnet, close to Aave v3 Ethereum and Uniswap v3 mainnet (2024–2025).

Aave risk parameters are in basis points, rate-strategy values in RAY (1e27 = 100 %), caps in whole tokens.
"""

from __future__ import annotations

from dataclasses import dataclass

RAY = 10**27


@dataclass(frozen=True)
class AssetParams:
    symbol: str
    name: str
    decimals: int
    price_usd: float  # initial oracle price
    ltv_bps: int
    liquidation_threshold_bps: int
    liquidation_bonus_bps: int  # 10500 = 5 % bonus
    reserve_factor_bps: int
    supply_cap: int
    borrow_cap: int
    # DefaultReserveInterestRateStrategy: optimal usage, base, slope1, slope2 (variable), stable slopes/offsets
    optimal_usage: float
    base_rate: float
    slope1: float
    slope2: float


USDC = AssetParams(
    "USDC", "USD Coin", 6, 1.0, 7700, 8000, 10450, 1000, 2_000_000_000, 1_900_000_000, 0.90, 0.0, 0.04, 0.60
)
WETH = AssetParams(
    "WETH", "Wrapped Ether", 18, 3000.0, 8050, 8300, 10500, 1500, 1_800_000, 1_400_000, 0.80, 0.0, 0.033, 0.80
)
WBTC = AssetParams("WBTC", "Wrapped BTC", 8, 60_000.0, 7300, 7800, 10500, 2000, 43_000, 28_000, 0.45, 0.0, 0.04, 3.00)
ASSETS = (USDC, WETH, WBTC)
RISKY = (WETH, WBTC)

# Uniswap v3 pools against USDC: fee tier (pips) and full-range TVL in USD.
POOLS = {"WETH": (500, 2_000_000_000), "WBTC": (3000, 1_000_000_000)}
TICK_SPACING = {500: 10, 3000: 60, 10000: 200}

# The other fee tiers mainnet trades each pair in (issue 17), beside the primary pools above, which stay the
# vault's TWAP/oracle-guard pools. TVL in USD, per tier, of the order of Ethereum mainnet's in 2024–2025 (as
# reported by public pool explorers; order of magnitude only): WETH/USDC 0.05 % ≈ $100–200M (our primary is a
# deeper full-range stand-in), 0.3 % ≈ $50–100M, 1 % ≈ $2–10M; WBTC/USDC 0.3 % ≈ $20–50M, 0.05 % ≈ $5–20M;
# WBTC/WETH 0.05 % ≈ $30–100M, 0.3 % ≈ $100–300M. Each tier holds concentrated positions with the share of its
# TVL given by LIQUIDITY_PROFILE, so depth near the price is several times a full-range pool's of equal TVL
# (mainnet's ±2 % depth of the 0.3 % WETH/USDC pool is of the order of $5–20M a side).
TIER_POOLS: dict[tuple[str, str], tuple[tuple[int, int], ...]] = {
    ("WETH", "USDC"): ((3000, 80_000_000), (10000, 5_000_000)),
    ("WBTC", "USDC"): ((500, 10_000_000),),
    ("WBTC", "WETH"): ((500, 50_000_000), (3000, 200_000_000)),
}
# (half-width of the price band around the initial price, or None for full range; share of the tier's TVL)
LIQUIDITY_PROFILE: tuple[tuple[float | None, float], ...] = ((0.01, 0.30), (0.05, 0.35), (0.20, 0.25), (None, 0.10))
OBSERVATION_CARDINALITY = 300  # ≥ one hour of 12 s blocks for TWAPs

# Background Aave market so reserves have utilisation and interest really accrues.
BACKGROUND_SUPPLY = {"USDC": 300_000_000, "WETH": 60_000, "WBTC": 3_000}
BACKGROUND_BORROW = {"USDC": 120_000_000, "WETH": 12_000, "WBTC": 300}

# anvil default accounts by role (account 0 is the admin; 1–7 are left for the vault's roles and users).
ADMIN_INDEX = 0
BORROWER_INDEX = 8
MARKET_MAKER_INDEX = 9
GENESIS_TIMESTAMP = 1_767_225_600  # 2026-01-01T00:00:00Z: deterministic chain time
BLOCK_TIME_S = 12
