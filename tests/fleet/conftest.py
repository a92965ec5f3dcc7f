"""A devnet with a funded vault for the replicated-keeper tests (PostgreSQL comes from tests/conftest.py)."""

from __future__ import annotations

from ..conftest import stack_fixtures
from ..vault.conftest import deploy_stack

fleet_devnet, fleet_session, stack = stack_fixtures("fleet", deploy_stack)
