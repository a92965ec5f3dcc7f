"""The fleet's Prometheus endpoint: every worker's keeper metrics with ``vault`` and ``chain`` labels added, and
the fleet's own series (worker state, restarts, the aggregated risk view).

Each keeper keeps its own registry (``keeper.app.metrics.KeeperMetrics``); :class:`FleetCollector` re-emits
their samples with the vault's labels at scrape time, so one scrape sees the whole host.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from keeper.fleet.view import GREEKS, FleetView

STATES = ("leading", "following", "starting", "restarting", "down", "stopped")


class FleetCollector(Collector):
    def __init__(self, workers: Callable[[], Iterable[Any]], view: Callable[[], FleetView]) -> None:
        self._workers, self._view = workers, view

    def collect(self) -> Iterator[Metric]:
        workers = list(self._workers())
        merged: dict[str, Metric] = {}
        for w in workers:
            registry = w.registry()
            if registry is None:
                continue
            for family in registry.collect():
                out = merged.get(family.name)
                if out is None:
                    out = merged[family.name] = Metric(family.name, family.documentation, family.type, family.unit)
                for s in family.samples:
                    labels = {**s.labels, "vault": w.name, "chain": w.chain}
                    out.add_sample(s.name, labels, s.value, s.timestamp, s.exemplar)
        yield from merged.values()

        state = GaugeMetricFamily(
            "hv_fleet_worker_state", "1 for the worker's current state", labels=["vault", "chain", "state"]
        )
        restarts = CounterMetricFamily(
            "hv_fleet_worker_restarts", "Worker restarts after a crash", labels=["vault", "chain"]
        )
        rpc = CounterMetricFamily("hv_fleet_rpc_failovers", "Switches to another RPC URL", labels=["vault", "chain"])
        for w in workers:
            for s in STATES:
                state.add_metric([w.name, w.chain, s], 1.0 if w.state == s else 0.0)
            restarts.add_metric([w.name, w.chain], float(w.restarts))
            rpc.add_metric([w.name, w.chain], float(w.rpc_switches))
        yield from (state, restarts, rpc)

        view = self._view()
        doc = "Fleet {} per underlying, summed over vaults and chains"
        per = {g: GaugeMetricFamily(f"hv_fleet_{g}", doc.format(g), labels=["underlying"]) for g in GREEKS}
        for underlying, greeks in view.net.items():
            for g in GREEKS:
                per[g].add_metric([underlying], greeks[g])
        yield from per.values()
        for name, text, value in (
            ("hv_fleet_nav_usd", "NAV of every vault, USD", view.nav_usd),
            ("hv_fleet_stress_worst_loss_usd", "Worst loss of the summed stress grid", view.worst_stress_loss_usd),
            ("hv_fleet_stress_sum_of_worst_usd", "Sum of the vaults' own worst stress losses", view.sum_of_worst_usd),
            ("hv_fleet_min_health_factor", "Lowest Aave health factor over the vaults", view.min_health_factor),
            ("hv_fleet_nearest_liquidation_ratio", "Nearest liquidation move, fraction", view.nearest_liquidation_pct),
            ("hv_fleet_vaults", "Vaults in the fleet file", float(len(workers))),
        ):
            if not math.isnan(value):
                yield GaugeMetricFamily(name, text, value=value)


def serve(collector: FleetCollector, host: str, port: int) -> Any:
    """Serve the collector on ``host:port``; returns the HTTP server (``shutdown()`` stops it)."""
    registry = CollectorRegistry()
    registry.register(collector)
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server
