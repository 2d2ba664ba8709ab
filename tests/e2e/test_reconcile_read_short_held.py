"""Review of 2ef99d5 (`exported_as_approved`: a sheet exported whole that ClickTime now reads short "stays
blocked"): staying blocked, what the short read hides is added to the left-out figure as "not read, not in
NetSuite" (`_hidden_hours` in reconcile/time.py, `_unread` in reconcile/expenses.py) with nothing taken off for what
NetSuite holds of the very approval it exported whole. Nothing changed in either system since the export, yet the
reconciliation says approved work is not in NetSuite.

Fixed (2026-12-04; the test failed before): README, "second finance review", the second review of its diff.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ctns.report import left_out
from tests.e2e.test_expense_export_review import World as ExpenseWorld
from tests.e2e.test_expense_export_short_items import hide as hide_items
from tests.e2e.test_time_export_review import WEEK
from tests.e2e.test_time_export_review import World as TimeWorld
from tests.e2e.test_time_export_third_review import hide as hide_entries

pytestmark = pytest.mark.e2e


def test_an_exported_expense_sheet_read_short_is_not_said_left_out_of_netsuite(open_session, monkeypatch):
    world = ExpenseWorld(open_session())
    sheet = world.sheet()
    world.item(sheet, "40.00")
    unseen = world.item(sheet, "60.00")
    world.approve(sheet)
    world.run()
    report = world.report(sheet)
    assert sum(line["amount"] for line in report["expense"]["items"]) == 100
    assert world.reconcile().ok
    hide_items(monkeypatch, {unseen})  # the integration user no longer sees one item: nothing changed anywhere

    result = world.reconcile().as_report()

    assert not left_out(result), (
        f"ctns reconcile says {left_out(result)!r} left out, 'approved, not in NetSuite'; NetSuite holds report "
        f"{report['id']} with both items (100.00 USD): {result['notes']}"
    )


def test_an_exported_timesheet_read_short_is_not_said_left_out_of_netsuite(open_session, monkeypatch):
    world = TimeWorld(open_session())
    sheet = world.sheet()
    world.entry(sheet, WEEK, "6")
    unseen = world.entry(sheet, WEEK + timedelta(days=1), "2")
    world.approve(sheet)
    world.run()
    assert world.bill(unseen) is not None
    assert world.reconcile().ok
    hide_entries(monkeypatch, unseen)  # the integration user no longer sees one entry: nothing changed anywhere

    result = world.reconcile().as_report()

    assert not left_out(result), (
        f"ctns reconcile says {left_out(result)!r} left out, 'approved, not in NetSuite'; NetSuite holds bill "
        f"{world.bill(unseen)['id']} of the 2 h: {result['notes']}"
    )
