"""``python -m bench.fleet``: the fleet's targets, measured on this host. Writes ``bench/fleet-results.md``.

1. **Lease overhead per tick** on a local PostgreSQL: the renewal the runner makes before a tick, and the fencing
   check inside the plan's and each transaction's write (a tick that acts pays one renewal and two checks; an
   idle tick one renewal). Background renewals between blocks (one per poll) are counted separately.
2. **Failover in L1 blocks** at real time: an L1-like chain mining every 12 s, two ``keeper fleet run`` replica
   processes (default lease: ttl 15 s, margin 3 s, poll 1 s), the leader SIGKILLed at a random point of a block;
   counted from the head at the kill to the head at which the follower holds the lease and ticks (after
   ``take_over`` it ticks the current head at once).
3. **Vaults per host**: 20 vaults over the two chains (10 on the 12 s L1, 10 on the 2 s L2), one ``FleetRunner``
   process with leases on PostgreSQL, real interval mining; after the first hedges, a steady window in which
   every worker's last processed block is sampled against its chain's head (blocks behind), and the process CPU
   time is split per vault and per tick.

``--quick`` shortens every part (a smoke run, not for the table).
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import sqlalchemy as sa

from devnet.fleet import L1, L2, FleetDevnet, key_env, write_fleet_file
from devnet.postgres import PostgresServer
from keeper.chain.anvil import dev_account, rpc
from keeper.fleet.config import check_fleet
from keeper.fleet.run import FleetRunner
from keeper.store.lease import Lease
from keeper.store.postgres import PostgresStore, engine_url

HERE = Path(__file__).resolve().parent


def head(url: str) -> int:
    return int(rpc(url, "eth_blockNumber"), 16)


def lease_overhead(pg: PostgresServer, n: int) -> dict[str, float]:
    store = PostgresStore(pg.url(), schema="bench_lease")
    lease = Lease(store, "vault", "bench", ttl_s=15.0, margin_s=3.0)
    renew, check, empty = [], [], []
    for _ in range(n):
        t = time.perf_counter()
        assert lease.renew()
        renew.append(time.perf_counter() - t)
        t = time.perf_counter()
        with store.engine.begin() as conn:
            conn.execute(sa.text("SELECT 1"))
        empty.append(time.perf_counter() - t)
        t = time.perf_counter()
        with store.engine.begin() as conn:
            conn.execute(sa.text("SELECT 1"))
            lease.check(conn)
        check.append(time.perf_counter() - t)
    lease.release()
    store.close()
    ms = 1000.0
    check_only = [max(0.0, c - e) for c, e in zip(check, empty, strict=True)]
    return {
        "renew_p50_ms": statistics.median(renew) * ms,
        "renew_p95_ms": sorted(renew)[int(0.95 * n)] * ms,
        "check_p50_ms": statistics.median(check_only) * ms,
        "check_p95_ms": sorted(check_only)[int(0.95 * n)] * ms,
        "acting_tick_ms": (statistics.median(renew) + 2 * statistics.median(check_only)) * ms,
        "idle_tick_ms": statistics.median(renew) * ms,
    }


def _leader(url: str, schema: str) -> str | None:
    engine = sa.create_engine(engine_url(url))
    try:
        with engine.connect() as conn:
            row = conn.execute(
                sa.text(f'SELECT holder FROM "{schema}".leases WHERE expires_at > clock_timestamp() LIMIT 1')
            ).first()
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()
    return str(row.holder) if row else None


def failover(pg: PostgresServer, trials: int, log_dir: Path) -> list[int]:
    """Blocks of the 12 s chain from the leader's SIGKILL to the follower leading (and ticking)."""
    out: list[int] = []
    with FleetDevnet.start((L1,), vaults=1, speed=1.0) as chains, TemporaryDirectory() as tmp:
        c = chains.chains[0]
        fleet_file = write_fleet_file(chains.chains, Path(tmp), store_url=pg.url(), fleet={"metrics_port": 0})
        fleet = check_fleet(fleet_file)
        schema = fleet.vaults[0].entry.pg_schema
        env = {**os.environ, key_env("l1-v0"): "0x" + bytes(dev_account(c.keepers[0]).key).hex()}

        def start(name: str) -> subprocess.Popen[bytes]:
            argv = [sys.executable, "-m", "keeper.cli", "fleet", "run", "-f", str(fleet_file), "--replica", name]
            argv += ["--metrics-port", "0", "--log-format", "text", "--view-every-s", "3600"]
            log = (log_dir / f"fleet-bench-{name}.log").open("ab")
            return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        procs = {"r0": start("r0")}
        try:
            _until(lambda: (_leader(pg.url(), schema) or "").startswith("r0/"), 90)
            leader, spare = "r0", 1
            for _ in range(trials):
                follower = f"r{spare}"
                spare += 1
                procs[follower] = start(follower)
                time.sleep(8.0)  # the follower is up and polling
                b0 = head(c.url)
                while head(c.url) == b0:  # align on a block, then kill at a random point inside the next one
                    time.sleep(0.05)
                time.sleep(random.uniform(0.0, L1.block_time_s))
                killed_at = head(c.url)
                procs[leader].send_signal(signal.SIGKILL)
                procs[leader].wait()
                _until(lambda f=follower: (_leader(pg.url(), schema) or "").startswith(f + "/"), 120)  # type: ignore[misc]
                out.append(head(c.url) - killed_at)
                print(f"  failover trial {len(out)}: {out[-1]} L1 blocks", flush=True)
                leader = follower
        finally:
            for p in procs.values():
                if p.poll() is None:
                    p.kill()
                    p.wait(10)
    return out


