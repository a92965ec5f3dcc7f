"""A devnet with the OptionMarket deployed and configured: one per session, each test isolated by snapshot/revert."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from web3 import Web3
from web3.contract import Contract

from devnet.deployer import Deployer
from devnet.devnet import Devnet
from devnet.driver import MarketDriver
from devnet.venue import VenueConfig, deploy_venue, open_funded_account, post_surfaces
from devnet.venue_reads import market_at, revert_decoder
from devnet.venue_reads import revert_reason as chain_revert_reason

from ..conftest import stack_fixtures

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


def build_venue(devnet: Devnet) -> Venue:
    w3 = devnet.w3
    accounts = list(w3.eth.accounts)
    driver = MarketDriver(w3, devnet.url, devnet.record)
    admin = devnet.record["accounts"]["admin"]
    config = VenueConfig()
    for symbol in ("WETH", "WBTC"):
        driver.set_price(symbol, driver.oracle_price(symbol))
    section = deploy_venue(w3, devnet.record, admin=admin, guardian=accounts[5], lp=accounts[1], config=config)
    return Venue(devnet, driver, market_at(w3, section["OptionMarket"]), section, config, *accounts[2:5])


venue_devnet, venue_session, isolated_venue = stack_fixtures("venue", build_venue, name="isolated_venue")


@pytest.fixture
def venue(isolated_venue: Venue) -> Venue:
    """The session venue, isolated, with fresh oracle rounds and surfaces."""
    isolated_venue.refresh()
    return isolated_venue
