"""deploy/ for a fleet stays in step with what the fleet exports: the alert rules pass ``promtool check rules`` and
their unit tests, every series the rules and the Grafana dashboard query is one the fleet's endpoint serves, and
the systemd unit runs a real ``keeper fleet run`` command."""

from __future__ import annotations

import configparser
import json
import re
import shlex
from pathlib import Path
from types import SimpleNamespace

from typer.testing import CliRunner

from keeper.app.metrics import KeeperMetrics
from keeper.cli import app
from keeper.fleet.metrics import FleetCollector
from keeper.fleet.view import VaultView, aggregate

from ..promtool_checks import check_rules_and_unit_tests

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "hedgevault.rules.yml"
DASHBOARD = DEPLOY / "grafana" / "hedgevault-fleet.json"


def exported_names() -> set[str]:
    """Every sample name a fleet endpoint serves: a worker's keeper metrics (set so that labelled families
    show) and the fleet's own series, through the real collector."""
    metrics = KeeperMetrics()
    metrics.observe_risk({"net_delta_usd:WETH": 1.0, "health_factor": 2.0, "oracle_age_seconds:WETH": 1.0})
    metrics.tick_seconds.observe(0.1)
    metrics.alerts.labels(kind="x").inc()
    metrics.rpc_errors.labels(kind="x").inc()
    metrics.txs.labels(state="x").inc()
    worker = SimpleNamespace(name="v", chain="l1", state="leading", restarts=0, rpc_switches=0)
    worker.registry = lambda: metrics.registry
    view = VaultView("v", "l1", 1, "leading", 1, nav_usd=1.0, health_factor=2.0, liquidation_distance_pct=0.5,
                     stress_worst_loss_usd=1.0, greeks={"WETH": dict.fromkeys(("net_delta_usd",), 1.0)})  # fmt: skip
    import numpy as np

    view.stress_pnl_usd, view.spot_shocks, view.vol_shocks = np.array([[-1.0]]), np.array([-0.1]), np.array([0.0])
    collector = FleetCollector(lambda: [worker], lambda: aggregate([view]))
    return {s.name for family in collector.collect() for s in family.samples} | {"up"}


def queried_names(text: str) -> set[str]:
    names = set(re.findall(r"\b(hv_[a-z0-9_]+)", text))
    return names | ({"up"} if re.search(r"\bup\{", text) else set())


def test_rules_and_dashboard__query_only_series_the_fleet_exports() -> None:
    exported = exported_names()
    rules = " ".join(re.findall(r"^\s*expr:(.*)$", RULES.read_text(), flags=re.M))
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    exprs += " ".join(v.get("query", "") for v in dashboard["templating"]["list"])
    for where, text in (("rules", rules), ("dashboard", exprs)):
        missing = queried_names(text) - exported
        assert not missing, f"{where} query series nobody exports: {sorted(missing)}"
    assert {"hv_fleet_stress_worst_loss_usd", "hv_leader", "hv_aave_health_factor"} <= queried_names(exprs)


def test_rules__promtool_check_and_unit_tests_pass() -> None:
    check_rules_and_unit_tests(RULES, "hedgevault.rules.test.yml", rules_found=11)


def test_fleet_unit__execstart_is_a_real_fleet_command() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(DEPLOY / "hedgevault-fleet.service")
    argv = shlex.split(unit["Service"]["ExecStart"])
    assert argv[0].endswith("/.venv/bin/keeper")
    assert argv[1:3] == ["fleet", "run"]
    help_text = CliRunner().invoke(app, ["fleet", "run", "--help"]).output
    for option in (a for a in argv[3:] if a.startswith("--")):
        assert option in help_text, f"{option} is not an option of `keeper fleet run`"
    assert "2" in unit["Service"]["RestartPreventExitStatus"].split()  # a refused fleet file: no blind retry
