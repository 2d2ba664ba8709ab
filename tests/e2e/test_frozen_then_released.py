"""A ClickTime correction NetSuite would not take (a report approved by accounting, a time bill in a closed period)
is flagged, not lost: once NetSuite lets it (accounting rejects the report back to A/P, the period is reopened), a
backfill over the approval applies it. Before, the sheet's mapping kept the approval's fingerprint as if it were in
NetSuite, so every later run and every backfill held it as done, and the correction never arrived (only ClickTime
approving the sheet once more would have sent it).

The flag is still raised once: the run right after, whose overlap reads the same approval again, does not flag it a
second time; nor does a look at the timesheet (a write of unknown outcome beside it), nor the next night's run over a
withdrawal NetSuite held back (an un-approved sheet whose report is paid, whose bill is billed). A receipt of a
held-back approval waits with it: a retry of the receipt step does not write it into the frozen report, and the
backfill stores and links it. `ctns plan` says the held-back sheet stays unchanged while NetSuite still freezes it.

A second review found: a receipt retry that finds the report frozen since it was queued dropped the receipt
silently; with `expenses.receipts.link = attach`, a receipt removed in ClickTime was detached from a paid report; the
cause stayed open after the backfill applied the correction; a withdrawal flagged a bill it had told already when
another bill of the sheet left NetSuite. A third: a worker that died after the report was written and before the
sheet's last commit left the cause open for good (its interim commit had moved the fingerprint); attach mode counted
a file attached to an earlier, deleted report as work on a paid one, and flagged an unchanged approval.

The reviews of the first fixes (fresh reviewers, 2026-12-02) found the look, the withdrawal, the receipt, the plan
and the cause cases: each failed then.

End to end through the local runner on the seeded simulators (the sheets built by hand, `World` of each export's
review); the backfill is what `ctns backfill` does: every watermark of the sync set back, then a run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from tests.e2e.test_expense_export_review import World  # noqa: F401 - the `world` fixture builds this module's World

pytestmark = pytest.mark.e2e

BEFORE_EVERYTHING = datetime(2026, 10, 1, tzinfo=UTC)


def backfill(world, since: datetime = BEFORE_EVERYTHING):
    from ctsync.state import ProgressStore

    ProgressStore(world.session.state_table).reset_watermarks(world.sync, since)
    return world.run()


def amounts(report) -> list[Decimal]:
    return [line["amount"] for line in report["expense"]["items"]]


def flags_of(world, result, key: str) -> list[str]:
    run_id = result.syncs[world.sync]["run_id"]
    return [f.reason for f in world.session.runlog.failures(run_id) if f.cause_key == key]


def test_a_correction_held_back_by_accounting_approval_goes_through_once_accounting_rejects_the_report(world):
    sheet, item, report = world.exported_sheet()
    world.ns.records.update(
        "expenseReport", report["id"], {"supervisorapproval": True, "accountingapproval": True, "status": {"id": "F"}}
    )
    world.reapprove(sheet, edit=lambda: world.ct.edit_expense_item(item, Amount="50.00"))

    flagged, overlap = world.run(), world.run()

    assert amounts(world.report(sheet)) == [Decimal("42.50")]
    assert len(flags_of(world, flagged, "expense-report-frozen")) == 1
    assert flags_of(world, overlap, "expense-report-frozen") == []  # read again by the overlap, not flagged again
    assert not world.reconcile().ok

    # Accounting rejects the report: it is A/P's to change again (E Rejected by Accounting)
    world.ns.records.update("expenseReport", report["id"], {"accountingapproval": False, "status": {"id": "E"}})
    backfill(world)

    assert amounts(world.report(sheet)) == [Decimal("50.00")]
    recon = world.reconcile()
    assert recon.ok, [(c.name, c.differences) for c in recon.checks if not c.ok]


def test_an_expense_report_that_stays_frozen_is_not_changed_by_a_backfill(world):
    sheet, item, report = world.exported_sheet()
    world.sims.netsuite.mark_expense_report_paid(report["id"])
    world.reapprove(sheet, edit=lambda: world.ct.edit_expense_item(item, Amount="50.00"))
    world.run()

    result = backfill(world)

    assert amounts(world.report(sheet)) == [Decimal("42.50")]
    assert not [w for w in result.netsuite_writes if "expenseReport" in w.path]


def exported_timesheet(world) -> tuple[str, str]:
    """A timesheet of one entry of 2 hours on WEEK, approved and exported: (sheet, entry)."""
    from tests.e2e.test_time_export_review import WEEK

    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "2")
    world.approve(sheet)
    world.run()
    return sheet, entry


@pytest.fixture
def time_world(open_session):
    from tests.e2e.test_time_export_review import World as TimeWorld

    return TimeWorld(open_session())


def test_a_time_correction_held_back_by_a_closed_period_goes_through_once_the_period_is_reopened(time_world):
    from tests.e2e.test_time_export_review import WEEK, minutes

    world = time_world
    sheet, entry = exported_timesheet(world)
    assert minutes(world.bill(entry)) == 120
    world.ns.close_period(WEEK)
    world.reapprove(sheet, edit=lambda: world.ct.edit_time_entry(entry, Hours=Decimal("3")))

    flagged, overlap = world.run(), world.run()

    assert minutes(world.bill(entry)) == 120
    assert len(flags_of(world, flagged, "time-bill-frozen")) == 1
    assert flags_of(world, overlap, "time-bill-frozen") == []  # read again by the overlap, not flagged again

    world.ns.reopen_period(WEEK)
    backfill(world)

    assert minutes(world.bill(entry)) == 180


def test_the_next_nights_run_leaves_a_flagged_approval_alone(world):
    """A day later the flag stands (its cause stays open) and is not raised again; nothing is written."""
    sheet, item, report = world.exported_sheet()
    world.sims.netsuite.mark_expense_report_paid(report["id"])
    world.reapprove(sheet, edit=lambda: world.ct.edit_expense_item(item, Amount="50.00"))
    world.run()
    world.ct.clock.advance(timedelta(days=1))

    result = world.run()

    assert not [w for w in result.netsuite_writes if "expenseReport" in w.path]
    assert flags_of(world, result, "expense-report-frozen") == []


BILLS = "/services/rest/record/v1/timeBill/"
PDF = b"%PDF-1.4\n% the first receipt\n" + b"0" * 200
PDF2 = b"%PDF-1.4\n% the corrected receipt\n" + b"1" * 200


def approve_in_netsuite(world, report_id: str) -> None:
    world.ns.records.update(
        "expenseReport", report_id, {"supervisorapproval": True, "accountingapproval": True, "status": {"id": "F"}}
    )


def test_a_look_at_a_held_back_timesheet_neither_flags_it_again_nor_loses_the_mark(open_session):
    from ctsync.records.time_export import external_id
    from tests.e2e.test_time_export_review import WEEK
    from tests.e2e.test_time_export_review import World as TimeWorld

    world = TimeWorld(open_session({"netsuite": {"late_write_seconds": 0}}))
    sheet = world.sheet()
    a = world.entry(sheet, WEEK, "2")
    b = world.entry(sheet, WEEK, "1", task=world.ct_task2)
    world.approve(sheet)
    world.run()
    world.ns.mark_time_billed(world.bill(a)["id"])
    # B's PUT is taken and its answer lost (the client's retry writes it): a write of unknown outcome, so a look
    world.ns.faults.inject("late", times=1, method="PUT", path=f"{BILLS}eid:{external_id(b)}$")

    def correct() -> None:
        world.ct.edit_time_entry(a, Hours=Decimal("3"))
        world.ct.edit_time_entry(b, Hours=Decimal("2"))

    world.reapprove(sheet, edit=correct)
    flagged = world.run()
    assert world.ns.faults.fired["late"] == 1
    assert len(flags_of(world, flagged, "time-bill-frozen")) == 1
    held = world.session.mappings.get("timesheet", sheet).fingerprint

    looked = world.run()  # the overlap reads the approval again; the look comes at the end of the run
    after_look = world.session.mappings.get("timesheet", sheet).fingerprint
    again = backfill(world)

    assert flags_of(world, looked, "time-bill-frozen") == []
    assert after_look == held and held.startswith("held-back:") and not held.startswith("held-back:held-back:")
    assert flags_of(world, again, "time-bill-frozen") == []


def test_an_unapproved_sheet_whose_report_is_paid_is_flagged_once_not_every_night(world):
    sheet, _item, report = world.exported_sheet()
    world.sims.netsuite.mark_expense_report_paid(report["id"])
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")

    first = world.run()
    world.ct.clock.advance(timedelta(days=1))
    next_night = world.run()

    assert world.report(sheet) is not None  # paid: kept
    assert len(flags_of(world, first, "expense-report-frozen")) == 1
    assert flags_of(world, next_night, "expense-report-frozen") == []


def test_an_unapproved_timesheet_whose_bill_is_billed_is_flagged_once_not_every_night(time_world):
    world = time_world
    sheet, entry = exported_timesheet(world)
    world.ns.mark_time_billed(world.bill(entry)["id"])
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")

    first = world.run()
    world.ct.clock.advance(timedelta(days=1))
    next_night = world.run()

    assert world.bill(entry) is not None
    assert len(flags_of(world, first, "time-bill-frozen")) == 1
    assert flags_of(world, next_night, "time-bill-frozen") == []


class FailFirst(dict):
    """store.receipt_failures: the next `n` downloads of an item answer 500, then it heals."""

    def __init__(self, item: str, times: int) -> None:
        super().__init__()
        self.left = {item: times}

    def get(self, key, default=None):  # noqa: ANN001
        if self.left.get(key, 0) > 0:
            self.left[key] -= 1
            return 500
        return default


def test_a_receipt_retry_does_not_write_a_held_back_correction_into_an_accounting_approved_report(world):
    sheet, item, report = world.exported_sheet(receipt=PDF)
    assert report["expense"]["items"][0].get("expmediaitem")
    approve_in_netsuite(world, report["id"])
    with world.ct.store.lock:  # the held-back approval's receipt download fails (the client's two tries)
        world.ct.store.receipt_failures = FailFirst(item, 2)
    world.reapprove(sheet, edit=lambda: world.ct.edit_expense_item(item, Amount="50.00"))

    world.run()  # the receipt step's own retry runs in the same drain

    assert amounts(world.report(sheet)) == [Decimal("42.50")]


def test_a_receipt_held_back_with_its_correction_is_stored_once_accounting_rejects_the_report(world):
    sheet, item, report = world.exported_sheet(receipt=PDF)
    approve_in_netsuite(world, report["id"])

    def correct() -> None:
        world.ct.edit_expense_item(item, Amount="50.00")
        world.ct.set_receipt(item, PDF2, "application/pdf")  # the right receipt for 50.00

    world.reapprove(sheet, edit=correct)
    world.run()
    kept = world.report(sheet)["expense"]["items"][0]
    assert kept["amount"] == Decimal("42.50") and world.ns.file_content(kept["expmediaitem"]["id"]) == PDF

    world.ns.records.update("expenseReport", report["id"], {"accountingapproval": False, "status": {"id": "E"}})
    backfill(world)

    line = world.report(sheet)["expense"]["items"][0]
    assert line["amount"] == Decimal("50.00")
    assert line.get("expmediaitem") and world.ns.file_content(line["expmediaitem"]["id"]) == PDF2


def test_the_plan_says_a_held_back_sheet_stays_unchanged_while_netsuite_freezes_its_report(world):
    from tests.e2e.test_expense_empty_sheets import plan_steps

    sheet, item, report = world.exported_sheet()
    approve_in_netsuite(world, report["id"])
    world.reapprove(sheet, edit=lambda: world.ct.edit_expense_item(item, Amount="50.00"))
    world.run()

    step = plan_steps(world)[sheet]
    overlap = world.run()

    assert not [w for w in overlap.netsuite_writes if "expenseReport" in w.path]
    assert step.action == "unchanged" and report["id"] in step.detail and "approved by accounting" in step.detail


def test_a_receipt_retry_that_finds_the_report_frozen_since_keeps_the_receipt_waiting(world, monkeypatch):
    from ctsync.records import expense_receipts

    sheet = world.sheet()
    item = world.item(sheet, "42.50", receipt=PDF, receipt_type="application/pdf")
    with world.ct.store.lock:  # the first export's download fails (both tries): a retry of the receipt is queued
        world.ct.store.receipt_failures = FailFirst(item, 2)
    again = expense_receipts.ReceiptStep.again

    def accounting_approves_first(self, *args, **kwargs):  # before the retry runs
        approve_in_netsuite(world, world.report(sheet)["id"])
        return again(self, *args, **kwargs)

    monkeypatch.setattr(expense_receipts.ReceiptStep, "again", accounting_approves_first)
    world.approve(sheet)
    first = world.run()
    monkeypatch.setattr(expense_receipts.ReceiptStep, "again", again)
    report = world.report(sheet)

    assert not report["expense"]["items"][0].get("expmediaitem")
    assert any(item in text for text in flags_of(world, first, "expense-report-frozen"))

    world.ns.records.update("expenseReport", report["id"], {"accountingapproval": False, "status": {"id": "E"}})
    backfill(world)

    line = world.report(sheet)["expense"]["items"][0]
    assert line.get("expmediaitem") and world.ns.file_content(line["expmediaitem"]["id"]) == PDF


def exported_with_an_attached_receipt(world) -> tuple[str, str]:
    """A sheet of two items, the first with a receipt, approved and exported: (sheet, the item with the receipt)."""
    sheet = world.sheet()
    item = world.item(sheet, "42.50", receipt=PDF, receipt_type="application/pdf")
    world.item(sheet, "10.00", description="Taxi")
    world.approve(sheet)
    world.run()
    return sheet, item


def test_a_receipt_removed_in_clicktime_is_not_detached_from_a_paid_report(world_factory):
    world = world_factory({"expenses": {"receipts": {"link": "attach"}}})
    sheet, item = exported_with_an_attached_receipt(world)
    report = world.report(sheet)
    attached = world.ns.attachments("expenseReport", report["id"])
    assert len(attached) == 1
    world.sims.netsuite.mark_expense_report_paid(report["id"])

    def remove() -> None:
        with world.ct.store.lock:
            world.ct.store.receipts.pop(item)

    world.reapprove(sheet, edit=remove)
    result = world.run()

    assert world.ns.attachments("expenseReport", report["id"]) == attached
    assert not result.netsuite_writes
    assert flags_of(world, result, "expense-report-frozen")


def test_the_cause_lets_go_of_a_sheet_once_its_held_back_correction_went_through(world):
    sheet, item, report = world.exported_sheet()
    approve_in_netsuite(world, report["id"])
    world.reapprove(sheet, edit=lambda: world.ct.edit_expense_item(item, Amount="50.00"))
    world.run()
    cause = world.session.runlog.cause("expenses", "expense-report-frozen")
    assert cause is not None and cause.open and sheet in cause.blocked

    world.ns.records.update("expenseReport", report["id"], {"accountingapproval": False, "status": {"id": "E"}})
    backfill(world)

    assert amounts(world.report(sheet)) == [Decimal("50.00")]
    cause = world.session.runlog.cause("expenses", "expense-report-frozen")
    assert not cause.open and sheet not in cause.blocked


def test_a_withdrawal_does_not_flag_again_a_bill_it_told_when_another_bill_leaves(time_world):
    world = time_world
    sheet = world.sheet(date(2026, 10, 26))  # a week over October and November
    october = world.entry(sheet, date(2026, 10, 30), "2")
    november = world.entry(sheet, date(2026, 11, 1), "1")
    world.approve(sheet)
    world.run()
    world.ns.close_period(date(2026, 10, 30))
    world.ns.close_period(date(2026, 11, 1))
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")
    first = world.run()
    assert len(flags_of(world, first, "time-bill-frozen")) >= 1
    told = world.session.runlog.cause("time", "time-bill-frozen").count
    assert told == 2  # one flag per bill

    world.ns.reopen_period(date(2026, 11, 1))
    world.ct.clock.advance(timedelta(days=1))
    world.run()

    assert world.bill(november) is None and world.bill(october) is not None
    assert world.session.runlog.cause("time", "time-bill-frozen").count == told


class ProcessDied(BaseException):
    """The worker's process dies (not an exception the handler could catch)."""


