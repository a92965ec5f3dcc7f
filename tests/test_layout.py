"""The package layout holds (docs/architecture.md): the import contracts in pyproject.toml are kept, they break on
a forbidden import, and no module imports itself through a chain of others."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

from keeper.paths import ROOT

PACKAGES = ("keeper", "adapters", "governance", "devnet", "sim", "bench")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the packages under ``root`` (put first on the path, so a copy shadows the checkout)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "from importlinter.cli import lint_imports_command; lint_imports_command()",
            "--no-cache",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_contracts__checkout__all_kept() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    statuses = _statuses(result.stdout)
    assert statuses["BROKEN"] == "", result.stdout
    assert statuses["KEPT"].count("\n") == 4, result.stdout


@pytest.mark.parametrize(
    ("importer", "imported", "contract"),
    [
        ("keeper/app/loop.py", "sim.demo.run", "never imports the demo"),
        ("keeper/app/loop.py", "governance.ops", "never imports the demo"),
        ("adapters/uniswap_v3.py", "keeper.risk.black", "Adapters speak only"),
        ("keeper/risk/black.py", "keeper.chain.rpc", "Pure layers do no I/O"),
        ("governance/ops.py", "devnet.driver", "Layers"),
        ("keeper/venue/model.py", "web3", "Pure layers do no I/O"),
    ],
)
def test_import_contracts__forbidden_import_added__contract_broken(
    tmp_path: Path, importer: str, imported: str, contract: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    path = tmp_path / importer
    path.write_text(path.read_text() + f"\nimport {imported}  # noqa\n")
    result = _lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout
    assert contract in _statuses(result.stdout)["BROKEN"], result.stdout
    assert importer.removesuffix(".py").replace("/", ".") in result.stdout


def _statuses(report: str) -> dict[str, str]:
    """Contract names by status, from lint-imports' summary (names wrap over lines there)."""
    summary = " ".join(report.split("Contracts:")[0].split("-------------------------------------")[-1].split())
    found = {"KEPT": "", "BROKEN": ""}
    for name, status in re.findall(r"(.+?) (KEPT|BROKEN)", summary):
        found[status] += name.strip() + "\n"
    return found


def _cycles(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root) & modules)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child) & modules))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_import_graph__every_package__no_cycle() -> None:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    modules = {m for m in graph.modules if m.split(".")[0] in PACKAGES}
    assert _cycles(graph, modules) == []


def test_cycle_finder__known_cycle__reported() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.z")
    graph.add_import(importer="a.z", imported="a.x")
    assert _cycles(graph, {"a.x", "a.y", "a.z"}) == [["a.x", "a.y", "a.z"]]


_SOLIDITY_DECLARATION = re.compile(r"^(?:abstract\s+)?(interface|contract|library)\s+(\w+)", re.MULTILINE)


def _misplaced_interfaces(sources: dict[str, str]) -> list[str]:
    """Interfaces declared outside contracts/interfaces/ (tests and their mocks may declare their own)."""
    return sorted(
        f"{path}: interface {name}"
        for path, text in sources.items()
        if not path.startswith(("contracts/interfaces/", "contracts/test/"))
        for kind, name in _SOLIDITY_DECLARATION.findall(text)
        if kind == "interface"
    )


def test_solidity_interfaces__checkout__all_in_interfaces_folder() -> None:
    sources = {str(p.relative_to(ROOT)): p.read_text() for p in (ROOT / "contracts").rglob("*.sol")}
    assert _misplaced_interfaces(sources) == []


def test_solidity_interfaces__one_inside_an_implementation__reported() -> None:
    sources = {
        "contracts/vault/X.sol": "contract X {}\ninterface IY {\n}\n",
        "contracts/interfaces/IZ.sol": "interface IZ {}",
    }
    assert _misplaced_interfaces(sources) == ["contracts/vault/X.sol: interface IY"]
