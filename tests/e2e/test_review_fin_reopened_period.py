"""Finance review (2026-12-04, reviewer "fin"): a month reopened after the export moved work out of it.

Under `accounting.on_closed_period = next_open_period`, an expense sheet dated in a closed October is posted to
November (its memo and the run's notes say so). Later finance reopens October (an audit adjustment, a late
accrual). Nothing changes in ClickTime. The reconciliation then plans the report into October and reports the
November report, exactly as exported, as a difference ("posts to period Nov in NetSuite, Oct planned"), and the
sheet's next approval (a correction of any line) silently moves the already-posted report back from November into
October: a posting moved between two months' books with no flag and no note, although the README promises that
"a report stays in the period it was posted to".

Built on the World of tests/e2e/test_expense_export_review.py.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.e2e.test_expense_export_review import World, lines  # noqa: F401

pytestmark = pytest.mark.e2e

OCTOBER_DAY = date(2026, 10, 20)


def period_name(world, report) -> str:
    return world.ns.records.get("accountingPeriod", report["postingPeriod"]["id"])["periodName"]


def exported_into_november(world_factory):
    world = world_factory({"accounting": {"on_closed_period": "next_open_period"}})
    world.ns.close_period(OCTOBER_DAY)
    sheet = world.sheet(OCTOBER_DAY, "October trip")
    item = world.item(sheet, "250.00", day=OCTOBER_DAY)
    world.approve(sheet)
    world.run()
    report = world.report(sheet)
    assert period_name(world, report) == "Nov 2026", report
    assert world.reconcile().ok
    return world, sheet, item, report


def test_reopening_the_closed_month_is_not_a_difference_in_the_reconciliation(world_factory):
    world, sheet, _, report = exported_into_november(world_factory)

    world.ns.reopen_period(OCTOBER_DAY)  # finance reopens October; nothing changes in ClickTime or on the report

    result = world.reconcile()
    assert result.ok, [(c.name, c.differences) for c in result.checks if not c.ok]


def test_a_report_posted_to_the_next_open_period_stays_there_when_the_closed_month_is_reopened(world_factory):
    world, sheet, item, report = exported_into_november(world_factory)
    world.ns.reopen_period(OCTOBER_DAY)
    extra = []
    world.approved_again(sheet, lambda: extra.append(world.item(sheet, "12.00", day=OCTOBER_DAY)))  # a line added

    result = world.run()

    now = world.report(sheet)
    said = world.said(result)
    assert len(lines(now)) == 2  # the correction went through
    assert period_name(world, now) == "Nov 2026", (
        f"report {now['id']}, posted to Nov 2026 by the first export, was moved into {period_name(world, now)} by a "
        "correction of another line; the run said: " + repr(said)
    )


def test_a_time_bill_posted_to_the_next_open_period_stays_there_when_the_closed_month_is_reopened(open_session):
    """The same for a time bill: moved to Dec 1 out of a closed November, back onto its November day by a correction
    of another entry of the sheet once November is reopened (README: "a bill moved out of a closed period went back
    into it when its sheet was approved again" is listed as fixed)."""
    from decimal import Decimal

    from tests.e2e.test_time_export_review import WEEK, minutes
    from tests.e2e.test_time_export_review import World as TimeWorld

    world = TimeWorld(open_session({"accounting": {"on_closed_period": "next_open_period"}}))
    world.ns.close_period(WEEK)  # November closed: the sheet's time goes to Dec 1
    sheet = world.sheet()
    moved = world.entry(sheet, WEEK, "2")
    other = world.entry(sheet, WEEK + timedelta(days=1), "1")
    world.approve(sheet)
    world.run()
    assert world.bill(moved)["tranDate"] == "2026-12-01"
    world.ns.reopen_period(WEEK)

    world.reapprove(sheet, lambda: world.ct.edit_time_entry(other, Hours=Decimal("1.25")))  # another entry corrected
    world.run()

    assert minutes(world.bill(other)) == 75
    assert world.bill(moved)["tranDate"] == "2026-12-01", (
        f"the bill posted to Dec 1 was moved back to {world.bill(moved)['tranDate']} by a correction of another entry"
    )
