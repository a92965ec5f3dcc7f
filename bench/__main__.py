"""``python -m bench``: risk-engine speed and accuracy against peers, in one run on the same inputs.

Writes bench/results.md. Peers (py_vollib_vectorized, vollib) run in bench/.venv (see requirements-peers.txt),
QuantLib, the one-pass numpy baseline and our numpy reference path in the project env. One thread everywhere
(OMP/OpenBLAS/numba threads pinned to 1; our kernels are single-threaded). Every timing is the median of
HV_BENCH_REPEAT runs (default 5; per-option Python loops: one run over 20,000 options).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench import baseline
from bench.inputs import options
from keeper.risk.black import greeks, greeks_reference, price
from keeper.risk.implied_vol import IvReason, implied_vol, implied_vol_reference
from keeper.risk.portfolio import OptionBook
from keeper.risk.stress import default_grid, grid, grid_reference

HERE = Path(__file__).resolve().parent
N = int(os.environ.get("HV_BENCH_N", "1000000"))
REPEAT = int(os.environ.get("HV_BENCH_REPEAT", "5"))
SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"}


def median_time(fn: Callable[[], object], repeat: int = REPEAT) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def quantlib_per_option(o: dict[str, np.ndarray], m: int = 20_000) -> float:
    import QuantLib as ql  # noqa: N813

    def run() -> None:
        for i in range(m):
            payoff = ql.PlainVanillaPayoff(ql.Option.Call if o["call"][i] else ql.Option.Put, float(o["k"][i]))
            df = float(np.exp(-o["r"][i] * o["t"][i]))
            calc = ql.BlackCalculator(payoff, float(o["s"][i] / df), float(o["v"][i] * np.sqrt(o["t"][i])), df)
            calc.value(), calc.delta(float(o["s"][i])), calc.gamma(float(o["s"][i])), calc.vega(float(o["t"][i]))
            calc.theta(float(o["s"][i]), float(o["t"][i])), calc.rho(float(o["t"][i]))

    return median_time(run, 1) / m


def peers(prices: np.ndarray) -> tuple[dict[str, float], np.ndarray] | None:
    python = HERE / ".venv" / "bin" / "python"
    if not python.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        prices_path, iv_path = Path(tmp) / "prices.npy", Path(tmp) / "pvv_iv.npy"
        np.save(prices_path, prices)
        out = subprocess.run(
            [str(python), str(HERE / "peers.py"), str(N), str(REPEAT), str(prices_path), str(iv_path)],
            capture_output=True,
            text=True,
            timeout=3600,
            env={**os.environ, **SINGLE_THREAD},
        )
        if out.returncode != 0:
            print(out.stderr[-2000:], file=sys.stderr)
            return None
        return json.loads(out.stdout.strip().splitlines()[-1]), np.load(iv_path)


_JIT_PROBE = """
import time
t0 = time.perf_counter()
import numpy as np
from keeper.risk.black import greeks, price
from keeper.risk.implied_vol import implied_vol
from keeper.risk.portfolio import OptionBook
from keeper.risk.stress import grid
t1 = time.perf_counter()
a = np.array([100.0, 120.0])
greeks(a, 110.0, 0.5, 0.6, 0.03, np.array([True, False]))
t2 = time.perf_counter()
price(a, 110.0, 0.5, 0.6, 0.03, np.array([True, False]))
t3 = time.perf_counter()
implied_vol(np.array([12.0, 15.0]), a, 110.0, 0.5, 0.03, np.array([True, False]))
t4 = time.perf_counter()
book = OptionBook(np.array([0, 0]), np.array([1.0, -1.0]), a, np.array([0.5, 0.5]), np.array([0.6, 0.6]),
                  np.array([True, False]))