def test_a_worker_that_dies_before_the_last_commit_still_lets_go_of_the_cause(world, monkeypatch):
    from ctsync.records.expense_receipts import ReceiptStep

    world.session.runner.host.timeout_override["ExpensesWorker"] = 1
    world.session.runner.retry_delay = 1.2
    sheet, item, report = world.exported_sheet()
    approve_in_netsuite(world, report["id"])
    world.reapprove(sheet, edit=lambda: world.ct.edit_expense_item(item, Amount="50.00"))
    world.run()
    world.ns.records.update("expenseReport", report["id"], {"accountingapproval": False, "status": {"id": "E"}})
    attach, died = ReceiptStep.attach, []

    def dies_once(self, *args, **kwargs):  # after the report's write and the interim commit
        if not died:
            died.append(True)
            raise ProcessDied("the worker died before the sheet's last commit")
        return attach(self, *args, **kwargs)

    monkeypatch.setattr(ReceiptStep, "attach", dies_once)
    backfill(world)
    monkeypatch.undo()
    world.run()

    assert died and amounts(world.report(sheet)) == [Decimal("50.00")]
    assert not world.session.mappings.get("expensesheet", sheet).fingerprint.startswith("held-back:")
    cause = world.session.runlog.cause("expenses", "expense-report-frozen")
    assert sheet not in cause.blocked and not cause.open


