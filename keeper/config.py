"""Keeper configuration: one validated model, loaded from a TOML file and ``HV_*`` environment variables.

Everything the keeper does is bounded here and checked at load time, never mid-tick. A bad value raises
:class:`ConfigError` listing every offending field as ``section.field=value: problem; fix``.

Environment overrides use ``HV_<SECTION>__<FIELD>`` (e.g. ``HV_TX__MAX_FEE_CAP_GWEI=80``). Secrets never
live in the file: the signer names an environment variable or an encrypted keystore.
"""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from keeper.model.exceptions import ConfigError

_FIXES: dict[str, str] = {
    "network.rpc_url": "give an http(s) URL, e.g. http://127.0.0.1:8545",
    "signer": "set signer.private_key_env to an environment variable name, or signer.keystore_path",
    "store.path": "point it at a writable file, e.g. var/keeper.sqlite",
}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkConfig(_Section):
    """Where the keeper reads and writes."""

    rpc_url: str = Field("http://127.0.0.1:8545", pattern=r"^https?://")
    chain_id: int | None = Field(None, gt=0, description="expected chain id; the keeper refuses another")
    deployment_path: Path = Field(Path("var/devnet/deployment.json"), description="deployment record JSON")
    poll_interval_s: float = Field(1.0, gt=0, le=60)


class SignerConfig(_Section):
    """The keeper's key: the NAME of an env variable holding it, or an encrypted keystore file."""

    private_key_env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    keystore_path: Path | None = None
    keystore_password_env: str | None = Field(None, pattern=r"^[A-Z_][A-Z0-9_]*$")

    @model_validator(mode="after")
    def _one_source(self) -> SignerConfig:
        if (self.private_key_env is None) == (self.keystore_path is None):
            raise ValueError("give exactly one of private_key_env or keystore_path")
        if self.keystore_path is not None and self.keystore_password_env is None:
            raise ValueError("keystore_path needs keystore_password_env (the env variable holding the password)")
        return self


class TxConfig(_Section):
    """Transaction pricing and patience."""

    max_fee_cap_gwei: float = Field(300.0, gt=0, le=10_000)
    priority_fee_gwei: float = Field(1.0, ge=0, le=1_000)
    stuck_after_s: float = Field(36.0, gt=0, le=3_600)
    receipt_timeout_s: float = Field(180.0, gt=0, le=7_200)
    max_replacements: int = Field(3, ge=0, le=10)
    replacement_bump_bps: int = Field(1250, ge=1000, le=10_000)
    min_keeper_balance_eth: float = Field(0.05, ge=0)

    @model_validator(mode="after")
    def _tip_below_cap(self) -> TxConfig:
        if self.priority_fee_gwei > self.max_fee_cap_gwei:
            raise ValueError(
                f"priority_fee_gwei={self.priority_fee_gwei} exceeds max_fee_cap_gwei={self.max_fee_cap_gwei}"
            )
        return self


