"""The tail-loss budget: keep the worst stress loss over the horizon within ``tail_budget_pct`` of NAV, before
the move. Pure: data in, actions and reasoning out.

**Stress set.** Per underlying u with forecast vol σᵤ (GARCH(1,1), EWMA fallback; ``BookView.sigma_annual``) the
horizon move is mᵤ = σᵤ·√h, h = ``horizon_days`` × (1 + p_high × (``high_vol_horizon_multiplier`` − 1)) with p_high
the regime model's high-vol probability. The grid is every spot move z·mᵤ, z ∈ linspace(−z_max, z_max,
``spot_steps``) (all underlyings the same z: crypto crashes together), crossed with every relative vol shock in
``vol_shocks``. Each named historical shock (:data:`keeper.risk.stress.HISTORICAL_SHOCKS`) is added with its
spot return scaled by max(f, σᵤ / ``reference_vol_annual``) (larger when vol now is higher than the vol it
happened against), f = ``historical_scale_floor`` + p_high × (1 − that floor): with the default floor 1 never
smaller than as it happened; a floor < 1 shrinks the shocks with vol in a calm regime (filtered historical
simulation), back to full size as the regime turns. Its implied-vol multiplier is used as is. Spot moves are
floored at −95 %.
Every scenario reprices every position exactly (Black–Scholes, instantaneous: no theta credit) and revalues
spot, Aave collateral and debt in the underlying.

**Choice.** When the worst loss L exceeds the budget B = ``tail_budget_pct`` × NAV times ``act_above_budget``
(hysteresis, 1 by default: a small overshoot need not buy every tick), a MILP (HiGHS) picks
sizes xⱼ ≥ 0 of the legs — buy a listed option (a wing, or back a short the vault holds), sell or buy the
underlying — minimising Σ costⱼ·xⱼ + gas·Σ yⱼ (yⱼ ∈ {0, 1}: leg j trades; cost per ``cost_basis``: by
default an option's ask, or (``fee_and_decay``) its fee over mid plus its mark's decay over the horizon
(:func:`option_cost`); the swap cost for spot) subject to, in every scenario k, Pₖ + Σ aₖⱼ·xⱼ − gas·Σ yⱼ ≥ −B
(B here is ``buy_down_to_budget`` × B, ≤ B: bought down below the budget, a drift does not re-trigger at once;
aₖⱼ: the leg's value change in k less what it pays now: the ask, or the swap cost), xⱼ ≤ Uⱼ·yⱼ (Uⱼ: venue
liquidity, the short held, the units held or affordable), premium spent ≤ min(idle USDC above the reserve,
``max_spend_nav_pct`` × NAV), premium + spot bought ≤ the idle USDC above the reserve, and premium + spot
notional ≤ ``max_turnover_usd``, and (``keep_delta_band``, on by default) per underlying the net delta the legs
leave inside the delta rule's band, target ± half-width (no further out than now when the delta rule left it
outside): unconstrained, the cheapest set often carries a spot leg or one-sided wings whose delta the next tick's
delta rule trades away, and the rule then buys the same protection again; when no set inside the band meets B, the
band is dropped for this decision (the budget comes first). If no set meets B, it says so, takes the smallest
reachable worst loss and the cheapest trades reaching it (the cheapest partial reduction), and reports infeasible
(the loop raises an alert).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from keeper.config import PolicyConfig, TailBudgetConfig
from keeper.model import (
    Action,
    BookView,
    Decision,
    DeltaBand,
    MarginDeposit,
    OptionTrade,
    Swap,
    TailCandidate,
    TailInputs,
    TailReport,
)
from keeper.policy.aave import USDC, Working, slippage
from keeper.policy.leg_lp import LegLp
from keeper.risk.black import greeks, price
from keeper.risk.portfolio import OptionBook
from keeper.risk.stress import HISTORICAL_SHOCKS, grid

SPOT_FLOOR = -0.95


@dataclass(frozen=True)
class StressSet:
    """Scenario k moves underlying u by ``spot_shock[k, u]`` (relative) and its implied vols by ``vol_shock[k, u]``."""

    names: tuple[str, ...]
    spot_shock: np.ndarray  # (k, u)
    vol_shock: np.ndarray  # (k, u)
    horizon_days: float


def horizon_days(cfg: TailBudgetConfig, high_vol_probability: float) -> float:
    p = min(1.0, max(0.0, high_vol_probability))
    return cfg.horizon_days * (1.0 + p * (cfg.high_vol_horizon_multiplier - 1.0))


def historical_floor(cfg: TailBudgetConfig, high_vol_probability: float) -> float:
    """The least a historical shock is scaled by: ``historical_scale_floor`` in a calm regime, 1 (the shock as it
    happened) in a high-vol one, linear in between."""
    p = min(1.0, max(0.0, high_vol_probability))
    return cfg.historical_scale_floor + p * (1.0 - cfg.historical_scale_floor)


def stress_set(
    symbols: list[str], sigma_annual: np.ndarray, cfg: TailBudgetConfig, high_vol_probability: float = 0.0
) -> StressSet:
    """The scenarios of the module docstring, for underlyings ``symbols`` with forecast vols ``sigma_annual``."""
    days = horizon_days(cfg, high_vol_probability)
    move = np.asarray(sigma_annual, dtype=np.float64) * math.sqrt(days / 365.0)
    zs = np.linspace(-cfg.spot_z_max, cfg.spot_z_max, cfg.spot_steps)
    names: list[str] = []
    spot: list[np.ndarray] = []
    vol: list[np.ndarray] = []
    for dv in cfg.vol_shocks:
        for z in zs:
            names.append(f"spot {z:+.2f}σ, vol {dv:+.0%}")
            spot.append(z * move)
            vol.append(np.full(move.size, dv))
    if cfg.historical_shocks:
        scale = np.maximum(
            historical_floor(cfg, high_vol_probability),
            np.asarray(sigma_annual, dtype=np.float64) / cfg.reference_vol_annual,
        )
        for shock in HISTORICAL_SHOCKS:
            ret = np.array([shock.spot_return.get(s, min(shock.spot_return.values())) for s in symbols])
            names.append(f"{shock.name} ({shock.date})")
            spot.append(ret * scale)
            vol.append(np.full(move.size, shock.vol_multiplier - 1.0))
    shape = (len(names), move.size)
    return StressSet(
        tuple(names),
        np.maximum(SPOT_FLOOR, np.array(spot).reshape(shape)),
        np.array(vol).reshape(shape),
        days,
    )


def book_pnl(tail: TailInputs, spot_usd: np.ndarray, linear_units: np.ndarray, scenarios: StressSet) -> np.ndarray:
    """PnL (USD) of positions + linear exposures in every scenario: one kernel call over the union of the
    scenarios' per-underlying shocks, then each scenario picks its own (vol, spot) cell per underlying."""
    ds = np.unique(np.concatenate([scenarios.spot_shock.ravel(), [0.0]]))
    dv = np.unique(np.concatenate([scenarios.vol_shock.ravel(), [0.0]]))
    book = OptionBook(tail.underlying_index, tail.size, tail.strike_usd, tail.t_years, tail.vol, tail.is_call)
    value = grid(book, spot_usd, tail.rate, linear_units, ds, dv).value_usd  # (u, vol, spot)
    i_s = np.searchsorted(ds, scenarios.spot_shock)
    i_v = np.searchsorted(dv, scenarios.vol_shock)
    u = np.arange(spot_usd.size)
    base = value[u, np.searchsorted(dv, 0.0), np.searchsorted(ds, 0.0)]
    return (value[u[None, :], i_v, i_s] - base[None, :]).sum(axis=1)


