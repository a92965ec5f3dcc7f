"""The fleet file: every vault a host runs, on which chain, through which RPC URLs, with which keeper config.

```toml
[fleet]
store_url = "postgresql://hv:secret@db:5432/hedgevault"   # shared by the replicas; leases live here
lease_ttl_s = 15.0
[[vault]]
name = "eth-l1"
chain_id = 1
rpc_urls = ["https://node-a", "https://node-b"]           # health-checked, first healthy one used
deployment = "deployments/eth-l1.json"                     # the deployment record with its vault section
config = "keeper.toml"                                     # signer, policy, tx (network/store/metrics set here)
```

:func:`load_fleet` parses and validates the file alone (types, duplicates); :func:`check_fleet` then contacts
what the file names — every RPC URL's chain id, every deployment record, the database — and refuses the whole
fleet, naming each bad entry, before any worker starts.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from keeper.chain.record import load_record
from keeper.chain.rpc import RpcClient
from keeper.config import KeeperSettings, SignerConfig, load_settings
from keeper.model.exceptions import ConfigError, HedgevaultError


class FleetConfigError(ConfigError):
    """The fleet file is wrong; the message names every offending entry and its fix."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FleetSection(_Model):
    store_url: str | None = Field(
        None, pattern=r"^postgresql(\+psycopg)?://", description="shared PostgreSQL; without it: SQLite, no replicas"
    )
    lease_ttl_s: float = Field(15.0, gt=0, le=600)
    lease_margin_s: float = Field(3.0, gt=0, le=300)
    restart_backoff_s: float = Field(1.0, gt=0, le=600, description="first restart delay of a crashed worker")
    restart_backoff_max_s: float = Field(60.0, gt=0, le=3600)
    healthy_after_s: float = Field(60.0, gt=0, description="a worker up this long resets its backoff")
    rpc_health_every_s: float = Field(5.0, gt=0, le=600)
    rpc_max_lag_blocks: int = Field(3, ge=0, le=10_000, description="an RPC URL further behind the best is skipped")
    rpc_timeout_s: float = Field(5.0, gt=0, le=120)
    metrics_host: str = Field("127.0.0.1", pattern=r"^(127\.0\.0\.1|::1|localhost)$")
    metrics_port: int = Field(9470, ge=0, le=65535, description="the fleet's Prometheus endpoint; 0: none")

    @model_validator(mode="after")
    def _margin(self) -> FleetSection:
        if self.lease_margin_s >= self.lease_ttl_s:
            raise ValueError(f"lease_margin_s={self.lease_margin_s} must be below lease_ttl_s={self.lease_ttl_s}")
        if self.restart_backoff_max_s < self.restart_backoff_s:
            raise ValueError("restart_backoff_max_s must be at least restart_backoff_s")
        return self


class VaultEntry(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,40}$", description="unique; also the PostgreSQL schema's stem")
    chain: str = Field("", max_length=40, description="a label for views (e.g. l1, arbitrum)")
    chain_id: int = Field(gt=0)
    rpc_urls: tuple[str, ...] = Field(min_length=1)
    deployment: Path
    config: Path | None = None
    poll_interval_s: float | None = Field(None, gt=0, le=60)
    key_env: str | None = Field(
        None, pattern=r"^[A-Z_][A-Z0-9_]*$", description="env variable with this vault's keeper key (signer override)"
    )

    @field_validator("rpc_urls")
    @classmethod
    def _urls(cls, urls: tuple[str, ...]) -> tuple[str, ...]:
        for url in urls:
            if not re.match(r"^https?://[^/\s]+", url):
                raise ValueError(f"{url!r} is not an http(s) URL")
        if len(set(urls)) != len(urls):
            raise ValueError("the same URL is listed twice")
        return urls

    @property
    def label(self) -> str:
        return f"{self.name}@{self.chain or self.chain_id}"

    @property
    def pg_schema(self) -> str:
        return "v_" + self.name.replace("-", "_")


class FleetFile(_Model):
    fleet: FleetSection = FleetSection()
    vault: tuple[VaultEntry, ...] = Field(min_length=1)


@dataclass(frozen=True)
class FleetVault:
    """A checked vault entry: its entry, record (with the vault section) and keeper settings."""

    index: int
    entry: VaultEntry
    record: dict[str, Any]
    settings: KeeperSettings

    @property
    def address(self) -> str:
        return str(self.record["vault"]["HedgedVault"])

    @property
    def lease_name(self) -> str:
        return f"{self.entry.chain_id}:{self.address.lower()}"


@dataclass(frozen=True)
class Fleet:
    path: Path
    section: FleetSection
    vaults: tuple[FleetVault, ...]


def _where(path: Path, index: int, entry: Any) -> str:
    name = entry.get("name") if isinstance(entry, dict) else getattr(entry, "name", None)
    return f"{path}: vault[{index}]" + (f" ({name!r})" if name else "")


