"""The compiled kernels: their exp/log/normal CDF against mpmath and numpy, and every kernel against the
pure-numpy reference path (differential tests), on random inputs and the edge cases."""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np
import pytest
from scipy.special import ndtr

from keeper.risk import _kernels
from keeper.risk.black import greeks, greeks_reference, price, price_reference

from . import fit_mills as _fit_mills

EPS = np.finfo(float).eps


def _apply(function: int, x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    _kernels.elementwise(function, x, out)
    return out


def test_exp__whole_range__within_2_ulp_of_numpy_and_specials_exact() -> None:
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.uniform(-745.0, 709.7, 200_000), rng.uniform(-1, 1, 50_000), [0.0, -0.0, 1e-300]])
    got, ref = _apply(_kernels._EXP, x), np.exp(x)
    normal = ref > np.finfo(float).tiny
    assert np.max(np.abs(got[normal] / ref[normal] - 1)) <= 2 * EPS
    assert np.max(np.abs(got[~normal] - ref[~normal])) <= 4 * np.finfo(float).smallest_subnormal
    with np.errstate(over="ignore"):
        specials = np.array([-np.inf, -800.0, 709.79, 710.0, 1e308, np.inf, np.nan])
        np.testing.assert_array_equal(_apply(_kernels._EXP, specials), np.exp(specials))


def test_exp__against_mpmath__within_1_ulp() -> None:
    x = np.linspace(-700.0, 700.0, 2001)
    got = _apply(_kernels._EXP, x)
    with mpmath.workdps(30):
        ref = np.array([float(mpmath.exp(mpmath.mpf(float(v)))) for v in x])
    assert np.max(np.abs(got / ref - 1)) <= EPS


def test_ln2_split__hi_exact_for_integer_multiples__hi_plus_lo_is_ln2() -> None:
    assert np.float64(_kernels._LN2_HI).view(np.uint64) & np.uint64(0x1FFFFF) == 0  # k·hi exact for |k| < 2^21
    with mpmath.workdps(40):
        assert abs(mpmath.mpf(_kernels._LN2_HI) + mpmath.mpf(_kernels._LN2_LO) - mpmath.log(2)) < 2e-26


def test_log__normals_subnormals_and_specials__within_2_ulp_of_numpy() -> None:
    rng = np.random.default_rng(2)
    x = np.concatenate(
        [
            np.exp(rng.uniform(-700, 700, 200_000)),
            rng.uniform(0.5, 2.0, 100_000),  # near 1, where log has its smallest values
            1.0 + rng.uniform(-1e-12, 1e-12, 1000),
            [5e-324, 1e-310, 2.2250738585072014e-308, 1.7976931348623157e308, 1.0],
        ]
    )
    got, ref = _apply(_kernels._LOG, x), np.log(x)
    nonzero = ref != 0
    assert np.max(np.abs(got[nonzero] - ref[nonzero]) / np.abs(ref[nonzero])) <= 2 * EPS
    assert (got[~nonzero] == 0).all()
    with np.errstate(divide="ignore", invalid="ignore"):
        specials = np.array([0.0, -0.0, -1.0, -np.inf, np.inf, np.nan])
        np.testing.assert_array_equal(_apply(_kernels._LOG, specials), np.log(specials))


def test_expm1__small_and_large_arguments__within_3_ulp_of_numpy() -> None:
    rng = np.random.default_rng(4)
    tiny = np.geomspace(1e-300, 1e-3, 500)
    x = np.concatenate([rng.uniform(-0.3, 0.3, 100_000), rng.uniform(-30, 30, 100_000), tiny, -tiny])
    got, ref = _apply(_kernels._EXPM1, x), np.expm1(x)
    assert np.max(np.abs(got - ref) / np.abs(ref)) <= 3 * EPS


def test_log_ratio__near_one__accurate_where_log_of_the_ratio_is_not() -> None:
    # ln(a/1) for a within 2× of 1 through log1p: relative to the log's own size, not to 1.
    rng = np.random.default_rng(6)
    a = np.concatenate([1.0 + rng.uniform(-1e-6, 1e-6, 2000), rng.uniform(0.5, 2.0, 2000), [1e-5, 3.0, 1e5]])
    got = _apply(_kernels._LOG_RATIO_TO_1, a)
    with mpmath.workdps(40):
        ref = np.array([float(mpmath.log(mpmath.mpf(float(v)))) for v in a])
    nonzero = ref != 0
    assert np.max(np.abs(got[nonzero] - ref[nonzero]) / np.abs(ref[nonzero])) <= 4 * EPS


