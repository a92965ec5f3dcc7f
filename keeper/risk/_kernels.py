"""Compiled per-option kernels (numba) behind ``black``, ``implied_vol`` and ``stress``.

Every kernel is one loop over options that computes d1/d2, one set of exp/log/sqrt and the normal CDF once
and writes every output, so nothing is re-read from memory. The loops are branch-free (selects), so LLVM
vectorises them (AVX2/AVX-512 where the CPU has it). That needs vectorisable transcendentals, which libm's
are not; this module has its own, all to about 1 ulp, tested against mpmath and numpy/scipy:

- ``_exp``: Cody–Waite reduction by ln 2, Taylor polynomial to degree 13 on |r| ≤ ln2/2 (truncation
  < 1e-17), scaling by 2^k in two halves so subnormal results and overflow come out right.
- ``_log``: x = m·2^e with m ∈ [√½, √2), log(1+f) = f − (f²/2 − s(f²/2 + R(s²))), s = f/(2+f), R the
  atanh series to s²¹ (truncation < 1e-17 for |s| ≤ 0.172).
- ``_ncdf``: Φ(−a) = φ(a)·M(a), the Mills ratio M from a degree-22 polynomial in t = (a − K)/(a + K)
  (see ``tests/risk/fit_mills.py``; max relative error ≈ 5e-16 for every a ≥ 0), so the tail keeps full relative
  accuracy down to the underflow of φ, and φ is shared with the Greeks. φ(z) takes z² as an exact
  two-term sum (FMA), so the rounding of z²/2 (a relative error of z²/2 ulp in φ) does not occur.

Compilation: ``cache=True`` (objects in ``__pycache__`` beside this file, or numba's user cache dir where the
package is read-only), ``fastmath=False`` (IEEE semantics: no reassociation, NaN/inf honoured), one thread.
Everything numba compiles lives in this one file, because numba's cache is invalidated by the timestamp of
the file that holds the kernel only: an inlined helper in another module could go stale. The pure-numpy
reference implementations stay in ``black``/``implied_vol``/``stress`` (``*_reference``) and the tests check
that both agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from keeper.model.arrays import BoolArray1D, Float64Array1D, Float64Array2D, IntArray1D

_F = TypeVar("_F", bound=Callable[..., Any])


def _kernel(fn: _F) -> _F:
    """A top-level kernel: compiled on first call, cached on disk; without a writable cache, not cached."""
    try:
        return cast(_F, njit(cache=True, fastmath=False, error_model="numpy", nogil=True)(fn))
    except RuntimeError:  # numba found no writable cache location: compile per process instead
        return cast(_F, njit(cache=False, fastmath=False, error_model="numpy", nogil=True)(fn))


def _inline(fn: _F) -> _F:
    """A helper inlined into the kernels at numba IR level (so it vectorises with them)."""
    return cast(_F, njit(forceinline=True, fastmath=False, error_model="numpy")(fn))


# --- bit casts and fused multiply-add (LLVM intrinsics) ---------------------------------------------------


@intrinsic
def _as_int_intrinsic(typingctx: Any, x: Any) -> Any:
    """The IEEE-754 bits of a float64 as int64."""
    if x != types.float64:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


_as_int = cast(Callable[[float], int], _as_int_intrinsic)  # typed for mypy; numba resolves the intrinsic


@intrinsic
def _as_float_intrinsic(typingctx: Any, x: Any) -> Any:
    """The float64 whose IEEE-754 bits are the int64 x."""
    if x != types.int64:
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


_as_float = cast(Callable[[int], float], _as_float_intrinsic)  # typed for mypy; numba resolves the intrinsic


@intrinsic
def _fma_intrinsic(typingctx: Any, a: Any, b: Any, c: Any) -> Any:
    """a·b + c rounded once (llvm.fma: the FMA instruction where the CPU has one, else libm's exact fma)."""
    if not (a == b == c == types.float64):
        return None

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        d = ir.DoubleType()
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(d, [d, d, d]), "llvm.fma.f64")
        return builder.call(fn, args)

    return types.float64(types.float64, types.float64, types.float64), codegen


_fma = cast(Callable[[float, float, float], float], _fma_intrinsic)  # typed for mypy; numba resolves the intrinsic


# --- exp, log -----------------------------------------------------------------------------------------------

_INV_LN2 = 1.4426950408889634
# ln 2 = _LN2_HI + _LN2_LO (to 2e-26); _LN2_HI has 21 trailing zero bits, so k·_LN2_HI is exact for |k| < 2^21.
_LN2_HI = 0.6931471803691238
_LN2_LO = 1.9082149292705877e-10
_ROUND = 6755399441055744.0  # 1.5·2^52: adding it rounds to an integer held in the low mantissa bits
_ROUND_BITS = 0x4338000000000000
_EXP_C = tuple(1.0 / math.factorial(j) for j in range(14))


