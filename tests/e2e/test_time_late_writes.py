"""A time bill write whose answer was lost and that NetSuite processes only after a newer write of the same bill
(the simulator's `late` fault, placed by request events, not by time), end to end through the runner.

The NetSuite side of the kind fixed for ClickTime (`tests/e2e/test_clicktime_late_writes.py`): a timed-out PUT of
a bill could land after the bill was written again or deleted, and nothing looked at it again: a bill with old
hours, or a bill of a timesheet that is no longer approved. Now a timesheet with a bill write of unknown outcome
stays listed, and the first run at least `netsuite.late_write_seconds` after that write writes the bills such a
request may have changed as they should be (`records.time_export.TimeExport.recheck`).

The time export's clock is the test's (`time_export.utc_now`): "later than the wait" is a value, not a sleep.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from ctsync.reconcile.time import reconcile_time
from ctsync.records import sheet_export, time_export
from ctsync.records.time_export import external_id
from ctsync.timeutil import utc_now
from tests.e2e.support import run
from tests.e2e.test_time_export import (
    bills_by_external_id,
    exportable_sheets,
    exported,  # noqa: F401 - a fixture
    minutes_of,
)

pytestmark = pytest.mark.e2e

BILLS = "/services/rest/record/v1/timeBill/"


class Clock:
    def __init__(self) -> None:
        self.now = utc_now()

    def __call__(self) -> Any:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    for module in (time_export, sheet_export):  # the export's, and the wait both exports share
        monkeypatch.setattr(module, "utc_now", clock)
    return clock


def a_sheet_and_entry(session) -> tuple[dict[str, Any], dict[str, Any]]:
    ct = session.simulators.clicktime
    sheet = next(s for s in exportable_sheets(session) if len(ct.entries_of(s["ID"])) >= 2)
    return sheet, ct.entries_of(sheet["ID"])[0]


def correct(session, sheet_id: str, entry_id: str, hours: Decimal) -> None:
    """The way people correct approved time: undo the approval, change the entry, approve again."""
    ct = session.simulators.clicktime
    ct.clock.advance(timedelta(hours=1))
    ct.timesheet_action(sheet_id, "UndoApproval", "Correcting hours")
    ct.edit_time_entry(entry_id, Hours=hours)
    ct.timesheet_action(sheet_id, "Approve")


def a_late_correction(session, hours: Decimal) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A timesheet, its first entry and the entry's bill's external ID, after a run in which the entry was
    corrected to `hours` and the PUT of its bill was taken and its answer lost (the client's retry wrote it)."""
    ns = session.simulators.netsuite
    sheet, entry = a_sheet_and_entry(session)
    eid = external_id(entry["ID"])
    ns.faults.inject("late", times=1, method="PUT", path=f"{BILLS}eid:{eid}$")
    correct(session, sheet["ID"], entry["ID"], hours)
    run(session, "time")
    assert ns.faults.fired["late"] == 1
    return sheet, entry, eid


def time_reconciliation(session) -> Any:
    runtime = session.runtime()
    return reconcile_time(runtime.netsuite, runtime.clicktime, session.mappings, runtime.config)


def time_differences(session) -> list[str]:
    return [d for check in time_reconciliation(session).checks for d in check.differences]


def time_notes(session) -> list[str]:
    return time_reconciliation(session).notes


def test_a_late_put_with_old_hours_after_a_newer_one_is_written_over_once_the_wait_is_over(exported, clock):  # noqa: F811
    session = exported
    ns = session.simulators.netsuite
    sheet, entry = a_sheet_and_entry(session)
    bill_path = f"{BILLS}eid:{external_id(entry['ID'])}"
    ns.faults.inject("late", times=1, method="PUT", path=f"{bill_path}$")
    correct(session, sheet["ID"], entry["ID"], Decimal("3.5"))
    run(session, "time")  # the PUT with 3:30 is taken and its answer lost; the client's retry writes 3:30
    assert ns.faults.fired["late"] == 1
    assert minutes_of(bills_by_external_id(session)[external_id(entry["ID"])][0]) == 210

    correct(session, sheet["ID"], entry["ID"], Decimal("5"))
    clock.now += timedelta(minutes=5)
    newer = run(session, "time")
    assert [w.path for w in newer.netsuite_writes if w.method == "PUT"] == [bill_path]
    # NetSuite gets round to the first PUT only now: the bill says 3:30 again, ClickTime 5:00
    assert ns.process_held() == 1
    assert minutes_of(bills_by_external_id(session)[external_id(entry["ID"])][0]) == 210

    clock.now += timedelta(minutes=5)  # within the wait: the run looks, writes nothing, keeps the sheet listed
    assert run(session, "time").netsuite_writes == []
    # Finance sees the difference, and why it may be there until the wait is over
    assert time_differences(session) and any(
        note.startswith(f"timesheet {sheet['ID']}: 1 time bill(s) written with an unknown outcome")
        for note in time_notes(session)
    )

    clock.now += timedelta(seconds=session.runtime().config.netsuite.late_write_seconds)
    repaired = run(session, "time")

    assert [(w.method, w.path) for w in repaired.netsuite_writes] == [("PUT", bill_path)]
    (bill,) = bills_by_external_id(session)[external_id(entry["ID"])]
    assert minutes_of(bill) == 300
    assert time_differences(session) == []
    assert not any("unknown outcome" in note for note in time_notes(session))
    assert run(session, "time").netsuite_writes == []  # settled: no more looks