def test_mills_coefficients__rederived__equal_embedded() -> None:
    assert _fit_mills.fit() == _kernels._MILLS
    assert _fit_mills.K == _kernels._MILLS_K


def test_ncdf__dense_grid__relative_error_against_mpmath_below_1e15() -> None:
    # At exactly representable x, so the comparison measures the function, not the rounding of x (Φ's
    # condition number is ≈ x² in the tail). Relative error down to 1e-300, then absolute.
    x = np.concatenate([np.linspace(-38.0, 9.0, 4701), -np.geomspace(1e-8, 1.0, 200), np.geomspace(1e-8, 1.0, 200)])
    got = _apply(_kernels._NCDF, x)
    with mpmath.workdps(40):
        ref = np.array([float(mpmath.ncdf(mpmath.mpf(float(v)))) for v in x])
    normal = ref > 1e-300
    rel = np.abs(got[normal] - ref[normal]) / ref[normal]
    assert rel.max() <= 1e-15, f"worst {rel.max():.2e} at x={x[normal][np.argmax(rel)]}"
    # below, the result is subnormal (fewer significant bits): absolute error of a few subnormal ulp
    assert np.max(np.abs(got[~normal] - ref[~normal])) <= 1e-315


def test_ncdf__infinities_nan_and_underflow() -> None:
    got = _apply(_kernels._NCDF, np.array([-np.inf, np.inf, np.nan, -40.0, 40.0, 0.0]))
    np.testing.assert_array_equal(got[[0, 1, 3, 4, 5]], [0.0, 1.0, ndtr(-40.0), 1.0, 0.5])
    assert np.isnan(got[2])


def test_ncdf__against_scipy_ndtr__agree_within_scipys_rounding() -> None:
    # scipy computes erfc(x/√2): rounding x/√2 and its square costs up to x² ulp in the tail; ours does not.
    x = np.random.default_rng(3).uniform(-8, 8, 100_000)
    rel = np.abs(_apply(_kernels._NCDF, x) / ndtr(x) - 1)
    assert (rel <= 1e-15 + x * x * EPS).all()


