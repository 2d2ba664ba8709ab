"""`expenses.tran_date = approval` read a date-alone `ApprovedDate` as midnight UTC and moved it into
`netsuite.timezone` (America/Los_Angeles by default): the report was dated the day before the approval, and one
approved on the 1st posted into the month before. A stamp without a zone names its day as written; one with a zone
is an instant, dated in `netsuite.timezone`.

Found by a fresh review of the exports (2026-12-02, review 10); failed before the fix (`timeutil.day_named`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.test_expense_export_review import World  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    ("stamp", "day"),
    [
        ("2026-11-20", "2026-11-20"),
        ("2026-11-20T00:00:00", "2026-11-20"),
        ("2026-11-20T07:30:00", "2026-11-20"),  # a local time of a zone ClickTime does not say
        ("2026-11-20T00:00:00Z", "2026-11-20"),  # a day as its midnight reads the same all day (review 11)
        ("2026-11-20T00:00:00+00:00", "2026-11-20"),
        ("2026-11-20T07:30:00Z", "2026-11-19"),  # an instant: 23:30 on the 19th in America/Los_Angeles
        ("2026-11-20T07:30:00+01:00", "2026-11-19"),
    ],
)
def test_report_dated_by_approval_is_dated_the_day_clicktime_says_it_was_approved(world_factory, stamp, day):
    world = world_factory({"expenses": {"tran_date": "approval"}})
    sheet = world.sheet()
    world.item(sheet, "42.50")
    world.approve(sheet)
    # ClickTime gives the approval as a day (a date alone, or the day as its midnight, as .NET writes a date):
    # the product itself reads such a stamp as "a day, not an instant" (timeutil.same_all_day)
    world.ct.store.expense_sheets[sheet]["ApprovedDate"] = stamp
    world.ct.clock.advance(timedelta(hours=1))
    result = world.run()

    report = world.report(sheet)
    assert report is not None, result.failures
    assert report["tranDate"][:10] == day, (
        f"sheet approved with ApprovedDate {stamp!r}: its report is dated {report['tranDate']}, not {day} "
        "(netsuite.timezone America/Los_Angeles)"
    )


def test_a_sheet_without_the_date_its_report_is_dated_by_is_blocked_with_the_fix(world_factory):
    """Under `expenses.tran_date = approval` a sheet ClickTime lists as approved without its ApprovedDate is
    blocked (its report's date is unknown): the cause said so but not what to do (money review, 2026-12-03)."""
    world = world_factory({"expenses": {"tran_date": "approval"}})
    sheet = world.sheet()
    world.item(sheet, "42.50")
    world.approve(sheet)
    world.set_approved_date(sheet, None)
    world.ct.clock.advance(timedelta(hours=1))
    world.run()

    assert world.report(sheet) is None
    (cause,) = [c for c in world.causes() if c.key == "bad-input:approveddate"]
    assert sheet in cause.reason and "expenses.tran_date = approval" in cause.reason
    assert "approve it again in ClickTime" in cause.fix and "expenses.tran_date = sheet" in cause.fix