class TailBudgetConfig(_Section):
    """The tail-loss budget (``keeper.policy.tail``): the worst stress loss over the horizon, as a share of NAV,
    that the keeper buys protection to keep."""

    enabled: bool = Field(
        False, description="run the rule (the predictive policy); off, the keeper is the reactive delta/HF policy"
    )
    tail_budget_pct: float = Field(5.0, gt=0, le=100, description="max worst-scenario loss, % of NAV")
    act_above_budget: float = Field(
        1.0, ge=1, le=2, description="hysteresis: buy only when the worst loss exceeds budget × this"
    )
    buy_down_to_budget: float = Field(
        1.0, gt=0, le=1, description="hysteresis: when buying, bring the worst loss down to budget × this"
    )
    horizon_days: float = Field(7.0, gt=0, le=90, description="the stress moves are forecast vol over this")
    high_vol_horizon_multiplier: float = Field(
        2.0, ge=1, le=10, description="horizon × (1 + P(high-vol regime) × (this − 1)): a high-vol regime stretches it"
    )
    spot_z_max: float = Field(3.0, gt=0, le=10, description="grid spot moves reach ± this × σ_forecast·√horizon")
    spot_steps: int = Field(9, ge=3, le=41, description="spot moves on the grid (odd: 0 is one of them)")
    vol_shocks: tuple[float, ...] = Field(
        (-0.3, 0.0, 0.5, 1.0), min_length=1, description="relative implied-vol shocks on the grid"
    )
    historical_shocks: bool = Field(True, description="add the named historical shocks to the grid")
    reference_vol_annual: float = Field(
        0.6, gt=0, le=5, description="vol the historical shocks happened against: they scale by σ_forecast / this (≥ 1)"
    )
    historical_scale_floor: float = Field(
        1.0,
        ge=0,
        le=1,
        description="the historical shocks scale by max(floor, σ_forecast / reference_vol_annual), the floor "
        "raised to 1 by P(high-vol regime): floor + p_high × (1 − floor); 1: never smaller than as they happened",
    )
    cost_basis: Literal["premium", "fee_and_decay"] = Field(
        "premium",
        description="what the choice minimises per option: fee over mid + mark decay over the horizon, or the ask",
    )
    cross_hedges: bool = Field(
        True,
        description="protection may be bought on underlyings the book holds no risk in (it then rests on the "
        "stress set's assumed co-movement: the grid moves every underlying by the same z)",
    )
    top_up_wings: bool = Field(
        False,
        description="a wing the vault already holds stays a candidate (topped up) instead of being excluded until "
        "it expires; off, once bought a series is never bought again and the rule turns to other series or buybacks",
    )
    keep_delta_band: bool = Field(
        True,
        description="the legs bought must leave each underlying's net delta inside the delta rule's band (else the "
        "next tick's delta rule trades the protection's delta away and the rule buys it again); a set leaving "
        "the band only when none inside it meets the budget",
    )
    max_turnover_usd: float = Field(250_000.0, gt=0, description="most premium + spot notional traded per decision")
    max_spend_nav_pct: float = Field(2.0, gt=0, le=100, description="most premium spent per decision, % of NAV")
    leg_gas: int = Field(150_000, ge=0, le=5_000_000, description="gas one more leg adds to the rebalance")
    min_protection_days: float = Field(
        7.0, ge=0, le=365, description="a new wing must expire at least this far out (protection outlives the horizon)"
    )
    pool_margin_share: float = Field(
        0.5, gt=0, le=1, description="share of the venue LP pool's free margin one decision may use (wing liquidity)"
    )
    history_max_obs: int = Field(2_000, ge=50, le=100_000, description="oracle prices kept per underlying")
    regime_min_obs: int = Field(60, ge=30, le=100_000, description="returns before the regime model is fitted")

    @model_validator(mode="after")
    def _shape(self) -> TailBudgetConfig:
        if self.spot_steps % 2 == 0:
            raise ValueError(f"spot_steps={self.spot_steps} must be odd so the grid holds the unshocked spot")
        if min(self.vol_shocks) <= -1:
            raise ValueError(f"vol_shocks={self.vol_shocks} must all be > -1 (relative: -1 puts vol at 0)")
        return self


StrategyKind = Literal["short_strangle", "iron_condor", "covered_call", "put_spread_collar"]

#: The option legs of each kind (role → call?), and the spot it holds (covered call, collar: ``contracts`` units).
STRATEGY_LEGS: dict[str, tuple[tuple[str, bool], ...]] = {
    "short_strangle": (("short_put", False), ("short_call", True)),
    "iron_condor": (("long_put", False), ("short_put", False), ("short_call", True), ("long_call", True)),
    "covered_call": (("short_call", True),),
    "put_spread_collar": (("long_put", False), ("short_put", False), ("short_call", True)),
}
STRATEGY_HOLDS_SPOT = ("covered_call", "put_spread_collar")


class StrikeRule(_Section):
    """Where each leg's strike sits: by moneyness (K / spot, 0.9 = 10 % below) or by |delta| (0.25 = a 25-delta
    option). The listed strike nearest the target is taken. Which legs a kind needs: ``STRATEGY_LEGS``."""

    by: Literal["moneyness", "delta"] = "moneyness"
    short_put: float | None = Field(None, gt=0, lt=5)
    short_call: float | None = Field(None, gt=0, lt=5)
    long_put: float | None = Field(None, gt=0, lt=5)
    long_call: float | None = Field(None, gt=0, lt=5)