@dataclass(frozen=True)
class Leg:
    """One tradable unit of protection: what it does in every scenario, what it costs, how much is available."""

    label: str
    candidate: TailCandidate | None  # None for a spot leg
    underlying: int
    units_sign: float  # spot legs: +1 buy, −1 sell (options are always bought)
    cost_usd: float  # per unit, what the choice minimises: see ``cost_basis`` (spot: the swap cost)
    cash_usd: float  # per unit of USDC spent (premium, or spot bought)
    notional_usd: float  # per unit, counted against the turnover budget
    max_units: float
    price_usd: float | None = None  # per unit, what the trade pays now (premium at ask, swap cost); None: cost_usd

    @property
    def paid_usd(self) -> float:
        return self.cost_usd if self.price_usd is None else self.price_usd


def option_cost(c: TailCandidate, spot_usd: float, rate: float, horizon_days: float, basis: str) -> float:
    """What one unit of protection costs the book, per the config's ``cost_basis``: ``premium`` — the ask;
    ``fee_and_decay`` — the venue's fee over mid (ask − mark, lost on the spot) plus what the mark decays over the
    stress horizon if spot and vol stay put (mark − value at t − h; all the time value when it expires sooner). A
    premium is not spent but turned into an option worth its mark: what the book loses by holding protection for a
    horizon is the spread and the rent, and a series that keeps its value (a longer tenor) is re-bought less often.
    The same for a buyback: its fee, and the decay the short no longer earns."""
    if basis == "premium":
        return c.ask_usd
    args = (np.array([spot_usd]), np.array([c.strike_usd]))
    call = np.array([c.is_call])
    later = max(0.0, c.t_years - horizon_days / 365.0)
    mark = float(price(*args, np.array([c.t_years]), np.array([c.vol]), rate, call)[0])
    held = float(price(*args, np.array([later]), np.array([c.vol]), rate, call)[0])
    return max(0.0, c.ask_usd - mark) + max(0.0, mark - held)