@_inline
def _exp_series(r: float) -> float:
    """(e^r − 1)/r by its Taylor series to r¹² (Horner): Σ r^(j−1)/j!, j = 1…13."""
    c = _EXP_C
    p = _fma(r, c[13], c[12])
    p = _fma(r, p, c[11])
    p = _fma(r, p, c[10])
    p = _fma(r, p, c[9])
    p = _fma(r, p, c[8])
    p = _fma(r, p, c[7])
    p = _fma(r, p, c[6])
    p = _fma(r, p, c[5])
    p = _fma(r, p, c[4])
    p = _fma(r, p, c[3])
    p = _fma(r, p, c[2])
    return _fma(r, p, c[1])


@_inline
def _exp(x: float) -> float:
    xc = min(max(x, -746.0), 710.0)
    kd = xc * _INV_LN2 + _ROUND
    k = _as_int(kd) - _ROUND_BITS
    kf = kd - _ROUND
    r = (xc - kf * _LN2_HI) - kf * _LN2_LO
    p = _fma(r, _exp_series(r), 1.0)
    k1 = k >> 1
    k2 = k - k1
    y = p * _as_float((k1 + 1023) << 52) * _as_float((k2 + 1023) << 52)
    return y if x == x else x


@_inline
def _expm1(x: float) -> float:
    """e^x − 1 to ~2 ulp: for |x| ≤ 1/4 the Taylor series to x¹³ (truncation < 1e-19 relative, no
    cancellation), else _exp(x) − 1 (|e^x − 1| ≥ 0.22 there, so the subtraction costs at most 2 ulp)."""
    return x * _exp_series(x) if abs(x) <= 0.25 else _exp(x) - 1.0


_SQRT2 = 1.4142135623730951
_LOG_C = tuple(2.0 / (2 * j + 1) for j in range(12))  # atanh series: log(1+f) = 2(s + s³/3 + s⁵/5 + …)