def test_a_late_put_that_brings_back_a_withdrawn_timesheets_bill_is_deleted_once_the_wait_is_over(exported, clock):  # noqa: F811
    session = exported
    ns, ct = session.simulators.netsuite, session.simulators.clicktime
    sheet, entry, eid = a_late_correction(session, Decimal("2.25"))

    ct.clock.advance(timedelta(hours=1))
    ct.timesheet_action(sheet["ID"], "UndoApproval", "Wrong project")
    clock.now += timedelta(minutes=5)
    run(session, "time")
    assert all(external_id(e["ID"]) not in bills_by_external_id(session) for e in ct.entries_of(sheet["ID"]))
    # The late PUT lands: a bill of a timesheet that is not approved is in NetSuite again
    assert ns.process_held() == 1
    assert eid in bills_by_external_id(session)

    clock.now += timedelta(seconds=session.runtime().config.netsuite.late_write_seconds)
    repaired = run(session, "time")

    assert [w.method for w in repaired.netsuite_writes] == ["DELETE"]
    assert eid not in bills_by_external_id(session)
    assert time_differences(session) == []
    assert run(session, "time").netsuite_writes == []


def test_a_late_put_of_an_export_that_failed_and_succeeded_on_redelivery_is_still_looked_at(exported, clock):  # noqa: F811
    # The lost PUT's attempt ends in failure (its retries are refused with 503), so the timesheet's message fails
    # and its redelivery writes the bill with no doubt: the doubt is the failed attempt's to record.
    session = exported
    ns, ct = session.simulators.netsuite, session.simulators.clicktime
    sheet, entry = a_sheet_and_entry(session)
    eid = external_id(entry["ID"])
    attempts = session.runtime().config.retry.max_attempts
    ns.faults.inject("late", times=1, method="PUT", path=f"{BILLS}eid:{eid}$")
    ns.faults.inject(status=503, times=attempts - 1, method="PUT", path=f"{BILLS}eid:{eid}$")
    correct(session, sheet["ID"], entry["ID"], Decimal("2.25"))
    first = run(session, "time")
    assert ns.faults.fired["late"] == 1 and ns.faults.fired["503"] == attempts - 1
    assert first.counts("time")["updated"] == 1 and first.counts("time")["failed"] == 0  # the redelivery
    assert minutes_of(bills_by_external_id(session)[eid][0]) == 135

    ct.clock.advance(timedelta(hours=1))
    ct.timesheet_action(sheet["ID"], "UndoApproval", "Wrong project")
    clock.now += timedelta(minutes=5)
    run(session, "time")
    assert eid not in bills_by_external_id(session)
    assert ns.process_held() == 1
    assert eid in bills_by_external_id(session)

    clock.now += timedelta(seconds=session.runtime().config.netsuite.late_write_seconds)
    run(session, "time")

    assert eid not in bills_by_external_id(session)
    assert time_differences(session) == []


# -- found by a review of the above: each failed before its fix ---------------------------------------------------
def test_the_look_and_a_new_approval_of_one_timesheet_in_one_run_never_hold_its_lock_together(
    exported,  # noqa: F811
    clock,
    lock_owners,
):
    # Both messages come in one run, and a worker applies several at once: they must not share a lock owner, or
    # both export the sheet side by side (the lock lets its owner in again: a message's redelivery).
    session = exported
    ns = session.simulators.netsuite
    sheet, entry, _ = a_late_correction(session, Decimal("3.5"))
    assert ns.process_held() == 1
    clock.now += timedelta(seconds=session.runtime().config.netsuite.late_write_seconds + 60)
    correct(session, sheet["ID"], entry["ID"], Decimal("4"))
    lock_owners.clear()

    both = run(session, "time")

    owners = {owner for kind, source_id, owner in lock_owners if (kind, source_id) == ("timesheet", sheet["ID"])}
    assert len(owners) == 2  # the approval's message and the look
    assert both.counts("time")["failed"] == 0
    assert minutes_of(bills_by_external_id(session)[external_id(entry["ID"])][0]) == 240
    assert time_differences(session) == []


