"""deploy/ for the periodic Monte Carlo stays in step with the CLI and what it writes: the systemd service runs a
real `keeper risk montecarlo` command line, the timer starts that service, the alert rules query only series a run
writes to montecarlo.prom (plus node_exporter's own file mtime), and the rules pass promtool's check and unit tests."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from keeper.cli import app

from .promtool_checks import check_rules_and_unit_tests

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SERVICE = DEPLOY / "hedgevault-montecarlo.service"
RULES = DEPLOY / "prometheus" / "hedgevault-montecarlo.rules.yml"


def unit(path: Path) -> configparser.ConfigParser:
    parsed = configparser.ConfigParser(strict=False, interpolation=None)
    parsed.read(path)
    return parsed


def service_argv() -> list[str]:
    return shlex.split(unit(SERVICE)["Service"]["ExecStart"])


def test_service__execstart_is_a_real_montecarlo_command_and_the_timer_starts_it() -> None:
    argv = service_argv()
    assert argv[0].endswith("/.venv/bin/keeper")
    assert argv[1:3] == ["risk", "montecarlo"]
    help_text = CliRunner().invoke(app, ["risk", "montecarlo", "--help"]).output
    for option in (a for a in argv[3:] if a.startswith("--")):
        assert option in help_text, f"{option} is not an option of `keeper risk montecarlo`"
    out = Path(argv[argv.index("--out") + 1])
    post = unit(SERVICE)["Service"]["ExecStartPost"]
    assert str(out / "montecarlo.prom") in post  # what the textfile collector gets is what the run wrote
    assert unit(SERVICE)["Service"]["Type"] == "oneshot"
    assert int(unit(SERVICE)["Service"]["Nice"]) == 19  # never in the keeper's way
    timer = unit(DEPLOY / "hedgevault-montecarlo.timer")
    assert timer["Timer"]["Unit"] == SERVICE.name


def test_rules__query_only_series_a_run_writes(tmp_path: Path) -> None:
    """A small run with the service's own options (the levered-long model book instead of the live vault, which
    needs a chain): every hv_ series the rules query is in its montecarlo.prom."""
    argv = service_argv()[3:]
    for option in ("--config", "--paths", "--days", "--workers", "--out"):
        i = argv.index(option)
        del argv[i : i + 2]
    result = CliRunner().invoke(
        app,
        ["risk", "montecarlo", *argv, "--paths", "8", "--days", "1", "--workers", "0", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    prom = (tmp_path / "montecarlo.prom").read_text()
    written = set(re.findall(r"^(hv_[a-z0-9_]+)\{", prom, flags=re.M))
    queried = set(re.findall(r"\b(hv_[a-z0-9_]+)", " ".join(re.findall(r"^\s*expr:(.*)$", RULES.read_text(), re.M))))
    assert queried, "the rules query no Monte Carlo series"
    assert queried <= written, f"rules query series a run does not write: {sorted(queried - written)}"
    assert 'horizon_days="1"' in prom


def test_rules__promtool_check_and_unit_tests_pass() -> None:
    check_rules_and_unit_tests(RULES, "hedgevault-montecarlo.rules.test.yml", rules_found=3)
