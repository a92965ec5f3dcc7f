"""The Dask engine: a job cut into chunks of paths, run on a ``LocalCluster`` (one single-threaded worker process
per core, on loopback, no dashboard port) or on a running scheduler (``tcp://HOST:8786``), reduced in the client.

Only per-path outcomes and histograms come back (``ChunkResult``); the paths stay on the workers. Chunk results
are merged in path order, so the outcome is the same bits whichever worker ran which chunk, and the same as
``workers=0`` (everything in this process: the reference the tests compare against).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from sim.montecarlo.job import ChunkResult, Job, chunk_paths, run_chunk
from sim.montecarlo.reduce import merge

Progress = Callable[[int, int], None]  # (paths done, paths total)


@dataclass(frozen=True)
class EngineRun:
    result: ChunkResult
    seconds: float
    workers: int
    chunks: int
    where: str  # "in-process", "LocalCluster(2)", or the scheduler address


def chunks_of(job: Job, per_chunk: int) -> list[tuple[int, int]]:
    return [(first, min(per_chunk, job.paths - first)) for first in range(0, job.paths, per_chunk)]


def run(
    job: Job,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    per_chunk: int | None = None,
    progress: Progress | None = None,
) -> EngineRun:
    """Run ``job``: ``workers=0`` in this process; else on ``scheduler`` if given, or a LocalCluster of ``workers``
    processes (default: one per core)."""
    t0 = time.perf_counter()
    if workers == 0 and scheduler is None:
        plan = chunks_of(job, per_chunk or chunk_paths(job, 1))
        results = []
        for first, n in plan:
            results.append(run_chunk(job, first, n))
            if progress is not None:
                progress(first + n, job.paths)
        return EngineRun(merge(results), time.perf_counter() - t0, 0, len(plan), "in-process")
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        n_workers = workers or os.cpu_count() or 1
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            scheduler_port=0,
            dashboard_address=None,
        )
        client = Client(cluster)
        where = f"LocalCluster({n_workers})"
    else:
        client = Client(scheduler, timeout="20s")
        where = scheduler
    try:
        n_workers = len(client.scheduler_info()["workers"]) or 1
        plan = chunks_of(job, per_chunk or chunk_paths(job, n_workers))
        job_future = client.scatter(job, broadcast=True)
        futures = [client.submit(run_chunk, job_future, first, n, pure=False) for first, n in plan]
        results, done = [], 0
        for future in as_completed(futures):
            chunk = future.result()
            results.append(chunk)
            done += chunk.final_nav_ratio.size
            if progress is not None:
                progress(done, job.paths)
        return EngineRun(merge(results), time.perf_counter() - t0, n_workers, len(plan), where)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
