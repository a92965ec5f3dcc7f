"""European option prices and Greeks: Black-Scholes with continuous rate and carry, and Black-76.

One call prices and differentiates an array of options, calls and puts mixed (``is_call``). :func:`greeks` and
:func:`price` run a compiled per-option kernel (``keeper.risk._kernels``: one fused, vectorised loop, one core);
:func:`greeks_reference` and :func:`price_reference` are the same maths in plain numpy, kept as the reference
that the kernel is tested against.

Conventions (per option, one unit of underlying):
- ``delta``: dV/dS (Black-76: dV/dF). ``gamma``: d²V/dS². ``vanna``: d²V/dS dσ. ``volga``: d²V/dσ².
- ``vega``: dV/dσ per 1.00 of vol (divide by 100 for per vol point: ``vega_per_point``).
- ``theta``: dV/dt per year of calendar time (= −dV/dT); per day is ``theta / 365``.
- ``rho``: dV/dr per 1.00 of rate; Black-Scholes holds spot and carry fixed, Black-76 holds the forward fixed.
Edge cases, defined rather than left to NaN:
- ``t_years <= 0``: the payoff. Price is intrinsic; delta is ±1 in the money, 0 out of it and ±½ at the strike;
  every other Greek is 0.
- ``vol == 0`` with t > 0: the discounted forward intrinsic ``DF · max(±(F − K), 0)``; delta, theta and rho are
  those of that deterministic payoff; gamma, vega, vanna and volga are 0 (the limit is a point mass at F = K).
- Deep ITM/OTM and vols up to 5 need no special handling: ``ndtr`` saturates cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from keeper.model.arrays import ArrayLike, BoolArray1D, Float64Array1D, Model
from keeper.risk import _kernels
from keeper.risk._inputs import flat_inputs

_INV_SQRT_2PI = 0.3989422804014327


@dataclass(frozen=True)
class Greeks:
    """Arrays of shape (n,), per option; see the module docstring for units. From :func:`greeks` they are
    the rows of one (8, n) array."""

    price: Float64Array1D
    delta: Float64Array1D
    gamma: Float64Array1D
    vega: Float64Array1D
    theta: Float64Array1D
    rho: Float64Array1D
    vanna: Float64Array1D
    volga: Float64Array1D

    @property
    def vega_per_point(self) -> Float64Array1D:
        """Vega per vol point (0.01)."""
        return self.vega / 100.0

    @property
    def theta_per_day(self) -> Float64Array1D:
        """Theta per calendar day (1/365 year)."""
        return self.theta / 365.0


def _signed_inf(x: Float64Array1D) -> Float64Array1D:
    """+inf, −inf or 0 by the sign of ln(F/K) (the zero-vol limit of d1 and d2). |ln(F/K)| < 1e-14 counts as at
    the money (0, not NaN): below that, F and K differ only by rounding."""
    return np.where(x > 1e-14, np.inf, np.where(x < -1e-14, -np.inf, 0.0))


def _arrays(*values: ArrayLike) -> list[Float64Array1D]:
    arrays = np.broadcast_arrays(*[np.asarray(v, dtype=np.float64) for v in values])
    return [np.ascontiguousarray(a).ravel() for a in arrays]


def greeks_reference(
    underlying: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike,
    is_call: ArrayLike,
    carry: ArrayLike = 0.0,
    model: Model = "black_scholes",
) -> Greeks:
    """Price and Greeks of European options in plain numpy: the reference the compiled :func:`greeks` is tested
    against (same arguments, conventions and results to ~1e-13)."""
    s, k, t, v, r, q, c = _arrays(underlying, strike, t_years, vol, rate, carry, is_call)
    call = c.astype(bool)
    if np.any(s <= 0) or np.any(k <= 0):
        raise ValueError("underlying and strike must be > 0 (USD per unit)")
    if np.any(v < 0):
        raise ValueError("vol must be ≥ 0 (decimal per year)")
    if model == "black76":
        q = r  # Black-76 is Black-Scholes on a forward with carry r − q = 0
    elif model != "black_scholes":
        raise ValueError(f"model={model!r}: use 'black_scholes' or 'black76'")

    live = t > 0
    tt = np.where(live, t, 1.0)
    sqrt_t = np.sqrt(tt)
    sig = v * sqrt_t
    diffusive = live & (sig > 0)
    sig_safe = np.where(diffusive, sig, 1.0)
    df_r = np.exp(-r * tt)
    df_q = np.exp(-q * tt)
    log_fk = np.log(s / k) + (r - q) * tt
    d1 = np.where(diffusive, log_fk / sig_safe + 0.5 * sig_safe, _signed_inf(log_fk))
    d2 = np.where(diffusive, d1 - sig_safe, d1)
    sign = np.where(call, 1.0, -1.0)
    nd1 = ndtr(sign * d1)  # N(d1) for calls, N(−d1) for puts
    nd2 = ndtr(sign * d2)
    # At F = K with zero vol, d is 0: N = ½ (the payoff's kink), consistent with the t ≤ 0 convention.
    pdf = np.where(diffusive, _INV_SQRT_2PI * np.exp(-0.5 * d1 * d1), 0.0)

    s_dq = s * df_q
    k_dr = k * df_r
    price = sign * (s_dq * nd1 - k_dr * nd2)
    delta = sign * df_q * nd1
    gamma = df_q * pdf / (s * sig_safe)
    vega = s_dq * pdf * sqrt_t
    theta = -s_dq * pdf * v / (2.0 * sqrt_t) - sign * r * k_dr * nd2 + sign * q * s_dq * nd1
    rho = sign * k_dr * tt * nd2
    if model == "black76":
        rho = -tt * price  # forward held fixed: only the discount factor depends on r
    v_safe = np.where(diffusive, v, 1.0)
    d1_f, d2_f = np.where(diffusive, d1, 0.0), np.where(diffusive, d2, 0.0)  # pdf is 0 where d is infinite
    vanna = -df_q * pdf * d2_f / v_safe
    volga = vega * d1_f * d2_f / v_safe

    if not live.all():
        expired = ~live
        intrinsic = np.maximum(sign * (s - k), 0.0)
        moneyness = np.sign(sign * (s - k))
        price = np.where(expired, intrinsic, price)
        delta = np.where(expired, sign * np.where(moneyness == 0, 0.5, moneyness > 0), delta)
        for arr in (gamma, vega, theta, rho, vanna, volga):
            arr[expired] = 0.0
    return Greeks(price, delta, gamma, vega, theta, rho, vanna, volga)


def price_reference(
    underlying: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike,
    is_call: ArrayLike,
    carry: ArrayLike = 0.0,
    model: Model = "black_scholes",
) -> Float64Array1D:
    """Prices only, pure numpy (the reference for :func:`price`)."""
    s, k, t, v, r, q, c = _arrays(underlying, strike, t_years, vol, rate, carry, is_call)
    if model == "black76":
        q = r
    sign = np.where(c.astype(bool), 1.0, -1.0)
    live = t > 0
    tt = np.where(live, t, 1.0)
    sig = v * np.sqrt(tt)
    diffusive = live & (sig > 0)
    sig_safe = np.where(diffusive, sig, 1.0)
    log_fk = np.log(s / k) + (r - q) * tt
    d1 = np.where(diffusive, log_fk / sig_safe + 0.5 * sig_safe, _signed_inf(log_fk))
    d2 = np.where(diffusive, d1 - sig_safe, d1)
    value = sign * (s * np.exp(-q * tt) * ndtr(sign * d1) - k * np.exp(-r * tt) * ndtr(sign * d2))
    return np.where(live, value, np.maximum(sign * (s - k), 0.0))


def _kernel_inputs(
    underlying: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike,
    carry: ArrayLike,
    is_call: ArrayLike,
    model: Model,
) -> tuple[list[Float64Array1D], BoolArray1D]:
    """Broadcast to one shape and flatten to contiguous float64 (no copy for arrays that already are)."""
    if model not in ("black_scholes", "black76"):
        raise ValueError(f"model={model!r}: use 'black_scholes' or 'black76'")
    arrays, call = flat_inputs((underlying, strike, t_years, vol, rate, carry), is_call)
    if model == "black76":
        arrays[5] = arrays[4]  # Black-76 is Black-Scholes on a forward with carry r − q = 0
    return arrays, call


def _invalid(s: Float64Array1D, k: Float64Array1D, v: Float64Array1D) -> ValueError:
    if np.any(s <= 0) or np.any(k <= 0):
        return ValueError(
            f"underlying and strike must be > 0 (USD per unit): got min underlying {s.min()!r}, "
            f"min strike {k.min()!r}; drop or fix those rows"
        )
    return ValueError(f"vol must be ≥ 0 (decimal per year): got min vol {v.min()!r}; drop or fix those rows")


def greeks(
    underlying: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike,
    is_call: ArrayLike,
    carry: ArrayLike = 0.0,
    model: Model = "black_scholes",
) -> Greeks:
    """Price and Greeks of European options (compiled kernel; conventions in the module docstring).

    Args:
        underlying: spot S (Black-Scholes) or forward F (Black-76), USD per unit, > 0.
        strike: K, USD per unit, > 0.
        t_years: time to expiry in years (≤ 0: expired, see the module docstring).
        vol: implied volatility, decimal per year (≥ 0).
        rate: continuously compounded risk-free rate r, decimal per year.
        is_call: True for calls, False for puts (array or scalar).
        carry: continuous dividend/convenience yield q (Black-Scholes only; F = S·e^{(r−q)T}).
        model: ``"black_scholes"`` or ``"black76"``.
    """
    (s, k, t, v, r, q), call = _kernel_inputs(underlying, strike, t_years, vol, rate, carry, is_call, model)
    # One (8, n) block, one row per output: a single fresh mapping (huge pages where the OS gives them) costs
    # a third less than eight separate arrays at 1e6 options. The rows are views: keeping one keeps the block.
    out = np.empty((8, s.size))
    if _kernels.greeks_kernel(s, k, t, v, r, q, call, model == "black76", *out):
        raise _invalid(s, k, v)
    return Greeks(*out)


def price(
    underlying: ArrayLike,
    strike: ArrayLike,
    t_years: ArrayLike,
    vol: ArrayLike,
    rate: ArrayLike,
    is_call: ArrayLike,
    carry: ArrayLike = 0.0,
    model: Model = "black_scholes",
) -> Float64Array1D:
    """Prices only (compiled kernel; same conventions as :func:`greeks`)."""
    (s, k, t, v, r, q), call = _kernel_inputs(underlying, strike, t_years, vol, rate, carry, is_call, model)
    out = np.empty(s.size)
    if _kernels.price_kernel(s, k, t, v, r, q, call, out):
        raise _invalid(s, k, v)
    return out
