"""Alembic environment: migrations run on the connection :class:`keeper.store.postgres.PostgresStore` hands over
(``config.attributes["connection"]``), inside the schema it names; never from a URL in an ini file."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
schema = context.config.attributes["schema"]
context.configure(connection=connection, version_table_schema=schema, transactional_ddl=True)
with context.begin_transaction():
    context.run_migrations()
