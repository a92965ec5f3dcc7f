"""``keeper fleet status``: read every vault once (no key, no lease), aggregate, print in 80 columns."""

from __future__ import annotations

import sqlalchemy as sa

from keeper.app.runtime import KeeperRuntime
from keeper.fleet.config import Fleet, FleetVault
from keeper.fleet.rpc import FailoverRpcClient
from keeper.fleet.view import FleetView, VaultView, aggregate, vault_view
from keeper.model.exceptions import HedgevaultError
from keeper.store.postgres import PostgresStore


def read_vault(fleet: Fleet, vault: FleetVault) -> VaultView:
    """One read-only look at the vault: the lens snapshot, the assessment and the stress grid, forced fresh;
    with PostgreSQL, who holds its lease. A vault that cannot be read is shown ``down`` with the reason."""
    entry, section = vault.entry, fleet.section
    chain = entry.chain or str(entry.chain_id)
    client = FailoverRpcClient(
        entry.rpc_urls, entry.chain_id, max_lag_blocks=section.rpc_max_lag_blocks, timeout_s=section.rpc_timeout_s
    )
    try:
        client.check_health()
        runtime = KeeperRuntime.build(vault.settings, vault.record, read_only=True, client=client)
    except HedgevaultError as err:
        client.close()
        return VaultView(entry.name, chain, entry.chain_id, "down", note=str(err).splitlines()[0][:76])
    try:
        keeper = runtime.keeper
        snapshot = keeper.reader.read()
        assessment = keeper.assessor.assess(snapshot)
        deep = keeper.assessor.deep(force=True)  # type: ignore[attr-defined]  # the VaultAssessor
        assessor = keeper.assessor
        view = vault_view(
            entry.name,
            chain,
            entry.chain_id,
            "read",
            snapshot.block_number,
            {**assessment.risk, **deep},
            getattr(assessor, "last_stress", None),
            getattr(assessor, "last_stress_pnl_usd", None),
        )
        if isinstance(runtime.store, PostgresStore):
            view.status, view.leader, view.note = _leader(runtime.store, vault.lease_name)
        return view
    except HedgevaultError as err:
        return VaultView(entry.name, chain, entry.chain_id, "down", note=str(err).splitlines()[0][:76])
    finally:
        runtime.close()


def _leader(store: PostgresStore, name: str) -> tuple[str, str | None, str]:
    with store.engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT holder, token, expires_at > clock_timestamp() AS live FROM leases WHERE name = :name"),
            {"name": name},
        ).first()
    if row is None or not row.live:
        return "no leader", None, "no replica holds the lease: nobody is hedging this vault"
    return "led", str(row.holder), f"leader {row.holder} (token {row.token})"


def fleet_status(fleet: Fleet) -> FleetView:
    return aggregate([read_vault(fleet, v) for v in fleet.vaults])
