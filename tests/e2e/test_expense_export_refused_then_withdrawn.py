"""Found by a review of the 2026-12-02 changes, fixed since (the expense test failed before the fix; the time one,
the same kind, is tests/e2e/test_time_export_refused_then_withdrawn.py): the blocked marker was written only for a sheet the PLAN blocks. A sheet whose first report NetSuite
refuses (a validation error: dead-lettered under a cause, nothing of it in NetSuite) gets no mapping, so when it is
rejected since, no withdrawal reaches the worker and the cause lists it for good: the defect change 3 fixes, left for
this other way of being held."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ctsync.records.expense_export import external_id
from tests.e2e.test_expense_export import REPORTS
from tests.e2e.test_expense_export_review import World  # noqa: F401

pytestmark = pytest.mark.e2e


def test_an_expense_sheet_netsuite_refused_then_rejected_leaves_its_cause(world):
    sheet = world.sheet()
    world.item(sheet, "42.50")
    world.approve(sheet)
    world.ns.faults.inject(status=400, times=50, method="PUT", path=f"{REPORTS}eid:{external_id(sheet)}$")
    world.run()
    held = [c for c in world.causes() if sheet in c.blocked]
    assert world.report(sheet) is None and held, [(c.key, c.blocked) for c in world.causes()]
    world.ns.faults.clear()

    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")
    world.act(sheet, "Reject")
    for _ in range(2):
        world.ct.clock.advance(timedelta(hours=2))
        result = world.run()

    still = [(c.key, c.reason) for c in world.causes() if sheet in c.blocked]
    assert still == [], (
        f"expense sheet {sheet} is rejected in ClickTime (nothing to export, no report in NetSuite), yet `ctns errors` "
        f"still lists it under {still} (counts {result.counts('expenses')})"
    )
