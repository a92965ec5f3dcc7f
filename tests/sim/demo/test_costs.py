"""The cost decomposition of a run (sim.demo.costs) on hand-made batches whose figures are known."""

from __future__ import annotations

import pytest

from sim.demo.costs import SeriesInfo, run_costs

DAY = 86_400
SERIES = {
    7: SeriesInfo("WETH", 30 * DAY, 2400.0, False),  # a wing, 30 d out at t = 0
    8: SeriesInfo("WETH", 5 * DAY, 3300.0, True),  # the book's short call, 5 d out
}


def test_run_costs__wing_buyback_and_churn__fee_split_net_cost_and_churn() -> None:
    spot_fee, price_fee, slip = 0.0003, 0.01, 0.005
    mark = 10.0
    ask = mark * (1 + price_fee) + spot_fee * 3000.0  # 10.1 + 0.9 = 11.0
    plans = [
        (
            1,
            {
                "actions": [
                    {"kind": "option_trade", "series_id": 7, "size": 100.0, "max_cost_usd": 100 * ask * (1 + slip)},
                    {"kind": "option_trade", "series_id": 8, "size": 10.0, "max_cost_usd": 10 * ask * (1 + slip)},
                    {"kind": "swap", "token_in": "USDC", "token_out": "WETH", "amount_in": 30_000.0, "fees": [500]},
                    {"kind": "swap", "token_in": "WETH", "token_out": "USDC", "amount_in": 4.0, "fees": [500]},
                ]
            },
        )
    ]
    out = run_costs(
        plans,
        {1: {"WETH": 3000.0}},
        {1: 0},
        SERIES,
        {7: 2.0, 8: 0.0},  # the wing is worth 2 at the end; the call expired worthless
        {8},
        12.5,
        spot_fee=spot_fee,
        price_fee=price_fee,
        slippage=slip,
        failed_batches=3,
    )
    wing = out["options"]["wing WETH put >14 d"]
    buyback = out["options"]["buyback WETH call ≤14 d"]
    assert wing["premium_usd"] == pytest.approx(1100.0)
    assert wing["fee_usd"] == pytest.approx(100 * (0.1 + 0.9))
    assert wing["net_cost_usd"] == pytest.approx(1100.0 - 200.0)
    assert buyback["net_cost_usd"] == pytest.approx(110.0)
    assert out["swap_churn_notional_usd"] == pytest.approx(12_000.0)  # 4 WETH bought and sold in one batch
    assert out["swap_pool_fee_usd"] == pytest.approx((30_000 + 12_000) * 0.0005)
    assert out["total_usd"] == pytest.approx(900.0 + 110.0 + 21.0 + 12.5)
    assert (out["batches_mined"], out["batches_failed"]) == (1, 3)
