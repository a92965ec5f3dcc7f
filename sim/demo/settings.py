"""The demo keeper's settings: the defaults, the book's intent, and ``--set`` overrides (a module of its own so the
books, which read the keeper's view when sizing, and the run loop share it without importing each other)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from keeper.config import KeeperSettings


class _Intent(Protocol):
    def policy_overrides(self) -> dict[str, Any]: ...


def parse_overrides(items: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``KEY=VALUE`` settings (JSON values, else the string; ``tail.`` prefix for ``policy.tail``) → (policy, tail)
    dicts, e.g. ``tail.act_above_budget=1.03``. Unknown keys are refused by the settings model, naming the field."""
    policy: dict[str, Any] = {}
    tail: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--set {item!r}: expected KEY=VALUE, e.g. tail.top_up_wings=true")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if key.startswith("tail."):
            tail[key.removeprefix("tail.")] = value
        else:
            policy[key] = value
    return policy, tail


def keeper_settings(book: _Intent, store_path: Path, rpc_url: str, **policy: Any) -> KeeperSettings:
    """The demo keeper's configuration: the defaults, the book's intent, quick transaction patience."""
    return KeeperSettings(
        network={"rpc_url": rpc_url, "poll_interval_s": 0.05},
        store={"path": str(store_path)},
        metrics={"enabled": False},
        tx={"stuck_after_s": 5.0, "receipt_timeout_s": 60.0},
        policy={**book.policy_overrides(), **policy},
    )
