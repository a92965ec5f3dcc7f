"""The tick loop's bookkeeping: plans recorded before sending, no duplicates, restart reconciliation, failure
budget. Stages are small in-process implementations of the loop's protocols; the devnet tests drive the
real reader and executor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest

from keeper.app.loop import Assessment, CircuitBreakerOpenError, Execution, Keeper, PlanRejectedError, Snapshot
from keeper.config import KeeperSettings
from keeper.model import BookView, Plan, UnderlyingView
from keeper.model.exceptions import HedgevaultError
from keeper.store import Store


def book(block: int, delta: float) -> BookView:
    u = UnderlyingView("WETH", 3000.0, 0.6, delta, 0.0, 0.0, 0.0, 0.0, 0.0, 0.83)
    return BookView(block, (u,), 1e6, 5e5, 0.0, 0.78, 0.78, float("inf"), 5e5, 2e5, 1e5, gas_cost_usd=5.0)


@dataclass
class Chain:
    block: int = 100
    delta: float = 0.0
    reads: int = 0
    blockers: tuple[str, ...] = ()

    def read(self) -> Snapshot:
        self.reads += 1
        return Snapshot(self.block, 1_700_000_000 + 12 * self.block, self.block, 1, self.delta)

    def assess(self, snapshot: Snapshot) -> Assessment:
        return Assessment(
            book(snapshot.block_number, snapshot.data), {"net_delta_weth": snapshot.data}, 1e6, 1.0, self.blockers
        )


@dataclass
class Sender:
    store: Store
    mined: dict[str, Execution] = field(default_factory=dict)
    crash_after_send: bool = False
    fail: bool = False
    reject: bool = False
    attempts: int = 0
    seen_status_at_send: list[str] = field(default_factory=list)

    def execute(self, plan: Plan, on_sent: Callable[[str, int, int, int], None]) -> Execution:
        self.attempts += 1
        if self.fail:
            raise HedgevaultError("simulation reverted: MaxLossExceeded")
        if self.reject:
            raise PlanRejectedError("MaxLossExceeded(navBefore=1, navAfter=0, maxLossBps=50)")
        self.seen_status_at_send.append(self.store.recent_plans(1)[0].status)
        tx_hash = f"0x{plan.block_number:064x}"
        on_sent(tx_hash, 7, 10, 1)
        execution = Execution((tx_hash,), "mined", plan.block_number + 1, 250_000, 10, None)
        self.mined[tx_hash] = execution
        if self.crash_after_send:
            raise KeyboardInterrupt  # the process dies between broadcast and receipt
        return execution

    def receipt_status(self, tx_hash: str) -> Execution | None:
        return self.mined.get(tx_hash)


def make(store: Store, chain: Chain, sender: Sender | None = None, cooldown: int = 3, **kw: object) -> Keeper:
    settings = KeeperSettings(policy={"cooldown_blocks": cooldown})
    return Keeper(settings, chain, chain, sender or Sender(store), store, **kw)  # type: ignore[arg-type]


def test_tick__delta_in_band__records_tick_and_no_plan() -> None:
    store, chain = Store(":memory:"), Chain(delta=0.1)
    result = make(store, chain).tick()
    assert result.outcome == "no action"
    assert store.get_state("last_block") == "100"
    assert store.recent_plans() == []
    assert store.nav_series()[0][:3] == (100, 1_700_001_200, 1e6)


def test_tick__same_block_twice__second_is_skipped() -> None:
    store, chain = Store(":memory:"), Chain()
    keeper = make(store, chain)
    keeper.tick()
    assert keeper.tick().outcome == "already processed"
    assert len(store.last_ticks()) == 1


def test_tick__delta_out_of_band__plan_recorded_before_send_then_confirmed() -> None:
    store, chain = Store(":memory:"), Chain(delta=-20.0)
    sender = Sender(store)
    result = make(store, chain, sender).tick()
    assert result.outcome == "rebalance mined"
    assert sender.seen_status_at_send == ["recorded"]
    (plan,) = store.recent_plans()
    assert plan.status == "confirmed"
    assert [t.status for t in store.txs_for_plan(plan.id)] == ["mined"]


def test_restart__crash_after_broadcast__reconciled_from_chain_and_not_resent() -> None:
    store, chain = Store(":memory:"), Chain(delta=-20.0)
    sender = Sender(store, crash_after_send=True)
    with pytest.raises(KeyboardInterrupt):
        make(store, chain, sender).tick()
    assert store.pending_plans()[0].status == "sent"
    sender.crash_after_send = False
    restarted = make(store, chain, sender, cooldown=0)
    notes = restarted.reconcile()
    assert notes[0].endswith("mined")
    assert store.pending_plans() == []
    result = restarted.tick()  # same block: the same plan again must not be sent
    assert result.outcome == "duplicate plan refused"
    assert len(sender.mined) == 1


def test_restart__confirmed_hedge_in_store__cooldown_remembered() -> None:
    store, chain = Store(":memory:"), Chain(delta=-20.0)
    sender = Sender(store)
    assert make(store, chain, sender).tick().outcome == "rebalance mined"
    chain.block += 1  # the chain still shows the delta (say the hedge was partial); a new process starts
    result = make(store, chain, sender).tick()
    assert result.outcome == "no action"
    assert result.plan is not None
    assert any("cooldown" in d.reason for d in result.plan.decisions)
    assert len(sender.mined) == 1


def test_tick__plan_rejected_in_simulation__recorded_not_retried_blindly() -> None:
    store, chain = Store(":memory:"), Chain(delta=-20.0)
    sender = Sender(store, reject=True)
    keeper = make(store, chain, sender)
    assert keeper.tick().outcome.startswith("plan rejected: MaxLossExceeded")
    assert keeper.consecutive_failures == 0  # the loop is healthy; the plan was bad
    assert store.recent_plans()[0].status == "failed"
    chain.block += 1
    assert keeper.tick().outcome.startswith("skipped: the same actions failed at block 100")
    assert sender.attempts == 1
    assert keeper.metrics.alerts.labels(kind="plan_rejected")._value.get() == 1
    chain.block += KeeperSettings().loop.failed_plan_backoff_blocks + 1
    assert keeper.tick().outcome.startswith("plan rejected")  # tried again after the back-off
    assert sender.attempts == 2


def test_tick__blocker_present__plan_made_but_not_sent() -> None:
    store, chain = Store(":memory:"), Chain(delta=-20.0, blockers=("oracle WETH stale: 7200 s > heartbeat 3600 s",))
    sender = Sender(store)
    result = make(store, chain, sender).tick()
    assert result.outcome == "blocked: oracle WETH stale: 7200 s > heartbeat 3600 s"
    assert sender.mined == {}
    assert store.recent_plans() == []


def test_restart__plan_recorded_but_never_sent__abandoned() -> None:
    store = Store(":memory:")
    store.record_plan({"x": 1}, block_number=5, reason="hedge", created_at=0.0)
    notes = make(store, Chain()).reconcile()
    assert notes == ["plan 1 (hedge): abandoned"]


def test_tick__executor_fails__plan_failed_and_breaker_opens_after_budget() -> None:
    store, chain = Store(":memory:"), Chain(delta=-20.0)
    settings = KeeperSettings(loop={"max_consecutive_failures": 2})
    keeper = Keeper(settings, chain, chain, Sender(store, fail=True), store)
    assert keeper.tick().outcome.startswith("failed: simulation reverted")
    assert store.recent_plans()[0].status == "failed"
    assert store.get_state("last_block") is None  # the block will be retried
    chain.block += 1
    with pytest.raises(CircuitBreakerOpenError, match="2 consecutive failed ticks"):
        keeper.tick()


def test_tick__dry_run__plan_computed_not_sent() -> None:
    store, chain = Store(":memory:"), Chain(delta=-20.0)
    sender = Sender(store)
    result = make(store, chain, sender, dry_run=True).tick()
    assert result.outcome == "dry run: plan not sent"
    assert result.plan is not None
    assert not result.plan.empty
    assert sender.mined == {}


def test_tick__full_plan_rejected__most_urgent_rule_alone_is_sent() -> None:
    """A margin top-up must not wait on a hedge the vault refuses: the urgent part goes alone."""
    store = Store(":memory:")

    class Selective(Sender):
        def execute(self, plan: Plan, on_sent: Callable[[str, int, int, int], None]) -> Execution:
            if len(set(plan.stages)) > 1:
                self.attempts += 1
                raise PlanRejectedError("SlippageExceeded(index=3, valueInE8=24, valueOutE8=0, maxSlippageBps=100)")
            return super().execute(plan, on_sent)

    class MarginChain(Chain):
        def assess(self, snapshot: Snapshot) -> Assessment:
            b = replace(book(snapshot.block_number, snapshot.data), venue_collateral_usd=110_000.0)
            return Assessment(b, {}, 1e6, 1.0)

    sender = Selective(store)
    result = make(store, MarginChain(delta=-20.0), sender).tick()
    assert result.outcome.startswith("urgent part only: rebalance mined")
    assert result.plan is not None
    assert [a.kind for a in result.plan.actions] == ["margin_deposit"]
    assert [p.status for p in store.recent_plans()] == ["confirmed", "failed"]


def test_tick__delta_target_off_zero__metrics_report_the_band_the_rule_used() -> None:
    # Target +50 WETH, net delta +50.5: inside the rule's band around the target, far outside a band around 0.
    store, chain = Store(":memory:"), Chain(delta=50.5)
    settings = KeeperSettings(policy={"cooldown_blocks": 3, "delta_target_units": {"WETH": 50.0}})
    keeper = Keeper(settings, chain, chain, Sender(store), store)  # type: ignore[arg-type]
    result = keeper.tick()
    assert result.outcome == "no action"
    assert result.plan is not None
    (band,) = result.plan.bands
    assert (band.symbol, band.target_units, band.net_delta_units) == ("WETH", 50.0, 50.5)
    assert band.inside
    assert result.risk["delta_band_usd:WETH"] == pytest.approx(band.half_width_units * 3000.0)
    assert result.risk["delta_target_units:WETH"] == 50.0
    assert result.risk["delta_deviation_usd:WETH"] == pytest.approx(0.5 * 3000.0)
    assert result.risk["delta_inside_band:WETH"] == 1.0
