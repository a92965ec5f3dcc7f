from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np
import pytest

from keeper.risk import _kernels
from keeper.risk.black import greeks, price
from keeper.risk.implied_vol import IvReason, implied_vol, implied_vol_reference

N = 50_000


@pytest.fixture(scope="module")
def book(random_options: Callable[[int, int], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return random_options(N, 7)


def test_round_trip__well_posed_prices__max_abs_error_1e10(book: dict[str, np.ndarray]) -> None:
    b = book
    p = price(b["s"], b["k"], b["t"], b["v"], b["r"], b["call"], b["q"])
    iv = implied_vol(p, b["s"], b["k"], b["t"], b["r"], b["call"], b["q"])
    vega = greeks(b["s"], b["k"], b["t"], b["v"], b["r"], b["call"], b["q"]).vega
    fwd = b["s"] * np.exp((b["r"] - b["q"]) * b["t"])
    intrinsic = np.exp(-b["r"] * b["t"]) * np.maximum(np.where(b["call"], fwd - b["k"], b["k"] - fwd), 0.0)
    # Well-posed: rounding the price moves σ by < 1e-12, and the time value (what σ is read from) is resolvable.
    well_posed = (np.finfo(float).eps * p / np.maximum(vega, 1e-300) < 1e-12) & (p - intrinsic > 1e-10 * p)
    well_posed &= p - intrinsic > np.finfo(float).tiny * 1e16  # not at float64's subnormal edge
    assert well_posed.sum() > N // 2
    assert (iv.reason[well_posed] == IvReason.OK).all()
    assert np.abs(iv.vol[well_posed] - b["v"][well_posed]).max() <= 1e-10
    ok = iv.reason == IvReason.OK
    assert np.abs(iv.vol[ok] - b["v"][ok]).max() <= 1e-6  # anything reported OK is right to 1e-6
    assert not (iv.reason == IvReason.NOT_CONVERGED).any()


def test_round_trip__black76__same_accuracy(book: dict[str, np.ndarray]) -> None:
    b = {k: v[:5000] for k, v in book.items()}
    p = price(b["s"], b["k"], b["t"], b["v"], b["r"], b["call"], model="black76")
    iv = implied_vol(p, b["s"], b["k"], b["t"], b["r"], b["call"], model="black76")
    ok = iv.reason == IvReason.OK
    assert ok.sum() > 2500
    assert np.abs(iv.vol[ok] - b["v"][ok]).max() <= 1e-6


def test_out_of_bounds__nan_with_reason_never_a_number() -> None:
    s, k, t, r = 100.0, 100.0, 0.5, 0.0
    cases = {
        "below intrinsic": (price(s, 80.0, t, 0.5, r, True) * 0 + 19.0, 80.0, True, IvReason.BELOW_INTRINSIC),
        "above maximum": (101.0, k, True, IvReason.ABOVE_MAXIMUM),
        "put above strike": (100.5, k, False, IvReason.ABOVE_MAXIMUM),
    }
    for name, (p, strike, call, reason) in cases.items():
        iv = implied_vol(p, s, strike, t, r, call)
        assert iv.reason[0] == reason, name
        assert np.isnan(iv.vol[0]), name


def test_degenerate_inputs__reasons() -> None:
    iv = implied_vol(
        [5.0, 5.0, np.nan, 0.0],
        [100.0, -1.0, 100.0, 100.0],
        100.0,
        [0.0, 1.0, 1.0, 1.0],
        0.0,
        [True, True, True, False],
    )
    assert list(iv.reason) == [IvReason.EXPIRED, IvReason.INVALID_INPUT, IvReason.INVALID_INPUT, IvReason.NO_TIME_VALUE]
    assert iv.vol[3] == 0.0
    assert np.isnan(iv.vol[:3]).all()


def test_flat_price__vol_insensitive__flagged_ill_conditioned() -> None:
    # One hour, 40 % ITM put at low vol: the time value is ~1e-300 of spot; no vol can be read from it.
    p = price(60.0, 100.0, 1 / 8760, 0.3, 0.05, False)
    iv = implied_vol(p, 60.0, 100.0, 1 / 8760, 0.05, False)
    assert iv.reason[0] in (IvReason.NO_TIME_VALUE, IvReason.ILL_CONDITIONED)
    assert np.isnan(iv.vol[0]) or iv.vol[0] == 0.0


@pytest.mark.parametrize("vol", [0.05, 0.6, 2.0, 5.0])
def test_scalar_vs_vector__same_answer(vol: float) -> None:
    strikes = np.array([50.0, 90.0, 100.0, 110.0, 200.0])
    p = price(100.0, strikes, 0.25, vol, 0.03, True)
    vector = implied_vol(p, 100.0, strikes, 0.25, 0.03, True)
    scalar = [implied_vol(pi, 100.0, ki, 0.25, 0.03, True) for pi, ki in zip(p, strikes, strict=True)]
    np.testing.assert_allclose(vector.vol, [x.vol[0] for x in scalar], rtol=0, atol=1e-14)
    assert list(vector.reason) == [x.reason[0] for x in scalar]
    ok = vector.reason == IvReason.OK
    assert ok[1:4].all()  # 90–110 strikes always carry time value
    np.testing.assert_allclose(vector.vol[ok], vol, atol=1e-9)


def test_reason_codes__kernel_constants__match_enum() -> None:
    kernel = (
        _kernels._OK,
        _kernels._BELOW_INTRINSIC,
        _kernels._ABOVE_MAXIMUM,
        _kernels._EXPIRED,
        _kernels._INVALID_INPUT,
        _kernels._NO_TIME_VALUE,
        _kernels._NOT_CONVERGED,
        _kernels._ILL,
    )
    assert kernel == tuple(IvReason)


def test_compiled_vs_numpy_reference__same_reasons_and_vols(book: dict[str, np.ndarray]) -> None:
    b = book
    p = price(b["s"], b["k"], b["t"], b["v"], b["r"], b["call"], b["q"])
    fast = implied_vol(p, b["s"], b["k"], b["t"], b["r"], b["call"], b["q"])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ref = implied_vol_reference(p, b["s"], b["k"], b["t"], b["r"], b["call"], b["q"])
    differ = fast.reason != ref.reason
    # Only where the time value is at rounding level (its sign or size decided by 1 ulp of F or DF) may the two
    # classify differently, and then only among the no-vol outcomes.
    no_vol = {IvReason.BELOW_INTRINSIC, IvReason.NO_TIME_VALUE, IvReason.ILL_CONDITIONED}
    assert differ.mean() < 1e-2
    assert set(fast.reason[differ]) <= no_vol
    assert set(ref.reason[differ]) <= no_vol
    both = (fast.reason == IvReason.OK) & (ref.reason == IvReason.OK)
    vega = greeks(b["s"], b["k"], b["t"], b["v"], b["r"], b["call"], b["q"]).vega
    per_ulp = np.finfo(float).eps * p / np.maximum(vega, 1e-300)  # σ moved by one ulp of price
    well_posed = both & (per_ulp < 1e-12)
    assert np.abs(fast.vol[well_posed] - ref.vol[well_posed]).max() <= 1e-11  # measured 1.1e-12 on 200k
    assert np.abs(fast.vol[both] - ref.vol[both]).max() <= 1e-6
    assert fast.iterations <= 20


def test_wide_domain__converges_everywhere__ok_answers_are_right() -> None:
    # Far beyond the trading domain: moneyness e^±20, 1e-6 to 30 years, vol 0.1 % to 2000 %.
    rng = np.random.default_rng(9)
    n = 100_000
    s = 100.0 * np.exp(rng.uniform(-1, 1, n))
    k = s * np.exp(rng.uniform(-20, 20, n))
    t = np.exp(rng.uniform(np.log(1e-6), np.log(30.0), n))
    v = np.exp(rng.uniform(np.log(1e-3), np.log(20.0), n))
    r, q, c = rng.uniform(-0.05, 0.2, n), rng.uniform(0, 0.1, n), rng.random(n) < 0.5
    p = price(s, k, t, v, r, c, q)
    iv = implied_vol(p, s, k, t, r, c, q)
    assert not (iv.reason == IvReason.NOT_CONVERGED).any()
    assert iv.iterations <= 25
    ok = iv.reason == IvReason.OK
    assert ok.sum() > n // 10
    assert np.max(np.abs(iv.vol[ok] - v[ok]) / v[ok]) <= 1e-5  # ill-conditioned ones are flagged, not wrong
    vega = greeks(s, k, t, v, r, c, q).vega
    well_posed = ok & (np.finfo(float).eps * p / np.maximum(vega, 1e-300) < 1e-12)
    assert well_posed.sum() > n // 20
    assert np.abs(iv.vol[well_posed] - v[well_posed]).max() <= 1e-10
    assert np.isnan(iv.vol[~ok & (iv.reason != IvReason.NO_TIME_VALUE)]).all()


def test_exact_prices__near_the_money_short_dated__error_at_rounding_level() -> None:
    # The hard case for σ: tiny vega, intrinsic ≈ price. Prices exact to 50 digits then rounded once, so
    # the only error left is the solver's: within 2 ulp of price's worth of vol, or 2e-13 (near the money the
    # Mills-ratio difference M(−d1) − M(−d2) cancels: measured up to 1e-13 there, 1000× below the target).
    rng = np.random.default_rng(17)
    n = 1500
    s = 100.0 * np.exp(rng.uniform(-0.2, 0.2, n))
    k = s * np.exp(rng.uniform(-0.03, 0.03, n))
    t = np.exp(rng.uniform(np.log(1 / 8760), np.log(7 / 365), n))
    v = rng.uniform(0.05, 1.5, n)
    r, q, c = rng.uniform(-0.01, 0.1, n), rng.uniform(0.0, 0.06, n), rng.random(n) < 0.5
    with mpmath.workdps(50):
        exact = []
        for si, ki, ti, vi, ri, qi, ci in zip(s, k, t, v, r, q, c, strict=True):
            s_, k_, t_, v_, r_, q_ = (mpmath.mpf(float(x)) for x in (si, ki, ti, vi, ri, qi))
            d1 = (mpmath.log(s_ / k_) + (r_ - q_ + v_**2 / 2) * t_) / (v_ * mpmath.sqrt(t_))
            d2 = d1 - v_ * mpmath.sqrt(t_)
            w = 1 if ci else -1
            forward_leg = s_ * mpmath.exp(-q_ * t_) * mpmath.ncdf(w * d1)
            exact.append(w * (forward_leg - k_ * mpmath.exp(-r_ * t_) * mpmath.ncdf(w * d2)))
        p = np.array([float(x) for x in exact])
    iv = implied_vol(p, s, k, t, r, c, q)
    vega = greeks(s, k, t, v, r, c, q).vega
    ok = iv.reason == IvReason.OK
    assert ok.mean() > 0.9
    err = np.abs(iv.vol[ok] - v[ok])
    allowed = 2 * np.finfo(float).eps * p[ok] / vega[ok] + 2e-13
    assert (err <= allowed).all(), f"worst {np.max(err / allowed):.2f}× the allowance"
