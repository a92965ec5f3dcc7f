"""Black-Scholes / Black-76 against QuantLib, finite differences and parity; edge cases defined."""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import numpy as np
import pytest
import QuantLib as ql  # noqa: N813
from numpy.testing import assert_allclose

from keeper.risk.black import greeks, price

N = 4000


@pytest.fixture(scope="module")
def book(random_options: Callable[[int, int], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return random_options(N, 20261124)


def quantlib(b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out: dict[str, list[float]] = {k: [] for k in ("price", "delta", "gamma", "vega", "theta", "rho")}
    for s, k, t, v, r, q, c in zip(b["s"], b["k"], b["t"], b["v"], b["r"], b["q"], b["call"], strict=True):
        fwd, df = s * np.exp((r - q) * t), np.exp(-r * t)
        payoff = ql.PlainVanillaPayoff(ql.Option.Call if c else ql.Option.Put, float(k))
        calc = ql.BlackCalculator(payoff, float(fwd), float(v * np.sqrt(t)), float(df))
        out["price"].append(calc.value())
        out["delta"].append(calc.delta(s))
        out["gamma"].append(calc.gamma(s))
        out["vega"].append(calc.vega(t))
        out["theta"].append(calc.theta(s, t))
        out["rho"].append(calc.rho(t))
    return {k: np.asarray(v) for k, v in out.items()}


def theta_mp(s: float, k: float, t: float, v: float, r: float, q: float, call: bool) -> float:
    """Black-Scholes theta per year in 40-digit arithmetic (mpmath), the independent reference for theta."""
    mpmath.mp.dps = 40
    s_, k_, t_, v_, r_, q_ = (mpmath.mpf(x) for x in (s, k, t, v, r, q))
    sq = mpmath.sqrt(t_)
    d1 = (mpmath.log(s_ / k_) + (r_ - q_ + v_**2 / 2) * t_) / (v_ * sq)
    d2 = d1 - v_ * sq
    sign = 1 if call else -1
    decay = -s_ * mpmath.exp(-q_ * t_) * mpmath.npdf(d1) * v_ / (2 * sq)
    carry = sign * (
        q_ * s_ * mpmath.exp(-q_ * t_) * mpmath.ncdf(sign * d1)
        - r_ * k_ * mpmath.exp(-r_ * t_) * mpmath.ncdf(sign * d2)
    )
    return float(decay + carry)


def test_greeks__thousands_random__match_quantlib_to_1e10(book: dict[str, np.ndarray]) -> None:
    g = greeks(book["s"], book["k"], book["t"], book["v"], book["r"], book["call"], book["q"])
    ref = quantlib(book)
    # QuantLib's BlackCalculator::theta recovers r and q from ln(DF)/T and ln(F/S)/T and loses up to ~1e-8 of
    # relative accuracy when carry terms cancel (deep ITM, short expiry): theta's reference is 40-digit mpmath.
    ref["theta"] = np.array(
        [theta_mp(*a) for a in zip(*(book[x] for x in ("s", "k", "t", "v", "r", "q", "call")), strict=True)]
    )
    for name, expected in ref.items():
        got = getattr(g, name)
        scale = {
            "price": book["s"],
            "delta": 1.0,
            "gamma": 1 / book["s"],
            "vega": book["s"],
            "theta": book["s"],
            "rho": book["s"],
        }[name]
        meaningful = np.abs(expected) > 1e-6 * scale  # relative error where the value is not tiny
        assert meaningful.sum() > N // 3, name
        rel = np.abs(got[meaningful] - expected[meaningful]) / np.abs(expected[meaningful])
        assert rel.max() <= 1e-10, f"{name}: max relative error {rel.max():.2e}"
        # Everywhere (tiny values included): absolute error ≤ 1e-10 of the Greek's natural scale.
        assert (np.abs(got - expected) <= 1e-10 * scale).all(), name


@pytest.mark.parametrize("model", ["black_scholes", "black76"])
def test_greeks__finite_differences__agree(book: dict[str, np.ndarray], model: str) -> None:
    s, k, t, v, r, q, c = (book[x][:500] for x in ("s", "k", "t", "v", "r", "q", "call"))
    q = q if model == "black_scholes" else 0.0
    g = greeks(s, k, t, v, r, c, q, model=model)

    def p(**bump: np.ndarray) -> np.ndarray:
        args = {"underlying": s, "strike": k, "t_years": t, "vol": v, "rate": r, "is_call": c, "carry": q} | bump
        return price(**args, model=model)  # type: ignore[arg-type]

    hs, hv, hr = 1e-4 * s, 1e-5, 1e-6
    checks = {
        "delta": (p(underlying=s + hs) - p(underlying=s - hs)) / (2 * hs),
        "gamma": (p(underlying=s + hs) - 2 * p() + p(underlying=s - hs)) / hs**2,
        "vega": (p(vol=v + hv) - p(vol=v - hv)) / (2 * hv),
        "rho": (p(rate=r + hr) - p(rate=r - hr)) / (2 * hr),
        "volga": (p(vol=v + 1e-4) - 2 * p() + p(vol=v - 1e-4)) / 1e-8,
        "vanna": (
            p(underlying=s + hs, vol=v + hv)
            - p(underlying=s + hs, vol=v - hv)
            - p(underlying=s - hs, vol=v + hv)
            + p(underlying=s - hs, vol=v - hv)
        )
        / (4 * hs * hv),
        "theta": -(p(t_years=t + 1e-7) - p(t_years=t - 1e-7)) / 2e-7,
    }
    for name, fd in checks.items():
        got = getattr(g, name)
        big = np.abs(got) > 1e-3 * {"gamma": 1 / s, "delta": 1.0}.get(name, s)
        assert_allclose(got[big], fd[big], rtol=2e-3, err_msg=name)


def test_parity__call_minus_put__equals_discounted_forward(book: dict[str, np.ndarray]) -> None:
    s, k, t, v, r, q = (book[x] for x in ("s", "k", "t", "v", "r", "q"))
    calls = price(s, k, t, v, r, True, q)
    puts = price(s, k, t, v, r, False, q)
    assert_allclose(calls - puts, s * np.exp(-q * t) - k * np.exp(-r * t), rtol=0, atol=1e-11 * s.max())


def test_expired__payoff_and_payoff_greeks() -> None:
    g = greeks([90.0, 100.0, 110.0, 90.0], 100.0, [0.0, -1.0, 0.0, 0.0], 0.6, 0.05, [True, True, True, False])
    assert_allclose(g.price, [0.0, 0.0, 10.0, 10.0])
    assert_allclose(g.delta, [0.0, 0.5, 1.0, -1.0])
    for name in ("gamma", "vega", "theta", "rho", "vanna", "volga"):
        assert_allclose(getattr(g, name), 0.0)


def test_zero_vol__forward_intrinsic_and_deterministic_greeks() -> None:
    s, k, t, r, q = 100.0, np.array([90.0, 100.0 * np.exp(0.04), 120.0]), 1.0, 0.05, 0.01
    g = greeks(s, k, t, 0.0, r, True, q)
    fwd_itm = s * np.exp(-q) - k * np.exp(-r)
    assert_allclose(g.price, [fwd_itm[0], 0.0, 0.0], atol=1e-12)
    assert_allclose(g.delta, [np.exp(-q), 0.5 * np.exp(-q), 0.0])
    assert_allclose(g.rho, [k[0] * np.exp(-r), 0.5 * k[1] * np.exp(-r), 0.0])
    assert_allclose(g.theta[0], q * s * np.exp(-q) - r * k[0] * np.exp(-r))
    assert not np.isnan(np.concatenate([g.gamma, g.vega, g.vanna, g.volga])).any()


def test_extremes__deep_itm_otm_and_vol_five__finite_and_bounded() -> None:
    s = 100.0
    k = np.array([1e-3, 1e5, 100.0, 100.0])
    g = greeks(s, k, [2.0, 2.0, 1 / 8760, 2.0], [0.05, 0.05, 5.0, 5.0], 0.03, True)
    for name in ("price", "delta", "gamma", "vega", "theta", "rho", "vanna", "volga"):
        assert np.isfinite(getattr(g, name)).all(), name
    assert g.price[0] == pytest.approx(s - 1e-3 * np.exp(-0.06), rel=1e-14)
    assert g.price[1] == 0.0
    assert 0 <= g.price[3] <= s


def test_units__vega_per_point_and_theta_per_day() -> None:
    g = greeks(100.0, 100.0, 0.5, 0.6, 0.0, True)
    assert g.vega_per_point[0] == pytest.approx(g.vega[0] / 100)
    assert g.theta_per_day[0] == pytest.approx(g.theta[0] / 365)


def test_greeks__invalid_input__named_error() -> None:
    with pytest.raises(ValueError, match="underlying and strike must be > 0"):
        greeks(-1.0, 100.0, 1.0, 0.5, 0.0, True)
    with pytest.raises(ValueError, match="vol must be ≥ 0"):
        greeks(100.0, 100.0, 1.0, -0.1, 0.0, True)
    with pytest.raises(ValueError, match="model='heston'"):
        greeks(100.0, 100.0, 1.0, 0.5, 0.0, True, model="heston")  # type: ignore[arg-type]
