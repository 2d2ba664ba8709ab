"""`ctns plan time` against the run (the plan-fidelity review of 2026-12-03; both failed before the fix).

- A correction of a timesheet across a closed period: the run updates the open period's bill and flags the closed
  one (a cause a person sees); the plan said a plain "update", naming nothing to be flagged (it spoke only when
  every bill was frozen).
- A sheet withdrawn (its bills deleted by a run) and approved again: the run counts it "created" (its bills are made
  anew); the plan said "update".

Each plan is `plan_sync`, what `ctns plan` calls; the run after it finds the reference caches empty, as a nightly
run more than five minutes after the plan would.
"""

from __future__ import annotations

import gc
from datetime import date, timedelta

import pytest

from ctns.plan import plan_sync
from ctsync.references import References
from tests.e2e.test_time_export_review import WEEK
from tests.e2e.test_time_export_review import World as World  # the module's world (`world` fixture)

pytestmark = pytest.mark.e2e


def plan_then_cold(world) -> dict[str, tuple[str, str]]:
    sims = world.sims
    writes = (len(sims.netsuite.writes()), len(sims.clicktime.writes()))
    runtime = world.session.runtime()
    steps = {s.source_id: (s.action, s.detail) for s in plan_sync("time", runtime, runtime.config).steps}
    assert (len(sims.netsuite.writes()), len(sims.clicktime.writes())) == writes, "the plan wrote"
    for cache in [o for o in gc.get_objects() if isinstance(o, References)]:
        cache.clear()
    return steps


def test_the_plan_names_the_bill_a_correction_across_a_closed_period_will_flag(world):
    sheet = world.sheet(date(2026, 10, 26))
    october = world.entry(sheet, date(2026, 10, 30), "2")
    november = world.entry(sheet, date(2026, 11, 1), "1")
    world.approve(sheet)
    world.run()
    frozen = world.bill(october)["id"]
    world.ns.close_period(date(2026, 10, 15))
    world.reapprove(
        sheet, lambda: (world.ct.edit_time_entry(october, Hours="3"), world.ct.edit_time_entry(november, Hours="2"))
    )
    world.ct.clock.advance(timedelta(hours=1))

    action, detail = plan_then_cold(world)[sheet]
    world.run()

    assert "time-bill-frozen" in [c.key for c in world.causes()]  # the run flags the October bill
    assert action == "update" and f"time bill {frozen}" in detail and "(flagged)" in detail, detail


def test_a_sheet_approved_again_after_its_withdrawal_is_planned_as_the_run_counts_it(world):
    sheet = world.sheet()
    world.entry(sheet, WEEK, "2")
    world.approve(sheet)
    world.run()
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")
    world.ct.clock.advance(timedelta(hours=1))
    world.run()  # its bill leaves NetSuite
    world.act(sheet, "Approve")
    world.ct.clock.advance(timedelta(hours=1))

    action, _detail = plan_then_cold(world)[sheet]
    counts = world.run().counts("time")

    assert counts["created"] == 1 and action == "create"
