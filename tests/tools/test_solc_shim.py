"""The solc-js shim behaves like the native solc CLI for the calls forge makes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from keeper.paths import NODE_MODULES, ROOT

SHIM = ROOT / "tools" / "solc"


def run(*args: str, stdin: str | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(SHIM), *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=120)


def test_version__native_format__as_native_solc_prints_it() -> None:
    out = run("--version")
    assert out.returncode == 0
    assert out.stdout.splitlines() == [
        "solc, the solidity compiler commandline interface",
        "Version: 0.8.28+commit.7893614a.Linux.g++",
    ]


def test_unknown_flag__rejected__lists_supported_flags() -> None:
    out = run("--frobnicate")
    assert out.returncode == 1
    assert "unsupported option --frobnicate" in out.stderr
    assert "--standard-json" in out.stderr


def test_cli_compile__type_error__shown_as_solc_shows_it(tmp_path: Path) -> None:
    source = tmp_path / "Bad.sol"
    source.write_text('// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\ncontract B { uint x = "s"; }\n')
    out = run(str(source), "--bin")
    assert out.returncode == 1
    assert "TypeError: Type literal_string" in out.stderr
    assert f"--> {source}:3:" in out.stderr
    assert not out.stdout.lstrip().startswith("{")


def test_standard_json__imports_via_include_path__large_output_not_truncated(tmp_path: Path) -> None:
    source = (
        "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\n"
        'import "@openzeppelin/contracts/token/ERC20/ERC20.sol";\n'
        'contract Token is ERC20 { constructor() ERC20("T", "T") {} }\n'
    )
    request = {
        "language": "Solidity",
        "sources": {"Token.sol": {"content": source}},
        "settings": {"outputSelection": {"*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode"]}}},
    }
    out = run(
        "--standard-json",
        "--base-path",
        str(tmp_path),
        "--include-path",
        str(NODE_MODULES),
        stdin=json.dumps(request),
    )
    assert out.returncode == 0, out.stderr
    assert len(out.stdout) > 128 * 1024  # past the size where an early exit used to truncate
    result = json.loads(out.stdout)
    assert not [e for e in result.get("errors", []) if e["severity"] == "error"]
    assert result["contracts"]["Token.sol"]["Token"]["evm"]["bytecode"]["object"]


def test_standard_json__empty_stdin__clear_error() -> None:
    out = run("--standard-json", stdin="")
    assert out.returncode == 1
    assert "expects the compiler input JSON on stdin" in out.stderr


@pytest.mark.parametrize("flag", ["--base-path", "--include-path"])
def test_value_flag__missing_value__names_flag(flag: str) -> None:
    out = run("--standard-json", flag)
    assert out.returncode == 1
    assert f"option {flag} needs a value" in out.stderr
