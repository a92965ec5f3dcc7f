"""The tail rule's linear programme as ONE HiGHS model per decision, re-solved warm.

A decision solves up to five LPs over the same scenario rows (:mod:`keeper.policy.tail`): the relaxation that picks
the legs, the sizing of the picked legs with their gas in full, the re-sizing after dust legs are dropped, and — when a
budget is out of reach — the smallest reachable worst loss and the cheapest trades at it. They differ only in which
legs may trade, how gas is charged, the objective and the worst-loss bound, so here they are bound and cost changes
on one model: HiGHS keeps its basis and each re-solve starts from the last optimum (dual simplex after a bound
change) instead of from scratch, and the problem is built and handed over once (scipy's ``milp`` rebuilds and
re-validates the sparse problem on every call).

Columns: x (n legs' units, 0 ≤ xⱼ ≤ Uⱼ), t (the worst loss, 0 ≤ t ≤ bound) and g (the gas the legs pay). Rows:
  scenario k:  Pₖ + aₖ·x − g + t ≥ 0
  gas:         g − Σ γⱼ·xⱼ = 0       (the relaxation: γⱼ = gas / Uⱼ, leg j pays gas in proportion to its use)
               free, with g fixed at gas × (legs kept) when the picked legs are sized with their gas in full
  premium ≤ spend cap, premium + spot bought ≤ idle USDC, notional ≤ turnover
  per underlying (optional, can be switched off): lo ≤ Δ·x ≤ hi
Objective Σ costⱼ·xⱼ + g (with g fixed, a constant), or t alone when minimising the worst loss.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import highspy
import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class LpResult:
    units: np.ndarray  # (n,) the legs' units
    worst_usd: float  # t at the optimum
    optimal: bool


class LegLp:
    """The model of the module docstring over ``pnl`` (k,) and ``a`` (k, n); ``premium``, ``cash`` and
    ``notional`` (n,) per unit; ``delta`` an optional (coef (u, n), lo (u,), hi (u,)) band."""

    def __init__(
        self,
        pnl: np.ndarray,
        a: np.ndarray,
        cost: np.ndarray,
        cap: np.ndarray,
        premium: np.ndarray,
        cash: np.ndarray,
        notional: np.ndarray,
        caps: tuple[float, float, float],  # spend cap, idle cap, turnover
        gas_usd: float,
        delta: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    ) -> None:
        k, n = a.shape
        self.n = n
        self._cost = np.asarray(cost, dtype=np.float64)
        self._objective = np.concatenate([self._cost, [0.0, 1.0]])  # Σ costⱼ·xⱼ + g
        self._cap = np.asarray(cap, dtype=np.float64)
        self._t, self._g = n, n + 1
        self._gas_row = k
        self._gas = gas_usd
        bands = 0 if delta is None else delta[0].shape[0]
        self._band_rows = np.arange(k + 4, k + 4 + bands, dtype=np.int32)
        self._band = delta
        inf = highspy.kHighsInf
        dense = np.zeros((k + 4 + bands, n + 2))
        dense[:k, :n], dense[:k, n], dense[:k, n + 1] = a, 1.0, -1.0
        dense[k, :n], dense[k, n + 1] = -gas_usd / np.maximum(self._cap, 1e-12), 1.0  # g = Σ γⱼ·xⱼ, γⱼ = gas / Uⱼ
        dense[k + 1, :n], dense[k + 2, :n], dense[k + 3, :n] = premium, cash, notional
        row_lo = np.concatenate([-np.asarray(pnl, dtype=np.float64), [0.0], np.full(3, -inf)])
        row_hi = np.concatenate([np.full(k, inf), [0.0], np.array(caps, dtype=np.float64)])
        if delta is not None:
            dense[k + 4 :, :n] = delta[0]
            row_lo, row_hi = np.concatenate([row_lo, delta[1]]), np.concatenate([row_hi, delta[2]])
        matrix = sparse.csc_array(dense)
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n + 2, dense.shape[0]
        lp.col_cost_ = self._objective
        lp.col_lower_ = np.zeros(n + 2)
        lp.col_upper_ = np.concatenate([self._cap, [inf, inf]])
        lp.row_lower_, lp.row_upper_ = row_lo, row_hi
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data
        self._h = highspy.Highs()
        self._h.setOptionValue("output_flag", False)
        # dense and small (tens of scenario rows, hundreds of legs): presolve costs more than it saves (10.8 → 3.3 ms
        # for the relaxation of the 1,000-position bench book, same optimum); the warm re-solves skip it anyway
        self._h.setOptionValue("presolve", "off")
        self._h.passModel(lp)
        self._all = np.arange(n, dtype=np.int32)
        self._index = np.arange(n + 2, dtype=np.int32)

    def band(self, on: bool) -> None:
        """Switch the delta-band rows on (their bounds) or off (free rows)."""
        if self._band is None:
            return
        inf = highspy.kHighsInf
        for r, lo, hi in zip(self._band_rows, self._band[1], self._band[2], strict=True):
            self._h.changeRowBounds(int(r), float(lo) if on else -inf, float(hi) if on else inf)

    def relax(self, bound: float) -> LpResult:
        """Every leg may trade and pays gas in proportion to its use (γⱼ = gas / Uⱼ)."""
        self._h.changeRowBounds(self._gas_row, 0.0, 0.0)
        self._h.changeColBounds(self._g, 0.0, highspy.kHighsInf)
        self._legs(None)
        return self._solve(bound)

    def size(self, columns: np.ndarray, bound: float) -> LpResult:
        """Only ``columns`` may trade, each paying its gas in full: g fixed at gas × len(columns)."""
        inf = highspy.kHighsInf
        self._h.changeRowBounds(self._gas_row, -inf, inf)
        fixed = self._gas * len(columns)
        self._h.changeColBounds(self._g, fixed, fixed)
        self._legs(np.asarray(columns, dtype=np.int64))
        return self._solve(bound)

    def _legs(self, columns: np.ndarray | None) -> None:
        upper = self._cap.copy()
        if columns is not None:
            keep = np.zeros(self.n, dtype=bool)
            keep[columns] = True
            upper[~keep] = 0.0
        self._h.changeColsBounds(self.n, self._all, np.zeros(self.n), upper)

    def _solve(self, bound: float) -> LpResult:
        """Cheapest x with worst loss t ≤ ``bound``; if none, the smallest reachable t and the cheapest x at it
        (``optimal`` False)."""
        h = self._h
        h.changeColBounds(self._t, 0.0, bound)
        first = self._run()
        if first is not None:
            return LpResult(first, float(h.getSolution().col_value[self._t]), True)
        # minimise t alone, then the cost at that t
        h.changeColBounds(self._t, 0.0, highspy.kHighsInf)
        only_t = np.zeros(self.n + 2)
        only_t[self._t] = 1.0
        h.changeColsCost(self.n + 2, self._index, only_t)
        reach = self._run()
        h.changeColsCost(self.n + 2, self._index, self._objective)
        if reach is None:
            return LpResult(np.zeros(self.n), math.inf, False)
        worst = float(h.getSolution().col_value[self._t])
        h.changeColBounds(self._t, 0.0, worst * (1 + 1e-7) + 1e-6)
        cheapest = self._run()
        return LpResult(reach if cheapest is None else cheapest, worst, False)

    def _run(self) -> np.ndarray | None:
        self._h.run()
        if self._h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        x = np.asarray(self._h.getSolution().col_value[: self.n], dtype=np.float64)
        return np.clip(x, 0.0, None)
