"""The closed-form liquidation price, checked against the real Aave v3 on the devnet."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from devnet.devnet import Devnet
from devnet.driver import MarketDriver
from keeper.risk.liquidation import aave_liquidation

from .conftest import contract

pytestmark = pytest.mark.chain
MAX = 2**256 - 1


def tx(dn: Devnet, call: Any, sender: str, value: int = 0) -> None:
    params: dict[str, Any] = {"from": sender, "value": value} if value else {"from": sender}
    assert dn.w3.eth.wait_for_transaction_receipt(call.transact(params))["status"] == 1


def test_aave_liquidation__oracle_at_predicted_price_pm_5bp__hf_crosses_one_there(
    dn: Devnet, driver: MarketDriver
) -> None:
    w3, user = dn.w3, dn.w3.eth.accounts[4]
    pool = contract(w3, dn.record["aave"]["Pool"], "Pool")
    usdc = contract(w3, dn.record["tokens"]["USDC"]["address"], "MintableERC20")
    weth = contract(w3, dn.record["tokens"]["WETH"]["address"], "WETH9")
    wbtc = contract(w3, dn.record["tokens"]["WBTC"]["address"], "MintableERC20")
    # Collateral: 30k USDC + 10 WETH; debt: 0.6 WBTC — a position that liquidates on a WBTC rise or WETH fall.
    tx(dn, usdc.functions.mint(user, 30_000 * 10**6), user)
    tx(dn, weth.functions.deposit(), user, value=10 * 10**18)
    for token in (usdc, weth):
        tx(dn, token.functions.approve(pool.address, MAX), user)
    tx(dn, pool.functions.supply(usdc.address, 30_000 * 10**6, user, 0), user)
    tx(dn, pool.functions.supply(weth.address, 10 * 10**18, user, 0), user)
    tx(dn, pool.functions.borrow(wbtc.address, 6 * 10**7, 2, 0, user), user)

    data = contract(w3, dn.record["aave"]["AaveProtocolDataProvider"], "AaveProtocolDataProvider")
    symbols = ["USDC", "WETH", "WBTC"]
    coll, debt, lt, prices = [], [], [], []
    for sym in symbols:
        asset = dn.record["tokens"][sym]["address"]
        dec = dn.record["tokens"][sym]["decimals"]
        reserve = data.functions.getUserReserveData(asset, user).call()
        coll.append(reserve[0] / 10**dec)
        debt.append((reserve[1] + reserve[2]) / 10**dec)
        lt.append(data.functions.getReserveConfigurationData(asset).call()[2] / 1e4)
        prices.append(driver.oracle_price(sym))
    liq = aave_liquidation(coll, debt, prices, lt, [True, False, False])
    hf_now = pool.functions.getUserAccountData(user).call()[5] / 1e18
    # Aave averages liquidation thresholds in whole bps (integer division): its HF is the exact ratio to ≤ 1.25e-4.
    assert liq.health_factor == pytest.approx(hf_now, rel=1.25e-4)

    for i, sym in ((1, "WETH"), (2, "WBTC")):
        m = liq.per_asset[i]
        assert np.isfinite(m)
        toward_safety = 1 if m > 1 else -1  # net debt liquidates on a rise, net collateral on a fall
        for side, factor in (("safe", 1 - 5e-4 * toward_safety), ("liquidatable", 1 + 5e-4 * toward_safety)):
            driver.set_price(sym, prices[i] * m * factor)
            hf = pool.functions.getUserAccountData(user).call()[5] / 1e18
            assert (hf >= 1.0) == (side == "safe"), f"{sym} at m*×{factor:.4f}: HF {hf:.6f} ({side})"
        driver.set_price(sym, prices[i])
