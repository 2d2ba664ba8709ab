"""A timesheet whose first time bill NetSuite refuses (a validation error: dead-lettered under a cause, nothing of
it in NetSuite) and that is rejected since leaves its cause, as a timesheet the plan blocked does
(`sheet_export.blocked_marker`; the expense export's case: test_expense_export_refused_then_withdrawn.py). Failed
before the fix: `ctns errors` listed the rejected timesheet for good."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ctsync.records.time_export import external_id
from tests.e2e.test_time_export_review import WEEK, World  # noqa: F401 - the module's world

pytestmark = pytest.mark.e2e

BILLS = "/services/rest/record/v1/timeBill/"


def test_a_timesheet_netsuite_refused_then_rejected_leaves_its_cause(world):
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "8")
    world.approve(sheet)
    world.ns.faults.inject(status=400, times=50, method="PUT", path=f"{BILLS}eid:{external_id(entry)}$")
    world.run()
    held = [c for c in world.causes() if sheet in c.blocked]
    assert world.bill(entry) is None and held, [(c.key, c.blocked) for c in world.causes()]
    world.ns.faults.clear()
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")
    world.act(sheet, "Reject")

    for _ in range(2):
        world.ct.clock.advance(timedelta(hours=2))
        result = world.run()

    still = [(c.key, c.reason) for c in world.causes() if sheet in c.blocked]
    assert still == [], (
        f"timesheet {sheet} is rejected in ClickTime (nothing to export, no bill in NetSuite), yet `ctns errors` still "
        f"lists it under {still} (counts {result.counts('time')})"
    )
    assert world.bill(entry) is None
