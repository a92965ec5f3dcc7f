"""Alembic migrations of the PostgreSQL store (run in order on open; see keeper.store.postgres)."""
