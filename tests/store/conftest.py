"""``store``: each interface test runs on both backends, SQLite in memory and PostgreSQL in a fresh schema."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from keeper.store import KeeperStore, Store

_schemas = itertools.count()


@pytest.fixture
def pg_schema() -> str:
    return f"t{next(_schemas)}"


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[KeeperStore]:
    if request.param == "sqlite":
        backend: KeeperStore = Store(":memory:")
    else:
        from keeper.store.postgres import PostgresStore

        server: Any = request.getfixturevalue("postgres")
        backend = PostgresStore(server.url(), schema=request.getfixturevalue("pg_schema"))
    yield backend
    backend.close()