def exposed(positions: TailInputs, linear_units: np.ndarray, spot_usd: np.ndarray, dust_usd: float) -> np.ndarray:
    """(u,) bool: the book holds risk in underlying u — an option position on it, or linear units (held,
    collateral less debt) worth more than ``dust_usd``."""
    out = np.abs(np.asarray(linear_units, dtype=np.float64) * spot_usd) > dust_usd
    out[np.asarray(positions.underlying_index)[np.asarray(positions.size) != 0]] = True
    return out


def legs(
    book: BookView,
    tail: TailInputs,
    cfg: PolicyConfig,
    s: Working,
    option_legs: bool,
    horizon_days: float | None = None,
    exposure: np.ndarray | None = None,
) -> list[Leg]:
    """The tradable legs. Without ``policy.tail.cross_hedges``, only on the underlyings ``exposure`` marks (the
    book's own risks): a WBTC put bought against a WETH book protects it only as far as the stress set's assumed
    co-movement holds, and it brings a WBTC delta the delta rule then trades."""
    symbols = [u.symbol for u in book.underlyings]
    days = cfg.tail.horizon_days if horizon_days is None else horizon_days
    allowed = {sym for i, sym in enumerate(symbols) if cfg.tail.cross_hedges or exposure is None or bool(exposure[i])}
    out: list[Leg] = []
    if option_legs:
        for c in tail.candidates:
            if c.max_units > 0 and c.ask_usd > 0 and c.underlying in allowed:
                kind = "call" if c.is_call else "put"
                spot = s.underlyings[c.underlying].spot_usd
                out.append(
                    Leg(
                        f"series {c.series_id} ({c.underlying} {kind} {c.strike_usd:,.0f}, {c.t_years * 365:.1f} d)",
                        c,
                        symbols.index(c.underlying),
                        1.0,
                        option_cost(c, spot, tail.rate, days, cfg.tail.cost_basis),
                        c.ask_usd,
                        c.ask_usd,
                        c.max_units,
                        c.ask_usd,
                    )
                )
    bps = cfg.hedge_cost_bps / 10_000
    cash = max(0.0, s.idle_usdc - cfg.idle_reserve_usdc)
    for i, symbol in enumerate(symbols):
        u = s.underlyings[symbol]
        if symbol not in allowed:
            continue
        if u.held_units > 0:
            out.append(Leg(f"sell {symbol}", None, i, -1.0, u.spot_usd * bps, 0.0, u.spot_usd, u.held_units))
        if cash > 0:
            unit = u.spot_usd * (1 + bps)
            out.append(Leg(f"buy {symbol}", None, i, 1.0, u.spot_usd * bps, unit, u.spot_usd, cash / unit))
    return out


def leg_pnl(legs_: list[Leg], spot_usd: np.ndarray, tail: TailInputs, scenarios: StressSet) -> np.ndarray:
    """(k, j): value change of one unit of each leg in each scenario, less its cost (options repriced in one
    vectorised call over every (scenario, option leg))."""
    k = len(scenarios.names)
    out = np.zeros((k, len(legs_)))
    if not legs_:
        return out
    u = np.array([leg.underlying for leg in legs_])
    moved = spot_usd[u][None, :] * (1.0 + scenarios.spot_shock[:, u])  # (k, j)
    spot_legs = np.array([leg.candidate is None for leg in legs_])
    sign = np.array([leg.units_sign for leg in legs_])
    cost = np.array([leg.paid_usd for leg in legs_])
    out[:, spot_legs] = sign[spot_legs] * (moved[:, spot_legs] - spot_usd[u[spot_legs]]) - cost[spot_legs]
    opt = np.flatnonzero(~spot_legs)
    if opt.size:
        c = [legs_[j].candidate for j in opt]
        strike = np.array([x.strike_usd for x in c if x is not None])
        t = np.array([x.t_years for x in c if x is not None])
        vol = np.array([x.vol for x in c if x is not None])[None, :] * (1.0 + scenarios.vol_shock[:, u[opt]])
        call = np.array([x.is_call for x in c if x is not None])
        shape = (k, opt.size)
        value = price(
            moved[:, opt].ravel(),
            np.broadcast_to(strike, shape).ravel(),
            np.broadcast_to(t, shape).ravel(),
            vol.ravel(),
            tail.rate,
            np.broadcast_to(call, shape).ravel(),
        ).reshape(shape)
        out[:, opt] = value - cost[opt]
    return out


@dataclass(frozen=True)
class DeltaLimits:
    """Rows ``lo ≤ Δ₀ + coef·x ≤ hi`` per underlying (``coef`` (u, n): each leg's delta per unit): the net delta the
    chosen legs leave must sit inside the delta rule's band, so the next tick's delta rule does not trade the
    protection's delta away (and the tail rule buy it again: churn). ``lo``/``hi`` already net of Δ₀."""

    coef: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    def sub(self, columns: np.ndarray) -> DeltaLimits:
        return DeltaLimits(self.coef[:, columns], self.lo, self.hi)


