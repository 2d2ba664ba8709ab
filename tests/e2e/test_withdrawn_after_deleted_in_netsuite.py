"""A sheet withdrawn in ClickTime (un-approved) after a person already deleted its exported records in NetSuite.

The export deletes what the sheet had sent; NetSuite answers that the records are not there. Nothing left NetSuite
on this run, so the run must not say it deleted them (a finance user reading "2 time bill(s) deleted" looks for two
deletions that never happened, and the run's `updated` count is one too many): the outcome is unchanged and its
detail says the records were deleted in NetSuite already. The mappings are let go all the same.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ctsync.records.expense_export import ExpenseExport
from ctsync.records.time_export import KIND, TimeExport
from tests.e2e.test_expense_export_review import World as ExpenseWorld
from tests.e2e.test_time_export_review import WEEK
from tests.e2e.test_time_export_review import World as TimeWorld

pytestmark = pytest.mark.e2e


def outcomes_of(monkeypatch: pytest.MonkeyPatch, export: Any) -> list[Any]:
    """The outcomes `export._withdraw` returns from here on."""
    seen: list[Any] = []
    withdraw = export._withdraw

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        outcome = withdraw(self, *args, **kwargs)
        seen.append(outcome)
        return outcome

    monkeypatch.setattr(export, "_withdraw", spy)
    return seen


def test_time_bills_deleted_in_netsuite_before_the_unapproval_are_not_counted_as_deleted_by_the_run(
    open_session, monkeypatch
):
    world = TimeWorld(open_session())
    sheet = world.sheet()
    entries = [world.entry(sheet, WEEK, "2"), world.entry(sheet, WEEK + timedelta(days=1), "3", task=world.ct_task2)]
    kept = world.entry(sheet, WEEK + timedelta(days=2), "1")
    world.approve(sheet)
    world.run()
    for entry in entries:  # a person removes two of the three bills in NetSuite
        world.ns.records.delete("timeBill", world.bill(entry)["id"])
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")
    world.ct.clock.advance(timedelta(hours=12))
    withdrawn = outcomes_of(monkeypatch, TimeExport)

    result = world.run()

    assert world.bill(kept) is None and world.ns.records.all("timeBill") == []
    assert result.counts("time")["failed"] == 0 and result.counts("time")["updated"] == 1
    [outcome] = withdrawn
    assert outcome.detail == "timesheet is Waiting: 1 time bill(s) deleted, 2 deleted in NetSuite already"
    assert world.session.mappings.children(KIND, sheet) == []  # every bill's mapping let go
    assert world.session.mappings.get(KIND, sheet).deleted


def test_time_bills_all_deleted_in_netsuite_before_the_unapproval_leave_the_sheet_unchanged(open_session, monkeypatch):
    world = TimeWorld(open_session())
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "2")
    world.approve(sheet)
    world.run()
    world.ns.records.delete("timeBill", world.bill(entry)["id"])
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")
    world.ct.clock.advance(timedelta(hours=12))
    withdrawn = outcomes_of(monkeypatch, TimeExport)

    result = world.run()

    assert result.counts("time")["updated"] == 0 and result.counts("time")["unchanged"] == 1
    [outcome] = withdrawn
    assert outcome.action == "unchanged"
    assert outcome.detail == "timesheet is Waiting: 0 time bill(s) deleted, 1 deleted in NetSuite already"


def test_an_expense_report_deleted_in_netsuite_before_the_unapproval_is_not_counted_as_deleted_by_the_run(
    open_session, monkeypatch
):
    world = ExpenseWorld(open_session())
    sheet, _item, report = world.exported_sheet()
    world.ns.records.delete("expenseReport", report["id"])
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")
    world.ct.clock.advance(timedelta(hours=12))
    withdrawn = outcomes_of(monkeypatch, ExpenseExport)

    result = world.run()

    assert result.counts("expenses")["failed"] == 0
    assert result.counts("expenses")["updated"] == 0 and result.counts("expenses")["unchanged"] == 1
    [outcome] = withdrawn
    assert outcome.action == "unchanged"
    assert outcome.detail.endswith(f"report {report['id']} deleted in NetSuite already")
