"""Path-model calibration from the keeper's recorded oracle history (its store's ticks), for a run started from a
live vault (``keeper risk montecarlo -c keeper.toml``).

The rule (documented in the README):
- **History**: the oracle prices the keeper recorded with every tick (``risk["spot_usd:SYM"]``), read into the
  assessor's own ``OracleHistory`` (``seed``), at most ``max_obs`` points per token (the newest).
- **Vol** per token: ``keeper.risk.regime.forecast_vol`` — the tail rule's own forecast — over the run's horizon:
  GARCH(1,1) by maximum likelihood (``keeper.risk.volatility.Garch11``) averaged over the horizon when at least 100
  returns are recorded and the fit is stationary, else EWMA at the keeper's ``loop.ewma_decay``, returns rescaled
  to the median sampling interval. The scenario's ``vol_annual`` is replaced by it (for ``garch`` the long-run
  level the paths revert to, for ``regime`` the calm level); every other shape parameter of the scenario stays.
- **Correlation** WETH/WBTC: Pearson's on the log returns between consecutive common timestamps (both tokens are
  recorded in the same tick), each rescaled to the median interval; needs ``MIN_CORRELATION_RETURNS`` of them,
  clipped to ±0.99.
- Too little history for a token (fewer than 2 returns) or for the correlation: the scenario's value is kept and
  the reason is reported (``Calibration.notes``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from keeper.app.assess_tail import OracleHistory
from keeper.risk.regime import forecast_vol
from sim.montecarlo.paths import ASSETS, PathModel

MIN_CORRELATION_RETURNS = 30
MAX_CORRELATION = 0.99


@dataclass(frozen=True)
class Calibration:
    model: PathModel
    sigma_annual: tuple[float, float]
    methods: tuple[str, str]  # garch | ewma | default, per token
    observations: tuple[int, int]  # returns used per token
    correlation: float
    correlation_returns: int
    notes: tuple[str, ...]

    def summary(self) -> dict[str, object]:
        return {
            "vol_annual": dict(zip(ASSETS, self.sigma_annual, strict=True)),
            "vol_method": dict(zip(ASSETS, self.methods, strict=True)),
            "returns": dict(zip(ASSETS, self.observations, strict=True)),
            "correlation": self.correlation,
            "correlation_returns": self.correlation_returns,
            "notes": list(self.notes),
        }


def calibrate(
    model: PathModel,
    ticks: Iterable[Mapping[str, object]],
    horizon_days: float,
    *,
    ewma_decay: float,
    max_obs: int = 5_000,
) -> Calibration:
    """``model`` with its vols and correlation fitted on the recorded ``ticks`` (``KeeperStore.last_ticks`` rows)."""
    history = OracleHistory(max_obs)
    history.seed(ticks)
    sigmas: list[float] = []
    methods: list[str] = []
    counts: list[int] = []
    notes: list[str] = []
    for i, symbol in enumerate(ASSETS):
        t, p = history.arrays(symbol)
        f = forecast_vol(t, p, horizon_days * 86_400, default_annual=model.vol_annual[i], ewma_decay=ewma_decay)
        sigmas.append(float(f.sigma_annual))
        methods.append(f.method)
        counts.append(f.observations)
        if f.method == "default":
            notes.append(f"{symbol}: {p.size} recorded prices, too few for a vol: the scenario's {f.sigma_annual:.0%}")
    rho, n_rho = _correlation(history)
    if n_rho < MIN_CORRELATION_RETURNS:
        notes.append(
            f"correlation: {n_rho} common returns < {MIN_CORRELATION_RETURNS}: the scenario's {model.correlation:.2f}"
        )
        rho = model.correlation
    fitted = model.model_copy(update={"vol_annual": (sigmas[0], sigmas[1]), "correlation": rho})
    fitted = PathModel(**fitted.model_dump())  # validated (vols in (0, 5], |ρ| < 1)
    return Calibration(
        fitted,
        (sigmas[0], sigmas[1]),
        (methods[0], methods[1]),
        (counts[0], counts[1]),
        rho,
        n_rho,
        tuple(notes),
    )


def _correlation(history: OracleHistory) -> tuple[float, int]:
    """Pearson's ρ of the two tokens' log returns over consecutive common timestamps, and how many returns."""
    (ta, pa), (tb, pb) = (history.arrays(s) for s in ASSETS)
    common, ia, ib = np.intersect1d(ta, tb, return_indices=True)
    if common.size < 3:
        return 0.0, max(0, common.size - 1)
    dt = np.diff(common)
    scale = np.sqrt(np.median(dt) / dt)
    ra = np.diff(np.log(pa[ia])) * scale
    rb = np.diff(np.log(pb[ib])) * scale
    if np.std(ra) == 0 or np.std(rb) == 0:
        return 0.0, 0
    rho = float(np.corrcoef(ra, rb)[0, 1])
    return float(np.clip(rho, -MAX_CORRELATION, MAX_CORRELATION)), int(ra.size)