@dataclass(frozen=True)
class Solution:
    units: np.ndarray
    feasible: bool


def leg_model(
    pnl: np.ndarray,
    a: np.ndarray,
    legs_: list[Leg],
    gas_usd: float,
    spend_cap: float,
    turnover: float,
    idle_cap: float = math.inf,
    delta: DeltaLimits | None = None,
) -> LegLp:
    """The decision's LP (:class:`keeper.policy.leg_lp.LegLp`): built once, re-solved warm by the relaxation, the
    sizing, a retry without the band and the dust re-sizing."""
    return LegLp(
        pnl,
        a,
        np.array([leg.cost_usd for leg in legs_]),
        np.array([leg.max_units for leg in legs_], dtype=np.float64),
        np.array([leg.cash_usd if leg.candidate is not None else 0.0 for leg in legs_]),
        np.array([leg.cash_usd for leg in legs_]),
        np.array([leg.notional_usd for leg in legs_]),
        (spend_cap, idle_cap, turnover),
        gas_usd,
        None if delta is None else (delta.coef, delta.lo, delta.hi),
    )


def solve(
    pnl: np.ndarray,
    a: np.ndarray,
    legs_: list[Leg],
    budget_usd: float,
    gas_usd: float,
    spend_cap: float,
    turnover: float,
    exact_up_to: int = 16,
    idle_cap: float = math.inf,
    delta: DeltaLimits | None = None,
    lp: LegLp | None = None,
) -> Solution:
    """The MILP of the module docstring; when it has no solution, the cheapest trades reaching the smallest
    reachable worst loss (two solves: minimise the worst loss, then the cost at that loss).

    Up to ``exact_up_to`` legs the MILP is solved exactly. Beyond (a live book lists hundreds of series, and the
    MILP's branching costs ~50 ms at 100 legs) the LP relaxation runs first — yⱼ continuous, so each leg pays gas
    in proportion xⱼ/Uⱼ — and picks the legs; then an LP on those legs with their gas counted in full (yⱼ = 1)
    sizes them, so the budget holds with the true gas. Not exact: the relaxation's cost is a lower bound on the
    MILP's, and the test on 20 legs finds the answer within gas × (legs used) of the exact MILP. Both LPs are
    one warm-started HiGHS model (``lp``, :func:`leg_model`; built here when not given, with ``delta`` — a given
    ``lp`` carries its own band state)."""
    n = len(legs_)
    if n <= exact_up_to:
        return _solve(pnl, a, legs_, budget_usd, gas_usd, spend_cap, turnover, idle_cap=idle_cap, delta=delta)
    if lp is None:
        lp = leg_model(pnl, a, legs_, gas_usd, spend_cap, turnover, idle_cap, delta)
    relaxed = lp.relax(budget_usd)
    support = np.flatnonzero(relaxed.units > 1e-9)
    if support.size == 0:
        return Solution(relaxed.units, relaxed.optimal)
    fixed = lp.size(support, budget_usd)
    units = np.zeros(n)
    units[support] = fixed.units[support]
    return Solution(units, fixed.optimal)


def _solve(
    pnl: np.ndarray,
    a: np.ndarray,
    legs_: list[Leg],
    budget_usd: float,
    gas_usd: float,
    spend_cap: float,
    turnover: float,
    integer: bool = True,
    idle_cap: float = math.inf,
    delta: DeltaLimits | None = None,
) -> Solution:
    n, k = len(legs_), pnl.size
    cap = np.array([leg.max_units for leg in legs_], dtype=np.float64)
    cost = np.array([leg.cost_usd for leg in legs_])
    cash = np.array([leg.cash_usd for leg in legs_])
    premium = np.array([leg.cash_usd if leg.candidate is not None else 0.0 for leg in legs_])
    notional = np.array([leg.notional_usd for leg in legs_])
    zeros = np.zeros(n)
    # variables: x (n), y (n), t (1): the worst loss, bounded by the budget in the first solve
    scen = np.hstack([a, np.full((k, n), -gas_usd), np.ones((k, 1))])  # Pₖ + a·x − gas·Σy + t ≥ 0
    link = sparse.hstack([sparse.eye(n), sparse.diags(-cap), sparse.csr_matrix((n, 1))]).tocsr()  # x ≤ U·y
    rows = [
        LinearConstraint(scen, -pnl, np.inf),
        LinearConstraint(link, -np.inf, 0.0),
        LinearConstraint(np.concatenate([premium, zeros, [0.0]])[None, :], -np.inf, spend_cap),
        LinearConstraint(np.concatenate([cash, zeros, [0.0]])[None, :], -np.inf, idle_cap),
        LinearConstraint(np.concatenate([notional, zeros, [0.0]])[None, :], -np.inf, turnover),
    ]
    if delta is not None:
        u = delta.coef.shape[0]
        rows.append(LinearConstraint(np.hstack([delta.coef, np.zeros((u, n + 1))]), delta.lo, delta.hi))
    integrality = np.concatenate([zeros, np.ones(n) if integer else zeros, [0.0]])
    lower = np.zeros(2 * n + 1)
    upper = np.concatenate([cap, np.ones(n), [budget_usd]])
    objective = np.concatenate([cost, np.full(n, gas_usd), [0.0]])
    options = {"time_limit": 2.0, "mip_rel_gap": 1e-6}
    first = milp(objective, constraints=rows, integrality=integrality, bounds=Bounds(lower, upper), options=options)
    if first.status == 0:
        return Solution(first.x[:n], True)
    upper[-1] = np.inf
    worst = np.concatenate([zeros, zeros, [1.0]])
    reach = milp(worst, constraints=rows, integrality=integrality, bounds=Bounds(lower, upper), options=options)
    if reach.status != 0:
        return Solution(np.zeros(n), False)
    upper[-1] = reach.x[-1] * (1 + 1e-7) + 1e-6
    cheapest = milp(objective, constraints=rows, integrality=integrality, bounds=Bounds(lower, upper), options=options)
    x = cheapest.x if cheapest.status == 0 else reach.x
    return Solution(x[:n], False)


