"""Prometheus metrics for the keeper, in a registry of its own, served on loopback only.

Names follow Prometheus conventions with units as suffixes (``_usd``, ``_seconds``, ``_ratio``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


@dataclass
class KeeperMetrics:
    """Every metric the keeper exports. Create one per process; ``serve()`` exposes it."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.net_delta_units = Gauge(
            "hv_net_delta_units", "Net delta per underlying, in underlying units", ["underlying"], registry=r
        )
        self.net_delta_usd = Gauge("hv_net_delta_usd", "Net delta per underlying, USD", ["underlying"], registry=r)
        self.net_gamma_usd = Gauge(
            "hv_net_gamma_usd_per_pct", "Net gamma, USD of delta per 1% move", ["underlying"], registry=r
        )
        self.net_vega_usd = Gauge(
            "hv_net_vega_usd_per_vol_pt", "Net vega, USD per vol point", ["underlying"], registry=r
        )
        self.net_theta_usd = Gauge("hv_net_theta_usd_per_day", "Net theta, USD per day", ["underlying"], registry=r)
        self.delta_band_usd = Gauge(
            "hv_delta_band_usd", "Half-width of the no-trade delta band, USD", ["underlying"], registry=r
        )
        self.delta_deviation_usd = Gauge(
            "hv_delta_deviation_usd",
            "Net delta minus its target, USD (the band is centred on the target)",
            ["underlying"],
            registry=r,
        )
        self.delta_inside_band = Gauge(
            "hv_delta_inside_band", "1 when the delta rule found net delta inside its band", ["underlying"], registry=r
        )
        self.health_factor = Gauge("hv_aave_health_factor", "Aave health factor of the vault", registry=r)
        self.liquidation_distance = Gauge(
            "hv_liquidation_distance_ratio", "Nearest liquidation as a fraction of spot", registry=r
        )
        self.liquidation_distance_sigma = Gauge(
            "hv_liquidation_distance_sigma", "Nearest liquidation in forecast-vol sigmas", registry=r
        )
        self.venue_margin_ratio = Gauge("hv_venue_margin_ratio", "Venue collateral / maintenance margin", registry=r)
        self.venue_pool_haircut = Gauge(
            "hv_venue_pool_haircut",
            "Share of what the venue's pool owes longs that it cannot pay (0 while solvent; the NAV counts the rest)",
            registry=r,
        )
        self.nav_usd = Gauge("hv_nav_usd", "Vault NAV, USD", registry=r)
        self.share_price = Gauge("hv_share_price", "Assets per share", registry=r)
        self.stress_worst_loss_usd = Gauge("hv_stress_worst_loss_usd", "Worst stress-scenario loss, USD", registry=r)
        self.tick_seconds = Histogram(
            "hv_tick_seconds",
            "Tick latency",
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.blocks_behind = Gauge("hv_blocks_behind", "Head block minus the last processed block", registry=r)
        self.leader = Gauge(
            "hv_leader", "1 while this replica holds the vault's lease (always 1 without one)", registry=r
        )
        self.seconds_since_hedge = Gauge(
            "hv_seconds_since_last_hedge", "Seconds since the last confirmed hedge", registry=r
        )
        self.rpc_errors = Counter("hv_rpc_errors", "RPC errors", ["kind"], registry=r)
        self.txs = Counter("hv_transactions", "Transactions by final state", ["state"], registry=r)
        self.keeper_balance_eth = Gauge("hv_keeper_balance_eth", "Keeper account balance, ETH", registry=r)
        self.keeper_balance_low = Gauge(
            "hv_keeper_balance_low", "1 when the keeper balance is below the alert", registry=r
        )
        self.consecutive_failures = Gauge("hv_consecutive_failures", "Consecutive failed ticks", registry=r)
        self.alerts = Counter("hv_alerts", "Conditions an operator must look at, by kind", ["kind"], registry=r)
        self.oracle_age_seconds = Gauge(
            "hv_oracle_age_seconds", "Age of each oracle answer at the processed block", ["feed"], registry=r
        )
        self.forecast_vol = Gauge(
            "hv_forecast_vol",
            "Forecast vol over the tail horizon (GARCH(1,1), EWMA fallback), annualised",
            ["underlying"],
            registry=r,
        )
        self.regime_high_vol_probability = Gauge(
            "hv_regime_high_vol_probability", "Filtered P(high-vol regime), two-state Markov switching", registry=r
        )
        self.tail_worst_loss_usd = Gauge(
            "hv_tail_worst_loss_usd", "Worst stress loss over the tail horizon once the plan is done, USD", registry=r
        )
        self.tail_budget_usd = Gauge("hv_tail_budget_usd", "Tail-loss budget (tail_budget_pct of NAV), USD", registry=r)
        self.venue_margin_ratio.set(float("nan"))
        self.regime_high_vol_probability.set(float("nan"))

    def observe_risk(self, risk: Mapping[str, float]) -> None:
        """Set the risk gauges from a tick's risk summary (keys ``name`` or ``name:UNDERLYING``)."""
        per_underlying = {
            "net_delta_units": self.net_delta_units,
            "net_delta_usd": self.net_delta_usd,
            "net_gamma_usd_per_pct": self.net_gamma_usd,
            "net_vega_usd_per_vol_pt": self.net_vega_usd,
            "net_theta_usd_per_day": self.net_theta_usd,
            "delta_band_usd": self.delta_band_usd,
            "delta_deviation_usd": self.delta_deviation_usd,
            "delta_inside_band": self.delta_inside_band,
            "oracle_age_seconds": self.oracle_age_seconds,
            "forecast_vol_annual": self.forecast_vol,
        }
        single = {
            "health_factor": self.health_factor,
            "liquidation_distance_pct": self.liquidation_distance,
            "liquidation_distance_sigma": self.liquidation_distance_sigma,
            "venue_margin_ratio": self.venue_margin_ratio,
            "venue_pool_haircut": self.venue_pool_haircut,
            "stress_worst_loss_usd": self.stress_worst_loss_usd,
            "regime_high_vol_probability": self.regime_high_vol_probability,
            "tail_worst_loss_usd": self.tail_worst_loss_usd,
            "tail_budget_usd": self.tail_budget_usd,
        }
        for key, value in risk.items():
            name, _, label = key.partition(":")
            if label and name in per_underlying:
                per_underlying[name].labels(label).set(value)
            elif name in single:
                single[name].set(value)

    def serve(self, host: str = "127.0.0.1", port: int = 9464) -> None:
        """Expose ``/metrics`` on ``host:port`` (loopback by configuration) in a daemon thread."""
        start_http_server(port, addr=host, registry=self.registry)
