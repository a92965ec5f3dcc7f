"""Shared inputs for the risk tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

Options = dict[str, np.ndarray]


def _random_options(n: int, seed: int) -> Options:
    """n European options over the tested domain: moneyness ≈ 0.3–3, 1 hour – 2 years, vol 5 %–500 %,
    r −1 %–10 %, q 0–6 %, calls and puts mixed."""
    rng = np.random.default_rng(seed)
    s = 100.0 * np.exp(rng.uniform(-0.5, 0.5, n))
    return {
        "s": s,
        "k": s * np.exp(rng.uniform(-1.2, 1.1, n)),
        "t": np.exp(rng.uniform(np.log(1 / 8760), np.log(2.0), n)),
        "v": np.exp(rng.uniform(np.log(0.05), np.log(5.0), n)),
        "r": rng.uniform(-0.01, 0.10, n),
        "q": rng.uniform(0.0, 0.06, n),
        "call": rng.random(n) < 0.5,
    }


@pytest.fixture(scope="session")
def random_options() -> Callable[[int, int], Options]:
    """``random_options(n, seed)``: the same draw for the same arguments."""
    return _random_options
