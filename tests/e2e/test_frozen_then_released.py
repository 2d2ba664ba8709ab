"""A ClickTime correction NetSuite would not take (a report approved by accounting, a time bill in a closed period)
is flagged, not lost: once NetSuite lets it (accounting rejects the report back to A/P, the period is reopened), a
backfill over the approval applies it. Before, the sheet's mapping kept the approval's fingerprint as if it were in
NetSuite, so every later run and every backfill held it as done, and the correction never arrived (only ClickTime
approving the sheet once more would have sent it).

The flag is still raised once: the run right after, whose overlap reads the same approval again, does not flag it a
second time.

End to end through the local runner on the seeded simulators (the sheets built by hand, `World` of each export's
review); the backfill is what `ctns backfill` does: every watermark of the sync set back, then a run.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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


@pytest.fixture
def time_world(open_session):
    from tests.e2e.test_time_export_review import World as TimeWorld

    return TimeWorld(open_session())


def test_a_time_correction_held_back_by_a_closed_period_goes_through_once_the_period_is_reopened(time_world):
    from tests.e2e.test_time_export_review import WEEK, minutes

    world = time_world
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "2")
    world.approve(sheet)
    world.run()
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
