"""The committed differential-test vectors are what the generator produces, and they cover the domain.

"What the generator produces" is to the last few ulps, not to the bit: numpy's exp/log (the sampled strikes and
vols) and the double-precision reference price take CPU-dependent SIMD paths (AVX2 vs AVX-512 differ by an ulp,
and a deep out-of-the-money price amplifies that to ~4e-13 of itself, 1e-15 of spot). The forge tests read the
committed files, so they are self-consistent on any machine; this test catches a stale file (another domain, seed
or formula), which moves numbers by far more than the tolerance."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .vectors import VECTORS_DIR, YEAR_SECONDS, render

REL_TOL = 1e-12  # of the number itself, or for a price of the spot (above)


def assert_matches(name: str, committed_text: str, fresh_text: str) -> None:
    committed, fresh = json.loads(committed_text), json.loads(fresh_text)
    stale = f"{name} is stale: run `make venue-vectors` and commit contracts/test/vectors/"
    assert committed.keys() == fresh.keys(), stale
    for key, old in committed.items():
        new = fresh[key]
        if not (isinstance(old, list) and old and isinstance(old[0], str) and old[0].lstrip("-").isdigit()):
            assert old == new, f"{stale} ({key})"
            continue
        assert len(old) == len(new), f"{stale} ({key}: {len(old)} vs {len(new)} entries)"
        scale = committed.get("spotWad") if key == "priceWad" else None
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            x, y = int(a), int(b)
            bound = REL_TOL * max(abs(x), int(scale[i]) if scale else 0)
            assert abs(x - y) <= bound, f"{stale} ({key}[{i}]: {x} vs {y})"


def test_vectors__regenerated__match_committed_files() -> None:
    for name, text in render().items():
        assert_matches(name, (VECTORS_DIR / name).read_text(), text)


def test_vectors__comparison__catches_a_price_moved_by_1e9_of_itself() -> None:
    text = (VECTORS_DIR / "bs_prices.json").read_text()
    v = json.loads(text)
    i = max(range(len(v["priceWad"])), key=lambda k: int(v["priceWad"][k]))
    v["priceWad"][i] = str(int(v["priceWad"][i]) + int(v["priceWad"][i]) // 10**9)
    with pytest.raises(AssertionError, match=r"priceWad\["):
        assert_matches("bs_prices.json", text, json.dumps(v))
    assert_matches("bs_prices.json", text, text)


def test_price_vectors__domain__spans_issue_bounds() -> None:
    v = json.loads((VECTORS_DIR / "bs_prices.json").read_text())
    spot = np.array([int(x) for x in v["spotWad"]], dtype=float)
    moneyness = np.array([int(x) for x in v["strikeWad"]], dtype=float) / spot
    tau = np.array([int(x) for x in v["tauSeconds"]], dtype=float) / YEAR_SECONDS
    vol = np.array([int(x) for x in v["volWad"]], dtype=float) / 1e18
    assert moneyness.min() <= 0.3 + 1e-9
    assert moneyness.max() >= 3.0 - 1e-9
    assert tau.min() <= 3_600 / YEAR_SECONDS + 1e-12
    assert tau.max() >= 2.0 - 1e-9
    assert vol.min() <= 0.05 + 1e-12
    assert vol.max() >= 5.0 - 1e-12
    assert set(v["isCall"]) == {True, False}
