"""Devnet operations through ape (thin wrapper over devnet, which the tests exercise directly).

ape run devnet build           # deploy Aave v3 + Uniswap v3 + feeds, dump the snapshot
ape run devnet price WETH 2950 # oracle + pool to a price (on a running devnet: APE_FOUNDRY_HOST=...)
"""

from __future__ import annotations

import click

from keeper.chain.connect import web3_for


@click.group()
def cli() -> None:
    """Build the devnet snapshot and move its market."""


@cli.command()
def build() -> None:
    """Deploy everything on a fresh anvil and write var/devnet/state-<key>.json + deployment-<key>.json."""
    from devnet.snapshot import build_snapshot

    snap, report = build_snapshot()
    click.echo(
        f"snapshot {snap.key}: {report.transactions} transactions, {report.gas_used:,} gas, "
        f"{report.seconds:.2f} s; record {snap.record_path}"
    )


@cli.command()
@click.argument("symbol")
@click.argument("price_usd", type=float)
@click.option("--url", default="http://127.0.0.1:8545", show_default=True, help="running devnet")
def price(symbol: str, price_usd: float, url: str) -> None:
    """Set SYMBOL's oracle price and move its Uniswap pool there by a real swap."""
    import json

    from devnet.driver import MarketDriver
    from keeper.paths import DEVNET_RECORD_FILE as RECORD_FILE

    driver = MarketDriver(web3_for(url), url, json.loads(RECORD_FILE.read_text()))
    driver.set_market_price(symbol, price_usd)
    click.echo(f"{symbol}: oracle {driver.oracle_price(symbol):,.2f}, pool {driver.pool_price(symbol):,.2f}")
