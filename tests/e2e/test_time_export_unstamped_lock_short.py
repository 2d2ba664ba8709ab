"""Found by a second review of the 2026-12-02 changes, fixed since (the test failed before the fix): the fix (`_unapproved_edit`) takes any difference between the plan and the bills' mappings for an edit made while
un-approved. ClickTime's Reports/Time hiding rows (the integration user's rights: the `clicktime-time-report-short`
cause) makes exactly such a difference without anybody touching the sheet, and the whole approved sheet is withdrawn."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.test_time_export_review import WEEK, World, minutes  # noqa: F401

pytestmark = pytest.mark.e2e


def unstamped_sheet(world, hours=("6", "2.5")):
    world.run()  # a first night: the watermark is set
    world.ct.clock.advance(timedelta(hours=3))
    sheet = world.sheet()
    entries = [world.entry(sheet, WEEK + timedelta(days=i), h) for i, h in enumerate(hours)]
    world.approve(sheet)
    world.ct.store.timesheets[sheet]["ApprovedDate"] = None  # ClickTime leaves the verbose stamp out
    return sheet, entries


def test_a_locked_unstamped_sheet_whose_report_turns_short_keeps_its_approved_bills(world, monkeypatch):
    from ctsync.clicktime.client import ClickTimeClient

    sheet, (seen, hidden) = unstamped_sheet(world)
    world.ct.clock.advance(timedelta(hours=12))
    world.run()
    assert minutes(world.bill(seen)) == 360 and minutes(world.bill(hidden)) == 150

    report = ClickTimeClient.time_report
    # the integration user loses the right to see one job's time: the report leaves a row out, the sheet is whole
    monkeypatch.setattr(
        ClickTimeClient, "time_report", lambda self, **f: [r for r in report(self, **f) if r.ID != hidden]
    )
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "Lock")  # payroll lock; nobody un-approved or edited anything
    world.ct.clock.advance(timedelta(hours=12))
    result = world.run()

    left = [e for e in (seen, hidden) if world.bill(e) is None]
    assert not left, (
        f"timesheet {sheet} was approved (no ApprovedDate), exported and locked for payroll, never edited; "
        f"ClickTime's report merely hid one row, and the run deleted time bill(s) of entries {left} from NetSuite "
        f"as if the sheet had been un-approved ({result.counts('time')})"
    )


def test_the_documented_fix_for_a_short_report_does_not_delete_an_unstamped_locked_sheet(world, monkeypatch):
    from ctsync.clicktime.client import ClickTimeClient
    from tests.e2e.test_frozen_then_released import backfill

    sheet, (seen, unseen) = unstamped_sheet(world)
    report = ClickTimeClient.time_report
    monkeypatch.setattr(
        ClickTimeClient, "time_report", lambda self, **f: [r for r in report(self, **f) if r.ID != unseen]
    )
    world.ct.clock.advance(timedelta(hours=12))
    world.run()  # exported short, flagged clicktime-time-report-short
    assert minutes(world.bill(seen)) == 360 and world.bill(unseen) is None
    assert any(c.key == "clicktime-time-report-short" for c in world.causes())

    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "Lock")  # payroll lock
    world.ct.clock.advance(timedelta(hours=12))
    world.run()
    assert world.bill(seen) is not None

    # the operator follows the cause's fix: the report right given back, then `ctns backfill time --since ...`
    monkeypatch.setattr(ClickTimeClient, "time_report", report)
    world.ct.clock.advance(timedelta(hours=1))
    result = backfill(world)

    assert world.bill(seen) is not None and world.bill(unseen) is not None, (
        f"timesheet {sheet} (approved without a stamp, locked for payroll) was short in ClickTime's report; after the "
        f"fix `ctns errors` gives (report right restored, backfill) its approved 6:00 bill is "
        f"{'deleted' if world.bill(seen) is None else 'kept'} and the 2:30 it lacked "
        f"{'never exported' if world.bill(unseen) is None else 'exported'}: the backfill withdrew approved time "
        f"({result.counts('time')})"
    )
