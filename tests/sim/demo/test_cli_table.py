"""`keeper simulate`: the books table it prints at the end fits an 80-column terminal, nothing cut; a bad `--set` or
`--sizing` exits 2 naming the field, before any devnet starts."""

from __future__ import annotations

from pathlib import Path

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


def test_simulate_cli__bad_setting_or_sizing__exit_2_naming_the_field_before_any_devnet(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from keeper.cli import app

    runner = CliRunner()
    for args, named in (
        (["--set", "tail.act_above_budget=0.5"], "policy.tail.act_above_budget"),
        (["--set", "tail.bogus=1"], "policy.tail.bogus"),
        (["--set", "novalue"], "expected KEY=VALUE"),
    ):
        result = runner.invoke(app, ["simulate", "--scenario", "calm_month", "--out", str(tmp_path), *args])
        assert result.exit_code == 2, result.output
        assert named in result.output.replace("\n", ""), result.output
        assert "devnet ready" not in result.output
    result = runner.invoke(app, ["simulate", "--scenario", "calm_month", "--sizing", "huge", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "fixed or tail_budget" in result.output
