"""What a governance command prints: the operation, its calls decoded, the fork simulation step by step, and
before → after tables of the vault's parameters and risk; as rich tables for people or one JSON document.

Node URLs are never printed (they may carry API keys); the chain id and fork block identify the network.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table

from governance.explain import when
from governance.simulate import Simulation
from governance.state import VaultView
from keeper.chain.abi import AbiError, CallDecoder, DecodedCall
from keeper.chain.client import Tx

DECODER = CallDecoder()


def _inner(decoder: CallDecoder, data: bytes) -> str:
    try:
        return decoder.decode(data).text()
    except AbiError:
        return "0x" + bytes(data).hex()


def describe_tx(tx: Tx, decoder: CallDecoder = DECODER) -> dict[str, Any]:
    """A transaction as JSON, with the decoded call (a timelock call shows the calls it schedules or executes)."""
    out: dict[str, Any] = {"to": tx.to, "value": str(tx.value), "data": "0x" + tx.data.hex(), "what": tx.what}
    if tx.to is None:
        out["decoded"] = f"deploy ({len(tx.data)} bytes of creation code)"
        return out
    try:
        call = decoder.decode(tx.data)
    except AbiError:
        return out
    args = dict(call.args)
    if call.function in ("schedule", "execute"):
        key = "data" if "data" in args else "payload"  # OpenZeppelin names it `data` in schedule, `payload` in execute
        out["inner_calls"] = [_inner(decoder, args[key])]
        args[key] = f"<{out['inner_calls'][0]}>"
    elif call.function in ("scheduleBatch", "executeBatch"):
        out["inner_calls"] = [_inner(decoder, d) for d in args["payloads"]]
        args["payloads"] = [f"<{t}>" for t in out["inner_calls"]]
    out["decoded"] = DecodedCall(call.contract, call.function, call.signature, args).text()
    return out


def diff_rows(before: dict[str, str], after: dict[str, str], changed_only: bool) -> list[dict[str, Any]]:
    rows = []
    for key in [*before, *(k for k in after if k not in before)]:
        b, a = before.get(key, "—"), after.get(key, "—")
        if changed_only and a == b:
            continue
        rows.append({"name": key, "before": b, "after": a, "changed": a != b})
    return rows


def _finite(x: float) -> float | str:
    return x if math.isfinite(x) else ("inf" if math.isinf(x) else "nan")


@dataclass
class Report:
    command: str
    chain_id: int
    summary: str = ""
    operation: dict[str, Any] = field(default_factory=dict)
    signed: list[dict[str, Any]] = field(default_factory=list)
    simulation: Simulation | None = None
    names: dict[str, str] = field(default_factory=dict)
    before_mark: str = "before"
    after_mark: str = "after"
    extra: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def views(self) -> tuple[VaultView | None, VaultView | None]:
        if self.simulation is None:
            return None, None
        return self.simulation.views.get(self.before_mark), self.simulation.views.get(self.after_mark)

    def param_rows(self) -> list[dict[str, Any]]:
        before, after = self.views()
        if before is None or after is None:
            return []
        return diff_rows(before.params.flat(self.names), after.params.flat(self.names), changed_only=True)

    def risk_rows(self) -> list[dict[str, Any]]:
        before, after = self.views()
        if before is None or after is None:
            return []
        return diff_rows(before.risk.flat(), after.risk.flat(), changed_only=False)

    def as_json(self) -> dict[str, Any]:
        sim = self.simulation
        before, after = self.views()
        doc: dict[str, Any] = {
            "command": self.command,
            "chain_id": self.chain_id,
            "summary": self.summary,
            "operation": self.operation,
            "signed": self.signed,
            "notes": self.notes,
        }
        if sim is not None:
            doc["simulation"] = {
                "ok": sim.ok,
                "error": sim.error,
                "fork_block": sim.fork_block,
                "seconds": round(sim.seconds, 3),
                "steps": [s.__dict__ for s in sim.steps],
                "operation_states": {
                    k: {"state": v[0].name.lower(), "eta": v[1]} for k, v in sim.operation_states.items()
                },
            }
            doc["params_diff"] = self.param_rows()
            doc["risk_diff"] = self.risk_rows()
            if before is not None:
                doc["risk_before"] = {k: _finite(v) for k, v in before.risk.numbers().items()}
            if after is not None:
                doc["risk_after"] = {k: _finite(v) for k, v in after.risk.numbers().items()}
        return doc | self.extra

    def json_text(self) -> str:
        return json.dumps(self.as_json(), indent=2, default=str)

    # --- people ---

    def render(self, console: Console) -> None:
        console.print(f"[bold]{self.command}[/bold] on chain {self.chain_id}: {self.summary}")
        for note in self.notes:
            console.print(f"  note: {note}")
        calls = self.operation.get("calls", [])
        if calls:
            table = Table(
                title="operation calls (made by " + str(self.operation.get("route", "?")) + ")", show_lines=False
            )
            table.add_column("#")
            table.add_column("call")
            for i, c in enumerate(calls):
                table.add_row(str(i), c.get("decoded", c["data"][:18] + "…"))
            console.print(table)
        for key in ("id", "salt", "predecessor", "delay_seconds", "eta"):
            if key in self.operation:
                value = self.operation[key]
                console.print(
                    f"  {key}: {value}"
                    + (f" ({when(value)})" if key == "eta" and isinstance(value, int) and value > 1 else "")
                )
        if self.signed:
            table = Table(title="to sign now")
            for col in ("to", "call", "data"):
                table.add_column(col, overflow="fold")
            for s in self.signed:
                table.add_row(
                    str(s["to"]), s.get("decoded", s["what"]), s["data"][:66] + ("…" if len(s["data"]) > 66 else "")
                )
            console.print(table)
        sim = self.simulation
        if sim is not None:
            table = Table(title=f"fork simulation (fork of block {sim.fork_block}, {sim.seconds:.1f} s)")
            for col in ("step", "sender", "result", "gas"):
                table.add_column(col, overflow="fold")
            for step in sim.steps:
                table.add_row(
                    step.what,
                    step.sender,
                    "ok" if step.ok else f"[red]REVERTED[/red] {step.reason}",
                    f"{step.gas_used:,}" if step.ok else "",
                )
            console.print(table)
            if sim.error:
                console.print(f"[red bold]simulation failed:[/red bold] {sim.error}")
            if self.views()[1] is not None and not self.param_rows():
                console.print("parameters and roles: no change")
            self._render_rows(console, "parameters (changed only)", self.param_rows())
            self._render_rows(console, "risk", self.risk_rows())
        for key, value in self.extra.items():
            console.print(f"  {key}: {value}")

    def _render_rows(self, console: Console, title: str, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        table = Table(title=f"{title}: {self.before_mark} → {self.after_mark}")
        for col in ("", "before", "after"):
            table.add_column(col, overflow="fold")
        for r in rows:
            style = "bold yellow" if r["changed"] else ""
            table.add_row(r["name"], r["before"], r["after"], style=style)
        console.print(table)
