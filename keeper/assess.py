"""From a VaultLens snapshot to the policy's ``BookView`` and the risk summary the keeper records and exports.

Pure apart from a small state: the previous oracle price per underlying, feeding an EWMA vol forecast.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from adapters.aave_v3 import AaveV3
from adapters.vault_lens import VaultState
from keeper.config import KeeperSettings
from keeper.loop import Assessment, Snapshot
from keeper.policy import BookView, UnderlyingView
from keeper.policy.hedging import delta_band_units
from keeper.risk.liquidation import aave_liquidation, nearest_liquidation
from keeper.risk.portfolio import OptionBook
from keeper.risk.stress import StressResult, stress

SECONDS_PER_YEAR = 365 * 24 * 3600
_HEARTBEAT = 6  # index of heartbeatSeconds in HedgedVault.RiskParams


class VaultAssessor:
    def __init__(self, settings: KeeperSettings, record: dict[str, Any], asset_symbol: str = "USDC") -> None:
        self.settings = settings
        self.symbols = {t["address"].lower(): s for s, t in record["tokens"].items()}
        self.asset_symbol = asset_symbol
        self.stable = {asset_symbol}
        self._last: dict[str, tuple[int, float]] = {}
        self.last_stress: StressResult | None = None
        self.last_stress_pnl_usd: np.ndarray | None = None
        self._var: dict[str, float] = {}

    def _sigma(self, symbol: str, timestamp: int, price: float) -> float:
        """EWMA of squared log returns per second, annualised; the default until two prices were seen."""
        loop = self.settings.loop
        previous = self._last.get(symbol)
        self._last[symbol] = (timestamp, price)
        if previous is not None and timestamp > previous[0]:
            r2_per_s = math.log(price / previous[1]) ** 2 / (timestamp - previous[0])
            prior = self._var.get(symbol, loop.sigma_default_annual**2 / SECONDS_PER_YEAR)
            self._var[symbol] = loop.ewma_decay * prior + (1 - loop.ewma_decay) * r2_per_s
        var = self._var.get(symbol)
        return math.sqrt(var * SECONDS_PER_YEAR) if var is not None else loop.sigma_default_annual

    def assess(self, snapshot: Snapshot) -> Assessment:
        state, gas_price = snapshot.data
        assert isinstance(state, VaultState)
        aave = AaveV3.positions(state, self.symbols, self.stable)
        asset_decimals = state.asset.decimals
        eth_price = next((t.price_e8 / 1e8 for t in state.tokens if self.symbols[t.token.lower()] == "WETH"), 3000.0)
        underlyings = []
        for i, t in enumerate(state.tokens, start=1):
            symbol = self.symbols[t.token.lower()]
            price = t.price_e8 / 1e8
            held = t.wallet_balance / 10**t.decimals
            underlyings.append(
                UnderlyingView(
                    symbol=symbol,
                    spot_usd=price,
                    sigma_annual=self._sigma(symbol, state.block_timestamp, price),
                    net_delta_units=held + aave.collateral_units[i] - aave.debt_units[i],
                    net_gamma_units_per_usd=0.0,
                    net_vega_usd_per_vol_pt=0.0,
                    held_units=held,
                    debt_units=float(aave.debt_units[i]),
                    collateral_units=float(aave.collateral_units[i]),
                    liquidation_threshold=float(aave.liquidation_threshold[i]),
                )
            )
        horizon = self.settings.loop.vol_horizon_days / 365
        book = BookView(
            block_number=state.block_number,
            underlyings=tuple(underlyings),
            idle_usdc=state.idle_assets / 10**asset_decimals,
            aave_collateral_usd=state.aave.total_collateral_base_e8 / 1e8,
            aave_debt_usd=state.aave.total_debt_base_e8 / 1e8,
            aave_weighted_lt=state.aave.liquidation_threshold_bps / 1e4,
            usdc_liquidation_threshold=state.asset.liquidation_threshold_bps / 1e4,
            health_factor=aave.health_factor,
            usdc_collateral_units=state.asset.aave_collateral / 10**asset_decimals,
            usdc_debt_units=state.asset.aave_variable_debt / 10**asset_decimals,
            venue_collateral_usd=0.0,
            venue_maintenance_margin_usd=0.0,
            gas_cost_usd=self.settings.loop.rebalance_gas * gas_price / 1e18 * eth_price,
            horizon_years=horizon,
        )
        risk = self._risk(book, aave, state)
        return Assessment(
            book,
            risk,
            state.total_assets / 10**asset_decimals,
            state.share_price / 10**asset_decimals,
            self._blockers(state, risk),
        )

    def _blockers(self, state: VaultState, risk: dict[str, float]) -> tuple[str, ...]:
        """Conditions under which the vault refuses every rebalance; the oracle ages go into ``risk``."""
        blockers = []
        if state.paused:
            blockers.append("vault paused by the guardian")
        heartbeat = state.risk[_HEARTBEAT]
        for t in (state.asset, *state.tokens):
            symbol = self.symbols[t.token.lower()]
            age = state.block_timestamp - t.price_updated_at
            risk[f"oracle_age_seconds:{symbol}"] = float(age)
            if t.price_e8 <= 0 or age > heartbeat:
                blockers.append(f"oracle {symbol} stale: {age} s old > heartbeat {heartbeat} s")
        return tuple(blockers)

    def _risk(self, book: BookView, aave: Any, state: VaultState) -> dict[str, float]:
        liq = aave_liquidation(
            aave.collateral_units, aave.debt_units, aave.price_usd, aave.liquidation_threshold, aave.is_stable
        )
        sigmas = [u.sigma_annual for u in book.underlyings]
        moves = np.concatenate([liq.per_asset_move()[1:], [liq.joint_move]])
        nearest_pct, nearest_sigma = nearest_liquidation(moves, [*sigmas, max(sigmas, default=0.6)], book.horizon_years)
        empty = OptionBook(
            np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool)
        )
        spot = np.array([u.spot_usd for u in book.underlyings])
        linear = np.array([u.held_units for u in book.underlyings])  # Aave exposure is in the Aave leg below
        grid = stress(
            empty,
            spot,
            0.0,
            linear,
            aave.collateral_units,
            aave.debt_units,
            aave.price_usd,
            aave.liquidation_threshold,
            ~aave.is_stable,
        )
        aave_pnl = _aave_grid_pnl(aave, grid.spot_shocks)
        self.last_stress = grid
        self.last_stress_pnl_usd = grid.pnl_usd + aave_pnl[None, :]  # (vol, spot): the whole book
        risk: dict[str, float] = {
            "nav_usd": state.total_assets / 10**state.asset.decimals,
            "share_price": state.share_price / 10**state.asset.decimals,
            "health_factor": book.health_factor,
            "liquidation_distance_pct": nearest_pct,
            "liquidation_distance_sigma": nearest_sigma,
            "stress_worst_loss_usd": float(-min(0.0, (grid.pnl_usd + aave_pnl[None, :]).min())),
            "stress_liquidated_scenarios": float(grid.aave_liquidated.sum()),
        }
        for u in book.underlyings:
            risk[f"net_delta_units:{u.symbol}"] = u.net_delta_units
            risk[f"net_delta_usd:{u.symbol}"] = u.net_delta_units * u.spot_usd
            risk[f"sigma_annual:{u.symbol}"] = u.sigma_annual
            risk[f"delta_band_usd:{u.symbol}"] = (
                delta_band_units(u, self.settings.policy, book.horizon_years) * u.spot_usd
            )
        return risk


def _aave_grid_pnl(aave: Any, spot_shocks: np.ndarray) -> np.ndarray:
    """PnL of the Aave net position (collateral − debt) of the non-stable reserves under each spot shock."""
    net_usd = float(np.sum((aave.collateral_units - aave.debt_units) * aave.price_usd * ~aave.is_stable))
    return net_usd * np.asarray(spot_shocks)
