from __future__ import annotations

import urllib.request

from keeper.app.metrics import KeeperMetrics
from keeper.chain.anvil import free_port


def test_serve__loopback__exposes_labelled_gauges() -> None:
    metrics = KeeperMetrics()
    metrics.net_delta_usd.labels(underlying="WETH").set(-1234.5)
    metrics.health_factor.set(1.72)
    metrics.txs.labels(state="mined").inc()
    port = free_port()
    metrics.serve("127.0.0.1", port)
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'hv_net_delta_usd{underlying="WETH"} -1234.5' in body
    assert "hv_aave_health_factor 1.72" in body
    assert 'hv_transactions_total{state="mined"} 1.0' in body


def test_registry__two_instances__do_not_collide() -> None:
    first, second = KeeperMetrics(), KeeperMetrics()
    first.nav_usd.set(1.0)
    second.nav_usd.set(2.0)
    assert first.registry.get_sample_value("hv_nav_usd") == 1.0
    assert second.registry.get_sample_value("hv_nav_usd") == 2.0