class StrategyConfig(_Section):
    """One option strategy run in rounds (``keeper.strategy``): open at ``tenor_days``, roll
    ``roll_days_before_expiry`` before expiry (close + open in one batch), settle what expires."""

    name: str = Field(min_length=1, max_length=64)
    kind: StrategyKind
    underlying: str = Field(min_length=1)
    tenor_days: float = Field(gt=0, le=365, description="the listed expiry nearest this far out is opened")
    roll_days_before_expiry: float = Field(2.0, ge=0, le=60, description="0: hold to expiry and settle")
    strikes: StrikeRule
    sizing: Literal["tail_budget", "fixed"] = Field(
        "tail_budget", description="tail_budget: as many units as keep the budget at forecast vol, ≤ contracts"
    )
    contracts: float = Field(gt=0, le=1_000_000, description="units per round (fixed), or the cap (tail_budget)")
    protection: Literal["tail_budget", "none"] = Field(
        "tail_budget", description="tail_budget: the tail rule buys what the round needs; needs policy.tail.enabled"
    )

    @model_validator(mode="after")
    def _legs(self) -> StrategyConfig:
        needed = [role for role, _ in STRATEGY_LEGS[self.kind]]
        missing = [r for r in needed if getattr(self.strikes, r) is None]
        if missing:
            raise ValueError(
                f"strikes.{missing[0]} is required for kind={self.kind!r} (its legs: {', '.join(needed)}); "
                f"set it ({'K / spot' if self.strikes.by == 'moneyness' else '|delta|'})"
            )
        if self.tenor_days <= self.roll_days_before_expiry:
            raise ValueError(
                f"tenor_days={self.tenor_days} must exceed roll_days_before_expiry={self.roll_days_before_expiry}: "
                "a round would be rolled as soon as it opens"
            )
        k = self.strikes
        if self.strikes.by == "moneyness":
            order = [(r, getattr(k, r)) for r in ("long_put", "short_put", "short_call", "long_call") if r in needed]
            if self.kind == "put_spread_collar":  # the put spread: long the higher put, short the lower one
                order = [("short_put", k.short_put), ("long_put", k.long_put), ("short_call", k.short_call)]
            for (a, x), (b, y) in itertools.pairwise(order):
                if not x < y:  # type: ignore[operator]
                    raise ValueError(f"strikes.{a}={x} must be below strikes.{b}={y} for kind={self.kind!r}")
        return self


