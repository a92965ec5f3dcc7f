from __future__ import annotations

from pathlib import Path

import pytest

from keeper.config import KeeperSettings, load_settings
from keeper.model.exceptions import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "keeper.toml"
    path.write_text(text)
    return path


def test_load__no_file__defaults_are_valid() -> None:
    settings = load_settings()
    assert isinstance(settings, KeeperSettings)
    assert settings.policy.health_factor_target > settings.policy.health_factor_trigger
    assert settings.metrics.host == "127.0.0.1"


def test_load__toml_file__sections_applied(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[network]\nrpc_url = "http://127.0.0.1:18545"\nchain_id = 31337\n[tx]\nmax_fee_cap_gwei = 80\n',
    )
    settings = load_settings(path)
    assert settings.network.rpc_url == "http://127.0.0.1:18545"
    assert settings.tx.max_fee_cap_gwei == 80


def test_load__env_override__wins_over_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HV_TX__MAX_FEE_CAP_GWEI", "42")
    settings = load_settings(write(tmp_path, "[tx]\nmax_fee_cap_gwei = 80\n"))
    assert settings.tx.max_fee_cap_gwei == 42


def test_load__out_of_range_value__names_field_value_limit_and_fix(tmp_path: Path) -> None:
    path = write(tmp_path, "[policy]\nmax_slippage_bps = 7000\n")
    with pytest.raises(ConfigError, match=r"policy\.max_slippage_bps=7000: Input should be less than or equal to 1000"):
        load_settings(path)


def test_load__several_errors__all_listed_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, '[network]\nrpc_url = "ws://x"\n[tx]\nmax_replacements = -1\n')
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert "network.rpc_url='ws://x'" in message
    assert "e.g. http://127.0.0.1:8545" in message
    assert "tx.max_replacements=-1" in message


def test_load__unknown_key__says_remove_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"policy\.delta_bnd.*remove it: the keeper does not know this setting"):
        load_settings(write(tmp_path, "[policy]\ndelta_bnd = 3\n"))


def test_load__inconsistent_thresholds__explained(tmp_path: Path) -> None:
    text = "[policy]\nhealth_factor_trigger = 1.5\nhealth_factor_target = 1.4\n"
    with pytest.raises(ConfigError, match=r"health_factor_target=1.4 must exceed health_factor_trigger=1.5"):
        load_settings(write(tmp_path, text))


def test_load__signer_with_two_sources__rejected(tmp_path: Path) -> None:
    text = '[signer]\nprivate_key_env = "K"\nkeystore_path = "k.json"\nkeystore_password_env = "P"\n'
    with pytest.raises(ConfigError, match="give exactly one of private_key_env or keystore_path"):
        load_settings(write(tmp_path, text))


def test_load__missing_or_broken_file__clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found; pass --config"):
        load_settings(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings(write(tmp_path, "[tx\n"))


STRATEGY = """
[policy.tail]
enabled = true
tail_budget_pct = {budget}

[[policy.strategies]]
name = "weekly"
kind = "{kind}"
underlying = "WETH"
tenor_days = 7
roll_days_before_expiry = 2
contracts = 100
[policy.strategies.strikes]
short_put = 0.9
short_call = 1.1
"""


def test_load__strategy_in_toml__parsed() -> None:
    settings = KeeperSettings(
        policy={
            "tail": {"enabled": True},
            "strategies": [
                {
                    "name": "a",
                    "kind": "iron_condor",
                    "underlying": "WETH",
                    "tenor_days": 7,
                    "contracts": 10,
                    "strikes": {"long_put": 0.8, "short_put": 0.9, "short_call": 1.1, "long_call": 1.2},
                }
            ],
        }
    )
    (st,) = settings.policy.strategies
    assert st.kind == "iron_condor"
    assert st.sizing == "tail_budget"


@pytest.mark.parametrize(
    ("kind", "budget", "message"),
    [
        ("straddle", 5, r"policy\.strategies\.0\.kind='straddle': Input should be 'short_strangle'"),
        ("iron_condor", 5, r"strikes\.long_put is required for kind='iron_condor'"),
        ("short_strangle", 0, r"policy\.tail\.tail_budget_pct=0: Input should be greater than 0"),
    ],
)
def test_load__bad_strategy__error_names_the_field(tmp_path: Path, kind: str, budget: float, message: str) -> None:
    path = write(tmp_path, STRATEGY.format(kind=kind, budget=budget))
    with pytest.raises(ConfigError, match=message):
        load_settings(path)


def test_load__strategy_protected_by_a_disabled_tail_rule__names_both_fields(tmp_path: Path) -> None:
    path = write(
        tmp_path, STRATEGY.format(kind="short_strangle", budget=5).replace("enabled = true", "enabled = false")
    )
    with pytest.raises(ConfigError, match=r"strategies\.0\.protection='tail_budget' needs policy\.tail\.enabled"):
        load_settings(path)
