"""A live vault as the Monte Carlo's start: the keeper's own read (``KeeperRuntime`` read-only: its ``LensReader``
over ``VaultLens``, the venue's listed series through ``adapters.venue_series``) turned into a model book
(``books.from_snapshot``), and the keeper's store (its recorded oracle history) for calibration."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from adapters.venue_series import ListedSeries, ListedSeriesReader
from keeper.config import KeeperSettings
from sim.montecarlo.books import StartBook, from_snapshot
from sim.montecarlo.market import SYMBOLS, Market, devnet_market


@dataclass(frozen=True)
class LiveStart:
    book: StartBook
    market: Market
    block_number: int
    history: list[dict[str, Any]]  # the store's recorded ticks, newest first (``KeeperStore.last_ticks``)


def live_market(state: Any, symbol_of: dict[str, str], gas_price_gwei: float, rebalance_gas: int) -> Market:
    """The devnet's market model (pools, liquidation bonuses) with what the lens says of this vault: each reserve's
    LTV and liquidation threshold as Aave reports them for the vault's tokens, and the vault's own ``RiskParams``
    (its guards)."""
    from governance.deploy import RiskParams

    base = devnet_market(RiskParams(**asdict(state.risk)), gas_price_gwei, rebalance_gas)
    rows = {symbol_of.get(t.token.lower()): t for t in (state.asset, *state.tokens)}
    reserves = tuple(
        replace(
            r, ltv=rows[r.symbol].ltv_bps / 1e4, liquidation_threshold=rows[r.symbol].liquidation_threshold_bps / 1e4
        )
        if r.symbol in rows
        else r
        for r in base.reserves
    )
    assert [r.symbol for r in reserves] == list(SYMBOLS)
    return replace(base, reserves=reserves)


def read_book(client: Any, state: Any, record: dict[str, Any]) -> StartBook:
    """The model book of a decoded lens ``state``, with each venue's listed series read at the lens's block."""
    listed: dict[str, ListedSeries] = {}
    for o in state.options:
        listed[o.market.lower()] = ListedSeriesReader(client, o.market).read(state.block_number)
    symbol_of = {t["address"].lower(): s for s, t in record["tokens"].items()}
    return from_snapshot(state, listed, symbol_of)


def live_start(settings: KeeperSettings, gas_price_gwei: float = 1.0, history_limit: int = 5_000) -> LiveStart:
    """Read the vault ``settings`` (a keeper.toml) points at, read-only, and its store's recorded history."""
    from keeper.app.runtime import KeeperRuntime

    runtime = KeeperRuntime.build(settings, read_only=True)
    try:
        snapshot = runtime.keeper.reader.read()
        state = snapshot.data[0]
        book = read_book(runtime.client, state, runtime.record)
        symbol_of = {t["address"].lower(): s for s, t in runtime.record["tokens"].items()}
        market = live_market(state, symbol_of, gas_price_gwei, settings.loop.rebalance_gas)
        history = runtime.store.last_ticks(history_limit)
    finally:
        runtime.store.close()
        runtime.client.close()
    return LiveStart(book, market, state.block_number, history)