@dataclass(frozen=True)
class LegGreeks:
    """Per unit of each leg (``legs`` order): delta in underlying units, gamma per USD, vega per vol point. A spot
    leg is its units' sign in delta and nothing else."""

    delta: np.ndarray
    gamma: np.ndarray
    vega_per_vol_pt: np.ndarray


def leg_greeks(available: list[Leg], spot_usd: np.ndarray, rate: float) -> LegGreeks:
    """The legs' Greeks in one kernel call over the option legs (the band rows and the bought legs both read them)."""
    n = len(available)
    delta = np.array([leg.units_sign if leg.candidate is None else 0.0 for leg in available], dtype=np.float64)
    gamma, vega = np.zeros(n), np.zeros(n)
    opt = [j for j, leg in enumerate(available) if leg.candidate is not None]
    if opt:
        c = [available[j].candidate for j in opt]
        g = greeks(
            spot_usd[[available[j].underlying for j in opt]],
            np.array([x.strike_usd for x in c if x is not None]),
            np.array([x.t_years for x in c if x is not None]),
            np.array([x.vol for x in c if x is not None]),
            rate,
            np.array([x.is_call for x in c if x is not None]),
        )
        delta[opt], gamma[opt], vega[opt] = g.delta, g.gamma, np.asarray(g.vega) / 100
    return LegGreeks(delta, gamma, vega)


def delta_limits(available: list[Leg], bands: list[DeltaBand], s: Working, delta: np.ndarray) -> DeltaLimits | None:
    """The delta rule's bands as rows on the legs (``DeltaLimits``; ``delta``: each leg's per unit): per underlying a
    leg trades, the net delta after the legs within target ± half-width — or, when the delta rule left it outside
    (cooldown, minimum trade, funds), no further out than it is now."""
    symbols = list(s.underlyings)
    by_symbol = {b.symbol: b for b in bands}
    underlying = np.array([leg.underlying for leg in available], dtype=np.int64)
    used = [i for i in np.unique(underlying) if symbols[i] in by_symbol]
    if not used:
        return None
    coef = np.where(underlying[None, :] == np.array(used)[:, None], delta[None, :], 0.0)
    lo, hi = np.zeros(len(used)), np.zeros(len(used))
    for row, i in enumerate(used):
        band = by_symbol[symbols[i]]
        now = s.underlyings[symbols[i]].net_delta_units
        lo[row] = min(band.target_units - band.half_width_units, now) - now
        hi[row] = max(band.target_units + band.half_width_units, now) - now
    return DeltaLimits(coef, lo, hi)


