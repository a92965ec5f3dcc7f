"""The committed differential-test vectors are exactly what the generator produces, and they cover the domain."""

from __future__ import annotations

import json

import numpy as np

from .vectors import VECTORS_DIR, YEAR_SECONDS, render


def test_vectors__regenerated__match_committed_files() -> None:
    for name, text in render().items():
        committed = (VECTORS_DIR / name).read_text()
        assert committed == text, f"{name} is stale: run `make venue-vectors` and commit contracts/test/vectors/"


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
