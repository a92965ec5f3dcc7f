"""The devnet's Aave v3 and Uniswap v3 are the real bytecode and behave as on mainnet."""

from __future__ import annotations

from typing import Any

import pytest
from web3 import Web3

from devnet.devnet import Devnet
from devnet.driver import MarketDriver, price_bps_error

from .conftest import contract

pytestmark = pytest.mark.chain
MAX = 2**256 - 1


def send(w3: Web3, call: Any, sender: str) -> dict[str, Any]:
    receipt = dict(w3.eth.wait_for_transaction_receipt(call.transact({"from": sender})))
    assert receipt["status"] == 1
    return receipt


def wrap(w3: Web3, weth: Any, who: str, wei: int) -> None:
    receipt = w3.eth.wait_for_transaction_receipt(weth.functions.deposit().transact({"from": who, "value": wei}))
    assert receipt["status"] == 1


def fund_usdc(dn: Devnet, who: str, amount_raw: int) -> Any:
    usdc = contract(dn.w3, dn.record["tokens"]["USDC"]["address"], "MintableERC20")
    send(dn.w3, usdc.functions.mint(who, amount_raw), who)
    send(dn.w3, usdc.functions.approve(dn.record["aave"]["Pool"], MAX), who)
    return usdc


def test_aave__supply_borrow_repay_withdraw__account_data_exact(dn: Devnet) -> None:
    w3, user = dn.w3, dn.w3.eth.accounts[1]
    pool = contract(w3, dn.record["aave"]["Pool"], "Pool")
    usdc_address = dn.record["tokens"]["USDC"]["address"]
    weth = contract(w3, dn.record["tokens"]["WETH"]["address"], "WETH9")
    fund_usdc(dn, user, 100_000 * 10**6)
    send(w3, pool.functions.supply(usdc_address, 100_000 * 10**6, user, 0), user)
    collateral, debt, available, lt, ltv, hf = pool.functions.getUserAccountData(user).call()
    assert (collateral, debt, lt, ltv, hf) == (100_000 * 10**8, 0, 8000, 7700, MAX)
    assert available == 77_000 * 10**8

    send(w3, pool.functions.borrow(weth.address, 10 * 10**18, 2, 0, user), user)
    assert weth.functions.balanceOf(user).call() == 10 * 10**18
    collateral, debt, _, _, _, hf = pool.functions.getUserAccountData(user).call()
    assert debt == pytest.approx(30_000 * 10**8, rel=1e-9)
    assert hf / 1e18 == pytest.approx(collateral * 0.80 / debt, rel=1e-9)

    send(w3, weth.functions.approve(pool.address, MAX), user)
    send(w3, pool.functions.repay(weth.address, 4 * 10**18, 2, user), user)
    _, debt, _, _, _, _ = pool.functions.getUserAccountData(user).call()
    assert debt == pytest.approx(18_000 * 10**8, rel=1e-6)  # interest of a few blocks
    wrap(w3, weth, user, 10**18)  # a little extra WETH for the interest accrued meanwhile
    send(w3, pool.functions.repay(weth.address, MAX, 2, user), user)
    send(w3, pool.functions.withdraw(usdc_address, MAX, user), user)
    collateral, debt, _, _, _, hf = pool.functions.getUserAccountData(user).call()
    assert (collateral, debt, hf) == (0, 0, MAX)


