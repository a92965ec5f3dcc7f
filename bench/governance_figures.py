"""``python -m bench.governance_figures``: gas and timings of governance operations on the devnet, as markdown
tables for docs/governance.md. Everything runs through the same code as the scripts (fork simulation included);
nothing is estimated."""

from __future__ import annotations

import time
from typing import Any

from devnet.devnet import Devnet
from devnet.fixtures import hedged_vault
from governance import ops
from governance.service import Governance
from governance.state import read_lens, read_view
from governance.unwind import plan_unwind
from keeper.chain.anvil import isolated
from keeper.chain.client import UnlockedSender


def _timed(fn: Any) -> tuple[Any, float]:
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    with Devnet.start() as devnet:
        hedged = hedged_vault(devnet.w3, devnet.url, devnet.record)
        a = hedged.accounts
        gov = Governance(devnet.url, hedged.record)
        section = hedged.record["vault"]
        print("### Deployment (devnet, one run)\n\n| step | gas |\n|---|---:|")
        for tx in section["transactions"]:
            print(f"| {tx['what']} | {tx['gas']:,} |")
        print(f"| **total ({len(section['transactions'])} transactions)** | **{section['deploy_gas']:,}** |\n")
        _, view_s = _timed(lambda: read_view(gov.chain, gov.record))
        print(f"Reading parameters + roles + lens + risk once: {view_s * 1000:.0f} ms\n")
        print("### Timelock operations (simulated: schedule → ETA → execute)\n")
        print("| operation | calls | schedule gas | execute gas | fork simulation |\n|---|---:|---:|---:|---:|")
        builders = {
            "risk (2 fields)": lambda c: ops.set_risk_params(c, {"maxLossBps": "40", "healthFactorFloorWad": "1.4"}),
            "fees": lambda c: ops.set_fee_params(c, {"performanceFeeBps": "1500"}),
            "deposit cap": lambda c: ops.set_deposit_cap(c, "250000000"),
            "max fulfil delay": lambda c: ops.set_max_fulfil_delay(c, "43200"),
            "adapter disallow": lambda c: ops.set_adapter(c, gov.chain, section["UniswapV3Adapter"], False),
            "rotate keeper": lambda c: ops.rotate_role(c, "KEEPER_ROLE", a["outsider"], None),
            "rotate guardian": lambda c: ops.rotate_role(c, "GUARDIAN_ROLE", a["outsider"], None),
        }
        for name, build in builders.items():
            op = build(gov.context())
            prepared = gov.prepare_queue(op, a["deployer"])
            sim, seconds = _timed(lambda prepared=prepared: gov.simulate(prepared))
            assert sim.ok, sim.error
            schedule, execute = sim.steps
            print(f"| {name} | {len(op.calls)} | {schedule.gas_used:,} | {execute.gas_used:,} | {seconds:.2f} s |")
        print("\n### Guardian operations (immediate)\n\n| operation | gas | fork simulation |\n|---|---:|---:|")
        with isolated(devnet.url):
            for name, build, signer in (
                ("tighten (1 field)", lambda c: ops.tighten_risk_params(c, {"maxSlippageBps": "50"}), a["guardian"]),
                ("pause", ops.pause, a["guardian"]),
            ):
                prepared = gov.prepare_direct(build(gov.context()), signer)
                sim, seconds = _timed(lambda prepared=prepared: gov.simulate(prepared))
                assert sim.ok, sim.error
                print(f"| {name} | {sim.steps[0].gas_used:,} | {seconds:.2f} s |")
                gov.send(prepared, UnlockedSender(gov.chain, signer))
            plan, plan_s = _timed(lambda: plan_unwind(gov.chain, read_lens(gov.chain, gov.section), gov.record))
            unwind = ops.emergency_unwind(gov.context(), plan.actions, plan.summary())
            prepared = gov.prepare_direct(unwind, a["guardian"])
            sim, seconds = _timed(lambda: gov.simulate(prepared))
            assert sim.ok, sim.error
            before, after = sim.views["before"].risk, sim.views["after"].risk
            print(
                f"| emergency unwind ({len(plan.actions)} actions: buy 200 WETH, repay, withdraw 2M USDC) "
                f"| {sim.steps[0].gas_used:,} | {seconds:.2f} s (+ {plan_s * 1000:.0f} ms planning with QuoterV2) |"
            )
            print(
                f"\nUnwind: NAV {before.nav_assets:,.2f} → {after.nav_assets:,.2f} USDC "
                f"({(after.nav_assets / before.nav_assets - 1) * 1e4:+.2f} bp; estimated {plan.loss_bps:.2f} bp), "
                f"Aave debt {before.aave_debt_usd:,.0f} → {after.aave_debt_usd:,.0f} USD, "
                f"net WETH delta {before.net_delta_units['WETH']:+.4f} → {after.net_delta_units['WETH']:+.4f}"
            )


if __name__ == "__main__":
    main()