class PolicyConfig(_Section):
    """Hedging policy thresholds. Units in names; see docs for the band formula."""

    delta_band_min_usd: float = Field(5_000.0, ge=0, description="floor of the no-trade band, |net delta| USD")
    risk_aversion: float = Field(1e-6, gt=0, le=1.0, description="Whalley–Wilmott λ, per USD")
    hedge_cost_bps: float = Field(10.0, ge=0, le=500, description="expected swap cost (fee + slippage)")
    delta_via_venue: bool = Field(
        False, description="hedge delta with listed venue options when their all-in cost beats spot's"
    )
    delta_risk_budget_usd: float = Field(
        25_000.0, gt=0, description="max 1-sigma loss over the vol horizon tolerated from residual delta"
    )
    delta_target_units: dict[str, float] = Field(
        default_factory=dict, description="intended net delta per underlying (units); 0 when absent"
    )
    max_net_gamma_usd_per_pct: float = Field(50_000.0, gt=0)
    max_net_vega_usd_per_vol_pt: float = Field(50_000.0, gt=0)
    greek_limit_target_ratio: float = Field(
        0.85, gt=0, le=1.0, description="past a gamma/vega limit, buy back to this fraction of it (hysteresis)"
    )
    health_factor_trigger: float = Field(1.35, gt=1.0, le=5.0)
    health_factor_target: float = Field(1.6, gt=1.0, le=10.0)
    health_factor_relever: float | None = Field(None, gt=1.0, le=20.0)
    venue_margin_trigger_ratio: float = Field(
        1.7, gt=1.0, le=10.0, description="venue equity / maintenance margin; keep it above the vault's floor (1.5)"
    )
    venue_margin_target_ratio: float = Field(2.2, gt=1.0, le=20.0)
    min_trade_usd: float = Field(500.0, ge=0)
    cost_benefit_ratio: float = Field(1.0, gt=0, le=100, description="trade only if risk value ≥ ratio × cost")
    cooldown_blocks: int = Field(3, ge=0, le=10_000)
    max_slippage_bps: int = Field(50, ge=1, le=1_000)
    dust_usd: float = Field(
        10.0, ge=0, le=10_000, description="legs worth less are never traded (dust rounds to nothing on-chain)"
    )
    idle_reserve_usdc: float = Field(
        0.0, ge=0, description="idle USDC the delta rule never spends or supplies (the withdrawal buffer)"
    )
    lever_with_usdc_debt: bool = Field(
        False, description="buy delta with USDC borrowed against the bought underlying (HF-bounded)"
    )
    tail: TailBudgetConfig = TailBudgetConfig()
    strategies: tuple[StrategyConfig, ...] = Field((), description="option strategies run in rounds")

    @model_validator(mode="after")
    def _strategies(self) -> PolicyConfig:
        names = [s.name for s in self.strategies]
        for i, st in enumerate(self.strategies):
            if names.count(st.name) > 1:
                raise ValueError(f"strategies.{i}.name={st.name!r} is used twice; give each strategy its own name")
            if [x.underlying for x in self.strategies].count(st.underlying) > 1:
                raise ValueError(
                    f"strategies.{i}.underlying={st.underlying!r}: one strategy per underlying (rounds are told "
                    "apart by underlying)"
                )
            if st.protection == "tail_budget" and not self.tail.enabled:
                raise ValueError(
                    f"strategies.{i}.protection='tail_budget' needs policy.tail.enabled=true (the tail rule buys "
                    "the protection); enable it or set protection='none'"
                )
            if st.sizing == "tail_budget" and not self.tail.enabled:
                raise ValueError(
                    f"strategies.{i}.sizing='tail_budget' needs policy.tail.enabled=true; enable it or size 'fixed'"
                )
        return self

    @model_validator(mode="after")
    def _ordered(self) -> PolicyConfig:
        if self.health_factor_target <= self.health_factor_trigger:
            raise ValueError(
                f"health_factor_target={self.health_factor_target} must exceed "
                f"health_factor_trigger={self.health_factor_trigger}"
            )
        if self.health_factor_relever is not None and self.health_factor_relever <= self.health_factor_target:
            raise ValueError(
                f"health_factor_relever={self.health_factor_relever} must exceed "
                f"health_factor_target={self.health_factor_target}"
            )
        if self.venue_margin_target_ratio <= self.venue_margin_trigger_ratio:
            raise ValueError(
                f"venue_margin_target_ratio={self.venue_margin_target_ratio} must exceed "
                f"venue_margin_trigger_ratio={self.venue_margin_trigger_ratio}"
            )
        return self


class LoopConfig(_Section):
    """Runtime behaviour: failure budget, circuit breaker, forecast-vol defaults, gas estimate."""

    sigma_default_annual: float = Field(0.6, gt=0, le=5, description="forecast vol before enough price history")
    ewma_decay: float = Field(0.94, gt=0, lt=1)
    rebalance_gas: int = Field(900_000, gt=0, description="expected gas of one rebalance, for cost-aware skipping")

    max_consecutive_failures: int = Field(5, ge=1, le=1_000)
    max_blocks_behind: int = Field(10, ge=0)
    vol_horizon_days: float = Field(1.0, gt=0, le=365)
    max_reorg_depth: int = Field(
        64, ge=0, le=10_000, description="a head further behind the last processed block means the node was reset"
    )
    failed_plan_backoff_blocks: int = Field(
        25, ge=0, le=100_000, description="blocks before the same failed actions may be tried again"
    )
    balance_check_every_ticks: int = Field(50, ge=1, le=100_000)
    deep_risk_every_ticks: int = Field(
        10, ge=1, le=100_000, description="ticks between venue liquidation-distance and venue stress-flag refreshes"
    )
    lens_valuation: Literal["onchain", "model"] = Field(
        "onchain",
        description="onchain: VaultLens.snapshot (the vault values itself); model: snapshotUnvalued, valued off-chain "
        "with the venue's formulas (storage reads only: for large option books)",
    )