def tail_rule(
    book: BookView,
    config: PolicyConfig,
    s: Working,
    planned: list[Action],
    reports: list[TailReport],
    bands: list[DeltaBand] | None = None,
) -> tuple[list[Action], list[Decision]]:
    """Keep the worst stress loss within budget (module docstring). ``planned`` are the earlier rules' actions
    (their option trades are part of the book revalued here); the rule's numbers go to ``reports``; ``bands``: the
    delta rule's, kept by the chosen legs when ``policy.tail.keep_delta_band`` (a set that must leave them is
    taken only when none inside them meets the budget)."""
    cfg = config.tail
    tail = book.tail
    if not cfg.enabled or tail is None:
        return [], []
    if tail.nav_usd <= 0:
        return [], [Decision("tail_budget", False, f"NAV ${tail.nav_usd:,.0f} ≤ 0: no budget to keep")]
    symbols = [u.symbol for u in book.underlyings]
    views = [s.underlyings[sym] for sym in symbols]
    spot = np.array([u.spot_usd for u in views])
    linear = np.array([u.held_units + u.collateral_units - u.debt_units for u in views])
    sigma = tail.sigma_annual if tail.sigma_annual is not None else np.array([u.sigma_annual for u in views])
    scenarios = stress_set(symbols, sigma, cfg, tail.high_vol_probability)
    positions = _with_planned(tail, planned, symbols)
    pnl = book_pnl(positions, spot, linear, scenarios)
    budget = cfg.tail_budget_pct / 100 * tail.nav_usd
    worst = int(np.argmin(pnl))
    loss = float(-min(0.0, pnl[worst]))
    pct = 100 * loss / tail.nav_usd
    if loss <= budget * cfg.act_above_budget:
        reports.append(
            TailReport(
                scenarios.names[worst], loss, budget, scenarios.names[worst], loss, 0.0, True, scenarios.horizon_days
            )
        )
        reason = (
            f"worst stress loss ${loss:,.0f} ({pct:.2f} % of NAV, {scenarios.names[worst]}, "
            f"{scenarios.horizon_days:.1f} d) within budget ${budget:,.0f} ({cfg.tail_budget_pct} %)"
        )
        if loss > budget:
            reason = (
                f"worst stress loss ${loss:,.0f} ({pct:.2f} % of NAV, {scenarios.names[worst]}, "
                f"{scenarios.horizon_days:.1f} d) over budget ${budget:,.0f} ({cfg.tail_budget_pct} %) but within "
                f"the act threshold ×{cfg.act_above_budget:g} (${budget * cfg.act_above_budget:,.0f}): no trade"
            )
        return [], [Decision("tail_budget", False, reason)]
    target = budget * cfg.buy_down_to_budget  # hysteresis: below the budget, so a small drift does not re-trigger
    exposure = exposed(positions, linear, spot, config.dust_usd)
    available = legs(book, tail, config, s, book.venue_tradeable, scenarios.horizon_days, exposure)
    a = leg_pnl(available, spot, tail, scenarios)
    # Premium is capped at max_spend_nav_pct of NAV; premium and spot bought together at the idle USDC above the
    # reserve (both at the slippage-bounded cost: premium goes in as a margin deposit).
    idle_cap = max(0.0, s.idle_usdc - config.idle_reserve_usdc) / (1 + slippage(config))
    spend_cap = min(idle_cap, cfg.max_spend_nav_pct / 100 * tail.nav_usd / (1 + slippage(config)))
    g = leg_greeks(available, spot, tail.rate)
    limits = delta_limits(available, bands, s, g.delta) if cfg.keep_delta_band and bands else None
    solution = Solution(np.zeros(0), False)
    units = solution.units
    if available:
        lp = leg_model(pnl, a, available, tail.leg_gas_usd, spend_cap, cfg.max_turnover_usd, idle_cap, limits)
        problem = (pnl, a, available, target, tail.leg_gas_usd, spend_cap, cfg.max_turnover_usd)
        solution = solve(*problem, idle_cap=idle_cap, delta=limits, lp=lp)
        if limits is not None and not solution.feasible:  # no set inside the band meets the budget: leave the band
            limits = None
            lp.band(False)
            solution = solve(*problem, idle_cap=idle_cap, lp=lp)
        units = _without_dust(solution, available, target, config.dust_usd, lp)
    traded = units > 0
    after = pnl + (a @ units if available else 0.0) - tail.leg_gas_usd * int(traded.sum())
    worst_after = int(np.argmin(after))
    loss_after = float(-min(0.0, after[worst_after]))
    cost = float(np.dot([leg.paid_usd for leg in available], units)) + tail.leg_gas_usd * int(traded.sum())
    actions, bought = _actions(available, units, config, s, g)
    feasible = solution.feasible and loss_after <= target * (1 + 1e-6)
    reports.append(
        TailReport(
            scenarios.names[worst],
            loss,
            budget,
            scenarios.names[worst_after],
            loss_after,
            cost,
            feasible,
            scenarios.horizon_days,
        )
    )
    head = (
        f"worst stress loss ${loss:,.0f} ({pct:.2f} % of NAV, {scenarios.names[worst]}, "
        f"{scenarios.horizon_days:.1f} d) > budget ${budget:,.0f} ({cfg.tail_budget_pct} %)"
    )
    if target < budget:
        head += f", buying down to ×{cfg.buy_down_to_budget:g} (${target:,.0f})"
    what = "; ".join(bought) if bought else "nothing"
    if feasible:
        reason = f"{head}: {what}; cost ${cost:,.0f} → worst ${loss_after:,.0f} ({scenarios.names[worst_after]})"
    else:
        why = "" if book.venue_tradeable else " (venue inputs stale: spot legs only)"
        reason = (
            f"{head}: INFEASIBLE within liquidity, premium cap ${spend_cap:,.0f}, idle ${idle_cap:,.0f} and turnover "
            f"${cfg.max_turnover_usd:,.0f}{why}; cheapest partial reduction: {what}; cost ${cost:,.0f} → worst "
            f"${loss_after:,.0f} ({scenarios.names[worst_after]})"
        )
    return actions, [Decision("tail_budget", bool(actions), reason)]


