"""The keeper's memory (SQLite). See :mod:`keeper.store.sqlite`."""

from keeper.store.sqlite import PlanRecord, Store, StoreError, TxRecord

__all__ = ["PlanRecord", "Store", "StoreError", "TxRecord"]
