"""Build-level properties of the venue: one storage layout for the three facets, every revert decodable."""

from __future__ import annotations

import json
import re

from devnet.venue_reads import revert_decoder
from keeper.paths import FORGE_OUT


def _layout(name: str) -> list[tuple[str, str, int, str]]:
    """Label, slot, offset and type of every storage variable. Type ids embed AST node ids
    (``t_struct(Account)4312_storage``), which differ between compilation jobs of an incremental build: stripped."""
    data = json.loads((FORGE_OUT / f"{name}.sol" / f"{name}.json").read_text())
    return [
        (s["label"], s["slot"], s["offset"], re.sub(r"\)\d+", ")", s["type"])) for s in data["storageLayout"]["storage"]
    ]


def test_storage_layout__three_facets__identical() -> None:
    core = _layout("OptionMarket")
    assert len(core) > 15
    assert _layout("OptionMarketViews") == core
    assert _layout("OptionMarketGovernance") == core


def test_revert_decoder__venue_abis__know_every_error() -> None:
    decoder = revert_decoder()
    known = {e.name for e in decoder._errors.values()}
    iface = json.loads((FORGE_OUT / "IOptionMarket.sol" / "IOptionMarket.json").read_text())["abi"]
    ours = {item["name"] for item in iface if item["type"] == "error"}
    assert len(ours) >= 30
    assert ours <= known
    assert {"EnforcedPause", "AccessControlUnauthorizedAccount", "SafeERC20FailedOperation", "RoundNotFound"} <= known
