"""Differential test vectors for the venue's on-chain maths (``contracts/test/vectors/``).

- ``normal_cdf.json``: Φ(x) on [−12, 12] from mpmath at 40 digits, rounded to 1e18 fixed point.
- ``bs_prices.json``: Black-Scholes prices (no carry) from ``keeper.risk.black.price`` (double precision) over the
  issue's domain: τ 1 h–2 y, moneyness K/S 0.3–3, vol 0.05–5, rate 0–10 %, calls and puts, spots from 0.5 to
  100,000 USD. τ is given in seconds; the reference uses τ = seconds / (365 days) exactly as on-chain.

Every number is a decimal string of the on-chain integer (WAD = 1e18) so JSON readers never round it. The files
are deterministic (seeded); ``python tests/venue/vectors.py`` rewrites them and ``tests/venue/test_vectors.py``
checks the committed files match.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from keeper.paths import ROOT
from keeper.risk.black import price

VECTORS_DIR = ROOT / "contracts" / "test" / "vectors"
WAD = 10**18
YEAR_SECONDS = 365 * 86_400
SEED = 0x4856


def _wad(value: float) -> int:
    """Nearest integer of value × 1e18 (exact for the float's binary value)."""
    from fractions import Fraction

    return round(Fraction(value) * WAD)


def normal_cdf_vectors() -> dict[str, Any]:
    import mpmath

    mpmath.mp.dps = 40
    xs = [round(x * WAD) for x in np.linspace(-12.0, 12.0, 481)]
    rng = np.random.default_rng(SEED)
    xs += [round(v * 10**9) * 10**9 for v in rng.uniform(-10.0, 10.0, size=120)]
    xs += [0, 1, -1, 7_071_067_811_865_470_000, 7_071_067_811_865_469_999, 9 * WAD, -9 * WAD]
    cdf = [int(mpmath.nint(mpmath.ncdf(mpmath.mpf(x) / WAD) * WAD)) for x in xs]
    return {
        "source": "mpmath.ncdf at 40 digits, rounded to 1e18",
        "x": [str(x) for x in xs],
        "cdf": [str(c) for c in cdf],
    }


def bs_price_vectors() -> dict[str, Any]:
    rng = np.random.default_rng(SEED + 1)
    n = 400
    spots = rng.choice([0.5, 1.0, 37.25, 3_000.0, 60_000.0, 100_000.0], size=n)
    tau_s = np.round(np.exp(rng.uniform(np.log(3_600), np.log(2 * YEAR_SECONDS), n)))
    moneyness = np.exp(rng.uniform(np.log(0.3), np.log(3.0), n))
    vol = np.exp(rng.uniform(np.log(0.05), np.log(5.0), n))
    rate = rng.uniform(0.0, 0.10, n)
    is_call = rng.integers(0, 2, n).astype(bool)
    # Corners of the domain, both kinds, two spots.
    corners = [
        (s, t, m, v, r, c)
        for s in (3_000.0, 60_000.0)
        for t in (3_600.0, 2.0 * YEAR_SECONDS)
        for m in (0.3, 1.0, 3.0)
        for v in (0.05, 5.0)
        for r in (0.0, 0.1)
        for c in (True, False)
    ]
    cs = np.array(corners, dtype=object)
    spots = np.concatenate([spots, cs[:, 0].astype(float)])
    tau_s = np.concatenate([tau_s, cs[:, 1].astype(float)])
    moneyness = np.concatenate([moneyness, cs[:, 2].astype(float)])
    vol = np.concatenate([vol, cs[:, 3].astype(float)])
    rate = np.concatenate([rate, cs[:, 4].astype(float)])
    is_call = np.concatenate([is_call, cs[:, 5].astype(bool)])
    # On-chain inputs are integers: round them first and price exactly those.
    spot_w = [_wad(float(s)) for s in spots]
    strike_w = [_wad(float(s * m)) for s, m in zip(spots, moneyness, strict=True)]
    vol_w = [_wad(float(v)) for v in vol]
    rate_w = [_wad(float(r)) for r in rate]
    tau_i = [int(t) for t in tau_s]
    ref = price(
        np.array(spot_w, dtype=float) / WAD,
        np.array(strike_w, dtype=float) / WAD,
        np.array(tau_i, dtype=float) / YEAR_SECONDS,
        np.array(vol_w, dtype=float) / WAD,
        np.array(rate_w, dtype=float) / WAD,
        is_call,
    )
    return {
        "source": "keeper.risk.black.price (float64), tau = seconds / 31536000",
        "spotWad": [str(v) for v in spot_w],
        "strikeWad": [str(v) for v in strike_w],
        "tauSeconds": [str(v) for v in tau_i],
        "volWad": [str(v) for v in vol_w],
        "rateWad": [str(v) for v in rate_w],
        "isCall": [bool(c) for c in is_call],
        "priceWad": [str(_wad(float(p))) for p in ref],
    }


def render() -> dict[str, str]:
    """File name → JSON text of every vector file."""
    return {
        "normal_cdf.json": json.dumps(normal_cdf_vectors(), indent=1) + "\n",
        "bs_prices.json": json.dumps(bs_price_vectors(), indent=1) + "\n",
    }


def write(directory: Path = VECTORS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in render().items():
        path = directory / name
        path.write_text(text)
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write():
        print(f"wrote {written.relative_to(ROOT)}")
