"""Shared by the deploy/ tests: run promtool's rule check and the rules' unit tests (promtool is unpacked from
Debian's prometheus package by tools/setup.sh; the test is skipped, saying so, where apt could not fetch it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def promtool() -> str | None:
    bundled = ROOT / ".tools/prometheus/usr/bin/promtool"
    return str(bundled) if bundled.is_file() else shutil.which("promtool")


def check_rules_and_unit_tests(rules: Path, unit_tests: str, rules_found: int) -> None:
    """``promtool check rules`` finds ``rules_found`` rules in ``rules``; ``promtool test rules`` on ``unit_tests``
    (beside it) passes."""
    tool = promtool()
    if tool is None:
        pytest.skip("promtool not found: tools/setup.sh unpacks Debian's prometheus package where apt can fetch it")
    check = subprocess.run([tool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"SUCCESS: {rules_found} rules found" in check.stdout, check.stdout
    unit = subprocess.run(
        [tool, "test", "rules", unit_tests], cwd=rules.parent, capture_output=True, text=True, timeout=60
    )
    assert unit.returncode == 0, unit.stdout + unit.stderr
