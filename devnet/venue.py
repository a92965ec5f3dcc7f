"""Deploy and configure the OptionMarket on a network described by a deployment record (the devnet's).

The market is three contracts (a core plus two facets reached by DELEGATECALL; one address serves the whole
``IOptionMarket`` ABI). The deployer keeps DEFAULT_ADMIN_ROLE and lists, on every underlying: weekly expiries
(Fridays 08:00 UTC) and monthly ones (last Friday of the month), strikes at fixed moneyness around spot rounded to a
tick, calls and puts; it posts a vol surface per expiry and seeds the LP pool. ``python -m devnet.venue``
does this on a running devnet (``keeper devnet up``) and writes the ``venue`` section into its record.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from web3 import Web3
from web3.contract import Contract

from devnet.deployer import Deployer
from devnet.venue_reads import market_at
from keeper.chain.artifacts import forge_artifact
from keeper.chain.connect import checksum, contract_at, web3_for
from keeper.venue.model import MarketParams, RiskParams

WAD = 10**18
MIN_LISTING_SECONDS = 3_600


@dataclass(frozen=True)
class VenueConfig:
    """What to list and post. Vols are decimals; the surface is vol = atm + skew·k + smile·k², k = ln(K/F)."""

    risk: RiskParams = field(default_factory=RiskParams)
    market: MarketParams = field(default_factory=MarketParams)
    underlyings: tuple[str, ...] = ("WETH", "WBTC")
    max_price_age_seconds: int = 3_600
    moneyness: tuple[float, ...] = (0.8, 0.9, 1.0, 1.1, 1.2)
    weeklies: int = 2
    monthlies: int = 2
    atm_vol: dict[str, float] = field(default_factory=lambda: {"WETH": 0.65, "WBTC": 0.55})
    skew: float = -0.15
    smile: float = 0.5
    lp_usdc: int = 20_000_000


def listing_expiries(now_s: int, weeklies: int, monthlies: int) -> list[int]:
    """The next ``weeklies`` Fridays 08:00 UTC and the last Fridays (08:00 UTC) of the following ``monthlies``
    months, each at least an hour away; sorted, without duplicates."""
    now = datetime.fromtimestamp(now_s, UTC)
    earliest = now + timedelta(seconds=MIN_LISTING_SECONDS)
    friday = now.replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=(4 - now.weekday()) % 7)
    while friday < earliest:
        friday += timedelta(days=7)
    out = {int((friday + timedelta(days=7 * i)).timestamp()) for i in range(weeklies)}
    month = datetime(now.year, now.month, 1, 8, tzinfo=UTC)
    added = 0
    while added < monthlies:
        last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        last -= timedelta(days=(last.weekday() - 4) % 7)
        stamp = int(last.timestamp())
        if last >= earliest and stamp not in out:
            out.add(stamp)
            added += 1
        month = (month + timedelta(days=32)).replace(day=1)
    return sorted(out)


def strike_tick(spot_usd: float) -> float:
    """A round strike spacing: 5 × 10^(digits − 3) (3,000 → 50; 60,000 → 500)."""
    return 5.0 * 10.0 ** (math.floor(math.log10(spot_usd)) - 2)


def strikes_around(spot_usd: float, moneyness: tuple[float, ...]) -> list[float]:
    tick = strike_tick(spot_usd)
    return sorted({round(spot_usd * m / tick) * tick for m in moneyness})


def deploy_venue(
    w3: Web3,
    record: dict[str, Any],
    *,
    admin: str,
    guardian: str,
    lp: str,
    lister: str | None = None,
    vol_feeder: str | None = None,
    config: VenueConfig | None = None,
) -> dict[str, Any]:
    """Deploy, wire roles, add underlyings, list series, post surfaces, seed the pool; returns the ``venue``
    section of the deployment record (addresses, underlying ids, series)."""
    cfg = config or VenueConfig()
    lister, vol_feeder = lister or admin, vol_feeder or admin
    d = Deployer(w3, admin)
    usdc = checksum(record["tokens"]["USDC"]["address"])
    gov = d.deploy(forge_artifact("OptionMarketGovernance"), usdc)
    views = d.deploy(forge_artifact("OptionMarketViews"), usdc, gov.address)
    core = d.deploy(
        forge_artifact("OptionMarket"), usdc, views.address, admin, cfg.risk.to_chain(), cfg.market.to_chain()
    )
    market = market_at(w3, core.address)
    f = market.functions
    for role, who in (("LISTER_ROLE", lister), ("VOL_FEEDER_ROLE", vol_feeder), ("GUARDIAN_ROLE", guardian)):
        d.send(f.grantRole(f[role]().call(), checksum(who)), f"grant {role}")

    underlyings: dict[str, int] = {}
    for symbol in cfg.underlyings:
        token, feed = record["tokens"][symbol]["address"], record["feeds"][symbol]
        d.send(f.addUnderlying(checksum(token), checksum(feed), cfg.max_price_age_seconds), f"add {symbol}")
        underlyings[symbol] = len(underlyings)

    now = int(w3.eth.get_block("latest")["timestamp"])
    expiries = listing_expiries(now, cfg.weeklies, cfg.monthlies)
    series: list[dict[str, Any]] = []
    for symbol, uid in underlyings.items():
        spot_usd = market.functions.spot(uid).call()[0] / WAD
        for expiry in expiries:
            for strike in strikes_around(spot_usd, cfg.moneyness):
                for is_call in (True, False):
                    strike_wad = round(strike) * WAD
                    d.send(f.listSeries(uid, expiry, strike_wad, is_call), f"list {symbol}", sender=lister)
                    sid = int(f.seriesIdOf(uid, expiry, strike_wad, is_call).call())
                    series.append(
                        {"id": sid, "underlying": symbol, "expiry": expiry, "strike_usd": strike, "is_call": is_call}
                    )
    section: dict[str, Any] = {
        "OptionMarket": core.address,
        "OptionMarketViews": views.address,
        "OptionMarketGovernance": gov.address,
        "usdc": usdc,
        "underlyings": underlyings,
        "expiries": expiries,
        "series": series,
        "admin": checksum(admin),
        "lister": checksum(lister),
        "vol_feeder": checksum(vol_feeder),
        "guardian": checksum(guardian),
        "lp": checksum(lp),
        "risk": cfg.risk.to_chain(),
        "market": cfg.market.to_chain(),
    }
    post_surfaces(w3, section, cfg, d)
    _seed_pool(w3, market, usdc, lp, cfg.lp_usdc * 10**6, d)
    section["deploy_gas"] = d.gas_used
    section["deploy_transactions"] = d.transactions
    return section


def list_rolling_chain(
    w3: Web3, section: dict[str, Any], cfg: VenueConfig | None = None, settle_after_s: int = 86_400
) -> list[int]:
    """Keep the chain rolling, as a real venue does: settle every expiry that passed more than ``settle_after_s``
    ago (anyone may; the keeper settles its own as soon as they pass), then list (through the listing role) the
    weekly and monthly expiries of :func:`listing_expiries` from the chain's current time not listed yet — as many
    whole expiries as the venue's live-series cap leaves room for — strikes around the current spot, calls and
    puts, and post their surfaces; updates ``section`` (expiries, series). Returns the new expiries."""
    from keeper.app.settlement import Due, Settler
    from keeper.chain.rpc import RpcClient

    cfg = cfg or VenueConfig()
    market = market_at(w3, section["OptionMarket"])
    f = market.functions
    d = Deployer(w3, section["lister"])
    now = int(w3.eth.get_block("latest")["timestamp"])
    client = RpcClient(str(w3.provider.endpoint_uri))  # type: ignore[attr-defined]
    try:
        for expiry in [e for e in section["expiries"] if e + settle_after_s <= now]:
            for uid in section["underlyings"].values():
                if f.settlementPrice(uid, expiry).call() == 0:
                    round_id = Settler(client, None).settlement_round(Due(market.address, uid, expiry))
                    d.send(f.settleExpiry(uid, expiry, round_id), "settle expiry", sender=section["lister"])
            section["expiries"].remove(expiry)
    finally:
        client.close()
    per_expiry = len(section["underlyings"]) * len(cfg.moneyness) * 2  # at most: strikes dedupe on the tick
    room = (int(f.MAX_LIVE_SERIES().call()) - len(f.liveSeries().call())) // per_expiry
    new = [e for e in listing_expiries(now, cfg.weeklies, cfg.monthlies) if e not in section["expiries"]][:room]
    for symbol, uid in section["underlyings"].items():
        spot_usd = f.spot(uid).call()[0] / WAD
        for expiry in new:
            for strike in strikes_around(spot_usd, cfg.moneyness):
                for is_call in (True, False):
                    strike_wad = round(strike) * WAD
                    d.send(f.listSeries(uid, expiry, strike_wad, is_call), f"list {symbol}", sender=section["lister"])
                    sid = int(f.seriesIdOf(uid, expiry, strike_wad, is_call).call())
                    section["series"].append(
                        {"id": sid, "underlying": symbol, "expiry": expiry, "strike_usd": strike, "is_call": is_call}
                    )
    section["expiries"] = sorted({*section["expiries"], *new})
    post_surfaces(w3, section, cfg)
    return new


def post_surfaces(w3: Web3, section: dict[str, Any], cfg: VenueConfig, d: Deployer | None = None) -> None:
    """Post (again) a surface for every live expiry: ATM vol with a mild term structure (+5 % per halving of τ
    below 30 days), the configured skew and smile. Call it to keep surfaces fresher than ``vol_max_age_seconds``."""
    d = d or Deployer(w3, section["vol_feeder"])
    market = market_at(w3, section["OptionMarket"])
    now = int(w3.eth.get_block("latest")["timestamp"])
    for symbol, uid in section["underlyings"].items():
        for expiry in section["expiries"]:
            if expiry <= now:
                continue
            days = (expiry - now) / 86_400
            atm = cfg.atm_vol[symbol] * (1.0 + 0.05 * max(0.0, math.log2(30.0 / max(days, 1.0))))
            call = market.functions.postVolSurface(uid, expiry, _wad(atm), _wad(cfg.skew), _wad(cfg.smile))
            d.send(call, f"post {symbol} vol", sender=section["vol_feeder"])


def _seed_pool(w3: Web3, market: Contract, usdc: str, lp: str, amount_e6: int, d: Deployer) -> None:
    token = contract_at(w3, usdc, "MintableERC20")
    d.send(token.functions.mint(checksum(lp), amount_e6), "mint LP USDC", sender=lp)
    d.send(token.functions.approve(market.address, amount_e6), "approve market", sender=lp)
    d.send(market.functions.provideLiquidity(amount_e6), "seed LP pool", sender=lp)


def open_funded_account(w3: Web3, section: dict[str, Any], owner: str, usdc_e6: int) -> int:
    """Devnet helper: mint ``usdc_e6`` to ``owner`` (the devnet USDC mints freely), open an account and deposit it;
    returns the account id."""
    market = market_at(w3, section["OptionMarket"])
    d = Deployer(w3, owner)
    usdc = contract_at(w3, section["usdc"], "MintableERC20")
    d.send(usdc.functions.mint(checksum(owner), usdc_e6), "mint USDC")
    d.send(usdc.functions.approve(market.address, usdc_e6), "approve market")
    account_id = int(market.functions.accountCount().call()) + 1
    d.send(market.functions.openAccount(), "open account")
    d.send(market.functions.deposit(account_id, usdc_e6), "deposit")
    return account_id


def _wad(x: float) -> int:
    return round(x * WAD)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Deploy the OptionMarket on a running devnet; record it.")
    parser.add_argument("--rpc", default=None, help="RPC URL (default: the running `keeper devnet up`)")
    parser.add_argument("--record", type=Path, default=None, help="deployment record to read and update")
    args = parser.parse_args(argv)
    from keeper.paths import DEVNET_RECORD_FILE as RECORD_FILE
    from keeper.paths import DEVNET_RUN_FILE as RUN_FILE

    record_path: Path = args.record or RECORD_FILE
    url = args.rpc or json.loads(RUN_FILE.read_text())["url"]
    w3 = web3_for(url)
    record = json.loads(record_path.read_text())
    accounts = list(w3.eth.accounts)
    section = deploy_venue(w3, record, admin=record["accounts"]["admin"], guardian=accounts[5], lp=accounts[1])
    record["venue"] = section
    record_path.write_text(json.dumps(record, indent=2))
    print(f"OptionMarket at {section['OptionMarket']}: {len(section['series'])} series; record {record_path}")


if __name__ == "__main__":
    main()
