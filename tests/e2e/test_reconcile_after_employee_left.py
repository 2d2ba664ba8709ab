"""Finance review (2026-12-04, reviewer "fin"): `ctns reconcile` after a change in NetSuite that is not a
difference in what was exported.

An employee leaves: NetSuite makes their record inactive after their last timesheet and expense sheet were
exported, approved and matching to the minute and the cent. Nothing is re-run, no cause is open, NetSuite holds
exactly what ClickTime approved. The reconciliation plans each sheet as a first export would now, finds the employee
inactive, and reports the sheet as blocked: its hours or amounts are "left out ... approved, not in NetSuite" and
the command exits 1 every day of the look-back, though the work IS in NetSuite and no `ctns errors` cause exists.
The same happens for an expense category made inactive after its reports were exported.

Built on the worlds of tests/e2e/test_time_export_review.py and tests/e2e/test_expense_export_review.py.

Fixed (2026-12-04; the tests failed before): README, "second finance review".
"""

from __future__ import annotations

import pytest

from ctns.report import left_out
from tests.e2e.test_expense_export_review import World as ExpenseWorld
from tests.e2e.test_time_export_review import WEEK
from tests.e2e.test_time_export_review import World as TimeWorld

pytestmark = pytest.mark.e2e


def test_time_exported_before_its_employee_left_is_not_reported_as_missing_from_netsuite(open_session):
    world = TimeWorld(open_session())
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "7.5")
    world.approve(sheet)
    world.run()
    assert world.bill(entry) is not None
    before = world.reconcile().as_report()
    assert before["ok"] and not left_out(before), before["totals"]

    world.ns.records.update("employee", world.employee, {"isInactive": True})  # the employee left after the export

    result = world.reconcile().as_report()
    assert not world.causes(), "no run since: no cause is open"
    assert not left_out(result), (
        f"the 7.5 h NetSuite holds (bill {world.bill(entry)['id']}, unchanged) is reported as left out, 'approved, "
        f"not in NetSuite': {left_out(result)}; notes: {result['notes']}"
    )


def test_expenses_exported_before_their_employee_left_are_not_reported_as_missing_from_netsuite(open_session):
    world = ExpenseWorld(open_session())
    sheet, _, report = world.exported_sheet("42.50")
    before = world.reconcile().as_report()
    assert before["ok"] and not left_out(before), before["totals"]

    world.ns.records.update("employee", world.employee, {"isInactive": True})

    result = world.reconcile().as_report()
    assert not world.causes(), "no run since: no cause is open"
    assert not left_out(result), (
        f"the 42.50 USD report {report['id']} NetSuite holds is reported as left out, 'approved, not in NetSuite': "
        f"{left_out(result)}; notes: {result['notes']}"
    )


def test_expenses_exported_before_their_category_was_retired_are_not_reported_as_missing(open_session):
    world = ExpenseWorld(open_session())
    sheet, _, report = world.exported_sheet("42.50")
    assert world.reconcile().ok

    world.ns.records.update("expenseCategory", "303", {"isinactive": True})  # Meals retired after the export

    result = world.reconcile().as_report()
    assert not left_out(result), (
        f"the 42.50 USD report {report['id']} NetSuite holds is reported as left out, 'approved, not in NetSuite': "
        f"{left_out(result)}; notes: {result['notes']}"
    )
