"""Gas of the OptionMarket's operations on the devnet, from real transactions (receipts) and ``eth_estimateGas``
for views: ``python -m bench.venue_figures`` prints the table in docs/option-market.md.

Everything runs on a fresh devnet with the venue as ``devnet.venue`` configures it (80 live series). Views
are measured as a transaction would pay for them (cold storage, one call from outside), i.e. what the vault pays
when it checks its margin after a rebalance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3 import Web3
from web3.contract import Contract

from devnet.deployer import Deployer
from devnet.devnet import Devnet
from devnet.driver import MarketDriver
from devnet.venue import deploy_venue, open_funded_account
from devnet.venue_reads import market_at

E6 = 10**6
WAD = 10**18
MAX = 2**256 - 1


@dataclass(frozen=True)
class Row:
    operation: str
    gas: int
    note: str


class _Bench:
    def __init__(self, w3: Web3, market: Contract, section: dict[str, Any], driver: MarketDriver) -> None:
        self.w3, self.market, self.section, self.driver = w3, market, section, driver
        self.rows: list[Row] = []

    def tx(self, call: Any, sender: str) -> int:
        return int(Deployer(self.w3, sender).send(call, "figures")["gasUsed"])

    def view(self, call: Any) -> int:
        return int(call.estimate_gas())

    def account(self, owner: str, usdc_e6: int) -> int:
        return open_funded_account(self.w3, self.section, owner, usdc_e6)


def measure(devnet: Devnet) -> list[Row]:
    w3 = devnet.w3
    accounts = list(w3.eth.accounts)
    driver = MarketDriver(w3, devnet.url, devnet.record)
    for symbol in ("WETH", "WBTC"):
        driver.set_price(symbol, driver.oracle_price(symbol))
    admin = devnet.record["accounts"]["admin"]
    section = deploy_venue(w3, devnet.record, admin=admin, guardian=accounts[5], lp=accounts[1])
    market = market_at(w3, section["OptionMarket"])
    f = market.functions
    b = _Bench(w3, market, section, driver)
    trader, shorter, liquidator = accounts[2], accounts[3], accounts[4]
    series = [s["id"] for s in section["series"]]
    n_live = len(series)

    b.rows.append(Row("quoteBuy", b.view(f.quoteBuy(series[0], WAD)), "view: spot, surface, one Black-Scholes"))
    acct = b.account(trader, 50_000_000 * E6)
    b.rows.append(
        Row("buy (new position)", b.tx(f.buy(acct, series[2], WAD, MAX), trader), f"pool holds 1 of {n_live} series")
    )
    b.rows.append(Row("sell (new position)", b.tx(f.sell(acct, series[3], WAD, 0), trader), "account 2 positions"))
    b.rows.append(Row("marginOf, 2 positions", b.view(f.marginOf(acct)), "view, 27 scenarios per underlying"))
    held = 2
    for target in (10, 50):
        for sid in series[held + 2 : target + 2]:
            call = f.buy(acct, sid, WAD // 10, MAX) if sid % 3 else f.sell(acct, sid, WAD // 10, 0)
            gas = b.tx(call, trader)
        held = target
        b.rows.append(Row(f"marginOf, {target} positions", b.view(f.marginOf(acct)), "both underlyings, 4 expiries"))
        b.rows.append(Row(f"buy/sell, account at {target} positions", gas, "incl. account + pool margin checks"))
    b.rows.append(Row("equityOf, 50 positions", b.view(f.equityOf(acct)), "marks only, no grid"))
    b.rows.append(Row("accountState, 50 positions", b.view(f.accountState(acct)), "full state view"))
    b.rows.append(Row("poolState", b.view(f.poolState()), f"pool holds {held} series"))

    # Liquidation: a short put account at initial margin, then spot falls below maintenance.
    put = next(s["id"] for s in section["series"] if s["underlying"] == "WETH" and not s["is_call"])
    victim = b.account(shorter, 100_000 * E6)
    b.tx(f.sell(victim, put, 10 * WAD, 0), shorter)
    equity, im, _ = f.marginOf(victim).call()
    b.tx(f.withdraw(victim, equity - im, shorter), shorter)
    spot = driver.oracle_price("WETH")
    for step in range(1, 40):
        driver.set_price("WETH", spot * (1 - 0.005 * step))
        equity, _, mm = f.marginOf(victim).call()
        if equity < mm:
            break
    size = _max_liquidatable(market, victim, put, 10 * WAD, liquidator)
    b.rows.append(Row("liquidate (partial)", b.tx(f.liquidate(victim, put, size), liquidator), "1-position account"))

    # Settlement of the first expiry.
    expiry = section["expiries"][0]
    driver.advance(expiry - driver.latest_timestamp() + 60)
    driver.set_price("WETH", spot)
    round_id = int(driver.feed("WETH").functions.latestRound().call())
    n_expiry = sum(1 for s in section["series"] if s["expiry"] == expiry and s["underlying"] == "WETH")
    b.rows.append(
        Row("settleExpiry", b.tx(f.settleExpiry(0, expiry, round_id), liquidator), f"{n_expiry} series retired")
    )
    b.rows.append(Row("settleAccount", b.tx(f.settleAccount(acct), liquidator), "cashes the expired positions"))
    return b.rows


def _max_liquidatable(market: Contract, account: int, series: int, size: int, liquidator: str) -> int:
    """Largest size (within 1 %) the contract accepts, by bisection on eth_call."""
    lo, hi = 0, size
    while hi - lo > size // 100:
        mid = (lo + hi) // 2
        try:
            market.functions.liquidate(account, series, mid).call({"from": liquidator})
            lo = mid
        except Exception:
            hi = mid
    return lo


def table(rows: list[Row]) -> str:
    lines = ["| operation | gas | note |", "|---|---:|---|"]
    lines += [f"| {r.operation} | {r.gas:,} | {r.note} |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    with Devnet.start() as running:
        print(table(measure(running)))
