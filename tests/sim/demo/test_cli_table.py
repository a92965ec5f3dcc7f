"""The books table `keeper simulate` prints at the end fits an 80-column terminal, nothing cut."""

from __future__ import annotations

from rich.console import Console

from sim.demo.cli import books_table


def test_books_table__three_books__fits_80_columns_with_nothing_cut() -> None:
    rows = [
        {"run": run, "max_drawdown": dd, "liquidations": liq, "rebalances": reb, "gas_used": gas,
         "final_nav_usd": nav, "min_health_factor": hf}
        for run, dd, liq, reb, gas, nav, hf in (
            ("predictive (tail budget)", 0.0281, 0, 78, 235_883_123, 2_930_302.4, 1.487),
            ("reactive (delta, HF, margin)", 0.1247, 12, 128, 21_463_000, 12_767_535.0, 1.453),
            ("unhedged (no keeper)", 0.0989, 0, 0, 0, 2_806_052.0, float("inf")),
        )
    ]  # fmt: skip
    console = Console(width=80, record=True)
    console.print(books_table("gap_month: three books on the same path (179 s)", rows))
    text = console.export_text()
    assert "…" not in text, text
    assert all(len(line) <= 80 for line in text.splitlines())
    for shown in ("predictive", "reactive", "unhedged", "2.81%", "235.9M", "12,767,535", "inf"):
        assert shown in text, text
