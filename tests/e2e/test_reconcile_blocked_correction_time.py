"""Finance review (2026-12-04, reviewer "fin"): month end. A timesheet exported whole; its month closes; a
correction adds half an hour on a day of the closed month, and under `accounting.on_closed_period = fail` the sheet
is blocked (`period-closed`). `ctns reconcile time` then says the whole sheet is left out, "approved, not in
NetSuite" (exit 1), 8.5 h, although NetSuite holds 8 h of it, bill for bill as approved: only the 0.5 h added is
missing. Finance cannot tell from the closing line how much is really missing before they close the books.

Built on the World of tests/e2e/test_time_export_review.py.

Fixed (2026-12-04; the tests failed before): README, "second finance review".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ctns.report import left_out
from tests.e2e.test_time_export_review import World  # noqa: F401

pytestmark = pytest.mark.e2e

LAST_WEEK_OF_OCTOBER = date(2026, 10, 26)  # a Monday: the week runs into November


def test_a_blocked_correction_leaves_out_only_the_hours_netsuite_does_not_hold(world):
    sheet = world.sheet(LAST_WEEK_OF_OCTOBER)
    world.entry(sheet, date(2026, 10, 29), "8")
    world.approve(sheet)
    world.run()
    assert world.reconcile().ok
    world.ns.close_period(date(2026, 10, 29))  # October closes
    world.reapprove(sheet, lambda: world.entry(sheet, date(2026, 10, 30), "0.5"))  # a late correction
    world.run()
    assert [c.key for c in world.causes() if c.key.startswith("period-closed")], [c.key for c in world.causes()]

    result = world.reconcile().as_report()

    blocked = Decimal(result["totals"]["blocked"].removesuffix(" h"))
    assert blocked == Decimal("0.5"), (
        f"ctns reconcile: {left_out(result)!r}, 'approved, not in NetSuite', while NetSuite holds "
        f"{result['totals']['netsuite_of_blocked_sheets']} of the sheet as approved; only 0.5 h is missing"
    )