def load_fleet(path: Path) -> tuple[FleetSection, tuple[VaultEntry, ...]]:
    """Parse and validate the file alone; raises FleetConfigError naming each bad entry."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError as err:
        raise FleetConfigError(f"fleet file {path} not found; pass --fleet with an existing TOML file") from err
    except tomllib.TOMLDecodeError as err:
        raise FleetConfigError(f"fleet file {path} is not valid TOML: {err}") from err
    try:
        parsed = FleetFile(**data)
    except ValidationError as err:
        lines = [f"invalid fleet file {path}:"]
        for problem in err.errors():
            loc = problem["loc"]
            if loc and loc[0] == "vault" and len(loc) > 1 and isinstance(loc[1], int):
                raw = data.get("vault", [])
                entry = raw[loc[1]] if loc[1] < len(raw) else {}
                field = ".".join(str(p) for p in loc[2:]) or "entry"
                lines.append(f"  {_where(path, loc[1], entry)} {field}: {problem['msg']}")
            else:
                lines.append(f"  {'.'.join(str(p) for p in loc)}: {problem['msg']}")
        raise FleetConfigError("\n".join(lines)) from err
    problems = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(parsed.vault):
        if entry.name in seen:
            problems.append(
                f"  {_where(path, i, entry)}: duplicate vault name, already vault[{seen[entry.name]}]; rename one"
            )
        seen.setdefault(entry.name, i)
    if problems:
        raise FleetConfigError("\n".join([f"invalid fleet file {path}:", *problems]))
    return parsed.fleet, parsed.vault


def _resolve(base: Path, p: Path) -> Path:
    return p if p.is_absolute() else base / p


def vault_settings(section: FleetSection, entry: VaultEntry, config: Path | None) -> KeeperSettings:
    """The entry's keeper settings: its config file (or the defaults) with network, store and metrics set by the
    fleet (the fleet serves one metrics endpoint; each vault has its own PostgreSQL schema)."""
    settings = load_settings(config)
    network = {"rpc_url": entry.rpc_urls[0], "chain_id": entry.chain_id, "deployment_path": entry.deployment}
    if entry.poll_interval_s is not None:
        network["poll_interval_s"] = entry.poll_interval_s
    store: dict[str, Any] = {"pg_schema": entry.pg_schema}
    if section.store_url is not None:
        store["url"] = section.store_url
    else:
        store["path"] = settings.store.path.with_name(f"{settings.store.path.stem}-{entry.name}.sqlite")
    update: dict[str, Any] = {}
    if entry.key_env is not None:
        update["signer"] = SignerConfig(private_key_env=entry.key_env)
    return settings.model_copy(
        update={
            **update,
            "network": settings.network.model_copy(update=network),
            "store": settings.store.model_copy(update=store),
            "metrics": settings.metrics.model_copy(update={"enabled": False}),
        }
    )


def check_fleet(path: Path, *, timeout_s: float | None = None) -> Fleet:
    """Load the fleet file and check it against the world: each RPC URL answers with the entry's chain id, each
    deployment record loads and holds a vault, no vault is listed twice (same chain and address), the database
    answers. Every problem is collected; raises FleetConfigError naming the entries, before anything starts."""
    path = Path(path)
    section, entries = load_fleet(path)
    base = path.parent
    timeout = timeout_s if timeout_s is not None else section.rpc_timeout_s
    problems: list[str] = []
    vaults: list[FleetVault] = []
    by_address: dict[tuple[int, str], int] = {}
    for i, entry in enumerate(entries):
        where = _where(path, i, entry)
        entry = entry.model_copy(
            update={
                "deployment": _resolve(base, entry.deployment),
                "config": _resolve(base, entry.config) if entry.config is not None else None,
            }
        )
        answered = 0
        for url in entry.rpc_urls:
            client = RpcClient(url, timeout_s=timeout, retries=0)
            try:
                chain_id = int(client.call("eth_chainId"), 16)
            except HedgevaultError:
                continue  # one URL down is what failover is for; none answering is refused below
            finally:
                client.close()
            answered += 1
            if chain_id != entry.chain_id:
                problems.append(
                    f"  {where}: rpc {url} is chain {chain_id}, the entry says chain_id = {entry.chain_id}; "
                    "point rpc_urls at the right chain or fix chain_id"
                )
        if answered == 0:
            problems.append(f"  {where}: none of rpc_urls {list(entry.rpc_urls)} answers eth_chainId; start a node")
        try:
            record = load_record(entry.deployment, need_vault=True)
        except HedgevaultError as err:
            problems.append(f"  {where}: deployment: {err}")
            continue
        if record.get("chain_id") is not None and int(record["chain_id"]) != entry.chain_id:
            problems.append(
                f"  {where}: deployment {entry.deployment} is for chain {record['chain_id']}, "
                f"the entry says chain_id = {entry.chain_id}"
            )
        key = (entry.chain_id, str(record["vault"]["HedgedVault"]).lower())
        if key in by_address:
            problems.append(
                f"  {where}: duplicate vault {key[1]} on chain {key[0]}, already vault[{by_address[key]}]; "
                "two workers would hedge one vault"
            )
            continue
        by_address[key] = i
        try:
            settings = vault_settings(section, entry, entry.config)
        except ConfigError as err:
            problems.append(f"  {where}: keeper config: {err}")
            continue
        vaults.append(FleetVault(i, entry, record, settings))
    if section.store_url is not None:
        problem = _database_problem(section.store_url, timeout)
        if problem:
            problems.append(f"  {path}: fleet.store_url: {problem}")
    if problems:
        raise FleetConfigError("\n".join([f"fleet {path} refused, nothing started:", *problems]))
    return Fleet(path, section, tuple(vaults))


def _database_problem(url: str, timeout_s: float) -> str | None:
    import sqlalchemy as sa

    from keeper.store.postgres import engine_url, redact

    engine = sa.create_engine(engine_url(url), connect_args={"connect_timeout": max(1, round(timeout_s))})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as err:
        first = str(err.orig if hasattr(err, "orig") else err).strip().splitlines()[0]
        return f"database {redact(url)} unreachable ({first}); start PostgreSQL or fix the URL"
    finally:
        engine.dispose()
    return None
