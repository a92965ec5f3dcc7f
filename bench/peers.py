"""Timings of peer libraries, run inside bench/.venv (their old pins). Prints one JSON object.

bench/.venv/bin/python bench/peers.py N REPEAT PRICES.npy IV_OUT.npy

The options are regenerated from the same seed (bench/inputs.py). The implied-vol solver is given the same
prices as ours (PRICES.npy, written by the project env) and its vols are saved to IV_OUT.npy, so both solvers'
errors are measured on the same inputs in the caller.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from inputs import options


def median_time(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    warnings.simplefilter("ignore")  # py_vollib_vectorized warns per below-intrinsic index
    n, repeat = int(sys.argv[1]), int(sys.argv[2])
    prices = np.load(sys.argv[3])
    o = options(n)
    flags = np.where(o["call"], "c", "p")
    out: dict[str, object] = {"n": n, "repeat": repeat}
    import py_vollib_vectorized as pvv  # registers the vectorised functions

    pvv.vectorized_black_scholes(flags[:10], o["s"][:10], o["k"][:10], o["t"][:10], o["r"][:10], o["v"][:10])  # JIT
    pvv.get_all_greeks(
        flags[:10],
        o["s"][:10],
        o["k"][:10],
        o["t"][:10],
        o["r"][:10],
        o["v"][:10],
        model="black_scholes",
        return_as="dict",
    )

    def full_greeks() -> None:
        pvv.vectorized_black_scholes(flags, o["s"], o["k"], o["t"], o["r"], o["v"], return_as="numpy")
        pvv.get_all_greeks(flags, o["s"], o["k"], o["t"], o["r"], o["v"], model="black_scholes", return_as="dict")

    out["pvv_greeks_s"] = median_time(full_greeks, repeat)
    pvv.vectorized_implied_volatility(
        prices[:10], o["s"][:10], o["k"][:10], o["t"][:10], o["r"][:10], flags[:10], return_as="numpy"
    )

    def solve() -> np.ndarray:
        return pvv.vectorized_implied_volatility(prices, o["s"], o["k"], o["t"], o["r"], flags, return_as="numpy")

    out["pvv_iv_s"] = median_time(solve, repeat)
    np.save(sys.argv[4], np.asarray(solve(), dtype=np.float64))

    from py_vollib.black_scholes import black_scholes as vollib_price
    from py_vollib.black_scholes.greeks.analytical import delta, gamma, rho, theta, vega

    m = min(n, 20_000)

    def vollib_all() -> None:
        for i in range(m):
            args = (flags[i], o["s"][i], o["k"][i], o["t"][i], o["r"][i], o["v"][i])
            vollib_price(*args), delta(*args), gamma(*args), vega(*args), theta(*args), rho(*args)

    out["vollib_greeks_per_option_s"] = median_time(vollib_all, 1) / m
    print(json.dumps(out))


if __name__ == "__main__":
    main()