def test_a_file_attached_to_an_earlier_report_is_no_work_on_a_paid_one(world_factory):
    world = world_factory({"expenses": {"receipts": {"link": "attach"}}})
    sheet, item = exported_with_an_attached_receipt(world)
    first = world.report(sheet)
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")  # the report leaves NetSuite
    world.run()
    with world.ct.store.lock:
        world.ct.store.receipts.pop(item)  # the receipt is removed in ClickTime
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "Approve")
    world.run()
    second = world.report(sheet)
    assert second is not None and second["id"] != first["id"]
    world.sims.netsuite.mark_expense_report_paid(second["id"])

    world.reapprove(sheet)  # approved again in ClickTime, nothing changed
    result = world.run()

    assert flags_of(world, result, "expense-report-frozen") == []
    assert not world.session.mappings.get("expensesheet", sheet).fingerprint.startswith("held-back:")


def test_the_plan_says_a_withdrawal_netsuite_holds_back_leaves_the_report(world):
    from tests.e2e.test_expense_empty_sheets import plan_steps

    sheet, _item, report = world.exported_sheet()
    world.sims.netsuite.mark_expense_report_paid(report["id"])
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")

    step = plan_steps(world)[sheet]
    result = world.run()

    assert world.report(sheet) is not None and not [w for w in result.netsuite_writes if "expenseReport" in w.path]
    assert step.action == "unchanged" and report["id"] in step.detail and "paid" in step.detail