grid(book, [100.0], 0.03, [0.0], [-0.1, 0.0, 0.1], [0.0, 0.5])
t5 = time.perf_counter()
print(t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)
"""


def jit_start() -> dict[str, list[float]]:
    """Import + first call of each kernel in a fresh process: on an empty numba cache (compiles), then again
    on the cache it left (loads). Seconds: [import, greeks, price, implied_vol, grid]."""
    result = {}
    with tempfile.TemporaryDirectory() as cache:
        for label in ("cold", "warm"):
            out = subprocess.run(
                [sys.executable, "-c", _JIT_PROBE],
                capture_output=True,
                text=True,
                timeout=900,
                env={**os.environ, **SINGLE_THREAD, "NUMBA_CACHE_DIR": cache},
                check=True,
            )
            result[label] = [float(x) for x in out.stdout.split()]
    return result


def well_posed(o: dict[str, np.ndarray], p: np.ndarray, vega: np.ndarray) -> np.ndarray:
    """The test suite's definition: rounding the price moves σ by < 1e-12, the time value is resolvable and
    not at float64's subnormal edge."""
    fwd = o["s"] * np.exp(o["r"] * o["t"])
    intrinsic = np.exp(-o["r"] * o["t"]) * np.maximum(np.where(o["call"], fwd - o["k"], o["k"] - fwd), 0.0)
    tv = p - intrinsic
    return (
        (np.finfo(float).eps * p / np.maximum(vega, 1e-300) < 1e-12)
        & (tv > 1e-10 * p)
        & (tv > np.finfo(float).tiny * 1e16)
    )


