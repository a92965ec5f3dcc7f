"""Bring up the devnet from npm artifacts: Aave v3 market, Uniswap v3 with deep pools, feeds, tokens.

Order and gotchas follow shared notes (local-protocols.md): the ACL admin is set before the ACLManager,
token implementations take the Pool *proxy*, FlashLoanLogic links BorrowLogic, the configurator is proxied
after the Pool, AaveOracle reads ``latestAnswer()``. Every address lands in the deployment record.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from web3 import Web3

from devnet.deployer import Deployer
from devnet.params import (
    ADMIN_INDEX,
    ASSETS,
    BACKGROUND_BORROW,
    BACKGROUND_SUPPLY,
    BORROWER_INDEX,
    LIQUIDITY_PROFILE,
    MARKET_MAKER_INDEX,
    OBSERVATION_CARDINALITY,
    POOLS,
    RAY,
    TICK_SPACING,
    TIER_POOLS,
    USDC,
    AssetParams,
)
from keeper.chain.connect import checksum
from keeper.chain.protocols import art

MIN_TICK, MAX_TICK = -887272, 887272
MAX_UINT = 2**256 - 1
LIBRARIES = ("SupplyLogic", "BorrowLogic", "LiquidationLogic", "EModeLogic", "BridgeLogic", "PoolLogic")


@dataclass
class DeployReport:
    record: dict[str, Any]
    seconds: float
    transactions: int
    gas_used: int
    steps: dict[str, float] = field(default_factory=dict)


def deploy_devnet(w3: Web3) -> DeployReport:
    """Deploy everything on the anvil behind ``w3``; returns the deployment record and figures."""
    started = time.perf_counter()
    accounts = w3.eth.accounts
    admin, borrower, maker = accounts[ADMIN_INDEX], accounts[BORROWER_INDEX], accounts[MARKET_MAKER_INDEX]
    d = Deployer(w3, admin)
    steps: dict[str, float] = {}
    t = time.perf_counter()

    # Tokens and feeds.
    tokens: dict[str, Any] = {}
    tokens["USDC"] = d.deploy(art("MintableERC20"), "USD Coin", "USDC", 6)
    tokens["WETH"] = d.deploy(art("WETH9"))
    tokens["WBTC"] = d.deploy(art("MintableERC20"), "Wrapped BTC", "WBTC", 8)
    feeds = {
        a.symbol: d.deploy(art("PriceFeed"), 8, f"{a.symbol} / USD", round(a.price_usd * 1e8), admin) for a in ASSETS
    }
    steps["tokens_and_feeds"] = time.perf_counter() - t
    t = time.perf_counter()

    aave = _deploy_aave(d, admin, tokens, feeds)
    steps["aave"] = time.perf_counter() - t
    t = time.perf_counter()
    uniswap = _deploy_uniswap(d, w3, maker, tokens)
    steps["uniswap"] = time.perf_counter() - t
    t = time.perf_counter()
    _background_market(d, w3, aave["Pool"], tokens, maker, borrower)
    steps["background_market"] = time.perf_counter() - t

    record: dict[str, Any] = {
        "network": "devnet",
        "chain_id": w3.eth.chain_id,
        "block_number": w3.eth.block_number,
        "accounts": {"admin": admin, "market_maker": maker, "background_borrower": borrower},
        "tokens": {
            a.symbol: {"address": tokens[a.symbol].address, "decimals": a.decimals, "name": a.name} for a in ASSETS
        },
        "feeds": {s: f.address for s, f in feeds.items()},
        "aave": {k: v.address for k, v in aave.items()},
        "uniswap": uniswap,
    }
    t = time.perf_counter()
    # The project's reference option venue (issue 4): admin lists, feeds vols and guards; the market maker is
    # its first LP. Imported here: keeper.venue builds on the devnet's chain helpers.
    from devnet.venue import deploy_venue

    record["venue"] = deploy_venue(w3, record, admin=admin, guardian=admin, lp=maker)
    steps["venue"] = time.perf_counter() - t
    # The deployment spans a few hundred 12 s blocks, most of a feed's 1 h heartbeat: the feeds' first rounds
    # would already be near stale in the snapshot. End with a fresh round at the same prices, as a live feed
    # that heartbeats would.
    for a in ASSETS:
        d.send(feeds[a.symbol].functions.submit(round(a.price_usd * 1e8)), f"heartbeat {a.symbol} feed")
    transactions = d.transactions + int(record["venue"]["deploy_transactions"])
    gas = d.gas_used + int(record["venue"]["deploy_gas"])
    return DeployReport(record, time.perf_counter() - started, transactions, gas, steps)


def _deploy_aave(d: Deployer, admin: str, tokens: dict[str, Any], feeds: dict[str, Any]) -> dict[str, Any]:
    provider = d.deploy(art("PoolAddressesProvider"), "Hedgevault Devnet Market", admin)
    d.send(provider.functions.setACLAdmin(admin), "setACLAdmin")
    acl = d.deploy(art("ACLManager"), provider.address)
    d.send(provider.functions.setACLManager(acl.address), "setACLManager")
    d.send(acl.functions.addPoolAdmin(admin), "addPoolAdmin")
    d.send(acl.functions.addEmergencyAdmin(admin), "addEmergencyAdmin")

    libs: dict[str, str] = {name: str(d.deploy(art(name)).address) for name in LIBRARIES}
    libs["FlashLoanLogic"] = str(
        d.deploy(art("FlashLoanLogic"), libraries={"BorrowLogic": libs["BorrowLogic"]}).address
    )
    pool_impl = d.deploy(art("Pool"), provider.address, libraries=libs)
    d.send(pool_impl.functions.initialize(provider.address), "lock Pool implementation")
    d.send(provider.functions.setPoolImpl(pool_impl.address), "setPoolImpl")
    pool = d.w3.eth.contract(address=provider.functions.getPool().call(), abi=art("Pool").abi)

    configurator_logic = d.deploy(art("ConfiguratorLogic")).address
    cfg_impl = d.deploy(art("PoolConfigurator"), libraries={"ConfiguratorLogic": configurator_logic})
    d.send(cfg_impl.functions.initialize(provider.address), "lock PoolConfigurator implementation")
    d.send(provider.functions.setPoolConfiguratorImpl(cfg_impl.address), "setPoolConfiguratorImpl")
    configurator = d.w3.eth.contract(
        address=provider.functions.getPoolConfigurator().call(), abi=art("PoolConfigurator").abi
    )

    data_provider = d.deploy(art("AaveProtocolDataProvider"), provider.address)
    d.send(provider.functions.setPoolDataProvider(data_provider.address), "setPoolDataProvider")
    assets = [tokens[a.symbol].address for a in ASSETS]
    oracle = d.deploy(
        art("AaveOracle"),
        provider.address,
        assets,
        [feeds[a.symbol].address for a in ASSETS],
        "0x" + "00" * 20,
        "0x" + "00" * 20,
        10**8,
    )
    d.send(provider.functions.setPriceOracle(oracle.address), "setPriceOracle")

    a_impl = d.deploy(art("AToken"), pool.address)
    s_impl = d.deploy(art("StableDebtToken"), pool.address)
    v_impl = d.deploy(art("VariableDebtToken"), pool.address)
    inputs = []
    for a in ASSETS:
        strategy = _rate_strategy(d, provider.address, a)
        inputs.append(
            (
                a_impl.address,
                s_impl.address,
                v_impl.address,
                a.decimals,
                strategy,
                tokens[a.symbol].address,
                admin,
                "0x" + "00" * 20,
                f"Aave {a.symbol}",
                f"a{a.symbol}",
                f"Aave variable debt {a.symbol}",
                f"variableDebt{a.symbol}",
                f"Aave stable debt {a.symbol}",
                f"stableDebt{a.symbol}",
                b"",
            )
        )
    d.send(configurator.functions.initReserves(inputs), "initReserves")
    for a in ASSETS:
        asset = tokens[a.symbol].address
        c = configurator.functions
        d.send(
            c.configureReserveAsCollateral(asset, a.ltv_bps, a.liquidation_threshold_bps, a.liquidation_bonus_bps),
            f"collateral {a.symbol}",
        )
        d.send(c.setReserveBorrowing(asset, True), f"borrowing {a.symbol}")
        d.send(c.setReserveFactor(asset, a.reserve_factor_bps), f"reserve factor {a.symbol}")
        d.send(c.setSupplyCap(asset, a.supply_cap), f"supply cap {a.symbol}")
        d.send(c.setBorrowCap(asset, a.borrow_cap), f"borrow cap {a.symbol}")
    return {
        "PoolAddressesProvider": provider,
        "ACLManager": acl,
        "Pool": pool,
        "PoolConfigurator": configurator,
        "AaveOracle": oracle,
        "AaveProtocolDataProvider": data_provider,
    }


def _rate_strategy(d: Deployer, provider: str, a: AssetParams) -> str:
    r = [int(x * RAY) for x in (a.optimal_usage, a.base_rate, a.slope1, a.slope2)]
    stable = [int(x * RAY) for x in (0.005, 0.60, 0.01, 0.08, 0.20)]
    return str(d.deploy(art("DefaultReserveInterestRateStrategy"), provider, *r, *stable).address)


def _deploy_uniswap(d: Deployer, w3: Web3, maker: str, tokens: dict[str, Any]) -> dict[str, Any]:
    factory = d.deploy(art("UniswapV3Factory"))
    weth = tokens["WETH"].address
    router = d.deploy(art("SwapRouter"), factory.address, weth)
    npm = d.deploy(art("NonfungiblePositionManager"), factory.address, weth, "0x" + "00" * 20)
    quoter = d.deploy(art("QuoterV2"), factory.address, weth)
    pools: dict[str, Any] = {}
    for a in ASSETS:
        if a.symbol not in POOLS:
            continue
        fee, tvl_usd = POOLS[a.symbol]
        pools[f"{a.symbol}/USDC"] = _pool(d, w3, npm, maker, tokens, a, fee, tvl_usd)
    tiers: dict[str, list[dict[str, Any]]] = {
        pair: [
            dict(info, primary=True, base=pair.split("/")[0], quote="USDC", base_is_token0=not info["usdc_is_token0"])
        ]
        for pair, info in pools.items()
    }
    by_symbol = {a.symbol: a for a in ASSETS}
    for (base, quote), tier_list in TIER_POOLS.items():
        for fee, tvl_usd in tier_list:
            info = _concentrated_pool(d, w3, npm, maker, tokens, by_symbol[base], by_symbol[quote], fee, tvl_usd)
            tiers.setdefault(f"{base}/{quote}", []).append(dict(info, primary=False))
    return {
        "UniswapV3Factory": factory.address,
        "SwapRouter": router.address,
        "NonfungiblePositionManager": npm.address,
        "QuoterV2": quoter.address,
        "pools": pools,  # the primary pool of each X/USDC pair: the vault's swap and TWAP-guard pool
        "tiers": tiers,  # every pool of every pair, primaries included: what the router may split across
    }


def _fund(d: Deployer, w3: Web3, tokens: dict[str, Any], who: str, symbol: str, amount_raw: int) -> None:
    if symbol == "WETH":
        balance = w3.eth.get_balance(checksum(who))
        w3.provider.make_request("anvil_setBalance", [who, hex(balance + amount_raw)])  # type: ignore[arg-type]
        d.send(tokens["WETH"].functions.deposit(), "wrap ETH", sender=who, value=amount_raw)
    else:
        d.send(tokens[symbol].functions.mint(who, amount_raw), f"mint {symbol}", sender=who)


def _pool(
    d: Deployer, w3: Web3, npm: Any, maker: str, tokens: dict[str, Any], a: AssetParams, fee: int, tvl_usd: int
) -> dict[str, Any]:
    usdc, risky = tokens["USDC"].address, tokens[a.symbol].address
    usdc_first = int(usdc, 16) < int(risky, 16)
    token0, token1 = (usdc, risky) if usdc_first else (risky, usdc)
    price = pair_sqrt_price_x96(a.price_usd, not usdc_first, a.decimals, USDC.decimals)
    d.send(npm.functions.createAndInitializePoolIfNecessary(token0, token1, fee, price), f"create {a.symbol} pool")
    factory = w3.eth.contract(address=npm.functions.factory().call(), abi=art("UniswapV3Factory").abi)
    pool = w3.eth.contract(address=factory.functions.getPool(token0, token1, fee).call(), abi=art("UniswapV3Pool").abi)
    d.send(pool.functions.increaseObservationCardinalityNext(OBSERVATION_CARDINALITY), "observation cardinality")
    usdc_raw = tvl_usd // 2 * 10**USDC.decimals
    risky_raw = int(tvl_usd / 2 / a.price_usd * 10**a.decimals)
    _fund(d, w3, tokens, maker, "USDC", usdc_raw)
    _fund(d, w3, tokens, maker, a.symbol, risky_raw)
    for token in (usdc, risky):
        d.send(
            tokens["USDC" if token == usdc else a.symbol].functions.approve(npm.address, MAX_UINT),
            "approve NPM",
            sender=maker,
        )
    spacing = TICK_SPACING[fee]
    lower, upper = -(-MIN_TICK // spacing) * spacing, (MAX_TICK // spacing) * spacing
    amount0, amount1 = (usdc_raw, risky_raw) if usdc_first else (risky_raw, usdc_raw)
    deadline = 2**40
    d.send(
        npm.functions.mint((token0, token1, fee, lower, upper, amount0, amount1, 0, 0, maker, deadline)),
        f"mint {a.symbol} liquidity",
        sender=maker,
    )
    return {
        "address": pool.address,
        "fee": fee,
        "token0": token0,
        "token1": token1,
        "usdc_is_token0": usdc_first,
        "tick_spacing": spacing,
    }


def pair_sqrt_price_x96(price: float, base_is_token0: bool, base_decimals: int, quote_decimals: int) -> int:
    """sqrtPriceX96 of a base/quote pool at ``price`` quote units per base unit (raw = token1 per token0)."""
    scale = 10**12
    if base_is_token0:  # raw = quote_raw per base_raw
        num, den = round(price * scale) * 10**quote_decimals, scale * 10**base_decimals
    else:
        num, den = scale * 10**base_decimals, round(price * scale) * 10**quote_decimals
    return math.isqrt(num * 2**192 // den)


def _tick_below(sqrt_x96: int, spacing: int) -> int:
    tick = math.floor(math.log((sqrt_x96 / 2**96) ** 2) / math.log(1.0001))
    return tick // spacing * spacing


def _concentrated_pool(
    d: Deployer,
    w3: Web3,
    npm: Any,
    maker: str,
    tokens: dict[str, Any],
    base: AssetParams,
    quote: AssetParams,
    fee: int,
    tvl_usd: int,
) -> dict[str, Any]:
    """A pool of ``fee`` with the LIQUIDITY_PROFILE's positions (concentrated bands plus a full-range tail)."""
    base_addr, quote_addr = tokens[base.symbol].address, tokens[quote.symbol].address
    base_first = int(base_addr, 16) < int(quote_addr, 16)
    token0, token1 = (base_addr, quote_addr) if base_first else (quote_addr, base_addr)
    price = base.price_usd / quote.price_usd
    sqrt_price = pair_sqrt_price_x96(price, base_first, base.decimals, quote.decimals)
    label = f"{base.symbol}/{quote.symbol} {fee}"
    d.send(npm.functions.createAndInitializePoolIfNecessary(token0, token1, fee, sqrt_price), f"create {label}")
    factory = w3.eth.contract(address=npm.functions.factory().call(), abi=art("UniswapV3Factory").abi)
    pool = w3.eth.contract(address=factory.functions.getPool(token0, token1, fee).call(), abi=art("UniswapV3Pool").abi)
    d.send(pool.functions.increaseObservationCardinalityNext(OBSERVATION_CARDINALITY), "observation cardinality")
    spacing = TICK_SPACING[fee]
    for symbol in (base.symbol, quote.symbol):
        d.send(tokens[symbol].functions.approve(npm.address, MAX_UINT), "approve NPM", sender=maker)
    for band, share in LIQUIDITY_PROFILE:
        if band is None:
            lower, upper = -(-MIN_TICK // spacing) * spacing, (MAX_TICK // spacing) * spacing
        else:
            ends = sorted(
                pair_sqrt_price_x96(price * f, base_first, base.decimals, quote.decimals) for f in (1 - band, 1 + band)
            )
            lower, upper = _tick_below(ends[0], spacing), _tick_below(ends[1], spacing) + spacing
        value = tvl_usd * share / 2
        base_raw, quote_raw = (
            int(value / base.price_usd * 10**base.decimals),
            int(value / quote.price_usd * 10**quote.decimals),
        )
        _fund(d, w3, tokens, maker, base.symbol, base_raw)
        _fund(d, w3, tokens, maker, quote.symbol, quote_raw)
        amount0, amount1 = (base_raw, quote_raw) if base_first else (quote_raw, base_raw)
        d.send(
            npm.functions.mint((token0, token1, fee, lower, upper, amount0, amount1, 0, 0, maker, 2**40)),
            f"mint {label} band {band}",
            sender=maker,
        )
    return {
        "address": pool.address,
        "fee": fee,
        "token0": token0,
        "token1": token1,
        "base": base.symbol,
        "quote": quote.symbol,
        "base_is_token0": base_first,
        "tick_spacing": spacing,
    }


def _background_market(d: Deployer, w3: Web3, pool: Any, tokens: dict[str, Any], maker: str, borrower: str) -> None:
    """Suppliers and borrowers on every reserve, so utilisation is non-zero and interest accrues."""
    decimals = {a.symbol: a.decimals for a in ASSETS}
    for symbol, amount in BACKGROUND_SUPPLY.items():
        raw = amount * 10 ** decimals[symbol]
        for who in (maker, borrower):
            _fund(d, w3, tokens, who, symbol, raw)
            d.send(tokens[symbol].functions.approve(pool.address, MAX_UINT), "approve Pool", sender=who)
        d.send(pool.functions.supply(tokens[symbol].address, raw, maker, 0), f"supply {symbol}", sender=maker)
        d.send(pool.functions.supply(tokens[symbol].address, raw, borrower, 0), f"supply {symbol}", sender=borrower)
    for symbol, amount in BACKGROUND_BORROW.items():
        raw = amount * 10 ** decimals[symbol]
        d.send(pool.functions.borrow(tokens[symbol].address, raw, 2, 0, borrower), f"borrow {symbol}", sender=borrower)


def checksum_record(record: dict[str, Any]) -> dict[str, Any]:
    """The record with every address checksummed (for display and comparisons)."""

    def fix(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
            return checksum(value)
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        return value

    return fix(record)  # type: ignore[no-any-return]
