"""Review of 2ef99d5 (README "second finance review": "a blocked correction counted the whole sheet, though NetSuite
holds the bills or the report of its earlier approval"): the fix nets a blocked sheet's figure against what NetSuite
holds (`_left_out_hours`, `blocked_spent`) only when the sheet is read and planned. A correction ClickTime sends
unreadable (one row the product refuses: a dead letter, `left out as a blocked sheet's is`) is still counted whole,
by its DayTotals or TotalAmount, while the note beside it says NetSuite keeps its earlier approval's bills/report.

Fixed (2026-12-04; the test failed before): README, "second finance review", the second review of its diff.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ctns.report import left_out
from tests.e2e.test_expense_export_review import World as ExpenseWorld
from tests.e2e.test_time_export_review import WEEK
from tests.e2e.test_time_export_review import World as TimeWorld

pytestmark = pytest.mark.e2e


def test_an_unreadable_time_correction_leaves_out_only_what_netsuite_does_not_hold(open_session):
    world = TimeWorld(open_session())
    sheet = world.sheet()
    world.entry(sheet, WEEK, "8")
    world.approve(sheet)
    world.run()
    assert world.reconcile().ok

    def correct() -> None:
        odd = world.entry(sheet, WEEK + timedelta(days=1), "2")
        world.ct.store.time_entries[odd]["Date"] = "20261103"  # ClickTime sends one entry the product refuses

    world.reapprove(sheet, correct)
    world.run()

    result = world.reconcile().as_report()

    assert Decimal(result["totals"]["blocked"].removesuffix(" h")) == Decimal(2), (
        f"ctns reconcile says {left_out(result)!r} not in NetSuite; NetSuite holds the 8 h of {WEEK} "
        f"({result['totals']['netsuite_of_blocked_sheets']}): {result['notes']}"
    )


def test_an_unreadable_expense_correction_leaves_out_only_what_the_held_report_does_not_hold(open_session):
    world = ExpenseWorld(open_session())
    sheet, _, report = world.exported_sheet("42.50")
    assert world.reconcile().ok

    def correct() -> None:
        odd = world.item(sheet, "10.00")
        world.ct.store.expense_items[odd]["ExpenseDate"] = "20261110"  # ClickTime sends one item the product refuses

    world.approved_again(sheet, correct)
    world.run()
    assert world.report(sheet)["id"] == report["id"]

    result = world.reconcile().as_report()

    assert result["totals"]["blocked"] == "10.00 USD", (
        f"ctns reconcile says {left_out(result)!r} left out; NetSuite holds report {report['id']} (42.50 USD): "
        f"{result['notes']}"
    )