@pytest.fixture(scope="module")
def wide(random_options: Callable[[int, int], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Random options over the tested domain plus every edge case (expired, at the strike, zero vol,
    F = K exactly, vol 5, one hour, deep ITM/OTM)."""
    b = random_options(200_000, 11)
    m = 400
    b["t"][:m] = np.where(np.arange(m) % 2 == 0, 0.0, -0.5)  # expired
    b["k"][: m // 4] = b["s"][: m // 4]  # at the strike, expired
    b["v"][m : 2 * m] = 0.0  # zero vol
    b["q"][2 * m : 3 * m] = b["r"][2 * m : 3 * m]
    b["k"][2 * m : 3 * m] = b["s"][2 * m : 3 * m]  # F = K exactly
    b["v"][2 * m : 2 * m + m // 2] = 0.0  # … and zero vol there
    b["k"][3 * m : 4 * m] = b["s"][3 * m : 4 * m] * np.array([1e-4, 1e4])[np.arange(m) % 2]  # very deep
    return b


def _term_scales(b: dict[str, np.ndarray], model: str) -> dict[str, np.ndarray]:
    """Per output, the magnitude of the terms it is summed from. Where they cancel (OTM prices, theta's carry
    terms, d2 = d1 − σ√τ ≈ 0 in vanna/volga) float64 loses relative accuracy in any implementation, so the two
    may differ by ~1e-16 of these terms rather than of the result."""
    s, k, t, v, r = (b[x] for x in ("s", "k", "t", "v", "r"))
    q = b["r"] if model == "black76" else b["q"]
    th = np.where(b["call"], 1.0, -1.0)
    tt = np.where(t > 0, t, 1.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        sig = v * np.sqrt(tt)
        d1 = np.where(sig > 0, (np.log(s / k) + (r - q) * tt) / sig + 0.5 * sig, 0.0)
        pdf = np.exp(-0.5 * d1 * d1) * 0.4
        s_dq, k_dr = s * np.exp(-q * tt), k * np.exp(-r * tt)
        n1, n2 = ndtr(th * d1), ndtr(th * (d1 - sig))
        vv = np.where(v > 0, v, 1.0)
        spread = np.abs(d1) + sig
        scales = {
            "price": s_dq * n1 + k_dr * n2,
            "theta": s_dq * pdf * v / (2 * np.sqrt(tt)) + np.abs(r) * k_dr * n2 + q * s_dq * n1,
            "vanna": s_dq / s * pdf * spread / vv,
            "volga": s_dq * pdf * np.sqrt(tt) * spread * spread / vv,
        }
        if model == "black76":
            scales["rho"] = tt * scales["price"]  # ρ = −τ·V: inherits the price's cancellation
    return {name: np.where(np.isfinite(x), x, 0.0) for name, x in scales.items()}


NATURAL = {
    "price": "s+k",
    "delta": "1",
    "gamma": "1/s",
    "vega": "s",
    "theta": "s+k",
    "rho": "s+k",
    "vanna": "1",
    "volga": "s",
}


def _natural(name: str, b: dict[str, np.ndarray]) -> np.ndarray:
    """The Greek's natural scale (price-like values are bounded by S + K)."""
    unit = NATURAL[name]
    scale = {"s+k": b["s"] + b["k"], "s": b["s"], "1/s": 1 / b["s"]}.get(unit)
    return np.ones_like(b["s"]) if scale is None else scale


@pytest.mark.parametrize("model", ["black_scholes", "black76"])
def test_greeks__compiled_vs_numpy_reference__agree_to_1e13(wide: dict[str, np.ndarray], model: str) -> None:
    b = wide
    args = (b["s"], b["k"], b["t"], b["v"], b["r"], b["call"], b["q"])
    fast = greeks(*args, model=model)  # type: ignore[arg-type]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ref = greeks_reference(*args, model=model)  # type: ignore[arg-type]
    terms = _term_scales(b, model)
    for name in NATURAL:
        got, want = getattr(fast, name), getattr(ref, name)
        assert np.isfinite(got).all(), name
        err = np.abs(got - want)
        natural = _natural(name, b)
        # Everywhere: within 1e-13 relative or of the Greek's natural scale (as the QuantLib test, 1000× tighter).
        worst = np.max(err / np.maximum(natural, np.abs(want)))
        assert worst <= 1e-13, f"{name}: error {worst:.2e} of max(|value|, scale)"
        # Where the value is not tiny: 1e-13 relative, or of the cancelling terms where the formula has them.
        meaningful = np.abs(want) > 1e-6 * natural
        assert meaningful.mean() > 0.3, name
        bound = 1e-13 * np.maximum(np.abs(want), terms.get(name, 0.0))
        bad = meaningful & (err > bound)
        assert not bad.any(), f"{name}: {bad.sum()} disagree, e.g. {got[bad][:3]} vs {want[bad][:3]}"
    edge = slice(0, 1200)  # expired, zero vol, F = K: defined values, identical up to rounding
    for name in NATURAL:
        got, want = getattr(fast, name)[edge], getattr(ref, name)[edge]
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15 * _natural(name, b)[edge].max(), err_msg=name)


def test_greeks__well_conditioned_outputs__agree_to_1e13_relative(wide: dict[str, np.ndarray]) -> None:
    b = wide
    args = (b["s"], b["k"], b["t"], b["v"], b["r"], b["call"], b["q"])
    fast, ref = greeks(*args), greeks_reference(*args)
    for name in ("delta", "gamma", "vega", "rho"):  # products only: no cancellation in these formulas
        got, want = getattr(fast, name), getattr(ref, name)
        meaningful = np.abs(want) > 1e-6 * _natural(name, b)
        np.testing.assert_allclose(got[meaningful], want[meaningful], rtol=2e-14, atol=0, err_msg=name)


def test_price__compiled_vs_reference_and_vs_greeks__agree(wide: dict[str, np.ndarray]) -> None:
    b = wide
    args = (b["s"], b["k"], b["t"], b["v"], b["r"], b["call"], b["q"])
    p = price(*args)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = price_reference(*args)
    err = np.abs(p - ref)
    assert (err <= 1e-13 * _natural("price", b)).all()
    bound = 1e-13 * np.maximum(np.abs(ref), _term_scales(b, "black_scholes")["price"])
    assert (err <= bound)[ref > 1e-6 * b["s"]].all()
    np.testing.assert_array_equal(p, greeks(*args).price)  # the same arithmetic in both kernels


def test_greeks__scalars_and_2d_inputs__broadcast_like_numpy() -> None:
    k = np.array([[80.0, 100.0], [120.0, 140.0]])
    g = greeks(100.0, k, 0.5, 0.6, 0.03, [True, False])
    ref = greeks_reference(100.0, k, 0.5, 0.6, 0.03, [True, False])
    assert g.price.shape == (4,)
    np.testing.assert_allclose(g.price, ref.price, rtol=1e-14)
    assert greeks(100.0, 100.0, 1.0, 0.5, 0.0, True).price.shape == (1,)
