"""Review of 2026-12-04's second day (the time export's backfill and hours branch, the reconcile branch), each defect
as a test that failed before its fix, on the time export review's world (`tests.e2e.test_time_export_review.World`).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.e2e.test_reconcile_blocked_internal_job_hours import internal_job
from tests.e2e.test_time_export_payroll_review import _set_hours
from tests.e2e.test_time_export_review import WEEK, World, minutes, unlinked_task  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("hours", ["1E+30", "30"])
def test_a_refused_entry_on_an_internal_job_of_a_blocked_sheet_is_in_no_total(world, hours):
    """The reconcile branch's `not_netsuite_projects` total summed a blocked sheet's internal-job entries by
    `Hours >= 0`, where the time branch refuses (and counts nowhere) any entry a day cannot hold (`hours_refused`):
    1E+30 h crashed `ctns reconcile time` (InvalidOperation cutting it to a millionth) and 30 h was counted as
    approved ClickTime time on internal jobs."""
    job, task = internal_job(world)
    sheet = world.sheet()
    world.entry(sheet, WEEK, "2", task=unlinked_task(world))  # blocks the sheet
    bad = world.entry(sheet, WEEK + timedelta(days=1), "1", task=task, job=job)
    world.entry(sheet, WEEK + timedelta(days=2), "1.5", task=task, job=job)
    _set_hours(world, bad, hours)
    world.approve(sheet)
    world.run()

    totals = world.reconcile().totals

    assert totals["blocked"] == "2 h", totals
    assert totals["not_netsuite_projects"] == "1.5 h", totals
    assert Decimal(totals["clicktime_approved"].removesuffix(" h")) == 0, totals


def test_a_correction_under_the_same_stamp_after_the_employee_left_is_not_held_as_exported(world):
    """`sheet_export.exported_as_approved` judged a sheet "exported as approved before" by its listing fingerprint
    alone: a correction approved again under a stamp that reads the same (a date alone, none at all) and with the
    same day totals whose employee was made inactive
    since was left "unchanged": no cause, NetSuite keeping the old time, and the reconciliation compared the sheet
    as if nothing were left out. Now the entries read must be those exported for it to be held."""
    from tests.e2e.test_time_export_payroll_review import _next_night

    sheet, entry, _ = world.exported_under("2026-11-23", lambda sheet: world.entry(sheet, WEEK, "6"))
    assert world.bill(entry) is not None
    # moved to another task, the day's total the same, approved again the same day: the listing reads the same
    world.approved_again(sheet, lambda: world.ct.edit_time_entry(entry, TaskID=world.ct_task2), "2026-11-23")
    world.ns.records.update("employee", world.employee, {"isInactive": True})  # the employee left meanwhile
    _next_night(world)
    result = world.run()

    failures = [f for f in result.failures if f["source_id"] == sheet]
    assert failures and failures[0]["kind"] == "BLOCKED", (result.syncs["time"], result.failures)
    assert [c for c in world.causes() if sheet in c.held], [c.reason for c in world.causes()]
    recon = world.reconcile()
    assert [n for n in recon.notes if sheet in n and "is blocked" in n], recon.notes


def test_a_sheet_exported_before_the_rows_were_recorded_is_still_held_when_its_employee_left(world):
    """The guard above (`time_export.exported_as_read`) on a sheet mapping written before the export recorded its
    rows (`TIME_READ`): judged by its bills' mappings, the backfill of the payroll review's third test still leaves
    it as NetSuite holds it (and the reconciliation compares it)."""
    from ctsync.records.time_export import KIND, TIME_READ
    from tests.e2e.test_frozen_then_released import backfill
    from tests.e2e.test_time_export_payroll_review import _next_night

    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "7.5")
    world.entry(sheet, WEEK, "0.25", task=world.ct_task2)
    world.approve(sheet)
    world.run()
    bill = world.bill(entry)
    mapping = world.session.mappings.get(KIND, sheet)
    details = {k: v for k, v in mapping.details.items() if k != TIME_READ}
    world.session.mappings.put(mapping.model_copy(update={"details": details}))
    world.ns.records.update("employee", world.employee, {"isInactive": True})
    _next_night(world)

    result = backfill(world)

    assert result.counts("time")["unchanged"] == 1 and not result.failures, (result.counts("time"), result.failures)
    assert world.bill(entry) == bill
    assert world.reconcile().ok


@pytest.mark.parametrize(
    "hours",
    [("8.000000000000002",), ("4.7", "3.3000000000000003")],
    ids=["one-entry", "a-day-of-two"],
)
def test_a_day_of_exactly_the_most_hours_given_as_a_double_is_exported(world_factory, hours):
    """ClickTime sends hours as doubles (the reconcile review: 0.30000000000000004). With `time.max_hours_per_day =
    8`, an entry (or a day) of 8 h read as 8.000000000000002 was refused as "more than 8 h in a day"
    (`bad-input:hours`, `bad-input:hours-per-day`), though it is 8:00 to the minute the export writes. Now what is
    compared is the minutes: refused only when it rounds to more than the most."""
    world = world_factory({"time": {"max_hours_per_day": 8}})
    sheet = world.sheet()
    entries = [world.entry(sheet, WEEK, "1", task=(world.ct_task, world.ct_task2)[i]) for i in range(len(hours))]
    for entry, given in zip(entries, hours, strict=True):
        _set_hours(world, entry, given)
    world.approve(sheet)

    result = world.run()

    assert not result.failures, result.failures
    assert sum(minutes(world.bill(e)) for e in entries) == 480
    assert world.reconcile().ok


def test_a_backfill_replans_without_writing_and_the_next_nightly_run_trusts_the_fingerprint_again(world):
    """Checked sound (review, day 2; passed before): a backfill (`Cursor.reread`) plans an unchanged timesheet again
    and writes nothing to NetSuite; its run's end replaces the watermarks a person set (`RESET`), so the next nightly
    run queues nothing (no re-plan, no NetSuite read per sheet)."""
    from ctsync.state import ProgressStore
    from tests.e2e.test_frozen_then_released import backfill

    sheet = world.sheet()
    world.entry(sheet, WEEK, "7.5")
    world.approve(sheet)
    world.run()

    replanned = backfill(world)
    reset = ProgressStore(world.session.state_table).run_state(world.sync, ["approved", "withdrawn"])[3]
    world.ct.clock.advance(timedelta(hours=24))
    nightly = world.run()

    assert replanned.syncs["time"]["enqueued"] == 1 and replanned.netsuite_writes == [], replanned.syncs["time"]
    assert reset == set()
    assert nightly.syncs["time"]["enqueued"] == 0 and nightly.netsuite_writes == [], nightly.syncs["time"]
