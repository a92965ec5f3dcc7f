"""``python -m bench``: risk-engine speed and accuracy against peers, in one run on the same inputs.

Writes bench/results.md. Peers (py_vollib_vectorized, vollib) run in bench/.venv (see requirements-peers.txt),
QuantLib and the baseline in the project env. Single-threaded figures (OMP/MKL threads pinned to 1).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench import baseline
from bench.inputs import options
from keeper.risk.black import greeks
from keeper.risk.implied_vol import IvReason, implied_vol
from keeper.risk.portfolio import OptionBook
from keeper.risk.stress import default_grid, grid_pnl

HERE = Path(__file__).resolve().parent
N = int(os.environ.get("HV_BENCH_N", "1000000"))


def best(fn: Callable[[], object], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def quantlib_per_option(o: dict[str, np.ndarray], m: int = 20_000) -> float:
    import QuantLib as ql  # noqa: N813

    def run() -> None:
        for i in range(m):
            payoff = ql.PlainVanillaPayoff(ql.Option.Call if o["call"][i] else ql.Option.Put, float(o["k"][i]))
            df = float(np.exp(-o["r"][i] * o["t"][i]))
            calc = ql.BlackCalculator(payoff, float(o["s"][i] / df), float(o["v"][i] * np.sqrt(o["t"][i])), df)
            calc.value(), calc.delta(float(o["s"][i])), calc.gamma(float(o["s"][i])), calc.vega(float(o["t"][i]))
            calc.theta(float(o["s"][i]), float(o["t"][i])), calc.rho(float(o["t"][i]))

    return best(run, 1) / m


def peers() -> dict[str, float] | None:
    python = HERE / ".venv" / "bin" / "python"
    if not python.exists():
        return None
    out = subprocess.run(
        [str(python), str(HERE / "peers.py"), str(N)],
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "OMP_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1"},
    )
    if out.returncode != 0:
        print(out.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    o = options(N)
    ours = best(lambda: greeks(o["s"], o["k"], o["t"], o["v"], o["r"], o["call"]))
    base = best(lambda: baseline.greeks(o["s"], o["k"], o["t"], o["v"], o["r"], o["call"]))
    g, b = (
        greeks(o["s"], o["k"], o["t"], o["v"], o["r"], o["call"]),
        baseline.greeks(o["s"], o["k"], o["t"], o["v"], o["r"], o["call"]),
    )
    agree = max(
        float(np.max(np.abs(getattr(g, k) - b[k]) / np.maximum(np.abs(b[k]), 1e-300 + o["s"] * 1e-8))) for k in b
    )
    from keeper.risk.black import price

    prices = price(o["s"], o["k"], o["t"], o["v"], o["r"], o["call"])
    iv_time = best(lambda: implied_vol(prices, o["s"], o["k"], o["t"], o["r"], o["call"]), 1)
    iv = implied_vol(prices, o["s"], o["k"], o["t"], o["r"], o["call"])
    ok = iv.reason == IvReason.OK
    iv_err = float(np.max(np.abs(iv.vol[ok] - o["v"][ok])))
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
    stress_time = best(lambda: grid_pnl(book, [3000.0, 60_000.0], 0.03, [0.0, 0.0], ds, dv))
    p = peers()

    rows = [
        ("full Greeks (price, Δ, Γ, vega, Θ, ρ, vanna, volga), hedgevault", f"{N / ours / 1e6:.2f} M/s", "—"),
        ("same, one-pass numpy/scipy baseline", f"{N / base / 1e6:.2f} M/s", f"hedgevault {base / ours:.1f}×"),
        (
            "price + 5 Greeks, QuantLib BlackCalculator (Python loop)",
            f"{1 / ql_per / 1e6:.3f} M/s",
            f"hedgevault {ql_per * N / ours:.0f}×",
        ),
    ]
    if p is not None:
        rows += [
            (
                "price + Greeks, py_vollib_vectorized (FD theta/vega)",
                f"{N / p['pvv_greeks_s'] / 1e6:.2f} M/s",
                f"hedgevault {p['pvv_greeks_s'] / ours:.1f}×",
            ),
            (
                "price + 5 Greeks, vollib (per option)",
                f"{1 / p['vollib_greeks_per_option_s'] / 1e6:.3f} M/s",
                f"hedgevault {p['vollib_greeks_per_option_s'] * N / ours:.0f}×",
            ),
        ]
    rows.append(
        ("implied vol, hedgevault", f"{N / iv_time / 1e6:.2f} M/s", f"max abs err {iv_err:.1e} on {ok.sum():,} solved")
    )
    if p is not None:
        rows.append(
            (
                "implied vol, py_vollib_vectorized (LBR)",
                f"{N / p['pvv_iv_s'] / 1e6:.2f} M/s",
                f"hedgevault {p['pvv_iv_s'] / iv_time:.2f}×; its max abs err {p['pvv_iv_max_abs_err']:.1e}",
            )
        )
    rows.append(("stress: 10,000 positions × 231 scenarios, full revaluation", f"{stress_time:.3f} s", "—"))
    table = "| benchmark (1e6 options, one core) | throughput | comparison |\n|---|---|---|\n" + "\n".join(
        f"| {a} | {b} | {c} |" for a, b, c in rows
    )
    table += f"\n\nGreeks agree with the baseline to {agree:.1e} relative. N = {N:,}."
    if p is None:
        table += " Peers not installed (bench/.venv): run `make bench`."
    (HERE / "results.md").write_text(table + "\n")
    print(table)


if __name__ == "__main__":
    main()