def test_aave__price_move_below_hf_one__liquidation_pays_bonus(dn: Devnet, driver: MarketDriver) -> None:
    w3 = dn.w3
    user, liquidator = w3.eth.accounts[1], w3.eth.accounts[2]
    pool = contract(w3, dn.record["aave"]["Pool"], "Pool")
    usdc = fund_usdc(dn, user, 100_000 * 10**6)
    weth = contract(w3, dn.record["tokens"]["WETH"]["address"], "WETH9")
    send(w3, pool.functions.supply(usdc.address, 100_000 * 10**6, user, 0), user)
    send(w3, pool.functions.borrow(weth.address, 25 * 10**18, 2, 0, user), user)  # HF = 80k / 75k ≈ 1.067
    driver.set_price("WETH", 3300.0)  # debt 82.5k > 80k of threshold-weighted collateral
    hf = pool.functions.getUserAccountData(user).call()[5]
    assert hf < 10**18

    wrap(w3, weth, liquidator, 20 * 10**18)
    send(w3, weth.functions.approve(pool.address, MAX), liquidator)
    data_provider = contract(w3, dn.record["aave"]["AaveProtocolDataProvider"], "AaveProtocolDataProvider")
    variable_debt = data_provider.functions.getUserReserveData(weth.address, user).call()[2]
    before = usdc.functions.balanceOf(liquidator).call()
    send(w3, pool.functions.liquidationCall(usdc.address, weth.address, user, MAX, False), liquidator)
    received = usdc.functions.balanceOf(liquidator).call() - before
    covered = variable_debt // 2  # close factor 50 % while HF ≥ 0.95
    expected = covered * 3300 * 10**6 // 10**18 * 10450 // 10000  # debt value × 104.5 % USDC bonus
    assert received == pytest.approx(expected, rel=1e-6)
    assert pool.functions.getUserAccountData(user).call()[5] > hf


def test_uniswap__swaps_both_ways__equal_quoter_v2_quote(dn: Devnet, driver: MarketDriver) -> None:
    w3, trader = dn.w3, dn.w3.eth.accounts[3]
    usdc = fund_usdc(dn, trader, 1_000_000 * 10**6)
    weth = contract(w3, dn.record["tokens"]["WETH"]["address"], "WETH9")
    router = contract(w3, dn.record["uniswap"]["SwapRouter"], "SwapRouter")
    quoter = contract(w3, dn.record["uniswap"]["QuoterV2"], "QuoterV2")
    fee = driver.pool_info("WETH")["fee"]
    send(w3, usdc.functions.approve(router.address, MAX), trader)
    send(w3, weth.functions.approve(router.address, MAX), trader)
    for token_in, token_out, amount in ((usdc, weth, 600_000 * 10**6), (weth, usdc, 100 * 10**18)):
        quote = quoter.functions.quoteExactInputSingle((token_in.address, token_out.address, amount, fee, 0)).call()[0]
        before = token_out.functions.balanceOf(trader).call()
        send(
            w3,
            router.functions.exactInputSingle(
                (token_in.address, token_out.address, fee, trader, 2**40, amount, quote, 0)
            ),
            trader,
        )
        assert token_out.functions.balanceOf(trader).call() - before == quote


@pytest.mark.parametrize(("symbol", "target"), [("WETH", 1950.0), ("WETH", 4123.45), ("WBTC", 41_000.0)])
def test_driver__move_pool__within_one_bp(driver: MarketDriver, symbol: str, target: float) -> None:
    driver.move_pool(symbol, target)
    assert price_bps_error(driver.pool_price(symbol), target) < 1.0


def test_driver__advance__interest_accrues_and_time_moves(dn: Devnet, driver: MarketDriver) -> None:
    data_provider = contract(dn.w3, dn.record["aave"]["AaveProtocolDataProvider"], "AaveProtocolDataProvider")
    usdc = dn.record["tokens"]["USDC"]["address"]
    borrower = dn.record["accounts"]["background_borrower"]
    debt_before = data_provider.functions.getUserReserveData(usdc, borrower).call()[2]
    rate = data_provider.functions.getReserveData(usdc).call()[6] / 1e27  # variable borrow rate, per year
    assert rate > 0
    t0 = driver.latest_timestamp()
    month = 30 * 24 * 3600
    assert driver.advance(month) == t0 + month
    debt_after = data_provider.functions.getUserReserveData(usdc, borrower).call()[2]
    rt = rate * month / (365 * 24 * 3600)
    # Aave compounds with a 3-term expansion of e^(rt); debt_before already includes the accrual up to t0.
    assert debt_after / debt_before == pytest.approx(1 + rt + rt**2 / 2 + rt**3 / 6, rel=1e-9)


def test_driver__bad_inputs__named_errors(driver: MarketDriver) -> None:
    from devnet.driver import DriverError

    with pytest.raises(DriverError, match="no Uniswap pool DOGE/USDC"):
        driver.move_pool("DOGE", 1.0)
    with pytest.raises(DriverError, match="price_usd=-1 for WETH must be > 0"):
        driver.set_price("WETH", -1)
