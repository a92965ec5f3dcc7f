"""Live terminal dashboard for a running scenario (rich): market, vault, Greeks vs band, Aave health factor,
liquidation distance, venue margin, and the keeper's last actions with their gas."""

from __future__ import annotations

import math
from collections import deque
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.panel import Panel
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from sim.demo.run import StepRecord


def _num(value: float, spec: str) -> str:
    if math.isnan(value):
        return "—"
    if math.isinf(value):
        return "∞"
    return format(value, spec)


class Dashboard:
    """``with Dashboard(scenario) as dash: run_scenario(..., on_step=dash.update)``. Quiet when not a TTY
    (CI logs get one line per ~10 % of progress instead)."""

    def __init__(self, scenario: str, console: Console | None = None) -> None:
        self.scenario = scenario
        self.console = console or Console()
        self.actions: deque[str] = deque(maxlen=6)
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
        )
        self._task: TaskID | None = None
        self._label = ""
        self._live: Live | None = None
        self._last_pct = -1

    def __enter__(self) -> Dashboard:
        if self.console.is_terminal:
            self._live = Live(console=self.console, refresh_per_second=8)
            self._live.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)

    def update(self, label: str, record: StepRecord, total: int) -> None:
        if label != self._label:
            self._label = label
            self._task = self.progress.add_task(label, total=total + 1)
            self.actions.clear()
        assert self._task is not None
        self.progress.update(self._task, completed=record.point.step + 1)
        if record.actions:
            self.actions.append(f"{record.point.hours:6.2f} h  {' → '.join(record.actions)}  ({record.gas_used:,} gas)")
        if self._live is not None:
            self._live.update(self._render(record))
            return
        pct = int(100 * (record.point.step + 1) / (total + 1)) // 10 * 10
        if pct != self._last_pct:
            self._last_pct = pct
            self.console.print(
                f"{label}: {pct:3d} % · {record.point.hours:.1f} h · WETH {record.point.prices_usd['WETH']:,.0f} · "
                f"NAV {_num(record.nav_usd, ',.0f')} · HF {_num(record.health_factor, '.3f')} · {record.outcome}"
            )

    def _render(self, r: StepRecord) -> Group:
        market = Table.grid(padding=(0, 2))
        market.add_column(justify="right")
        market.add_column(justify="right")
        p = r.point
        rows = [
            ("time", f"{p.hours:.2f} h (step {p.step})"),
            ("WETH / WBTC", f"{p.prices_usd['WETH']:,.2f} / {p.prices_usd['WBTC']:,.0f}"),
            ("oracle", "live" if p.oracle_live else "[red]OUT[/red]"),
            ("vol multiplier", f"{p.vol_multiplier:.2f}×"),
            ("NAV / share price", f"{_num(r.nav_usd, ',.0f')} / {_num(r.share_price, '.6f')}"),
            ("net delta WETH", f"{_num(r.net_delta_units, '+,.2f')} (band ±{_num(r.delta_band_units, ',.2f')})"),
            (
                "net gamma / vega",
                f"{_num(r.risk.get('net_gamma_usd_per_pct:WETH', 0.0), ',.0f')} $/1% · "
                f"{_num(r.risk.get('net_vega_usd_per_vol_pt:WETH', 0.0), ',.0f')} $/pt",
            ),
            ("Aave health factor", _num(r.health_factor, ".3f")),
            ("nearest liquidation", f"{_num(100 * r.liquidation_distance_pct, '.1f')} %"),
            ("venue margin ratio", _num(r.venue_margin_ratio, ".2f")),
            ("keeper", r.outcome),
        ]
        for key, value in rows:
            market.add_row(f"[bold]{key}[/bold]", value)
        actions = "\n".join(self.actions) or "no rebalance yet"
        return Group(
            Panel(market, title=f"Hedgevault · {self.scenario} · {self._label}"),
            Panel(actions, title="last actions"),
            self.progress,
        )
