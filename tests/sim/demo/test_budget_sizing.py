"""The demo's short-vol book sized by the keeper's own rule (``--sizing tail_budget``, issue 15 item 3): on the
devnet the strangle opened is the size at which the keeper's worst stress loss is the tail budget — read back from
the chain after the open, there is no room for another unit, and the worst loss is within the budget."""

from __future__ import annotations

import pytest

from devnet.devnet import Devnet
from keeper.policy.tail import size_new_premium
from sim.demo.book import ShortVolBook, strangle_legs, tail_view
from sim.demo.world import build_world

pytestmark = pytest.mark.chain


def test_tail_budget_sizing__the_open_strangle_uses_the_budget_and_leaves_no_room() -> None:
    with Devnet.start() as devnet:
        world = build_world(devnet)
        book = ShortVolBook(sizing="tail_budget")
        book.open(world)
        state = world.lens_state()
        shorts = sorted(
            int(p.series_id[i]) for v in state.options for p in [v.positions] for i in range(len(p.series_id))
        )
        view, policy = tail_view(world, book)
    assert 10 < book.contracts < 1000  # sized below the fixed demo book (3× over its budget at the open)
    assert "worst stress loss" in book.sizing_reason
    assert len(shorts) == 2
    after = size_new_premium(view, policy, strangle_legs(view, shorts))
    assert view.tail is not None
    budget = policy.tail.tail_budget_pct / 100 * view.tail.nav_usd
    # read back from the chain: the book's worst stress loss is the budget (within the spread paid at the open and
    # the unit the floor() left), and another unit would break it
    assert after.worst_loss_usd <= budget * 1.005
    assert after.worst_loss_usd >= budget * 0.9
    assert after.units < 0.05 * book.contracts