def test_with_the_flag_policy_a_bill_a_late_put_brought_back_is_still_deleted_by_the_look(open_session, clock):
    session = open_session({"time": {"on_unapproved": "flag"}})
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    run(session, "time")
    ns, ct = session.simulators.netsuite, session.simulators.clicktime
    sheet, entry, eid = a_late_correction(session, Decimal("2.25"))
    # The entry leaves the sheet (its bill is deleted); the late PUT then brings the bill back
    ct.clock.advance(timedelta(hours=1))
    ct.timesheet_action(sheet["ID"], "UndoApproval", "Remove a line")
    ct.delete_time_entry(entry["ID"])
    ct.timesheet_action(sheet["ID"], "Approve")
    clock.now += timedelta(minutes=2)
    run(session, "time")
    assert ns.process_held() == 1 and eid in bills_by_external_id(session)
    # The sheet is un-approved: with the flag policy its bills stay, but this one was never the sheet's
    ct.clock.advance(timedelta(hours=1))
    ct.timesheet_action(sheet["ID"], "UndoApproval", "Later")
    clock.now += timedelta(seconds=session.runtime().config.netsuite.late_write_seconds)

    looked = run(session, "time")

    assert [w.method for w in looked.netsuite_writes] == ["DELETE"]
    assert eid not in bills_by_external_id(session)
    assert session.mappings.unsettled("timesheet") == []


def the_look_waits_without_dead_lettering(session, clock: Clock, sheet_id: str) -> None:
    """The approval fails (a person must act); two looks after the wait are skipped, not failed, and the
    timesheet stays listed."""
    assert run(session, "time").counts("time")["failed"] == 1
    dead = len(session.runner.dead_letters("time"))
    clock.now += timedelta(seconds=session.runtime().config.netsuite.late_write_seconds)
    looks = []
    for _ in range(2):
        session.simulators.clicktime.clock.advance(timedelta(hours=2))  # past the overlap: the look alone
        looks.append(run(session, "time"))
    # (failed, skipped): the first run also reads the failing approval again (the window's overlap) and fails it
    # as any failing record; the look is skipped each time, never failed
    assert [(p.counts("time")["failed"], p.counts("time")["skipped"]) for p in looks] == [(1, 1), (0, 1)]
    assert len(session.runner.dead_letters("time")) == dead + 1
    assert session.mappings.unsettled("timesheet") == [sheet_id]  # its bills are still in doubt


def test_a_look_at_a_blocked_timesheet_waits_for_it_without_dead_lettering_it_again(exported, clock):  # noqa: F811
    session = exported
    ns, ct = session.simulators.netsuite, session.simulators.clicktime
    sheet, entry, eid = a_late_correction(session, Decimal("3.5"))
    correct(session, sheet["ID"], entry["ID"], Decimal("5"))
    clock.now += timedelta(minutes=2)
    run(session, "time")
    assert ns.process_held() == 1  # the bill says 3:30 again
    # A person logs 23 h more on that day: the sheet is blocked (more than 24 h in a day), once
    ct.clock.advance(timedelta(hours=1))
    ct.timesheet_action(sheet["ID"], "UndoApproval", "More")
    extra = ct.add_time_entry(sheet["ID"], entry["Date"][:10], Decimal("23"), entry["JobID"], entry["TaskID"])
    ct.timesheet_action(sheet["ID"], "Approve")
    clock.now += timedelta(minutes=2)

    the_look_waits_without_dead_lettering(session, clock, sheet["ID"])

    # The person fixes the day: the export goes through and the look writes the bill in doubt as it should be
    ct.clock.advance(timedelta(hours=1))
    ct.timesheet_action(sheet["ID"], "UndoApproval", "Fix")
    ct.delete_time_entry(extra["ID"])
    ct.timesheet_action(sheet["ID"], "Approve")
    run(session, "time")
    assert minutes_of(bills_by_external_id(session)[eid][0]) == 300
    assert session.mappings.unsettled("timesheet") == []


def test_a_look_at_a_timesheet_netsuite_refuses_waits_for_it_without_dead_lettering_it_again(exported, clock):  # noqa: F811
    # Found by a second review: the blocked look's kind, reached through NetSuite's answer instead of the plan.
    session = exported
    ns, ct = session.simulators.netsuite, session.simulators.clicktime
    sheet, entry, _ = a_late_correction(session, Decimal("3.5"))
    other = ct.entries_of(sheet["ID"])[1]
    assert ns.process_held() == 1
    ns.faults.inject(status=400, times=1000, method="PUT", path=f"{BILLS}eid:{external_id(other['ID'])}$")
    correct(session, sheet["ID"], other["ID"], Decimal("1.5"))
    clock.now += timedelta(minutes=2)

    the_look_waits_without_dead_lettering(session, clock, sheet["ID"])

    reasons = [c.reason for c in session.runlog.causes("time") if sheet["ID"] in c.blocked]
    assert any("NetSuite 400" in reason for reason in reasons)  # a person still sees why
    # NetSuite takes the bill again: the next look writes the sheet's bills in doubt and lets it go
    ns.faults.clear()
    ct.clock.advance(timedelta(hours=2))
    run(session, "time")
    assert minutes_of(bills_by_external_id(session)[external_id(other["ID"])][0]) == 90
    assert minutes_of(bills_by_external_id(session)[external_id(entry["ID"])][0]) == 210
    assert session.mappings.unsettled("timesheet") == []
