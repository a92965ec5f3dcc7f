"""Compiled contracts: the one place the Python side gets ABIs and bytecode.

Sources of truth:
- the project's own contracts: forge's build in ``out/`` (``make build``), compiled by the solc-js
  shim with the settings in ``foundry.toml``;
- third-party protocols (Aave v3, Uniswap v3): the hardhat artifacts shipped in their npm packages,
  deployed byte-for-byte as published.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from keeper.model.exceptions import ArtifactNotFoundError, LinkError
from keeper.paths import FORGE_OUT, NODE_MODULES

LinkReferences = dict[str, dict[str, list[dict[str, int]]]]


@dataclass(frozen=True)
class Artifact:
    """ABI and bytecode of one contract. Bytecode is hex with a ``0x`` prefix, possibly unlinked."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    link_references: LinkReferences = field(default_factory=dict)

    @property
    def needs_linking(self) -> bool:
        return any(self.link_references.values())

    def linked(self, libraries: dict[str, str]) -> str:
        """Creation bytecode with every library placeholder replaced.

        ``libraries`` maps a library name (``"BorrowLogic"``) or a fully qualified
        ``"path/File.sol:Name"`` to its deployed address.
        """
        return link_bytecode(self.bytecode, self.link_references, libraries)


def link_bytecode(bytecode: str, link_references: LinkReferences, libraries: dict[str, str]) -> str:
    """Replace library placeholders at the byte offsets given by ``link_references``."""
    code = bytecode.removeprefix("0x")
    for source, libs in link_references.items():
        for lib_name, spots in libs.items():
            address = libraries.get(f"{source}:{lib_name}") or libraries.get(lib_name)
            if address is None:
                raise LinkError(
                    f"library {lib_name} ({source}) has no address; pass it in libraries={{'{lib_name}': addr}}"
                )
            hex_address = address.lower().removeprefix("0x")
            if len(hex_address) != 40:
                raise LinkError(f"library {lib_name}: address {address!r} is not 20 bytes")
            for spot in spots:
                start = 2 * spot["start"]
                code = code[:start] + hex_address + code[start + 2 * spot["length"] :]
    if "__$" in code:
        raise LinkError("bytecode still holds unlinked placeholders after linking; a library is missing")
    return "0x" + code


@cache
def forge_artifact(name: str, source: str | None = None) -> Artifact:
    """The project's contract ``name`` from forge's ``out/<source or name>.sol/<name>.json``."""
    path = FORGE_OUT / f"{source or name}.sol" / f"{name}.json"
    if not path.is_file():
        raise ArtifactNotFoundError(f"no forge artifact for {name} at {path}; run `make build` first")
    data = json.loads(path.read_text())
    return Artifact(
        name=name,
        abi=data["abi"],
        bytecode=data["bytecode"]["object"],
        deployed_bytecode=data["deployedBytecode"]["object"],
        link_references=data["bytecode"].get("linkReferences", {}),
    )


@cache
def npm_artifact(relative_path: str) -> Artifact:
    """A hardhat artifact shipped in an npm package, e.g.
    ``"@aave/core-v3/artifacts/contracts/protocol/pool/Pool.sol/Pool.json"``."""
    path = NODE_MODULES / relative_path
    if not path.is_file():
        raise ArtifactNotFoundError(f"no npm artifact at {path}; run `npm ci` (or `make setup`) first")
    data = json.loads(path.read_text())
    return Artifact(
        name=data.get("contractName", path.stem),
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data.get("deployedBytecode", "0x"),
        link_references=data.get("linkReferences", {}),
    )