def vaults_per_host(pg: PostgresServer, per_chain: int, warmup_s: float, window_s: float) -> dict[str, float]:
    with FleetDevnet.start((L1, L2), vaults=per_chain, speed=1.0) as chains, TemporaryDirectory() as tmp:
        fleet_file = write_fleet_file(
            chains.chains, Path(tmp), store_url=pg.url(), fleet={"metrics_port": 0}, keeper_config=""
        )
        fleet = check_fleet(fleet_file)
        accounts = {f"{c.spec.name}-v{k}": dev_account(idx) for c in chains.chains for k, idx in enumerate(c.keepers)}
        runner = FleetRunner(fleet, "bench", accounts=accounts).start()
        try:
            time.sleep(warmup_s)  # the first hedges (every fresh vault is outside its band) and leases
            urls = {c.spec.name: c.url for c in chains.chains}
            cpu0, t0 = _cpu(), time.monotonic()
            ticks0 = {w.name: _ticks(w) for w in runner.workers}
            behind: dict[str, list[int]] = {c.spec.name: [] for c in chains.chains}
            while time.monotonic() - t0 < window_s:
                heads = {name: head(url) for name, url in urls.items()}
                for w in runner.workers:
                    last = w.last.block_number if w.last else 0
                    behind[w.chain].append(max(0, heads[w.chain] - last - 1))  # the head being processed is on time
                time.sleep(1.0)
            cpu, wall = _cpu() - cpu0, time.monotonic() - t0
            ticks = sum(_ticks(w) - ticks0[w.name] for w in runner.workers)
            restarts = sum(w.restarts for w in runner.workers)
        finally:
            runner.stop()
    vaults = 2 * per_chain
    cpu_share = cpu / wall  # cores used by the whole fleet process
    return {
        "vaults": vaults,
        "window_s": wall,
        "ticks": ticks,
        "cpu_cores": cpu_share,
        "cpu_ms_per_tick": 1000 * cpu / max(ticks, 1),
        "cpu_cores_per_vault_mixed": cpu_share / vaults,
        "l1_behind_max": max(behind["l1"], default=0),
        "l2_behind_max": max(behind["l2"], default=0),
        "l2_behind_mean": statistics.fmean(behind["l2"]) if behind["l2"] else 0.0,
        "restarts": restarts,
    }


