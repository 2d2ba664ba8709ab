"""Found by a second review of the 2026-12-02 changes, fixed since (the test failed before the fix): the fix compares the plan with the bills' MAPPINGS. A bill NetSuite holds back (billed) keeps its old minutes in
its mapping after an approved correction (flagged "not changed", as designed), so the plan never matches again: once
payroll locks the stamp-less sheet, the run takes it for un-approved and deletes its other, approved, bills."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.e2e.test_time_export_review import WEEK, World, minutes  # noqa: F401

pytestmark = pytest.mark.e2e


def unstamp(world, sheet):
    world.ct.store.timesheets[sheet]["ApprovedDate"] = None  # ClickTime leaves the verbose stamp out


def test_a_locked_unstamped_sheet_with_a_billed_bill_keeps_its_corrected_approved_bills(world):
    world.run()  # a first night: the watermark is set
    world.ct.clock.advance(timedelta(hours=3))
    sheet = world.sheet()
    billed = world.entry(sheet, WEEK, "8")
    other = world.entry(sheet, WEEK + timedelta(days=1), "4")
    world.approve(sheet)
    unstamp(world, sheet)
    world.ct.clock.advance(timedelta(hours=12))
    world.run()
    world.ns.mark_time_billed(world.bill(billed)["id"])  # invoiced to the client

    # a correction, approved (again without a stamp): Monday 9 h, Tuesday 5 h
    def correct() -> None:
        world.ct.edit_time_entry(billed, Hours=Decimal("9"))
        world.ct.edit_time_entry(other, Hours=Decimal("5"))

    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")  # un-approved for the correction: the night's run withdraws (billed: kept)
    world.ct.clock.advance(timedelta(hours=12))
    world.run()
    correct()
    world.act(sheet, "Approve")
    unstamp(world, sheet)
    world.ct.clock.advance(timedelta(hours=12))
    world.run()
    assert minutes(world.bill(other)) == 300 and minutes(world.bill(billed)) == 480  # the billed one flagged

    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "Lock")  # payroll lock of the approved sheet
    world.ct.clock.advance(timedelta(hours=12))
    result = world.run()

    assert world.bill(other) is not None, (
        f"timesheet {sheet}: its correction (Tuesday 5:00) was approved and exported, then payroll locked the sheet; "
        f"because Monday's bill is billed (and so still 8:00 in NetSuite), the run took the lock for an un-approval "
        f"and DELETED Tuesday's approved 5:00 bill ({result.counts('time')})"
    )
