"""Where a hedged run's cost goes: the keeper's mined batches from its store, split into what the options bought
cost (the venue's fee — the spread paid over mid — and the mid that decayed or paid out), the spot traded (pool fee
on the notional, and the notional bought and sold back in the same batch: churn), and gas.

Per option series bought (wings and buybacks of shorts alike) the net cost is what was paid less what the units are
worth at the end of the run: their payoff at the settlement price when the series expired during the run, else the
venue's mark at the end. For a buyback this is the loss the short would have made on those units, so the same
formula counts both: premium − end value. The fee part uses the venue's quote: ask = mark·(1 + price_fee) +
spot_fee·S, so fee = ask − (ask − spot_fee·S)/(1 + price_fee), with S the oracle at the batch's tick.
Swap price impact is not counted (the pool fee only): on the demo's deep pools it is a fraction of the fee.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DAY = 86_400
SHORT_DATED_DAYS = 14.0


@dataclass(frozen=True)
class SeriesInfo:
    underlying: str
    expiry_s: int
    strike_usd: float
    is_call: bool


def _bucket(info: SeriesInfo, when_s: int, bought_short: bool) -> str:
    days = (info.expiry_s - when_s) / DAY
    kind = "call" if info.is_call else "put"
    what = "buyback" if bought_short else "wing"
    return f"{what} {info.underlying} {kind} {'≤' if days <= SHORT_DATED_DAYS else '>'}{SHORT_DATED_DAYS:.0f} d"


def run_costs(
    plans: Iterable[tuple[int, Mapping[str, Any]]],
    spot_at: Mapping[int, Mapping[str, float]],
    time_at: Mapping[int, int],
    series: Mapping[int, SeriesInfo],
    end_value: Mapping[int, float],
    shorts: set[int],
    gas_usd: float,
    *,
    spot_fee: float,
    price_fee: float,
    slippage: float,
    failed_batches: int = 0,
) -> dict[str, Any]:
    """The decomposition of the module docstring. ``plans``: (block, plan dict) of the mined batches; ``spot_at``
    and ``time_at``: the oracle spots and timestamp of each block's tick; ``end_value``: per series, one unit's value
    at the end of the run (payoff at settlement, or mark); ``shorts``: the series the book was short (a buy of one
    is a buyback); ``slippage``: the policy's bound, taken off ``max_cost_usd`` to get the premium at ask."""
    options: dict[str, dict[str, float]] = {}
    swaps: dict[str, dict[str, float]] = {}
    churn_usd = 0.0
    batches = 0
    for block, plan in plans:
        batches += 1
        spot = spot_at.get(block, {})
        bought: dict[str, float] = {}
        sold: dict[str, float] = {}
        for a in plan.get("actions", ()):
            kind = a.get("kind")
            if kind == "option_trade" and float(a["size"]) > 0 and int(a["series_id"]) in series:
                info = series[int(a["series_id"])]
                size = float(a["size"])
                ask = float(a["max_cost_usd"]) / (1 + slippage) / size
                s = spot.get(info.underlying, 0.0)
                fee = ask - (ask - spot_fee * s) / (1 + price_fee)
                row = options.setdefault(
                    _bucket(info, time_at.get(block, 0), int(a["series_id"]) in shorts),
                    {"trades": 0.0, "units": 0.0, "premium_usd": 0.0, "fee_usd": 0.0, "end_value_usd": 0.0},
                )
                row["trades"] += 1
                row["units"] += size
                row["premium_usd"] += size * ask
                row["fee_usd"] += size * fee
                row["end_value_usd"] += size * end_value.get(int(a["series_id"]), 0.0)
            elif kind == "swap":
                fee_bps = (a.get("fees") or [3000])[0] / 1e6
                if a["token_in"] == "USDC":
                    symbol, usd = a["token_out"], float(a["amount_in"])
                    bought[symbol] = bought.get(symbol, 0.0) + usd
                else:
                    symbol = a["token_in"]
                    usd = float(a["amount_in"]) * spot.get(symbol, 0.0)
                    sold[symbol] = sold.get(symbol, 0.0) + usd
                row = swaps.setdefault(symbol, {"swaps": 0.0, "notional_usd": 0.0, "pool_fee_usd": 0.0})
                row["swaps"] += 1
                row["notional_usd"] += usd
                row["pool_fee_usd"] += usd * fee_bps
        churn_usd += sum(min(v, sold.get(k, 0.0)) for k, v in bought.items())
    for row in options.values():
        row["net_cost_usd"] = row["premium_usd"] - row["end_value_usd"]
    option_net = sum(r["net_cost_usd"] for r in options.values())
    option_fee = sum(r["fee_usd"] for r in options.values())
    pool_fees = sum(r["pool_fee_usd"] for r in swaps.values())
    return {
        "batches_mined": batches,
        "batches_failed": failed_batches,
        "options": dict(sorted(options.items())),
        "options_premium_usd": sum(r["premium_usd"] for r in options.values()),
        "options_fee_usd": option_fee,
        "options_net_cost_usd": option_net,
        "swaps": dict(sorted(swaps.items())),
        "swap_pool_fee_usd": pool_fees,
        "swap_churn_notional_usd": churn_usd,
        "gas_usd": gas_usd,
        "total_usd": option_net + pool_fees + gas_usd,
    }