class StoreConfig(_Section):
    """SQLite at ``path`` (one keeper), or PostgreSQL at ``url`` (replicas sharing a vault's memory)."""

    path: Path = Path("var/keeper.sqlite")
    url: str | None = Field(
        None,
        pattern=r"^postgresql(\+psycopg)?://",
        description="postgresql://user:password@host:5432/db; when set, path is ignored",
    )
    pg_schema: str = Field("hedgevault", pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="one schema per vault")


class MetricsConfig(_Section):
    enabled: bool = True
    host: Literal["127.0.0.1", "::1", "localhost"] = "127.0.0.1"
    port: int = Field(9464, ge=1024, le=65535)


class ExecutionConfig(_Section):
    """How a policy swap reaches the pools: split over the pair's fee tiers and two-hop paths (keeper.app.routing)."""

    routing: bool = Field(True, description="split swaps across pools; False = every swap through the primary pool")
    pieces: int = Field(32, ge=1, le=1024, description="grid of the split: the order in this many equal increments")
    leg_gas: int = Field(
        65_000, ge=0, le=2_000_000, description="gas of one more leg in a vault batch (bench.leg_gas: 62k)"
    )
    quote_tolerance_bps: float = Field(
        10.0, ge=0, le=500, description="each leg's minimum output = its exact quote less this (state moving)"
    )
    words_each_side: int = Field(2, ge=0, le=16, description="tick-bitmap words read each side of a pool's price")
    via: str = Field("WETH", min_length=1, description="the intermediate token of two-hop routes")
    slicing: bool = Field(True, description="slice delta-band hedges whose one-block impact is too high")
    max_impact_bps: float = Field(
        15.0, gt=0, le=1_000, description="one block's impact beyond fees (bp of the order) before slicing"
    )
    max_slices: int = Field(8, ge=1, le=1_000, description="the longest schedule, in trading steps")
    block_time_s: float = Field(12.0, gt=0, le=600, description="the chain's block time (vol per trading step)")


class KeeperSettings(BaseSettings):
    """The whole keeper configuration."""

    model_config = SettingsConfigDict(env_prefix="HV_", env_nested_delimiter="__", extra="forbid", frozen=True)

    network: NetworkConfig = NetworkConfig()
    signer: SignerConfig = SignerConfig(private_key_env="HV_KEEPER_KEY")
    tx: TxConfig = TxConfig()
    policy: PolicyConfig = PolicyConfig()
    loop: LoopConfig = LoopConfig()
    store: StoreConfig = StoreConfig()
    metrics: MetricsConfig = MetricsConfig()
    execution: ExecutionConfig = ExecutionConfig()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment overrides the file; the file arrives as init kwargs.
        return env_settings, init_settings


def load_settings(path: Path | None = None, **overrides: Any) -> KeeperSettings:
    """Load the TOML file at ``path`` (optional) plus ``HV_*`` env overrides; raise ConfigError if invalid."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(Path(path).read_text())
        except FileNotFoundError as err:
            raise ConfigError(f"config file {path} not found; pass --config with an existing TOML file") from err
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"config file {path} is not valid TOML: {err}") from err
    data.update(overrides)
    try:
        return KeeperSettings(**data)
    except ValidationError as err:
        raise ConfigError(_explain(err, path)) from err


def _explain(err: ValidationError, path: Path | None) -> str:
    where = f" in {path}" if path is not None else ""
    lines = [f"invalid keeper configuration{where}:"]
    for problem in err.errors():
        field = ".".join(str(p) for p in problem["loc"])
        value = problem.get("input")
        shown = "" if isinstance(value, dict) else f"={value!r}"
        fix = next((f for key, f in _FIXES.items() if field.startswith(key)), None)
        fix = fix or "change it in the keeper config file or the matching HV_* environment variable"
        if problem["type"] == "extra_forbidden":
            fix = "remove it: the keeper does not know this setting (check the spelling)"
        lines.append(f"  {field}{shown}: {problem['msg']}; fix: {fix}")
    return "\n".join(lines)