@dataclass(frozen=True)
class PremiumLeg:
    """One leg of a structure to open, per unit of the structure: ``contracts`` signed (−1: sell one, +1: buy one,
    e.g. a condor's wing), traded at ``price_usd`` per contract (the venue's bid when selling, ask when buying)."""

    series: TailCandidate  # strike, expiry, vol of the listed series (its ask_usd is not used here)
    contracts: float
    price_usd: float


@dataclass(frozen=True)
class Sizing:
    """How many units of a structure the budget allows, at forecast vol: the stress scenario that binds, the worst
    loss at that size and the budget (USD)."""

    units: float
    binding_scenario: str
    worst_loss_usd: float
    budget_usd: float
    horizon_days: float
    reason: str


def size_new_premium(book: BookView, config: PolicyConfig, legs_: list[PremiumLeg]) -> Sizing:
    """The largest number of units of the structure ``legs_`` the vault may open so that the worst stress loss of
    the book plus the new units stays within the tail budget — at *forecast* vol over the regime-stretched horizon
    (the stress set of the module docstring): a higher forecast or a high-vol regime sells less.

    Per unit, scenario k changes the book by bₖ = Σⱼ cⱼ·Vₖⱼ − Σⱼ cⱼ·pⱼ (the legs revalued in k, less what they cost);
    with the book's own PnL Pₖ the budget is Pₖ + x·bₖ ≥ −B in every k, so x* = minₖ (Pₖ + B)/(−bₖ) over the
    scenarios where a unit loses (bₖ < 0): exact, no search. 0 when the book is already over its budget (the tail
    rule buys protection first) or without the rule's inputs. B is ``buy_down_to_budget`` × the budget (1 by
    default): the level the tail rule buys down to, so a round opened there sits inside the hysteresis band."""
    cfg = config.tail
    tail = book.tail
    if tail is None or tail.nav_usd <= 0 or not legs_:
        return Sizing(0.0, "", 0.0, 0.0, 0.0, "no tail inputs (NAV, positions) or no legs: nothing sized")
    symbols = [u.symbol for u in book.underlyings]
    spot = np.array([u.spot_usd for u in book.underlyings])
    linear = np.array([u.held_units + u.collateral_units - u.debt_units for u in book.underlyings])
    sigma = tail.sigma_annual if tail.sigma_annual is not None else np.array([u.sigma_annual for u in book.underlyings])
    scenarios = stress_set(symbols, sigma, cfg, tail.high_vol_probability)
    pnl = book_pnl(tail, spot, linear, scenarios)
    # to the level the tail rule buys down to: a book opened inside the hysteresis does not trade at once
    budget = cfg.tail_budget_pct / 100 * tail.nav_usd * cfg.buy_down_to_budget
    structure = [
        Leg(f"series {leg.series.series_id}", leg.series, symbols.index(leg.series.underlying), 1.0, 0.0, 0.0, 0.0, 1.0)
        for leg in legs_
    ]
    value = leg_pnl(structure, spot, tail, scenarios)  # (k, j): Vₖⱼ − cost 0 = the leg's value in k
    per_unit = value @ np.array([leg.contracts for leg in legs_]) - sum(leg.contracts * leg.price_usd for leg in legs_)
    loss_now = float(-min(0.0, pnl.min()))
    if loss_now > budget:
        k = int(np.argmin(pnl))
        return Sizing(
            0.0,
            scenarios.names[k],
            loss_now,
            budget,
            scenarios.horizon_days,
            f"book already loses ${loss_now:,.0f} > budget ${budget:,.0f} in {scenarios.names[k]}: no new premium",
        )
    losing = per_unit < 0
    if not losing.any():
        return Sizing(math.inf, "", loss_now, budget, scenarios.horizon_days, "the structure loses in no scenario")
    room = (pnl[losing] + budget) / -per_unit[losing]
    i = int(np.argmin(room))
    k = int(np.flatnonzero(losing)[i])
    units = float(max(0.0, room[i]))
    after = pnl + units * per_unit
    loss = float(-min(0.0, after.min()))
    reason = (
        f"{units:,.2f} units: worst stress loss ${loss:,.0f} = budget ${budget:,.0f} ({cfg.tail_budget_pct} % of NAV"
        f"{f' × {cfg.buy_down_to_budget:g}' if cfg.buy_down_to_budget < 1 else ''}) "
        f"in {scenarios.names[k]} at forecast vol {', '.join(f'{v:.0%}' for v in sigma)} over "
        f"{scenarios.horizon_days:.1f} d"
    )
    return Sizing(units, scenarios.names[k], loss, budget, scenarios.horizon_days, reason)