def test_the_plan_does_not_fail_a_timesheet_whose_bill_in_a_closed_period_the_run_only_flags(time_world):
    from ctns.plan import plan_sync
    from tests.e2e.test_time_export_review import WEEK

    world = time_world
    sheet, entry = exported_timesheet(world)
    world.ns.close_period(WEEK)
    world.reapprove(sheet, edit=lambda: world.ct.edit_time_entry(entry, Hours=Decimal("3")))

    runtime = world.session.runtime()
    step = {s.source_id: s for s in plan_sync("time", runtime, runtime.config).steps}[sheet]
    result = world.run()

    assert result.counts("time")["failed"] == 0 and len(flags_of(world, result, "time-bill-frozen")) == 1
    assert step.action != "fail", step.detail  # the run flags the bill; it does not refuse the timesheet


def time_plan_step(world, sheet: str):
    from ctns.plan import plan_sync

    runtime = world.session.runtime()
    return {s.source_id: s for s in plan_sync("time", runtime, runtime.config).steps}[sheet]


def test_the_plan_says_a_timesheet_whose_only_change_netsuite_holds_back_stays_unchanged(time_world):
    from tests.e2e.test_time_export_review import WEEK

    world = time_world
    sheet, entry = exported_timesheet(world)
    world.ns.close_period(WEEK)
    world.reapprove(sheet, edit=lambda: world.ct.edit_time_entry(entry, Hours=Decimal("3")))

    step = time_plan_step(world, sheet)
    result = world.run()

    assert result.counts("time")["unchanged"] == 1 and len(flags_of(world, result, "time-bill-frozen")) == 1
    assert step.action == "unchanged", (step.action, step.detail)
    assert world.bill(entry)["id"] in step.detail and "closed period" in step.detail


@pytest.mark.parametrize(
    "policy, why", [("delete", "billed"), ("flag", "time.on_unapproved")], ids=["bill-billed", "policy-flags"]
)
def test_the_plan_says_an_unapproved_timesheet_whose_bills_stay_keeps_them(open_session, policy, why):
    from tests.e2e.test_time_export_review import World as TimeWorld

    world = TimeWorld(open_session({"time": {"on_unapproved": policy}}))
    sheet, entry = exported_timesheet(world)
    if policy == "delete":
        world.ns.mark_time_billed(world.bill(entry)["id"])
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")

    step = time_plan_step(world, sheet)
    result = world.run()

    assert world.bill(entry) is not None and result.counts("time")["unchanged"] == 1
    assert step.action == "unchanged" and why in step.detail, (step.action, step.detail)
