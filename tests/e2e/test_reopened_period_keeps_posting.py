"""Finance review (2026-12-04, reviewer "fin"): a month reopened after the export moved work out of it. The
first three tests are the reviewer's and failed before the fix (`ExpenseExport._dates`, `TimeExport._kept_date`);
the last two pin the rest of the rule.

Under `accounting.on_closed_period = next_open_period`, an expense sheet dated in a closed October is posted to
November (its memo and the run's notes say so). Later finance reopens October (an audit adjustment, a late
accrual). Nothing changes in ClickTime. The reconciliation planned the report into October and reported the
November report, exactly as exported, as a difference ("posts to period Nov in NetSuite, Oct planned"), and the
sheet's next approval (a correction of any line) silently moved the already-posted report back from November into
October: a posting moved between two months' books with no flag and no note, although the README promises that
"a report stays in the period it was posted to". A time bill moved to Dec 1 out of a closed November went back
onto its November day the same way.

The rule: a record posted elsewhere by `on_closed_period` keeps the period (a bill: the date) it was posted to while
its own date's period is the one it was moved out of, closed or open now; a date moved to another period is placed
by the usual rule (open: its own period; closed: the policy, as a first export).

Built on the World of tests/e2e/test_expense_export_review.py (expenses) and test_time_export_review.py (time).
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


SEPTEMBER_DAY = date(2026, 9, 20)


def redate(world, sheet, day):
    def edit() -> None:
        with world.ct.store.lock:
            world.ct.store.expense_sheets[sheet]["ExpenseSheetDate"] = day.isoformat()
        for item in world.ct.items_of(sheet):
            world.ct.edit_expense_item(item["ID"], ExpenseDate=day.isoformat())

    return edit


def test_a_report_stays_while_redated_inside_the_reopened_month_and_moves_when_redated_out_of_it(world_factory):
    world, sheet, _, _ = exported_into_november(world_factory)
    world.ns.reopen_period(OCTOBER_DAY)

    world.approved_again(sheet, redate(world, sheet, OCTOBER_DAY + timedelta(days=5)))  # still October
    result = world.run()
    now = world.report(sheet)
    assert now["tranDate"] == "2026-10-25" and period_name(world, now) == "Nov 2026", now
    assert "open again" in world.said(result), world.said(result)
    assert world.reconcile().ok

    world.ct.clock.advance(timedelta(days=1))
    world.approved_again(sheet, redate(world, sheet, SEPTEMBER_DAY))  # another (open) period: its own
    world.run()
    now = world.report(sheet)
    assert now["tranDate"] == SEPTEMBER_DAY.isoformat() and period_name(world, now) == "Sep 2026", now
    result = world.reconcile()
    assert result.ok, [(c.name, c.differences) for c in result.checks if not c.ok]


def test_a_time_bill_stays_while_redated_inside_the_reopened_month_and_moves_when_redated_out_of_it(open_session):
    from tests.e2e.test_time_export_review import World as TimeWorld
    from tests.e2e.test_time_export_review import reconcile

    world = TimeWorld(open_session({"accounting": {"on_closed_period": "next_open_period"}}))
    world.ns.closed_period_blocks_time = False
    october = date(2026, 10, 15)
    world.ns.close_period(october)  # October closed: Oct 30 goes to Nov 1
    sheet = world.sheet(date(2026, 10, 26))  # a week spanning October and November
    entry = world.entry(sheet, date(2026, 10, 30), "2")
    world.approve(sheet)
    world.run()
    assert world.bill(entry)["tranDate"] == "2026-11-01"
    world.ns.reopen_period(october)

    def redated(day: str) -> dict:
        world.reapprove(sheet, lambda: world.ct.edit_time_entry(entry, Date=day))
        world.ct.clock.advance(timedelta(hours=1))
        world.run()
        return world.bill(entry)

    bill = redated("2026-10-29")  # still October, open again: the bill stays on Nov 1
    assert bill["tranDate"] == "2026-11-01" and "worked 2026-10-29" in bill["memo"], bill
    recon = reconcile(world)
    assert recon.ok, [(c.name, c.differences) for c in recon.checks if not c.ok]

    world.ns.close_period(october)  # closed again: still the period it was moved out of
    bill = redated("2026-10-31")
    assert bill["tranDate"] == "2026-11-01" and "worked 2026-10-31" in bill["memo"], bill

    bill = redated("2026-11-01")  # out of October: its own day, no note
    assert bill["tranDate"] == "2026-11-01" and "worked" not in bill["memo"], bill
    recon = reconcile(world)
    assert recon.ok, [(c.name, c.differences) for c in recon.checks if not c.ok]