def _without_dust(solution: Solution, available: list[Leg], budget: float, dust_usd: float, lp: LegLp) -> np.ndarray:
    """The solution without legs worth less than ``dust_usd`` (they round to nothing on-chain); when dropping them
    breaks the budget, the kept legs are re-sized (the decision's LP, their gas counted, warm) so it holds again
    (a few rounds)."""
    notional = np.array([leg.notional_usd for leg in available])
    units = solution.units
    for _ in range(3):
        dust = (units > 0) & (units * notional < dust_usd)
        if not dust.any():
            break
        kept = np.flatnonzero((units > 0) & ~dust)
        units = np.zeros_like(units)
        if kept.size == 0:
            break
        sized = lp.size(kept, budget)
        if not (sized.optimal or not solution.feasible):
            units[kept] = solution.units[kept]  # the kept legs as solved: the budget holds up to the dust
            break
        units[kept] = sized.units[kept]
    return units


def _with_planned(tail: TailInputs, planned: list[Action], symbols: list[str]) -> TailInputs:
    """The positions plus the earlier rules' option trades on series the rule knows (its candidates)."""
    known = {c.series_id: c for c in tail.candidates}
    extra = [(known[a.series_id], a.size) for a in planned if isinstance(a, OptionTrade) and a.series_id in known]
    if not extra:
        return tail
    c = [e[0] for e in extra]
    return replace(
        tail,
        underlying_index=np.concatenate([tail.underlying_index, [symbols.index(x.underlying) for x in c]]).astype(
            np.int64
        ),
        size=np.concatenate([tail.size, [e[1] for e in extra]]),
        strike_usd=np.concatenate([tail.strike_usd, [x.strike_usd for x in c]]),
        t_years=np.concatenate([tail.t_years, [x.t_years for x in c]]),
        vol=np.concatenate([tail.vol, [x.vol for x in c]]),
        is_call=np.concatenate([tail.is_call, [x.is_call for x in c]]).astype(bool),
    )


def _actions(
    available: list[Leg], units: np.ndarray, config: PolicyConfig, s: Working, g: LegGreeks
) -> tuple[list[Action], list[str]]:
    """The chosen legs as plan actions, applied to the working state (idle USDC, held units, Greeks ``g``)."""
    actions: list[Action] = []
    words: list[str] = []
    slip = slippage(config)
    premium: dict[int, float] = {}  # per venue account: the venue takes a buy's premium from its collateral
    for leg, x in zip(available, units, strict=True):
        if x > 0 and leg.candidate is not None:
            cost = float(x * leg.candidate.ask_usd * (1 + slip))
            premium[leg.candidate.account_id] = premium.get(leg.candidate.account_id, 0.0) + cost
    for account, amount in premium.items():
        actions.append(MarginDeposit(amount, account))
        s.venue_collateral_usd += amount
    symbols = list(s.underlyings)
    for j, (leg, x) in enumerate(zip(available, units, strict=True)):
        if x <= 0:
            continue
        symbol = symbols[leg.underlying]
        u = s.underlyings[symbol]
        c = leg.candidate
        if c is not None:
            actions.append(OptionTrade(c.series_id, float(x), float(x * c.ask_usd * (1 + slip)), c.account_id))
            s.idle_usdc -= x * c.ask_usd * (1 + slip)  # the margin deposit that funds it
            s.update(
                u,
                net_delta_units=float(x * g.delta[j]),
                net_gamma_units_per_usd=float(x * g.gamma[j]),
                net_vega_usd_per_vol_pt=float(x * g.vega_per_vol_pt[j]),
            )
            words.append(f"buy {x:.4f} of {leg.label} for ${x * c.ask_usd:,.0f}")
        elif leg.units_sign < 0:
            actions.append(Swap(symbol, USDC, float(x), float(x * u.spot_usd * (1 - slip))))
            s.idle_usdc += x * u.spot_usd * (1 - config.hedge_cost_bps / 10_000)
            s.update(u, held_units=-float(x), net_delta_units=-float(x))
            words.append(f"sell {x:.4f} {symbol} (${x * u.spot_usd:,.0f})")
        else:
            spend = float(x * leg.cash_usd)
            actions.append(Swap(USDC, symbol, spend, float(x * (1 - slip))))
            s.idle_usdc -= spend
            s.update(u, held_units=float(x), net_delta_units=float(x))
            words.append(f"buy {x:.4f} {symbol} (${spend:,.0f})")
    return actions, words
