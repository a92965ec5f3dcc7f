"""A live vault as the Monte Carlo's start: the keeper's own read (``KeeperRuntime`` read-only: its ``LensReader``
over ``VaultLens``, the venue's listed series through ``adapters.venue_series``) turned into a model book
(``books.from_snapshot``), and the keeper's store (its recorded oracle history) for calibration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.venue_series import ListedSeries, ListedSeriesReader
from keeper.config import KeeperSettings
from sim.montecarlo.books import StartBook, from_snapshot


@dataclass(frozen=True)
class LiveStart:
    book: StartBook
    block_number: int
    history: list[dict[str, Any]]  # the store's recorded ticks, newest first (``KeeperStore.last_ticks``)


def read_book(client: Any, state: Any, record: dict[str, Any]) -> StartBook:
    """The model book of a decoded lens ``state``, with each venue's listed series read at the lens's block."""
    listed: dict[str, ListedSeries] = {}
    for o in state.options:
        listed[o.market.lower()] = ListedSeriesReader(client, o.market).read(state.block_number)
    symbol_of = {t["address"].lower(): s for s, t in record["tokens"].items()}
    return from_snapshot(state, listed, symbol_of)


def live_start(settings: KeeperSettings, history_limit: int = 5_000) -> LiveStart:
    """Read the vault ``settings`` (a keeper.toml) points at, read-only, and its store's recorded history."""
    from keeper.app.runtime import KeeperRuntime

    runtime = KeeperRuntime.build(settings, read_only=True)
    try:
        snapshot = runtime.keeper.reader.read()
        state = snapshot.data[0]
        book = read_book(runtime.client, state, runtime.record)
        history = runtime.store.last_ticks(history_limit)
    finally:
        runtime.store.close()
        runtime.client.close()
    return LiveStart(book, state.block_number, history)
