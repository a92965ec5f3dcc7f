"""The model's venue against the OptionMarket contract on the devnet, for the demo's short-vol book: the same
account valued and margined (the model reads it through the keeper's own lens reader), the same strangle opened by
the model on the same venue, and the vault's NAV."""

from __future__ import annotations

import pytest

from devnet.devnet import Devnet
from devnet.venue_reads import market_at
from keeper.chain.rpc import RpcClient
from keeper.config import KeeperSettings
from sim.demo.book import ShortVolBook
from sim.demo.world import build_world
from sim.montecarlo.books import short_vol
from sim.montecarlo.job import settings_for
from sim.montecarlo.live import read_book
from sim.montecarlo.market import SYMBOLS, devnet_market

pytestmark = pytest.mark.chain


def test_model_venue__demo_short_vol_book__valuation_margin_and_opening_equal_the_chain() -> None:
    with Devnet.start() as devnet:
        world = build_world(devnet)
        ShortVolBook().open(world)
        state = world.lens_state()
        client = RpcClient(devnet.url)
        try:
            book = read_book(client, state, world.record)
        finally:
            client.close()
        market = market_at(world.w3, world.record["venue"]["OptionMarket"])
        f = market.functions
        chain = {a: f.marginOf(a).call() for a in f.accountsOf(world.vault.address).call()}
        total_assets = world.vault.functions.totalAssets().call() / 1e6
    assert book.venue_state is not None
    assert book.venue_setup is not None
    assert set(book.venue_state.accounts) == set(chain)
    w = book.world(devnet_market(), settings_for(book))
    assert w.venue is not None
    assert w.vault.venue is not None
    prices = list(book.prices_usd)
    venue_now = w.venue_state(prices, 0)
    for account_id, (equity_e6, im_e6, mm_e6) in chain.items():
        m = w.venue.margin(w.vault.venue.accounts[account_id], w.vault.venue, venue_now)
        assert m.equity_usd == pytest.approx(equity_e6 / 1e6, rel=1e-9, abs=1e-5)
        assert m.initial_usd == pytest.approx(im_e6 / 1e6, rel=1e-9)
        assert m.maintenance_usd == pytest.approx(mm_e6 / 1e6, rel=1e-9)
    # The vault's NAV as the model sums it (tokens + venue equity) equals totalAssets (no Aave position here).
    assert w.nav_usd(prices, 0) == pytest.approx(total_assets, rel=1e-9)
    # The model opening the demo's strangle on the same venue, at the same prices, gives the chain's account:
    # the same series sold at the venue's bid (collateral = margin + proceeds).
    opened = short_vol(
        devnet_market(),
        KeeperSettings(),
        start_s=book.clock0_s,
        setup=book.venue_setup,
        prices_usd=dict(zip(SYMBOLS, book.prices_usd, strict=True)),
    )
    assert opened.venue_state is not None
    (model_account,) = opened.venue_state.accounts.values()
    (chain_account,) = book.venue_state.accounts.values()
    assert model_account.sizes.keys() == chain_account.sizes.keys()
    for sid, size in chain_account.sizes.items():  # the lens's WAD → float conversion: 1e-12 relative
        assert model_account.sizes[sid] == pytest.approx(size, rel=1e-11)
    assert model_account.collateral_usd == pytest.approx(chain_account.collateral_usd, rel=1e-9)
