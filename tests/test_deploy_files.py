"""The files under deploy/ stay in step with the keeper: the example config loads, the systemd unit and the
container run commands and options the CLI really has, and the container copies paths that exist."""

from __future__ import annotations

import configparser
import re
import shlex
from pathlib import Path

from typer.testing import CliRunner

from keeper.cli import app
from keeper.config import load_settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_example_config__loads_and_keeps_secrets_out() -> None:
    settings = load_settings(DEPLOY / "keeper.example.toml")
    assert settings.signer.keystore_password_env == "HV_KEEPER_KEYSTORE_PASSWORD"
    assert settings.signer.private_key_env is None
    text = (DEPLOY / "keeper.example.toml").read_text()
    assert not re.search(r"0x[0-9a-fA-F]{64}", text)  # no key material in the file


def test_systemd_unit__execstart_is_a_real_keeper_command() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read(DEPLOY / "hedgevault-keeper.service")
    argv = shlex.split(unit["Service"]["ExecStart"])
    assert argv[0].endswith("/.venv/bin/keeper")
    assert argv[1] == "run"
    help_text = CliRunner().invoke(app, ["run", "--help"]).output
    for option in (a for a in argv[2:] if a.startswith("--")):
        assert option in help_text, f"{option} is not an option of `keeper run`"
    assert unit["Service"]["KillSignal"] == "SIGTERM"
    assert "3" in unit["Service"]["RestartPreventExitStatus"].split()  # circuit breaker: no blind restart


def test_containerfile__copies_existing_paths_and_runs_the_keeper() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    root = DEPLOY.parent
    for line in text.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            sources = shlex.split(line)[1:-1]
            for source in sources:
                assert (root / source).exists(), f"Containerfile copies missing {source}"
    assert 'bin/keeper", "run"' in text
