"""Timings of peer libraries, run inside bench/.venv (their old pins). Prints one JSON object.

bench/.venv/bin/python bench/peers.py N
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from inputs import options


def best(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    warnings.simplefilter("ignore")  # py_vollib_vectorized warns per below-intrinsic index
    n = int(sys.argv[1])
    o = options(n)
    flags = np.where(o["call"], "c", "p")
    out: dict[str, object] = {"n": n}
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

    out["pvv_greeks_s"] = best(full_greeks)
    prices = pvv.vectorized_black_scholes(flags, o["s"], o["k"], o["t"], o["r"], o["v"], return_as="numpy")
    pvv.vectorized_implied_volatility(
        prices[:10], o["s"][:10], o["k"][:10], o["t"][:10], o["r"][:10], flags[:10], return_as="numpy"
    )
    out["pvv_iv_s"] = best(
        lambda: pvv.vectorized_implied_volatility(prices, o["s"], o["k"], o["t"], o["r"], flags, return_as="numpy")
    )
    iv = pvv.vectorized_implied_volatility(prices, o["s"], o["k"], o["t"], o["r"], flags, return_as="numpy")
    ok = np.isfinite(iv)
    out["pvv_iv_max_abs_err"] = float(np.max(np.abs(iv[ok] - o["v"][ok])))
    out["pvv_iv_solved"] = int(ok.sum())

    from py_vollib.black_scholes import black_scholes as vollib_price
    from py_vollib.black_scholes.greeks.analytical import delta, gamma, rho, theta, vega

    m = min(n, 20_000)

    def vollib_all() -> None:
        for i in range(m):
            args = (flags[i], o["s"][i], o["k"][i], o["t"][i], o["r"][i], o["v"][i])
            vollib_price(*args), delta(*args), gamma(*args), vega(*args), theta(*args), rho(*args)

    out["vollib_greeks_per_option_s"] = best(vollib_all, 1) / m
    print(json.dumps(out))


if __name__ == "__main__":
    main()
