"""The benchmark's inputs, generated identically in the project env and the peers' env (same seed, numpy)."""

from __future__ import annotations

import numpy as np


def options(n: int, seed: int = 20261124) -> dict[str, np.ndarray]:
    """n European options over the realistic domain: 1 h–2 y, moneyness 0.5–2, vol 0.1–1.5, r 0–8 %."""
    rng = np.random.default_rng(seed)
    s = 100.0 * np.exp(rng.uniform(-0.3, 0.3, n))
    return {
        "s": s,
        "k": s * np.exp(rng.uniform(-0.69, 0.69, n)),
        "t": np.exp(rng.uniform(np.log(1 / 8760), np.log(2.0), n)),
        "v": rng.uniform(0.1, 1.5, n),
        "r": rng.uniform(0.0, 0.08, n),
        "call": rng.random(n) < 0.5,
    }