def main() -> None:
    o = options(N)
    args = (o["s"], o["k"], o["t"], o["v"], o["r"], o["call"])
    s, k, t, v, r, call = (x[:10] for x in args)
    greeks(s, k, t, v, r, call)  # compile or load the kernels before timing
    ours = median_time(lambda: greeks(*args))
    reference = median_time(lambda: greeks_reference(*args), 3)
    base = median_time(lambda: baseline.greeks(*args), 3)
    g, b = greeks(*args), baseline.greeks(*args)
    agree = max(
        float(np.max(np.abs(getattr(g, k) - b[k]) / np.maximum(np.abs(b[k]), 1e-300 + o["s"] * 1e-8))) for k in b
    )

    prices = price(*args)
    implied_vol(prices[:10], s, k, t, r, call)
    iv_args = (prices, o["s"], o["k"], o["t"], o["r"], o["call"])
    iv_time = median_time(lambda: implied_vol(*iv_args))
    iv_ref_time = median_time(lambda: implied_vol_reference(*iv_args), 3)
    iv, iv_ref = implied_vol(*iv_args), implied_vol_reference(*iv_args)
    wp = well_posed(o, prices, g.vega)
    ok = iv.reason == IvReason.OK
    err_wp = float(np.max(np.abs(iv.vol[wp & ok] - o["v"][wp & ok])))
    err_ok = float(np.max(np.abs(iv.vol[ok] - o["v"][ok])))
    ref_ok = iv_ref.reason == IvReason.OK
    ref_err_wp = float(np.max(np.abs(iv_ref.vol[wp & ref_ok] - o["v"][wp & ref_ok])))
    ql_per = quantlib_per_option(o)

    rng = np.random.default_rng(0)
    n = 10_000
    book = OptionBook(
        rng.integers(0, 2, n),
        rng.normal(0, 5, n),
        rng.uniform(1000, 90_000, n),
        rng.uniform(0.01, 1.0, n),
        rng.uniform(0.2, 1.5, n),
        rng.random(n) < 0.5,
    )
    ds, dv = default_grid()
    grid_args = (book, [3000.0, 60_000.0], 0.03, [0.0, 0.0], ds, dv)
    grid(*grid_args)
    stress_time = median_time(lambda: grid(*grid_args))
    stress_ref_time = median_time(lambda: grid_reference(*grid_args), 1)
    fast, slow = grid(*grid_args), grid_reference(*grid_args)
    grid_agree = float(np.max(np.abs(fast.pnl_usd - slow.pnl_usd)) / np.max(np.abs(slow.pnl_usd)))
    jit = jit_start()
    peer = peers(prices)

    rows = [
        ("full Greeks (price, Δ, Γ, vega, Θ, ρ, vanna, volga), hedgevault compiled", f"{N / ours / 1e6:.2f} M/s", "—"),
        (
            "same, hedgevault numpy reference path",
            f"{N / reference / 1e6:.2f} M/s",
            f"compiled {reference / ours:.1f}×",
        ),
        ("same, one-pass numpy/scipy baseline", f"{N / base / 1e6:.2f} M/s", f"compiled {base / ours:.1f}×"),
        (
            "price + 5 Greeks, QuantLib BlackCalculator (Python loop)",
            f"{1 / ql_per / 1e6:.3f} M/s",
            f"compiled {ql_per * N / ours:.0f}×",
        ),
    ]
    if peer is not None:
        p, pvv_iv = peer
        rows += [
            (
                "price + Greeks, py_vollib_vectorized (FD theta/vega)",
                f"{N / p['pvv_greeks_s'] / 1e6:.2f} M/s",
                f"compiled {p['pvv_greeks_s'] / ours:.1f}×",
            ),
            (
                "price + 5 Greeks, vollib (per option)",
                f"{1 / p['vollib_greeks_per_option_s'] / 1e6:.3f} M/s",
                f"compiled {p['vollib_greeks_per_option_s'] * N / ours:.0f}×",
            ),
        ]
    rows += [
        (
            "implied vol, hedgevault (compiled)",
            f"{N / iv_time / 1e6:.2f} M/s",
            f"max abs err {err_wp:.1e} on {(wp & ok).sum():,} well-posed; {err_ok:.1e} on all {ok.sum():,} OK; "
            f"≤ {iv.iterations} steps",
        ),
        (
            "implied vol, hedgevault numpy reference path",
            f"{N / iv_ref_time / 1e6:.2f} M/s",
            f"compiled {iv_ref_time / iv_time:.1f}×; max abs err {ref_err_wp:.1e} on well-posed",
        ),
    ]
    if peer is not None:
        finite = np.isfinite(pvv_iv)
        pvv_err_wp = float(np.max(np.abs(pvv_iv[wp & finite] - o["v"][wp & finite])))
        pvv_err = float(np.max(np.abs(pvv_iv[finite] - o["v"][finite])))
        rows.append(
            (
                "implied vol, py_vollib_vectorized (LBR), same prices",
                f"{N / p['pvv_iv_s'] / 1e6:.2f} M/s",
                f"compiled {p['pvv_iv_s'] / iv_time:.1f}×; its max abs err {pvv_err_wp:.1e} on well-posed "
                f"({(wp & ~finite).sum():,} of them NaN), {pvv_err:.1e} on all {finite.sum():,} it returns",
            )
        )
    rows += [
        (
            "stress: 10,000 positions × 231 scenarios, full revaluation with Greeks (compiled)",
            f"{stress_time:.4f} s",
            f"PnL agrees with the reference to {grid_agree:.0e} of max |PnL|",
        ),
        ("same, numpy reference path", f"{stress_ref_time:.3f} s", f"compiled {stress_ref_time / stress_time:.0f}×"),
    ]
    table = f"| benchmark ({N:,} options, one core) | throughput | comparison |\n|---|---|---|\n" + "\n".join(
        f"| {a} | {b} | {c} |" for a, b, c in rows
    )
    cold, warm = jit["cold"], jit["warm"]
    table += (
        f"\n\nGreeks agree with the baseline to {agree:.1e} relative. N = {N:,}; medians of {REPEAT} runs."
        f"\nJIT, fresh process: import {cold[0]:.2f} s; first call on an empty numba cache (compiles) greeks "
        f"{cold[1]:.2f} s, price {cold[2]:.2f} s, implied_vol {cold[3]:.2f} s, grid {cold[4]:.2f} s "
        f"(total with import {sum(cold):.1f} s); from the cache it left: import {warm[0]:.2f} s, first calls "
        f"{sum(warm[1:]):.2f} s in all."
    )
    if peer is None:
        table += "\nPeers not installed (bench/.venv): run `make bench`."
    else:
        greeks_ratio, iv_ratio = p["pvv_greeks_s"] / ours, p["pvv_iv_s"] / iv_time

        def verdict(ok: bool) -> str:
            return "**met**" if ok else "**missed**"

        table += (
            "\n\n| target | measured | |\n|---|---|---|\n"
            f"| full Greeks ≥ 40× py_vollib_vectorized | {greeks_ratio:.0f}× | {verdict(greeks_ratio >= 40)} |\n"
            f"| full Greeks ≥ 2× one-pass numpy baseline | {base / ours:.1f}× | {verdict(base / ours >= 2)} |\n"
            f"| implied vol ≥ 3× py_vollib_vectorized at max abs err ≤ 1e-10 (well-posed) | {iv_ratio:.1f}×, "
            f"{err_wp:.1e} | {verdict(iv_ratio >= 3 and err_wp <= 1e-10)} |\n"
            f"| stress grid 10,000 × 231 with Greeks ≤ 0.1 s | {stress_time:.3f} s | {verdict(stress_time <= 0.1)} |"
        )
    (HERE / "results.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
