"""Devnet tests: fixtures (devnet, dn, driver, fork) live in tests/conftest.py."""

from keeper.chain.connect import contract_at as contract

__all__ = ["contract"]
