"""A write NetSuite took whose mapping was never recorded (the mapping write failed: a DynamoDB error or throttle,
the function timing out) was known to nobody. Handled again after the sheet changed, the export saw no trace of it:
a timesheet un-approved before the retry was "never exported" and its bill stayed in NetSuite, billable; a bill
whose entry was deleted before the retry stayed too; an expense report stayed the same way, and the expense
reconciliation, which read only the reports the mapping store knows, said all was well.

The exports now note which new bills (or which report) they are about to write on the sheet's lock item before
writing (`MappingStore.note_writes`); the note goes with the mapping's commit, and the next holder of the lock
treats what it names as writes in doubt: written again if the sheet still wants them, deleted if not.

Found by a fresh review of the exports (2026-12-02, review 10); failed before the fix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ctsync.state import MappingStore
from tests.e2e.test_expense_export_review import World as ExpenseWorld
from tests.e2e.test_time_export_review import WEEK
from tests.e2e.test_time_export_review import World as TimeWorld

pytestmark = pytest.mark.e2e


@pytest.fixture
def time_world(open_session):
    return TimeWorld(open_session())


@pytest.fixture
def expense_world(open_session):
    return ExpenseWorld(open_session())


def fail_first_mapping_write(monkeypatch, kind: str, meanwhile) -> list[str]:
    """The first `put_many` of `kind` mappings fails after the NetSuite write; `meanwhile()` happens in ClickTime
    before the message is handled again."""
    put_many = MappingStore.put_many
    failed: list[str] = []

    def put_many_fails_once(self, mappings):
        mappings = list(mappings)
        if not failed and any(m.kind == kind for m in mappings):
            failed.append(kind)
            meanwhile()
            raise RuntimeError("DynamoDB: ProvisionedThroughputExceededException (after the NetSuite write)")
        return put_many(self, mappings)

    monkeypatch.setattr(MappingStore, "put_many", put_many_fails_once)
    return failed


def nights(world, count: int = 2) -> None:
    for _ in range(count):
        world.ct.clock.advance(timedelta(days=1))
        world.run()


def test_a_bill_whose_mapping_write_failed_leaves_netsuite_when_its_timesheet_is_unapproved(time_world, monkeypatch):
    world = time_world
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "2")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    failed = fail_first_mapping_write(monkeypatch, "timeentry", lambda: world.act(sheet, "UndoApproval"))
    world.run()
    assert failed, "the mapping write never happened"
    nights(world)

    bill = world.bill(entry)
    assert bill is None, (
        f"timesheet {sheet} is {world.ct.store.timesheets[sheet]['Status']} in ClickTime, yet time bill {bill['id']} "
        f"({bill['hours']} h of entry {entry}) stays in NetSuite: no mapping knows it"
    )


def test_a_bill_whose_mapping_write_failed_leaves_netsuite_when_its_entry_is_deleted(time_world, monkeypatch):
    world = time_world
    sheet = world.sheet()
    kept = world.entry(sheet, WEEK, "3")
    dropped = world.entry(sheet, WEEK + timedelta(days=1), "2")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))

    def correct() -> None:  # sent back, the second day's entry deleted, approved again
        world.act(sheet, "UndoApproval")
        world.ct.delete_time_entry(dropped)
        world.act(sheet, "Approve")

    failed = fail_first_mapping_write(monkeypatch, "timeentry", correct)
    world.run()
    assert failed
    nights(world)

    assert world.bill(kept) is not None
    bill = world.bill(dropped)
    assert bill is None, (
        f"entry {dropped} was deleted from timesheet {sheet} (approved again), yet its time bill {bill['id']} "
        f"({bill['hours']} h) stays in NetSuite: no mapping knows it"
    )


def test_a_report_whose_mapping_write_failed_leaves_netsuite_when_its_sheet_is_unapproved(expense_world, monkeypatch):
    world = expense_world
    sheet = world.sheet()
    world.item(sheet, "42.50")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    failed = fail_first_mapping_write(monkeypatch, "expenseitem", lambda: world.act(sheet, "UndoApproval"))
    world.run()
    assert failed, "the mapping write never happened"
    nights(world)

    report = world.report(sheet)
    assert report is None, (
        f"expense sheet {sheet} is {world.ct.store.expense_sheets[sheet]['Status']} in ClickTime, yet report "
        f"{report['id']} ({[line['amount'] for line in report['expense']['items']]}) stays in NetSuite"
    )


def test_the_expense_reconciliation_names_a_report_the_mapping_store_does_not_know(expense_world):
    """However it came about (here its mappings are lost), a report under a ClickTime external ID that no mapping
    knows is named, as the time reconciliation names such a bill."""
    world = expense_world
    sheet = world.sheet()
    world.item(sheet, "42.50")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    world.run()
    report = world.report(sheet)
    assert report is not None
    world.act(sheet, "UndoApproval")
    mappings = world.session.mappings
    for mapping in [*mappings.children("expensesheet", sheet), mappings.get("expensesheet", sheet)]:
        mappings.delete_many(mapping.kind, [mapping.source_id])

    result = world.reconcile()
    said = " ".join(d for c in result.checks for d in c.differences)
    assert not result.ok and report["id"] in said, (
        f"NetSuite holds report {report['id']} of expense sheet {sheet} (not approved in ClickTime, no mapping): the "
        f"reconciliation is ok={result.ok} and never names it"
    )
