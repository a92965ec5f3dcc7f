"""Derivation of the Mills-ratio polynomial used by the compiled normal CDF (``keeper.risk._kernels``).

The upper tail of the standard normal is written Φ(−a) = φ(a)·M(a) with the Mills ratio M(a) = Φ(−a)/φ(a),
a ≥ 0. M is smooth and tends to 1/a, so G(t) = M(a)·(a + K) is bounded on t = (a − K)/(a + K) ∈ [−1, 1)
(G → 1 as a → ∞). G is interpolated at the n Chebyshev nodes of [−1, 1] with 40-digit values of M (mpmath)
and the interpolant is expanded in powers of t, so the kernel evaluates M(a) = G(t)/(a + K) with one
division and a Horner chain, branch-free for all a ≥ 0.

``python tests/risk/fit_mills.py`` prints the coefficients; ``tests/risk/test_kernels.py`` re-derives
them and checks that the kernel embeds exactly these (needs mpmath, a dev dependency; never imported at run
time).
"""

from __future__ import annotations

import mpmath

K = 4.5  # the map's centre: t = 0 at a = K
DEGREE = 22  # max relative error of M ≈ 5e-16 (rounding-dominated from degree 22 on)


def mills_mp(a: mpmath.mpf) -> mpmath.mpf:
    """Mills ratio Φ(−a)/φ(a) in the current mpmath precision."""
    return mpmath.erfc(a / mpmath.sqrt(2)) / 2 / (mpmath.exp(-a * a / 2) / mpmath.sqrt(2 * mpmath.pi))


def fit(k: float = K, degree: int = DEGREE, dps: int = 40) -> tuple[float, ...]:
    """Monomial coefficients c_0 … c_degree of G(t) ≈ Σ c_j t^j (rounded to float64)."""
    with mpmath.workdps(dps):
        n = degree + 1
        kk = mpmath.mpf(k)
        nodes = [mpmath.cos(mpmath.pi * (j + mpmath.mpf(1) / 2) / n) for j in range(n)]
        values = []
        for t in nodes:
            a = kk * (1 + t) / (1 - t)
            values.append(mills_mp(a) * (a + kk))
        cheb = [
            2 * mpmath.fsum(values[j] * mpmath.cos(mpmath.pi * m * (j + mpmath.mpf(1) / 2) / n) for j in range(n)) / n
            for m in range(n)
        ]
        cheb[0] /= 2
        # T_m in the monomial basis by the recurrence T_{m+1} = 2t·T_m − T_{m−1}, accumulated exactly.
        t_prev: list[mpmath.mpf] = [mpmath.mpf(1)]
        t_cur: list[mpmath.mpf] = [mpmath.mpf(0), mpmath.mpf(1)]
        mono = [mpmath.mpf(0)] * n
        mono[0] += cheb[0]
        if n > 1:
            mono[1] += cheb[1]
        for m in range(2, n):
            t_next = [mpmath.mpf(0), *(2 * c for c in t_cur)]
            for i, c in enumerate(t_prev):
                t_next[i] -= c
            for i, c in enumerate(t_next):
                mono[i] += cheb[m] * c
            t_prev, t_cur = t_cur, t_next
        return tuple(float(c) for c in mono)


def main() -> None:
    print(f"_MILLS_K = {K!r}")
    print("_MILLS = (")
    for c in fit():
        print(f"    {c!r},")
    print(")")


if __name__ == "__main__":
    main()
