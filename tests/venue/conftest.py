"""A devnet with the OptionMarket deployed and configured: one per session, each test isolated by snapshot/revert."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from web3 import Web3
from web3.contract import Contract

from keeper.chain.anvil import isolated
from keeper.devnet.chain import Deployer
from keeper.devnet.devnet import Devnet
from keeper.devnet.driver import MarketDriver
from keeper.venue.chain import market_at, revert_decoder
from keeper.venue.chain import revert_reason as chain_revert_reason
from keeper.venue.deploy import VenueConfig, deploy_venue, open_funded_account, post_surfaces

E6 = 10**6
WAD = 10**18
DECODER = revert_decoder()


@dataclass
class Venue:
    devnet: Devnet
    driver: MarketDriver
    market: Contract
    section: dict[str, Any]
    config: VenueConfig
    trader: str
    other: str
    liquidator: str

    @property
    def w3(self) -> Web3:
        return self.devnet.w3

    def send(self, call: Any, sender: str) -> dict[str, Any]:
        return Deployer(self.w3, sender).send(call, "venue test tx")

    def refresh(self) -> None:
        """Fresh oracle rounds (same prices) and vol surfaces."""
        for symbol in ("WETH", "WBTC"):
            self.driver.set_price(symbol, self.driver.oracle_price(symbol))
        post_surfaces(self.w3, self.section, self.config)

    def open_account(self, owner: str, usdc_e6: int) -> int:
        return open_funded_account(self.w3, self.section, owner, usdc_e6)

    def series_id(self, symbol: str, expiry_index: int, moneyness_index: int, is_call: bool) -> int:
        expiry = self.section["expiries"][expiry_index]
        rows = [s for s in self.section["series"] if s["underlying"] == symbol and s["expiry"] == expiry]
        strikes = sorted({s["strike_usd"] for s in rows})
        strike = strikes[moneyness_index]
        return int(next(s["id"] for s in rows if s["strike_usd"] == strike and s["is_call"] == is_call))


def revert_reason(call: Any, sender: str) -> str:
    """The decoded reason ``call`` reverts with (eth_call), or '' if it would succeed."""
    return chain_revert_reason(call, sender, DECODER)


@pytest.fixture(scope="session")
def venue_devnet() -> Iterator[Devnet]:
    with Devnet.start() as running:
        yield running


@pytest.fixture(scope="session")
def session_venue(venue_devnet: Devnet) -> Venue:
    w3 = venue_devnet.w3
    accounts = list(w3.eth.accounts)
    driver = MarketDriver(w3, venue_devnet.url, venue_devnet.record)
    admin = venue_devnet.record["accounts"]["admin"]
    config = VenueConfig()
    for symbol in ("WETH", "WBTC"):
        driver.set_price(symbol, driver.oracle_price(symbol))
    section = deploy_venue(w3, venue_devnet.record, admin=admin, guardian=accounts[5], lp=accounts[1], config=config)
    return Venue(venue_devnet, driver, market_at(w3, section["OptionMarket"]), section, config, *accounts[2:5])


@pytest.fixture
def venue(session_venue: Venue) -> Iterator[Venue]:
    with isolated(session_venue.devnet.url):
        session_venue.refresh()
        yield session_venue
    session_venue.driver.forget()  # the revert undid the market maker's approvals and funding: re-check them
