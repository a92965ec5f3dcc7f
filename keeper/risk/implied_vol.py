"""Implied volatility, vectorised and safeguarded.

Method: reduce every option to the out-of-the-money one by parity (its price is the time value) and
normalise by √(F·K), so the problem is b(x, s) = b* with x = −|ln(F/K)|, s = σ√T, and b increasing in s.
Solve ln b(s) = ln b* inside a bracket [lo, hi] that every evaluation tightens; a step that leaves the
bracket (or that fails to halve the previous one) is replaced by bisection (geometric once lo > 0). The
reference starts at the deep-OTM asymptote s ≈ |x|/√(−2 ln b*) below the inflection point s_c = √(2|x|), and
above it at the larger of s_c and the at-the-money guess √(2π)·b*·e^{|x|/2}.

:func:`implied_vol` runs the compiled kernel (``keeper.risk._kernels``): b from the Mills ratio, in log form
where it would underflow, so deep out-of-the-money prices keep their relative accuracy; 4th-order Householder
steps (ln b and its first three derivatives in s are closed-form) from the tangent at the inflection point (or
the deep-OTM / high-vol asymptotes); a vectorised round of three steps for every option, a second for the ≈ 1 %
still moving, then the rare rest alone. It stops when the residual or the step is at the rounding level of
ln b. :func:`implied_vol_reference` is the same scheme in numpy with Halley steps, the older start and
``log_ndtr``, kept as the reference the kernel is tested against. Both take F − K as (S − K) + S·expm1((r−q)T)
and ln(F/K) through log1p near the money, so the intrinsic value carries no rounding of F.

Inputs outside the no-arbitrage bounds get NaN and a reason (``IvReason``), never a wrong number.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt
from scipy.special import log_ndtr

from keeper.model.arrays import ArrayLike, Float64Array1D, IntArray1D, Model
from keeper.risk import _kernels
from keeper.risk._inputs import flat_inputs

_LOG_SQRT_2PI = 0.9189385332046727


class IvReason(IntEnum):
    """Why an implied vol is what it is (0 = solved)."""

    OK = 0
    BELOW_INTRINSIC = 1  # price < discounted intrinsic value: no vol reproduces it
    ABOVE_MAXIMUM = 2  # price ≥ the discounted forward (call) or strike (put): no vol reproduces it
    EXPIRED = 3  # t ≤ 0: no time value to invert
    INVALID_INPUT = 4  # non-positive spot/forward/strike or non-finite price
    NO_TIME_VALUE = 5  # price equals intrinsic to machine precision: vol 0 (returned as 0.0)
    NOT_CONVERGED = 6  # iteration limit reached (reported rather than hidden)
    ILL_CONDITIONED = 7  # the price barely depends on vol: 4 ulp of price move the answer by > 1e-8


@dataclass(frozen=True)
class ImpliedVol:
    vol: Float64Array1D  # decimal per year; NaN where reason is not OK / NO_TIME_VALUE
    reason: IntArray1D  # IvReason values
    iterations: int


def _log_b(x: Float64Array1D, s: Float64Array1D, theta: Float64Array1D) -> Float64Array1D:
    """ln of the normalised OTM Black price: b = θ(e^{x/2} N(θd1) − e^{−x/2} N(θd2)), d = x/s ± s/2."""
    d1 = x / s + 0.5 * s
    d2 = d1 - s
    la = 0.5 * x + log_ndtr(theta * d1)
    lb = -0.5 * x + log_ndtr(theta * d2)
    big, small = np.maximum(la, lb), np.minimum(la, lb)  # b = e^big − e^small > 0
    return big + np.log1p(-np.exp(small - big))


def implied_vol_reference(
    price: ArrayLike,
    underlying: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    rate: ArrayLike,
    is_call: ArrayLike,
    carry: ArrayLike = 0.0,
    model: Model = "black_scholes",
    *,
    max_iterations: int = 60,
) -> ImpliedVol:
    """Implied vol, pure numpy: the reference implementation :func:`implied_vol` is tested against."""
    p, s0, k, t, r, q, c = (
        np.ravel(a).astype(np.float64)
        for a in np.broadcast_arrays(
            *(np.asarray(v, dtype=np.float64) for v in (price, underlying, strike, t_years, rate, carry, is_call))
        )
    )
    call = c.astype(bool)
    n = p.size
    reason = np.zeros(n, dtype=np.int64)
    vol = np.full(n, np.nan)
    invalid = ~(np.isfinite(p) & (s0 > 0) & (k > 0) & np.isfinite(t))
    reason[invalid] = IvReason.INVALID_INPUT
    expired = ~invalid & (t <= 0)
    reason[expired] = IvReason.EXPIRED
    live = reason == IvReason.OK
    tt = np.where(live, t, 1.0)
    # F and p·e^{rT} as x + x·expm1(·), F − K as (S − K) + S·expm1((r−q)T): near the money the intrinsic value
    # then carries no rounding of F (see the kernel).
    carry_t = np.zeros_like(tt) if model == "black76" else (r - q) * tt
    growth = np.expm1(carry_t)
    sp = np.where(live, s0, 1.0)
    kk = np.where(live, k, 1.0)
    fwd = sp + sp * growth
    forward_minus_strike = (sp - kk) + sp * growth
    pp = np.where(live, p, 0.0)
    undiscounted = pp + pp * np.expm1(r * tt)
    intrinsic = np.where(call, np.maximum(forward_minus_strike, 0.0), np.maximum(-forward_minus_strike, 0.0))
    upper = np.where(call, fwd, kk)
    time_value = undiscounted - intrinsic
    tol = 8 * np.finfo(float).eps * np.maximum(undiscounted, intrinsic)
    reason[live & (time_value < -tol)] = IvReason.BELOW_INTRINSIC
    reason[live & (undiscounted >= upper)] = IvReason.ABOVE_MAXIMUM
    zero_tv = live & (reason == IvReason.OK) & (time_value <= tol)
    reason[zero_tv] = IvReason.NO_TIME_VALUE
    vol[zero_tv] = 0.0

    idx = np.flatnonzero(reason == IvReason.OK)
    # ln(F/K) = ln(S/K) + (r−q)T, with ln(S/K) = log1p((S − K)/K) near the money (S − K exact there).
    si, ki = sp[idx], kk[idx]
    near = (si <= 2 * ki) & (ki <= 2 * si)
    x = np.where(near, np.log1p((si - ki) / ki), np.log(si / ki)) + carry_t[idx]
    log_target = np.log(time_value[idx]) - 0.5 * np.log(fwd[idx] * kk[idx])
    # Below the maximum unnormalised yet not below e^{−|x|/2} once normalised: at the maximum to rounding.
    at_max = log_target >= -0.5 * np.abs(x)
    reason[idx[at_max]] = IvReason.ABOVE_MAXIMUM
    idx, x, log_target = idx[~at_max], x[~at_max], log_target[~at_max]
    theta = np.where(x > 0, -1.0, 1.0)  # the out-of-the-money side
    lo = np.zeros(idx.size)
    hi = np.full(idx.size, 8.0)
    for _ in range(8):  # widen hi until b(hi) > b* (σ√T up to 2048)
        short = _log_b(x, hi, theta) <= log_target
        if not short.any():
            break
        hi[short] *= 4.0
    # Start: above b at the inflection point s_c = √(2|x|), at s_c or the ATM guess √(2π)·b*; below it, at the
    # deep-OTM asymptote ln b ≈ −x²/(2s²), i.e. s ≈ |x|/√(−2 ln b*).
    s_c = np.sqrt(2 * np.abs(x))
    with np.errstate(divide="ignore", invalid="ignore"):
        low_side = log_target < _log_b(x, np.maximum(s_c, 1e-300), theta)
        deep = np.abs(x) / np.sqrt(np.maximum(-2 * log_target, 1e-300))
    upper_guess = np.maximum(np.sqrt(2 * np.pi) * np.exp(log_target + 0.5 * np.abs(x)), s_c)
    s = np.clip(np.where(low_side & (s_c > 0), deep, upper_guess), 1e-8, 0.5 * hi)
    done = np.zeros(idx.size, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        iterations = _halley(x, theta, log_target, s, lo, hi, done, max_iterations)
        # Conditioning at the solution: a price known to ~4 ulp moves the vol by 4·eps·price / vega.
        d1 = x / s + 0.5 * s
        vega_norm = np.exp(0.5 * x - 0.5 * d1 * d1 - _LOG_SQRT_2PI)  # ∂b/∂s, per unit of √(FK)
        vol_error = 4 * np.finfo(float).eps * (undiscounted[idx] / np.sqrt(fwd[idx] * kk[idx])) / vega_norm
        vol_error = vol_error / np.sqrt(tt[idx])
    vol[idx] = s / np.sqrt(tt[idx])
    not_converged = idx[~done]
    reason[not_converged] = IvReason.NOT_CONVERGED
    # Ill-conditioned: rounding of the price moves the vol by > 1e-6, or the time value is so small (near
    # float64's subnormal range) that the price itself carries too few significant digits.
    tiny_value = time_value[idx] < np.finfo(float).tiny * 1e16
    ill = idx[done & (~(vol_error <= 1e-8) | tiny_value)]
    reason[ill] = IvReason.ILL_CONDITIONED
    vol[reason != IvReason.OK] = np.where(reason[reason != IvReason.OK] == IvReason.NO_TIME_VALUE, 0.0, np.nan)
    return ImpliedVol(vol, reason, iterations)


def _halley(
    x: Float64Array1D,
    theta: Float64Array1D,
    log_target: Float64Array1D,
    s: Float64Array1D,
    lo: Float64Array1D,
    hi: Float64Array1D,
    done: npt.NDArray[np.bool_],
    max_iterations: int,
) -> int:
    """Bracketed Halley iterations on ln b(s) = ln b*; updates s, lo, hi, done in place."""
    iterations = 0
    slow = np.zeros(s.size, dtype=bool)  # the last step failed to halve the bracket: bisect next
    while iterations < max_iterations and not done.all():
        iterations += 1
        active = ~done
        width_before = np.log(hi[active]) - np.log(np.maximum(lo[active], 1e-300))
        xa, sa, ta = x[active], s[active], theta[active]
        log_b = _log_b(xa, sa, ta)
        g = log_b - log_target[active]
        below = g < 0
        lo[active] = np.where(below, sa, lo[active])
        hi[active] = np.where(below, hi[active], sa)
        # b' = e^{x/2} φ(d1);  g' = b'/b;  g'' = b''/b − g'^2 with b''/b' = x²/s³ − s/4.
        d1 = xa / sa + 0.5 * sa
        log_bp = 0.5 * xa - 0.5 * d1 * d1 - _LOG_SQRT_2PI
        g1 = np.exp(log_bp - log_b)
        g2 = g1 * (xa * xa / sa**3 - 0.25 * sa) - g1 * g1
        step = 2 * g * g1 / (2 * g1 * g1 - g * g2)
        proposal = sa - step
        la, ha = lo[active], hi[active]
        inside = (proposal > la) & (proposal < ha) & np.isfinite(proposal)
        bisect = np.where(la > 0, np.sqrt(la * ha), 0.5 * ha)
        matched = np.abs(g) <= 4e-16  # the price matches to 4 ulp: keep this iterate
        new = np.where(matched, sa, np.where(inside & ~slow[active], proposal, bisect))
        # Done when the price matches, the step is at rounding level, or the bracket has collapsed.
        converged = matched | (np.abs(new - sa) <= 1e-15 * new) | (ha - la <= 1e-15 * ha)
        s[active] = new
        width_after = np.log(hi[active]) - np.log(np.maximum(lo[active], 1e-300))
        slow[active] = width_after > 0.5 * width_before
        done[np.flatnonzero(active)[converged]] = True
    return iterations


def implied_vol(
    price: ArrayLike,
    underlying: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    rate: ArrayLike,
    is_call: ArrayLike,
    carry: ArrayLike = 0.0,
    model: Model = "black_scholes",
    *,
    max_iterations: int = 60,
) -> ImpliedVol:
    """Implied vol of European option prices (same conventions as :func:`keeper.risk.black.greeks`).

    Returns the vol (decimal per year; NaN unless the reason is OK, 0.0 for NO_TIME_VALUE), the reason code of
    every option and the most Householder steps any option needed."""
    if model not in ("black_scholes", "black76"):
        raise ValueError(f"model={model!r}: use 'black_scholes' or 'black76'")
    if max_iterations < 1:
        raise ValueError(f"max_iterations={max_iterations}: must be ≥ 1 (default 60)")
    (p, s, k, t, r, q), call = flat_inputs((price, underlying, strike, t_years, rate, carry), is_call)
    vol = np.empty(p.size)
    reason = np.empty(p.size, dtype=np.int64)
    iterations = _kernels.implied_vol_kernel(p, s, k, t, r, q, call, model == "black76", max_iterations, vol, reason)
    return ImpliedVol(vol, reason, int(iterations))