@_inline
def _log(x: float) -> float:
    """Natural log; 0 → −inf, < 0 or NaN → NaN, inf → inf; subnormals are rescaled first."""
    sub = x < 2.2250738585072014e-308
    xs = x * 18014398509481984.0 if sub else x  # · 2^54
    bits = _as_int(xs)
    e = ((bits >> 52) & 0x7FF) - (1023 + 54 if sub else 1023)
    m = _as_float((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # [1, 2)
    big = m > _SQRT2
    m = m * 0.5 if big else m
    e = e + 1 if big else e
    f = m - 1.0  # exact
    s = f / (2.0 + f)
    z = s * s
    c = _LOG_C
    q = _fma(z, c[11], c[10])
    q = _fma(z, q, c[9])
    q = _fma(z, q, c[8])
    q = _fma(z, q, c[7])
    q = _fma(z, q, c[6])
    q = _fma(z, q, c[5])
    q = _fma(z, q, c[4])
    q = _fma(z, q, c[3])
    q = _fma(z, q, c[2])
    q = _fma(z, q, c[1])
    big_r = q * z
    hfsq = 0.5 * f * f
    ed = float(e)
    y = ed * _LN2_HI + ((f - (hfsq - s * (hfsq + big_r))) + ed * _LN2_LO)
    y = -math.inf if x == 0.0 else y
    y = x if x == math.inf else y
    return y if x > 0.0 else (y if x == 0.0 else math.nan)


@_inline
def _log_ratio(a: float, b: float) -> float:
    """ln(a/b) for a, b > 0, to ~2 ulp of the result even when a ≈ b: there a − b is exact (Sterbenz) and
    ln(1 + u), u = (a − b)/b, is taken as ln(w)·u/(w − 1) with w = 1 + u (Goldberg), so the rounding of a/b
    (up to 1.1e-16 absolute in the log) does not occur."""
    near = (a <= 2.0 * b) & (b <= 2.0 * a)
    u = (a - b) / b
    w = 1.0 + u
    log1p = u if w == 1.0 else _log(w) * (u / (w - 1.0))
    return log1p if near else _log(a / b)


# --- normal pdf and cdf -----------------------------------------------------------------------------------

_INV_SQRT_2PI = 0.3989422804014327
_LOG_SQRT_2PI = 0.9189385332046727
# Generated by ``python tests/risk/fit_mills.py`` (test_kernels re-derives and compares them).
_MILLS_K = 4.5
_MILLS = (
    1.9131352239782862,
    -1.6048882049011246,
    1.1190905025319435,
    -0.6345323932482362,
    0.2791947658647108,
    -0.08490282389074984,
    0.010587028719975576,
    0.004383668096343724,
    -0.00230044933741499,
    1.5995550487970314e-05,
    0.0002808494851457411,
    -3.993998337663381e-05,
    -3.5684561457770256e-05,
    8.001411352792771e-06,
    5.3726107212341735e-06,
    -1.2628240354556125e-06,
    -9.527230760844015e-07,
    1.6566498063743642e-07,
    1.7850308928290093e-07,
    -1.551099713926953e-08,
    -2.8845726959816265e-08,
    6.754791616482791e-10,
    2.733679242174034e-09,
)


@_inline
def _mills(a: float) -> float:
    """Mills ratio Φ(−a)/φ(a) for a ≥ 0 (a is capped at 40 by the callers: beyond, φ underflows anyway)."""
    inv = 1.0 / (a + _MILLS_K)
    t = (a - _MILLS_K) * inv
    c = _MILLS
    g = _fma(c[22], t, c[21])
    g = _fma(g, t, c[20])
    g = _fma(g, t, c[19])
    g = _fma(g, t, c[18])
    g = _fma(g, t, c[17])
    g = _fma(g, t, c[16])
    g = _fma(g, t, c[15])
    g = _fma(g, t, c[14])
    g = _fma(g, t, c[13])
    g = _fma(g, t, c[12])
    g = _fma(g, t, c[11])
    g = _fma(g, t, c[10])
    g = _fma(g, t, c[9])
    g = _fma(g, t, c[8])
    g = _fma(g, t, c[7])
    g = _fma(g, t, c[6])
    g = _fma(g, t, c[5])
    g = _fma(g, t, c[4])
    g = _fma(g, t, c[3])
    g = _fma(g, t, c[2])
    g = _fma(g, t, c[1])
    g = _fma(g, t, c[0])
    return g * inv


@_inline
def _pdf(z: float) -> float:
    """φ(z) to ~2 ulp for every z: z² = h + l exactly (l by FMA), e^{−z²/2} = e^{−h/2}·(1 − l/2)."""
    h = z * z
    lo = _fma(z, z, -h) if h < 1e300 else 0.0  # (for z = ±inf the residual would be NaN)
    e = _INV_SQRT_2PI * _exp(-0.5 * h)
    return _fma(-0.5 * lo, e, e)


@_inline
def _ncdf_with_pdf(z: float, pdf: float) -> float:
    """Φ(z), given pdf = φ(z). ±inf give 1/0, NaN gives NaN."""
    tail = pdf * _mills(min(abs(z), 40.0))
    y = tail if z < 0.0 else 1.0 - tail
    return y if z == z else z


@_inline
def _ncdf(z: float) -> float:
    return _ncdf_with_pdf(z, _pdf(z))


# --- element-wise wrappers (tests and the numpy-vs-kernel checks) -------------------------------------------


_EXP, _LOG, _NCDF, _MILLS_RATIO, _EXPM1, _LOG_RATIO_TO_1 = range(6)


@_kernel
def elementwise(function: int, x: Float64Array1D, out: Float64Array1D) -> None:
    """out = f(x) for f = _exp, _log, _ncdf, _mills, _expm1 or _log_ratio(x, 1) (``function`` = _EXP …), for
    the tests."""
    for i in range(x.size):
        v = x[i]
        if function == _EXP:
            out[i] = _exp(v)
        elif function == _LOG:
            out[i] = _log(v)
        elif function == _NCDF:
            out[i] = _ncdf(v)
        elif function == _MILLS_RATIO:
            out[i] = _mills(min(v, 40.0))
        elif function == _EXPM1:
            out[i] = _expm1(v)
        else:
            out[i] = _log_ratio(v, 1.0)


# --- Black-Scholes / Black-76 ------------------------------------------------------------------------------


@_inline
def _d1_d2(
    s: float, k: float, t: float, v: float, r: float, q: float
) -> tuple[bool, float, float, bool, float, float, float]:
    """(live, τ, √τ, diffusive, σ√τ, d1, d2) of one option, with the edge cases of ``black``: τ = 1 stands in
    for t ≤ 0 (the caller returns the payoff), σ√τ = 1 where there is no diffusion, and there d1 = d2 = ±inf by
    the sign of ln(F/K) (0 within 1e-14 of the money)."""
    live = t > 0.0
    tt = t if live else 1.0
    sqrt_t = math.sqrt(tt)
    sig = v * sqrt_t
    diffusive = live & (sig > 0.0)
    sig_s = sig if diffusive else 1.0
    log_fk = _log(s / k) + (r - q) * tt
    d_inf = math.inf if log_fk > 1e-14 else (-math.inf if log_fk < -1e-14 else 0.0)
    d1 = log_fk / sig_s + 0.5 * sig_s if diffusive else d_inf
    d2 = d1 - sig_s if diffusive else d1
    return live, tt, sqrt_t, diffusive, sig_s, d1, d2


@_kernel
def greeks_kernel(
    s: Float64Array1D,
    k: Float64Array1D,
    t: Float64Array1D,
    v: Float64Array1D,
    r: Float64Array1D,
    q: Float64Array1D,
    call: BoolArray1D,
    black76: bool,
    price: Float64Array1D,
    delta: Float64Array1D,
    gamma: Float64Array1D,
    vega: Float64Array1D,
    theta: Float64Array1D,
    rho: Float64Array1D,
    vanna: Float64Array1D,
    volga: Float64Array1D,
) -> int:
    """Price and Greeks of every option into the output arrays; returns how many inputs were invalid
    (S ≤ 0, K ≤ 0 or σ < 0), which the caller turns into an error. Same maths and edge cases as
    ``black.greeks_reference``; for Black-76 pass q = r."""
    bad = 0
    for i in range(s.size):
        si, ki, ti, vi, ri, qi = s[i], k[i], t[i], v[i], r[i], q[i]
        bad += (si <= 0.0) | (ki <= 0.0) | (vi < 0.0)
        th = 1.0 if call[i] else -1.0
        live, tt, sqrt_t, diffusive, sig_s, d1, d2 = _d1_d2(si, ki, ti, vi, ri, qi)
        v_s = vi if diffusive else 1.0
        df_r = _exp(-ri * tt)
        df_q = _exp(-qi * tt)
        p1 = _pdf(d1)
        nd1 = _ncdf_with_pdf(th * d1, p1)  # N(d1) for calls, N(−d1) for puts
        nd2 = _ncdf_with_pdf(th * d2, _pdf(d2))
        pdf = p1 if diffusive else 0.0
        s_dq = si * df_q
        k_dr = ki * df_r
        pr = th * (s_dq * nd1 - k_dr * nd2)
        de = th * df_q * nd1
        ga = df_q * pdf / (si * sig_s)
        ve = s_dq * pdf * sqrt_t
        tv = -s_dq * pdf * vi / (2.0 * sqrt_t) - th * ri * k_dr * nd2 + th * qi * s_dq * nd1
        rh = -tt * pr if black76 else th * k_dr * tt * nd2
        d1f = d1 if diffusive else 0.0
        d2f = d2 if diffusive else 0.0
        va = -df_q * pdf * d2f / v_s
        vo = ve * d1f * d2f / v_s
        if not live:
            payoff = th * (si - ki)
            pr = max(payoff, 0.0)
            de = th * (0.5 if payoff == 0.0 else (1.0 if payoff > 0.0 else 0.0))
            ga = 0.0
            ve = 0.0
            tv = 0.0
            rh = 0.0
            va = 0.0
            vo = 0.0
        price[i] = pr
        delta[i] = de
        gamma[i] = ga
        vega[i] = ve
        theta[i] = tv
        rho[i] = rh
        vanna[i] = va
        volga[i] = vo
    return bad


@_kernel
def price_kernel(
    s: Float64Array1D,
    k: Float64Array1D,
    t: Float64Array1D,
    v: Float64Array1D,
    r: Float64Array1D,
    q: Float64Array1D,
    call: BoolArray1D,
    price: Float64Array1D,
) -> int:
    """Prices only (same conventions as ``greeks_kernel``); returns the count of invalid inputs."""
    bad = 0
    for i in range(s.size):
        si, ki, ti, vi, ri, qi = s[i], k[i], t[i], v[i], r[i], q[i]
        bad += (si <= 0.0) | (ki <= 0.0) | (vi < 0.0)
        th = 1.0 if call[i] else -1.0
        live, tt, _, _, _, d1, d2 = _d1_d2(si, ki, ti, vi, ri, qi)
        nd1 = _ncdf(th * d1)
        nd2 = _ncdf(th * d2)
        pr = th * (si * _exp(-qi * tt) * nd1 - ki * _exp(-ri * tt) * nd2)
        price[i] = pr if live else max(th * (si - ki), 0.0)
    return bad


# --- implied volatility ------------------------------------------------------------------------------------

# IvReason values (keeper.risk.implied_vol.IvReason; a test checks they match).
_OK, _BELOW_INTRINSIC, _ABOVE_MAXIMUM, _EXPIRED, _INVALID_INPUT, _NO_TIME_VALUE, _NOT_CONVERGED, _ILL = range(8)
_EPS = 2.220446049250313e-16
_TINY = 2.2250738585072014e-308
_SQRT_2PI = 2.5066282746310002


@_inline
def _log_b(x: float, s: float, inv_s: float, half: float) -> tuple[float, float, float, float]:
    """ln b(x, s), ∂ln b/∂s, ln(∂b/∂s) and a rounding bound, for the normalised out-of-the-money call
    b = e^{x/2}Φ(d1) − e^{−x/2}Φ(d2), d1,2 = x/s ± s/2, x = −|ln F/K| ≤ 0, s = σ√T; ``half`` is e^{x/2}.

    With c = e^{x/2}φ(d1) = e^{−x/2}φ(d2) (= ∂b/∂s) and the Mills ratio M: for d1 ≤ 0, b = c·(M(−d1) − M(−d2)),
    taken in log form so it never underflows; for d1 > 0, b = e^{x/2} − c·(M(d1) + M(−d2)). The fourth value
    is that difference's cancellation factor |terms|/|result|: ln b is exact to about eps·(|ln b| + it).
    ``inv_s`` is 1/s (divisions are the costliest vector operation: each is computed once)."""
    xs = x * inv_s
    d1 = xs + 0.5 * s
    d2 = xs - 0.5 * s
    h = d1 * d1
    lo = _fma(d1, d1, -h) if h < 1e300 else 0.0
    ln_c = (0.5 * x - _LOG_SQRT_2PI) - 0.5 * h - 0.5 * lo
    m1 = _mills(min(abs(d1), 40.0))
    m2 = _mills(min(-d2, 40.0))
    low = d1 <= 0.0
    c = 1.0 if low else _exp(ln_c)
    arg = m1 - m2 if low else half - c * (m1 + m2)
    ln_b = (ln_c if low else 0.0) + _log(arg)
    inv_arg = 1.0 / arg
    return ln_b, c * inv_arg, ln_c, (m1 if low else half) * inv_arg


@_inline
def _iv_setup(
    p: float, s: float, k: float, t: float, r: float, q: float, call: bool, black76: bool
) -> tuple[int, float, float, float, float, float]:
    """Validity, no-arbitrage bounds and the normalised out-of-the-money problem of one option.

    Returns (reason, x, ln b*, e^{x/2}, start s0, conditioning scale = undiscounted price / √(FK))."""
    valid = (abs(p) < math.inf) & (s > 0.0) & (k > 0.0) & (abs(t) < math.inf)
    live = valid & (t > 0.0)
    tt = t if live else 1.0
    # F = S·e^{(r−q)T} and the undiscounted price p·e^{rT} as x + x·expm1(·), and F − K as (S − K) + S·expm1:
    # near the money the intrinsic value then carries no rounding of F (≈ 1 ulp of S, which short-dated
    # options with small vega would turn into 1e-10 of vol).
    growth = 0.0 if black76 else _expm1((r - q) * tt)
    sp = s if live else 1.0
    kk = k if live else 1.0
    fwd = _fma(sp, growth, sp)
    forward_minus_strike = (sp - kk) + sp * growth
    pp = p if live else 0.0
    undiscounted = _fma(pp, _expm1(r * tt), pp)
    intrinsic = max(forward_minus_strike, 0.0) if call else max(-forward_minus_strike, 0.0)
    upper = fwd if call else kk
    tv = undiscounted - intrinsic  # the out-of-the-money option's price (parity), undiscounted
    tol = 8.0 * _EPS * max(undiscounted, intrinsic)
    code = _OK if live else (_EXPIRED if valid else _INVALID_INPUT)
    code = _BELOW_INTRINSIC if (code == _OK) & (tv < -tol) else code
    code = _ABOVE_MAXIMUM if live & (undiscounted >= upper) else code
    code = _NO_TIME_VALUE if (code == _OK) & (tv <= tol) else code
    # A time value at float64's subnormal edge carries too few digits to read a vol from.
    code = _ILL if (code == _OK) & (tv < _TINY * 1e16) else code
    root_fk = math.sqrt(fwd) * math.sqrt(kk)
    x = -abs(_log_ratio(sp, kk) + (0.0 if black76 else (r - q) * tt))  # −|ln F/K|, accurate near the money
    half = _exp(0.5 * x)  # e^{x/2}: the normalised price's supremum (σ → ∞)
    b_star = tv / root_fk if code == _OK else 0.25
    # Below the maximum unnormalised yet not below e^{x/2} once normalised: at the maximum to rounding.
    code = _ABOVE_MAXIMUM if (code == _OK) & (b_star >= half) else code
    b_star = b_star if code == _OK else 0.25
    ln_target = _log(b_star)
    # Start. At the inflection point s_c = √(2|x|), b is known in closed form, b_c = e^{x/2}(½ − M(s_c)/√2π),
    # and so is b' = e^{x/2}/√2π; b is convex below s_c and concave above, so the tangent there is an upper
    # bound of the root below s_c and a lower bound above, and close to it on either side (b'' = 0 at s_c).
    # Far below (b* < 5 % of b_c) the deep-OTM asymptote ln b ≈ −x²/(2s²), s ≈ |x|/√(−2 ln b*); far above
    # (b* > 60 % of e^{x/2}) the tail e^{x/2} − b ≈ 2e^{x/2}Φ(−s/2), inverted by two fixed-point steps on
    # ln Φ(−z) = ln M(z) − z²/2 − ln √2π.
    s_c = math.sqrt(-2.0 * x)
    b_c = half * (0.5 - _INV_SQRT_2PI * _mills(min(s_c, 40.0)))
    tangent = s_c + (b_star - b_c) * _SQRT_2PI / half
    deep = -x / math.sqrt(max(-2.0 * ln_target, 1e-300))
    ln_y = _log(max((half - b_star) / (2.0 * half), 1e-300))
    z = math.sqrt(max(-2.0 * ln_y, 0.0))
    z = math.sqrt(max(2.0 * (_log(_mills(min(z, 40.0))) - _LOG_SQRT_2PI - ln_y), 0.0))
    z = math.sqrt(max(2.0 * (_log(_mills(min(z, 40.0))) - _LOG_SQRT_2PI - ln_y), 0.0))
    below_inflection = b_star < b_c
    s0 = (tangent if b_star > 0.05 * b_c else deep) if below_inflection else tangent
    s0 = max(2.0 * z, tangent) if (not below_inflection) & (b_star > 0.6 * half) else s0
    return code, x, ln_target, half, min(max(s0, 1e-8), 1e3), undiscounted / root_fk


@_inline
def _iv_step(
    x: float, ln_target: float, half: float, s: float, lo: float, hi: float, last: float, active: bool
) -> tuple[float, float, float, float, bool, float]:
    """One safeguarded Householder step (4th order) on g(s) = ln b(s) − ln b*.

    g1 = g' = b'/b; with A = b''/b' = x²/s³ − s/4 and A' = −3x²/s⁴ − 1/4: g''/g' = A − g1 and
    g'''/g' = A' + A² − 3·g1·A + 2·g1². The bracket [lo, hi] shrinks with every evaluation (sign of g). The step
    is taken if it stays inside the bracket and is at most half the previous one; otherwise bisection
    (geometric once lo > 0, or ×4 while hi is still open). Done when g is within its rounding error, the step
    is below the resolution of s (4 ulp, or g's rounding error / g'), an accepted step is below 1e-5·s (its
    error is then ~1e-20·s), or the bracket has collapsed to 4 ulp.
    Inactive lanes are returned unchanged.
    Returns (s, lo, hi, last step, still active, ln ∂b/∂s at the evaluated s)."""
    inv_s = 1.0 / s
    ln_b, g1, ln_c, amplification = _log_b(x, s, inv_s, half)
    g = ln_b - ln_target
    below = g < 0.0
    lo_n = s if below else lo
    hi_n = hi if below else s
    x2_s2 = x * x * inv_s * inv_s
    a = x2_s2 * inv_s - 0.25 * s
    a1 = -3.0 * x2_s2 * inv_s * inv_s - 0.25
    h2 = a - g1
    h3 = a1 + a * a - 3.0 * g1 * a + 2.0 * g1 * g1
    inv_g1 = 1.0 / g1
    nu = -g * inv_g1
    proposal = s + nu * (1.0 + 0.5 * nu * h2) / (1.0 + nu * (h2 + nu * h3 * (1.0 / 6.0)))
    # g is known to ±noise; so is s, to ±noise/g': a step below that (or below 4 ulp of s) is rounding. Where
    # that resolution is coarser than 1e-10·s (b flat in s: far out on the upper side) it does not count.
    noise = 8.0 * _EPS * (abs(ln_b) + amplification + 1.0)
    step = abs(proposal - s)
    small = step <= max(4.0 * _EPS * s, min(noise * inv_g1, 1e-10 * s))
    inside = (proposal > lo_n) & (proposal < hi_n)
    accept = inside & ((step <= 0.5 * last) | small)
    bisect = (math.sqrt(lo_n * hi_n) if lo_n > 0.0 else 0.5 * hi_n) if hi_n < math.inf else 4.0 * s
    matched = abs(g) <= noise
    new = s if matched else (proposal if accept else bisect)
    collapsed = (hi_n - lo_n <= 4.0 * _EPS * hi_n) & (hi_n < math.inf)
    # A 4th-order step of relative size δ leaves an error of order δ⁴: below δ = 1e-5 the next step would be
    # at rounding level, so this one is the last.
    final = accept & (step <= 1e-5 * s)
    done = matched | (accept & small) | final | collapsed
    return (
        new if active else s,
        lo_n if active else lo,
        hi_n if active else hi,
        abs(new - s) if active else last,
        active & (not done),
        ln_c,
    )


_IV_VECTOR_STEPS = 3  # steps per vectorised round; the few options still moving after two rounds continue alone


@_inline
def _iv_round(x: float, ln_target: float, half: float, s: float, active: bool) -> tuple[float, bool, float, int]:
    """``_IV_VECTOR_STEPS`` steps from s with a fresh bracket. Returns (s, still active, ln ∂b/∂s, steps taken)."""
    lo, hi, last, ln_c, steps = 0.0, math.inf, math.inf, 0.0, 0
    steps += active
    s, lo, hi, last, active, ln_c = _iv_step(x, ln_target, half, s, lo, hi, last, active)
    steps += active
    s, lo, hi, last, active, ln_c = _iv_step(x, ln_target, half, s, lo, hi, last, active)
    steps += active
    s, lo, hi, last, active, ln_c = _iv_step(x, ln_target, half, s, lo, hi, last, active)
    return s, active, ln_c, steps


@_inline
def _iv_finish(code: int, active: bool, s: float, ln_c: float, scale: float, t: float) -> tuple[int, float]:
    """Reason and vol of a finished option: NOT_CONVERGED if still moving; ILL_CONDITIONED where 4 ulp of price
    move σ by more than 1e-8 (Δσ ≈ 4·eps·price/vega, vega = ∂b/∂s·√(FK)·√T)."""
    sqrt_t = math.sqrt(t if t > 0.0 else 1.0)
    vol_error = 4.0 * _EPS * scale / _exp(ln_c) / sqrt_t
    solved = _NOT_CONVERGED if active else (_OK if vol_error <= 1e-8 else _ILL)
    code = solved if code == _OK else code
    vol = s / sqrt_t if code == _OK else (0.0 if code == _NO_TIME_VALUE else math.nan)
    return code, vol


@_kernel
def implied_vol_kernel(
    p: Float64Array1D,
    s: Float64Array1D,
    k: Float64Array1D,
    t: Float64Array1D,
    r: Float64Array1D,
    q: Float64Array1D,
    call: BoolArray1D,
    black76: bool,
    max_iterations: int,
    vol: Float64Array1D,
    reason: IntArray1D,
) -> int:
    """Implied vol of every price into ``vol`` with its ``reason`` (IvReason values); returns the most
    Householder steps any option took.

    Round 1, vectorised: set-up and ``_IV_VECTOR_STEPS`` safeguarded steps for every option at once (lanes
    that have converged stay put). Round 2, vectorised: the options still moving (a few %), gathered into
    contiguous arrays, take as many steps again from where they are. Then, alone: the rare ones left continue
    up to ``max_iterations`` steps in all."""
    n = p.size
    pending = 0
    most = 0
    for i in range(n):
        code, x, ln_target, half, sj, scale = _iv_setup(p[i], s[i], k[i], t[i], r[i], q[i], call[i], black76)
        sj, active, ln_c, steps = _iv_round(x, ln_target, half, sj, code == _OK)
        code_out, vol_out = _iv_finish(code, active, sj, ln_c, scale, t[i])
        reason[i] = -1 if active else code_out  # −1: to be continued (s kept in vol)
        vol[i] = sj if active else vol_out
        pending += active
        most = max(most, steps)
    if pending == 0:
        return most
    index = np.empty(pending, dtype=np.int64)
    m = 0
    for i in range(n):
        if reason[i] == -1:
            index[m] = i
            m += 1
    # One array per role (LLVM vectorises a loop over few distinct arrays without aliasing checks):
    # rows of ``state`` are x, ln b*, e^{x/2}, s, conditioning scale, T; rows of ``done`` are σ, reason, still
    # moving (1.0) or not (0.0), s.
    state = np.empty((6, m))
    for j in range(m):
        i = index[j]
        _, state[0, j], state[1, j], state[2, j], _, state[4, j] = _iv_setup(
            p[i], s[i], k[i], t[i], r[i], q[i], call[i], black76
        )
        state[3, j] = vol[i]
        state[5, j] = t[i]
    done = np.empty((4, m))
    for j in range(m):
        sj, active, ln_c, steps = _iv_round(state[0, j], state[1, j], state[2, j], state[3, j], True)
        code_out, vol_out = _iv_finish(_OK, active, sj, ln_c, state[4, j], state[5, j])
        done[0, j] = vol_out
        done[1, j] = float(code_out)
        done[2, j] = 1.0 if active else 0.0
        done[3, j] = sj
        most = max(most, _IV_VECTOR_STEPS + steps)
    for j in range(m):
        i = index[j]
        if done[2, j] == 0.0:
            reason[i] = int(done[1, j])
            vol[i] = done[0, j]
            continue
        x, ln_target, half = state[0, j], state[1, j], state[2, j]
        sj, lo, hi, last, active, ln_c = done[3, j], 0.0, math.inf, math.inf, True, 0.0
        it = 2 * _IV_VECTOR_STEPS
        while active & (it < max_iterations):
            sj, lo, hi, last, active, ln_c = _iv_step(x, ln_target, half, sj, lo, hi, last, active)
            it += 1
        most = max(most, it)
        reason[i], vol[i] = _iv_finish(_OK, active, sj, ln_c, state[4, j], state[5, j])
    return most


# --- stress grid -------------------------------------------------------------------------------------------


@_kernel
def grid_kernel(
    underlying_index: IntArray1D,
    size: Float64Array1D,
    strike: Float64Array1D,
    t: Float64Array1D,
    vol: Float64Array1D,
    call: BoolArray1D,
    spot: Float64Array1D,
    rate: float,
    spot_multiplier: Float64Array1D,
    vol_multiplier: Float64Array1D,
    value: Float64Array2D,
    delta: Float64Array2D,
    gamma: Float64Array2D,
    vega: Float64Array2D,
    theta: Float64Array2D,
    rho: Float64Array2D,
) -> int:
    """Full revaluation of every position under every scenario (vol multiplier i, spot multiplier j), summed
    per underlying: ``value[u, i·n_spot + j] += size · V`` and likewise size-weighted Δ, Γ, vega, Θ, ρ
    (Black-Scholes, no carry, the conventions of ``greeks_kernel``). Returns the count of invalid positions.

    What does not change across scenarios is computed once: per position √T, e^{−rT}, ln(S/K) + rT; per
    scenario ln(spot multiplier) (a spot shock moves ln(F/K) by it) and the multipliers' reciprocals. The
    inner loop over scenarios is branch-free and vectorised, and accumulates into one underlying's rows."""
    n_spot = spot_multiplier.size
    n_sc = vol_multiplier.size * n_spot
    ln_m = np.empty(n_sc)
    s_m = np.empty(n_sc)
    inv_s_m = np.empty(n_sc)
    v_m = np.empty(n_sc)
    for i in range(vol_multiplier.size):
        for j in range(n_spot):
            ln_m[i * n_spot + j] = _log(spot_multiplier[j])
            s_m[i * n_spot + j] = spot_multiplier[j]
            inv_s_m[i * n_spot + j] = 1.0 / spot_multiplier[j]
            v_m[i * n_spot + j] = vol_multiplier[i]
    bad = 0
    for pos in range(size.size):
        u = underlying_index[pos]
        si, ki, ti, vi, ni = spot[u], strike[pos], t[pos], vol[pos], size[pos]
        bad += (si <= 0.0) | (ki <= 0.0) | (vi < 0.0)
        th = 1.0 if call[pos] else -1.0
        live = ti > 0.0
        tt = ti if live else 1.0
        sqrt_t = math.sqrt(tt)
        k_dr = ki * _exp(-rate * tt)
        x0 = _log(si / ki) + rate * tt
        inv_s = 1.0 / si
        decay = vi / (2.0 * sqrt_t)
        v_row, d_row, g_row, ve_row, th_row, r_row = value[u], delta[u], gamma[u], vega[u], theta[u], rho[u]
        for sc in range(n_sc):
            s_sc = si * s_m[sc]
            sig = vi * v_m[sc] * sqrt_t
            diffusive = live & (sig > 0.0)
            inv_sig = 1.0 / sig if diffusive else 1.0
            x = x0 + ln_m[sc]
            d_inf = math.inf if x > 1e-14 else (-math.inf if x < -1e-14 else 0.0)
            d1 = x * inv_sig + 0.5 * sig if diffusive else d_inf
            d2 = d1 - sig if diffusive else d1
            p1 = _pdf(d1)
            nd1 = _ncdf_with_pdf(th * d1, p1)
            nd2 = _ncdf_with_pdf(th * d2, _pdf(d2))
            pdf = p1 if diffusive else 0.0
            pr = th * (s_sc * nd1 - k_dr * nd2)
            de = th * nd1
            ga = pdf * inv_sig * inv_s * inv_s_m[sc]
            ve = s_sc * pdf * sqrt_t
            tv = -s_sc * pdf * decay * v_m[sc] - th * rate * k_dr * nd2
            rh = th * k_dr * tt * nd2
            payoff = th * (s_sc - ki)
            pr = pr if live else max(payoff, 0.0)
            de = de if live else th * (0.5 if payoff == 0.0 else (1.0 if payoff > 0.0 else 0.0))
            v_row[sc] += ni * pr
            d_row[sc] += ni * de
            g_row[sc] += ni * ga if live else 0.0
            ve_row[sc] += ni * ve if live else 0.0
            th_row[sc] += ni * tv if live else 0.0
            r_row[sc] += ni * rh if live else 0.0
    return bad
