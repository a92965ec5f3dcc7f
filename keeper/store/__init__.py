"""The keeper's memory: SQLite (embedded, one keeper) or PostgreSQL (shared by replicas, with a leader lease).
See :mod:`keeper.store.sqlite`, :mod:`keeper.store.postgres` and :mod:`keeper.store.lease`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

from keeper.store.sqlite import PlanRecord, Store, StoreError, TxRecord

if TYPE_CHECKING:
    from keeper.config import StoreConfig
    from keeper.store.postgres import PostgresStore

KeeperStore = Union[Store, "PostgresStore"]


def open_store(config: StoreConfig) -> KeeperStore:
    """The backend the config names: PostgreSQL when ``store.url`` is set, else the SQLite file."""
    if config.url is not None:
        from keeper.store.postgres import PostgresStore

        return PostgresStore(config.url, schema=config.pg_schema)
    return Store(config.path)


__all__ = ["KeeperStore", "PlanRecord", "Store", "StoreError", "TxRecord", "open_store"]