def _ticks(worker: object) -> int:
    rt = getattr(worker, "runtime", None)
    if rt is None:
        return 0
    value = rt.metrics.registry.get_sample_value("hv_tick_seconds_count")
    return int(value or 0)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _until(cond: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise TimeoutError("condition not met in time (see var/fleet-bench-*.log)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="fleet targets: lease overhead, failover, vaults per host")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    log_dir = HERE.parent / "var"
    log_dir.mkdir(exist_ok=True)
    with PostgresServer() as pg:  # a fresh server per part: no lease or schema carries over
        print("lease overhead …", flush=True)
        lease = lease_overhead(pg, 50 if args.quick else 500)
        print(f"  {lease}", flush=True)
    with PostgresServer() as pg:
        print("failover at 12 s blocks …", flush=True)
        blocks = failover(pg, 1 if args.quick else 5, log_dir)
    with PostgresServer() as pg:
        print("20 vaults over 2 chains …", flush=True)
        host = vaults_per_host(pg, 2 if args.quick else 10, 30.0 if args.quick else 60.0, 20.0 if args.quick else 90.0)
        print(f"  {host}", flush=True)
    if args.quick:
        return 0
    per_vault = host["cpu_cores_per_vault_mixed"]
    text = f"""# Fleet figures (`python -m bench.fleet`)

Measured on this 2-core host, shared with other work while it ran (figures are upper bounds of the cost).

## Lease overhead per tick (local PostgreSQL 16, loopback; {500} samples)

| what | p50 | p95 |
|---|---:|---:|
| renewal (`Lease.renew`, one transaction) | {lease["renew_p50_ms"]:.2f} ms | {lease["renew_p95_ms"]:.2f} ms |
| fencing check inside a write transaction | {lease["check_p50_ms"]:.2f} ms | {lease["check_p95_ms"]:.2f} ms |
| **per idle tick** (1 renewal) | **{lease["idle_tick_ms"]:.2f} ms** | |
| **per acting tick** (1 renewal + plan and transaction checks) | **{lease["acting_tick_ms"]:.2f} ms** | |

Target ≤ 2 ms per tick. Between blocks the runner renews once per poll (`network.poll_interval_s`, 1 s): 12
renewals per 12 s block, off the tick's path.

## Failover (L1-like chain, 12 s blocks, real time; ttl 15 s, margin 3 s, poll 1 s)

The leader replica SIGKILLed at a random point of a block; L1 blocks until the follower holds the lease and
ticks: {", ".join(str(b) for b in blocks)} (max **{max(blocks)}**, target ≤ 3).

## Vaults per host (20 vaults: 10 on the 12 s L1, 10 on the 2 s L2; one process, leases on PostgreSQL)

| figure | value |
|---|---:|
| steady window | {host["window_s"]:.0f} s, {host["ticks"]:.0f} ticks |
| fleet process CPU | {host["cpu_cores"]:.2f} cores |
| CPU per tick | {host["cpu_ms_per_tick"]:.0f} ms |
| CPU per vault (this 1:1 mix of 12 s and 2 s chains) | {per_vault:.3f} cores |
| blocks behind, max (L1 / L2) | {host["l1_behind_max"]:.0f} / {host["l2_behind_max"]:.0f} |
| blocks behind, mean (L2) | {host["l2_behind_mean"]:.2f} |
| worker restarts | {host["restarts"]:.0f} |

One fleet process is one Python interpreter: its workers share one core (the GIL), so a host holds about
{1 / max(per_vault, 1e-9):.0f} vaults of this mix per process at full load of that core; run one process per
chain (or per group of vaults) to use more cores. The nodes' own CPU (anvil here, a remote RPC in production)
is not counted. Ticks in the window include the fresh vaults' hedges that the shared devnet pools could not fill
(ten vaults each buying back 200 WETH through one pool: "Too little received" in simulation, backed off): the
cost of an acting tick is in the figure, the pools' depth is a devnet limit.
"""
    (HERE / "fleet-results.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
