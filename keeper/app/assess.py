"""From a VaultLens snapshot to the policy's ``BookView`` and the risk summary the keeper records and exports.

Pure apart from a small state: the previous oracle price per underlying (an EWMA vol forecast), and the
"deep" risk figures (stress grid with venue flags, venue liquidation distance) that :meth:`VaultAssessor.deep`
refreshes every ``loop.deep_risk_every_ticks`` ticks, after the tick has acted.
Option positions are valued with the venue's own formulas (``keeper.venue.model``), so a snapshot read without
on-chain valuation (``snapshotUnvalued``) still gives the NAV the vault would compute.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from adapters.aave_v3 import AaveV3
from adapters.vault_lens import VaultState
from adapters.venue_series import ListedSeries
from keeper.app.assess_options import OptionsView, liquidation_moves, options_view, stress_surplus
from keeper.app.assess_tail import (
    Forecast,
    OracleHistory,
    buyback_candidates,
    listed_options,
    refresh_forecast,
    wing_candidates,
)
from keeper.app.loop import Assessment, Snapshot
from keeper.app.settlement import unsettled_expiries
from keeper.config import KeeperSettings
from keeper.model import BookView, TailCandidate, TailInputs, UnderlyingView
from keeper.policy.hedging import gamma_usd_per_pct
from keeper.risk.liquidation import aave_liquidation, nearest_liquidation
from keeper.risk.portfolio import OptionBook
from keeper.risk.stress import StressResult, stress

SECONDS_PER_YEAR = 365 * 24 * 3600


class VaultAssessor:
    def __init__(self, settings: KeeperSettings, record: dict[str, Any], asset_symbol: str = "USDC") -> None:
        self.settings = settings
        self.symbols = {t["address"].lower(): s for s, t in record["tokens"].items()}
        self.asset_symbol = asset_symbol
        self.stable = {asset_symbol}
        self._last: dict[str, tuple[int, float]] = {}
        self._var: dict[str, float] = {}
        self._ticks = 0
        self._deep: dict[str, Any] = {}
        self._deep_tick = 0
        self._last_inputs: tuple[BookView, Any, OptionsView] | None = None
        self.last_stress: StressResult | None = None
        self.last_stress_pnl_usd: np.ndarray | None = None
        self.last_options: OptionsView | None = None
        self.last_book: BookView | None = None
        self.last_timestamp = 0
        self.history = OracleHistory(settings.policy.tail.history_max_obs)
        self._forecast: Forecast | None = None

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
        state, gas_price = snapshot.data[:2]
        listed = snapshot.data[2] if len(snapshot.data) > 2 else {}
        rates = snapshot.data[3] if len(snapshot.data) > 3 else {}
        haircuts = snapshot.data[4] if len(snapshot.data) > 4 else {}
        assert isinstance(state, VaultState)
        self._ticks += 1
        aave = AaveV3.positions(state, self.symbols, self.stable)
        decimals = state.asset.decimals
        symbols = [self.symbols[t.token.lower()] for t in state.tokens]
        spot = np.array([t.price_e8 / 1e8 for t in state.tokens], dtype=np.float64)
        options = options_view(state.options, state.block_timestamp, self.symbols, symbols, spot, haircuts)
        self.last_options = options
        g = options.greeks
        underlyings = []
        for i, t in enumerate(state.tokens):
            held = t.wallet_balance / 10**t.decimals
            j = i + 1  # Aave rows: the asset first, then the tracked tokens
            underlyings.append(
                UnderlyingView(
                    symbol=symbols[i],
                    spot_usd=float(spot[i]),
                    sigma_annual=self._sigma(symbols[i], state.block_timestamp, float(spot[i])),
                    net_delta_units=held
                    + float(aave.collateral_units[j] - aave.debt_units[j])
                    + (float(g.delta_units[i]) if g else 0.0),
                    net_gamma_units_per_usd=float(g.gamma_units_per_usd[i]) if g else 0.0,
                    net_vega_usd_per_vol_pt=float(g.vega_usd_per_vol_pt[i]) if g else 0.0,
                    held_units=held,
                    debt_units=float(aave.debt_units[j]),
                    collateral_units=float(aave.collateral_units[j]),
                    liquidation_threshold=float(aave.liquidation_threshold[j]),
                    ltv=t.ltv_bps / 1e4,
                )
            )
        eth_price = next((float(spot[i]) for i, s in enumerate(symbols) if s == "WETH"), 3000.0)
        book = BookView(
            block_number=state.block_number,
            underlyings=tuple(underlyings),
            idle_usdc=state.idle_assets / 10**decimals,
            aave_collateral_usd=state.aave.total_collateral_base_e8 / 1e8,
            aave_debt_usd=state.aave.total_debt_base_e8 / 1e8,
            aave_weighted_lt=state.aave.liquidation_threshold_bps / 1e4,
            usdc_liquidation_threshold=state.asset.liquidation_threshold_bps / 1e4,
            health_factor=aave.health_factor,
            usdc_collateral_units=state.asset.aave_collateral / 10**decimals,
            usdc_debt_units=state.asset.aave_variable_debt / 10**decimals,
            venue_collateral_usd=options.equity_usd,
            venue_maintenance_margin_usd=options.maintenance_usd,
            options=options.shorts,
            venue_accounts=options.accounts,
            venue_tradeable=not options.stale,
            aave_borrow_capacity_usd=state.aave.available_borrows_base_e8 / 1e8,
            usdc_ltv=state.asset.ltv_bps / 1e4,
            gas_cost_usd=self.settings.loop.rebalance_gas * gas_price / 1e18 * eth_price,
            horizon_years=self.settings.loop.vol_horizon_days / 365,
            aave_borrow_apr=dict(rates.get("borrow", {})),
            aave_supply_apr=dict(rates.get("supply", {})),
            leg_gas_usd=self.settings.execution.leg_gas * gas_price / 1e18 * eth_price,
        )
        for u in underlyings:
            self.history.add(u.symbol, state.block_timestamp, u.spot_usd)
        nav_assets = self._nav_assets(state, aave, options)
        policy = self.settings.policy
        if policy.tail.enabled or policy.strategies or policy.delta_via_venue:
            nav_usd = nav_assets * (state.asset.price_e8 / 1e8 or 1.0)
            leg_gas_usd = policy.tail.leg_gas * gas_price / 1e18 * eth_price
            chain = [
                o
                for vb in options.venues
                if vb.state.market.lower() in listed
                for o in listed_options(vb, listed[vb.state.market.lower()], symbols)
            ]
            book = replace(
                book,
                tail=self._tail_inputs(options, listed, symbols, nav_usd, leg_gas_usd),
                listed=tuple(chain),
                timestamp_s=state.block_timestamp,
            )
        self.last_book, self.last_timestamp = book, state.block_timestamp
        risk = self._risk(book, aave, state, options, nav_assets)
        supply_shares = state.total_supply / 10 ** (decimals + 6)  # shares carry the 6-decimal virtual offset
        share_price = nav_assets / supply_shares if supply_shares else 1.0
        return Assessment(book, risk, nav_assets, share_price, self._blockers(state, risk))

    def _tail_inputs(
        self,
        options: OptionsView,
        listed: dict[str, ListedSeries],
        symbols: list[str],
        nav_usd: float,
        leg_gas_usd: float,
    ) -> TailInputs:
        """Every live position (all venues), the buybacks and the listed wings, NAV, the forecast of the last deep
        refresh (None before the first: the views' EWMA vol, no regime)."""
        cfg = self.settings.policy.tail
        book = _concat([lv.book for lv in options.live if lv.book.size.size])
        candidates: list[TailCandidate] = []
        for vb, lv in zip(options.venues, options.live, strict=True):
            candidates += buyback_candidates(lv, symbols, vb.market.trading_cutoff_seconds)
            if vb.state.market.lower() in listed:
                candidates += wing_candidates(vb, listed[vb.state.market.lower()], symbols, cfg)
        f = self._forecast
        return TailInputs(
            underlying_index=book.underlying_index,
            size=book.size,
            strike_usd=book.strike,
            t_years=book.t_years,
            vol=book.vol,
            is_call=book.is_call,
            rate=options.venues[0].market.rate if options.venues else 0.0,
            nav_usd=nav_usd,
            candidates=tuple(candidates),
            leg_gas_usd=leg_gas_usd,
            high_vol_probability=f.high_vol_probability if f is not None else 0.0,
            sigma_annual=f.sigma_annual if f is not None and f.sigma_annual.size == len(symbols) else None,
        )

    def _nav_assets(self, state: VaultState, aave: Any, options: OptionsView) -> float:
        """NAV in asset units: the chain's ``totalAssets`` when the snapshot was valued, else the same sum off-chain
        (idle + tracked tokens + Aave net + venue equity by the venue's formulas − locked profit)."""
        decimals = state.asset.decimals
        if state.valued:
            return state.total_assets / 10**decimals
        asset_price = state.asset.price_e8 / 1e8 or 1.0
        tokens = sum(t.wallet_balance / 10**t.decimals * t.price_e8 / 1e8 for t in state.tokens)
        aave_net = (state.aave.total_collateral_base_e8 - state.aave.total_debt_base_e8) / 1e8
        gross = state.idle_assets / 10**decimals + (tokens + aave_net + options.equity_usd) / asset_price
        return max(0.0, gross - state.locked_profit / 10**decimals)

    def _blockers(self, state: VaultState, risk: dict[str, float]) -> tuple[str, ...]:
        """Conditions under which the vault refuses every rebalance; the oracle ages go into ``risk``."""
        blockers = []
        if state.paused:
            blockers.append("vault paused by the guardian")
        heartbeat = state.risk.heartbeat_seconds
        for t in (state.asset, *state.tokens):
            symbol = self.symbols[t.token.lower()]
            age = state.block_timestamp - t.price_updated_at
            risk[f"oracle_age_seconds:{symbol}"] = float(age)
            if t.price_e8 <= 0 or age > heartbeat:
                blockers.append(f"oracle {symbol} stale: {age} s old > heartbeat {heartbeat} s")
        for d in unsettled_expiries(state):  # the settlement job could not fix it yet (no feed round after expiry)
            blockers.append(
                f"venue expiry {d.expiry_s} of underlying {d.underlying_id} held but not settled: the venue's margin "
                "check reverts (ExpiryNotSettled) until settleExpiry fixes its price"
            )
        return tuple(blockers)

    def _risk(
        self, book: BookView, aave: Any, state: VaultState, options: OptionsView, nav_assets: float
    ) -> dict[str, float]:
        """The fast part, every tick: Aave liquidation in closed form, Greeks, venue margins. The deep part
        (stress grid, venue liquidation distance) comes from :meth:`deep`, which the loop runs after acting."""
        liq = aave_liquidation(
            aave.collateral_units, aave.debt_units, aave.price_usd, aave.liquidation_threshold, aave.is_stable
        )
        sigmas = [u.sigma_annual for u in book.underlyings]
        venue_moves = self._deep.get("venue_moves", np.zeros(0))
        moves = np.concatenate([liq.per_asset_move()[1:], [liq.joint_move], venue_moves])
        move_sigmas = [*sigmas, max(sigmas, default=0.6), *([max(sigmas, default=0.6)] * len(venue_moves))]
        nearest_pct, nearest_sigma = nearest_liquidation(moves, move_sigmas, book.horizon_years)
        ratio = options.worst_margin_ratio()
        risk: dict[str, float] = {
            "nav_usd": nav_assets * (state.asset.price_e8 / 1e8 or 1.0),
            "share_price": _share_price(nav_assets, state),
            "health_factor": book.health_factor,
            "liquidation_distance_pct": nearest_pct,
            "liquidation_distance_sigma": nearest_sigma,
            "venue_margin_ratio": ratio if math.isfinite(ratio) else math.nan,
            "venue_equity_usd": options.equity_usd,
            "venue_pool_haircut": max((v.haircut for v in options.venues), default=0.0),
            "venue_maintenance_margin_usd": options.maintenance_usd,
            "option_positions": float(options.positions),
            **self._deep.get("risk", {}),
        }
        g = options.greeks
        for i, u in enumerate(book.underlyings):
            risk[f"spot_usd:{u.symbol}"] = u.spot_usd  # the store keeps the oracle history the forecast refits on
            risk[f"net_delta_units:{u.symbol}"] = u.net_delta_units
            risk[f"net_delta_usd:{u.symbol}"] = u.net_delta_units * u.spot_usd
            risk[f"net_gamma_usd_per_pct:{u.symbol}"] = gamma_usd_per_pct(u.net_gamma_units_per_usd, u.spot_usd)
            risk[f"net_vega_usd_per_vol_pt:{u.symbol}"] = u.net_vega_usd_per_vol_pt
            risk[f"net_theta_usd_per_day:{u.symbol}"] = float(g.theta_usd_per_day[i]) if g else 0.0
            risk[f"sigma_annual:{u.symbol}"] = u.sigma_annual
        self._last_inputs = (book, aave, options)
        return risk

    def deep(self, force: bool = False) -> dict[str, float]:
        """Stress over the spot × vol grid (full revaluation with venue liquidation flags) and the venue's
        liquidation distance, for the book last assessed; refreshed every ``loop.deep_risk_every_ticks`` ticks
        (or when ``force``), else the last figures. Run after the tick's transaction is sent: the policy does
        not need them, and they reprice the venue book hundreds of times."""
        every = self.settings.loop.deep_risk_every_ticks
        if self._last_inputs is None:
            return {}
        if force or not self._deep or (self._ticks - self._deep_tick) >= every:
            book, aave, options = self._last_inputs
            grid, pnl = self._stress(book, aave, options)
            moves = np.array(liquidation_moves(options), dtype=np.float64)
            self._deep = {
                "venue_moves": moves,
                "risk": {
                    "stress_worst_loss_usd": float(-min(0.0, pnl.min())),
                    "stress_liquidated_scenarios": float((grid.aave_liquidated | grid.venue_liquidated).sum()),
                    "venue_liquidation_move_pct": _nearest_abs(moves),
                    **self._refresh_forecast(book),
                },
            }
            self._deep_tick = self._ticks
        return dict(self._deep["risk"])

    def _refresh_forecast(self, book: BookView) -> dict[str, float]:
        """Forecast vol (GARCH/EWMA) and the regime model on the recorded oracle history, for the tail rule's next
        decisions; only with the rule on (the fits take ~0.1 s: here, after acting)."""
        if not self.settings.policy.tail.enabled:
            return {}
        loop = self.settings.loop
        symbols = [u.symbol for u in book.underlyings]
        f = refresh_forecast(
            self.history,
            symbols,
            self.settings.policy.tail,
            default_annual=loop.sigma_default_annual,
            ewma_decay=loop.ewma_decay,
        )
        self._forecast = f
        out = {"regime_high_vol_probability": f.high_vol_probability if f.regime_fitted else math.nan}
        out.update({f"forecast_vol_annual:{s}": float(v) for s, v in zip(symbols, f.sigma_annual, strict=True)})
        return out

    def _stress(self, book: BookView, aave: Any, options: OptionsView) -> tuple[StressResult, np.ndarray]:
        """Full revaluation over the spot × vol grid: options (all venues), held units, Aave, with Aave and venue
        liquidation flags per scenario."""
        spot = np.array([u.spot_usd for u in book.underlyings])
        linear = np.array([u.held_units for u in book.underlyings])  # Aave exposure is in the Aave leg below
        option_book = _concat([lv.book for lv in options.live if lv.book.size.size])
        rate = options.venues[0].market.rate if options.venues else 0.0
        grid = stress(
            option_book,
            spot,
            rate,
            linear,
            aave.collateral_units,
            aave.debt_units,
            aave.price_usd,
            aave.liquidation_threshold,
            ~aave.is_stable,
            venue_surplus=stress_surplus(options),
        )
        pnl = grid.pnl_usd + _aave_grid_pnl(aave, grid.spot_shocks)[None, :]
        self.last_stress, self.last_stress_pnl_usd = grid, pnl
        return grid, pnl


def _concat(books: list[OptionBook]) -> OptionBook:
    if not books:
        return OptionBook(
            np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool)
        )
    if len(books) == 1:
        return books[0]
    return OptionBook(*(np.concatenate([getattr(b, f) for b in books]) for f in OptionBook.__dataclass_fields__))


def _share_price(nav_assets: float, state: VaultState) -> float:
    """Asset units per share (shares carry 6 more decimals than the asset: the virtual-share offset)."""
    supply = state.total_supply / 10 ** (state.asset.decimals + 6)
    return nav_assets / supply if supply else 1.0


def _nearest_abs(moves: np.ndarray) -> float:
    finite = np.abs(moves[np.isfinite(moves)])
    return float(finite.min()) if finite.size else math.nan


def _aave_grid_pnl(aave: Any, spot_shocks: np.ndarray) -> np.ndarray:
    """PnL of the Aave net position (collateral − debt) of the non-stable reserves under each spot shock."""
    net_usd = float(np.sum((aave.collateral_units - aave.debt_units) * aave.price_usd * ~aave.is_stable))
    return net_usd * np.asarray(spot_shocks)
