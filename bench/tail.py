"""``python -m bench.tail``: the tail-budget rule's decision cost on a 1,000-position book (target: within the keeper's
20 ms per tick), and the assessor's share (wing candidates priced and sized from 80 listed series).

The book: 1,000 option positions over two underlyings (WETH, WBTC), four expiries, strikes 70–130 % of spot, mixed
sizes, net short premium; 80 listed wings (the devnet's chain: 2 underlyings × 4 expiries × 5 strikes × call/put) and
the book's shorts as buybacks. Two cases: the book inside its budget (the revaluation only) and over it (the
revaluation + the MILP). ``keeper.policy.decide`` is timed with the rule on and off; the difference is the rule.
Medians of 30 runs after a warm-up. Writes ``bench/tail-results.md``.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np

from adapters.venue_series import ListedSeries
from keeper.app.assess_tail import listed_wings
from keeper.config import PolicyConfig, TailBudgetConfig
from keeper.model import BookView, TailCandidate, TailInputs, UnderlyingView
from keeper.policy import decide
from keeper.risk.black import price
from keeper.venue import model as venue

HERE = Path(__file__).resolve().parent
SPOT = {"WETH": 3000.0, "WBTC": 60000.0}
VOL, RATE, NAV = 0.6, 0.04, 3_000_000.0
REPEATS = 30


def _view(symbol: str) -> UnderlyingView:
    return UnderlyingView(symbol, SPOT[symbol], VOL, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.83)


def _book(n: int, short_scale: float, rng: np.random.Generator) -> tuple[TailInputs, list[TailCandidate]]:
    u = rng.integers(0, 2, n)
    spots = np.array(list(SPOT.values()))[u]
    days = rng.choice([7.0, 14.0, 21.0, 49.0], n)
    strike = np.round(spots * rng.uniform(0.7, 1.3, n), -1)
    call = strike > spots
    size = rng.normal(-1.0, 1.0, n) * short_scale / np.where(u == 1, 20.0, 1.0)
    t = days / 365
    wings: list[TailCandidate] = []
    symbols = list(SPOT)
    for ui, symbol in enumerate(symbols):
        for d in (7.0, 14.0, 21.0, 49.0):
            for m in (0.8, 0.9, 1.0, 1.1, 1.2):
                for is_call in (True, False):
                    k = SPOT[symbol] * m
                    mark = float(price(SPOT[symbol], k, d / 365, VOL, RATE, is_call)[0])
                    wings.append(
                        TailCandidate(
                            len(wings) + 10_000,
                            symbol,
                            k,
                            d / 365,
                            VOL,
                            is_call,
                            mark * 1.01 + 1.0,
                            500.0 / (1 + 19 * ui),
                            1,
                        )
                    )
    shorts = np.flatnonzero(size < 0)[:200]
    buybacks = [
        TailCandidate(
            int(j),
            symbols[int(u[j])],
            float(strike[j]),
            float(t[j]),
            VOL,
            bool(call[j]),
            float(price(spots[j], strike[j], t[j], VOL, RATE, call[j])[0]) * 1.01 + 1.0,
            float(-size[j]),
            1,
        )
        for j in shorts
    ]
    tail = TailInputs(u.astype(np.int64), size, strike, t, np.full(n, VOL), call, RATE, NAV, (*buybacks, *wings), 2.0)
    return tail, wings


def _decide_ms(book: BookView, config: PolicyConfig) -> float:
    decide(book, config)  # warm
    runs = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        decide(book, config)
        runs.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(runs)


def _listed_wings_ms() -> tuple[float, int]:
    """wing_candidates on the devnet's listed chain (80 series), priced with the venue's formulas."""
    now = 1_767_000_000
    expiries = [now + d * 86_400 for d in (7, 14, 21, 49)]
    rows = [
        (u, e, SPOT[s] * m, c)
        for u, s in enumerate(SPOT)
        for e in expiries
        for m in (0.8, 0.9, 1.0, 1.1, 1.2)
        for c in (True, False)
    ]
    listed = ListedSeries(
        "0xmarket",
        1,
        np.arange(len(rows), dtype=np.int64),
        np.array([r[0] for r in rows]),
        np.array([r[1] for r in rows]),
        np.array([r[2] for r in rows]),
        np.array([r[3] for r in rows]),
        {(u, e): (int(0.65e18), int(-0.15e18), int(0.5e18), now - 60) for u in (0, 1) for e in expiries},
        20_000_000 * 10**6,
        1_000_000 * 10**6,
        True,
    )
    state = venue.MarketState(now, np.array(list(SPOT.values())), {})
    cfg = TailBudgetConfig(enabled=True)
    held: set[int] = set()

    def wings() -> list[TailCandidate]:
        return listed_wings(
            listed, state, venue.RiskParams(), venue.MarketParams(), {0: "WETH", 1: "WBTC"}, 1, held, list(SPOT), cfg
        )

    out = wings()
    runs = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        wings()
        runs.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(runs), len(out)


def run() -> str:
    rng = np.random.default_rng(7)
    rows = []
    cases = (("inside budget (revaluation only)", 0.3), ("over budget (revaluation + LP relaxation + LP sizing)", 4.0))
    for label, scale in cases:
        tail, _ = _book(1_000, scale, rng)
        book = BookView(
            1, (_view("WETH"), _view("WBTC")), 400_000.0, 0.0, 0.0, 0.0, 0.78, float("inf"), 0.0, 0.0, 0.0, tail=tail
        )
        on = PolicyConfig(tail=TailBudgetConfig(enabled=True), delta_band_min_usd=1e12)
        off = PolicyConfig(tail=TailBudgetConfig(enabled=False), delta_band_min_usd=1e12)
        plan = decide(book, on)
        assert plan.tail is not None
        with_rule, without = _decide_ms(book, on), _decide_ms(book, off)
        bought = sum(1 for a in plan.actions if a.kind == "option_trade")
        rows.append(
            f"| {label} | {len(tail.candidates)} | {plan.tail.worst_loss_usd / NAV:.1%} → "
            f"{plan.tail.worst_loss_after_usd / NAV:.1%} | {bought} | {with_rule:.1f} ms | "
            f"{with_rule - without:.1f} ms |"
        )
    wings_ms, wings = _listed_wings_ms()
    head = (
        "| 1,000 positions | candidates | worst loss / NAV (before → after) | legs bought | decide, rule on | "
        "of which the tail rule |\n|---|---:|---|---:|---:|---:|"
    )
    return (
        head
        + "\n"
        + "\n".join(rows)
        + f"\n\nAssessor: {wings} wing candidates priced and sized from 80 listed series in "
        f"{wings_ms:.2f} ms (median)."
    )


def main() -> None:
    table = run()
    (HERE / "tail-results.md").write_text(
        "Tail-budget rule decision cost (medians of 30, 2-core machine; target: the keeper's 20 ms per tick at 1,000 "
        "positions). `python -m bench.tail`.\n\n" + table + "\n"
    )
    print(table)


if __name__ == "__main__":
    main()
