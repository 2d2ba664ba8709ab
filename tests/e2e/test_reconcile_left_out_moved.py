"""Review of 2026-12-04's left-out figures of a blocked sheet (`_left_out_hours` in ctsync/reconcile/time.py, the
per-currency `blocked_spent` in ctsync/reconcile/expenses.py): what NetSuite holds of an earlier approval is taken
off entry by entry (time) or currency by currency (expenses), whatever day, project or period NetSuite holds it on.
A blocked correction that moves approved work (an entry re-dated to another day, an item moved to another project)
leaves that work out of NetSuite where it was approved, yet the reconciliation counts it as in NetSuite: nothing is
said left out, and the sync is headed a plain "OK" although the work is not in NetSuite as approved.

Fixed (2026-12-04; the test failed before): README, "second finance review", the review of its diff.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ctns.report import left_out
from tests.e2e.badinput_seed import add_expense_type
from tests.e2e.test_expense_export_review import World as ExpenseWorld
from tests.e2e.test_time_export_review import WEEK, unlinked_task
from tests.e2e.test_time_export_review import World as TimeWorld

pytestmark = pytest.mark.e2e


def test_a_blocked_correction_moving_an_entry_to_another_day_leaves_it_out(open_session):
    world = TimeWorld(open_session())
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "8")
    world.approve(sheet)
    world.run()
    assert world.bill(entry)["tranDate"] == WEEK.isoformat()
    assert world.reconcile().ok

    def correct() -> None:
        world.ct.edit_time_entry(entry, Date=(WEEK + timedelta(days=3)).isoformat())  # worked on Thursday, not Monday
        world.entry(sheet, WEEK + timedelta(days=1), "0.5", task=unlinked_task(world))  # blocks the sheet

    world.reapprove(sheet, correct)
    world.run()
    assert [c.key for c in world.causes() if c.key.startswith("task-unlinked")], [c.key for c in world.causes()]
    assert world.bill(entry)["tranDate"] == WEEK.isoformat()  # NetSuite keeps Monday's bill

    result = world.reconcile().as_report()

    blocked = Decimal(result["totals"]["blocked"].removesuffix(" h"))
    assert blocked == Decimal("8.5"), (
        f"ctns reconcile says {left_out(result)!r} not in NetSuite: the 8 h approved on {WEEK + timedelta(days=3)} "
        f"are in NetSuite only on {WEEK} (the earlier approval's bill), and are counted as in NetSuite"
    )


def test_a_blocked_correction_moving_an_item_to_another_project_leaves_it_out(open_session):
    world = ExpenseWorld(open_session())
    sheet, item, report = world.exported_sheet("42.50")
    assert world.reconcile().ok
    add_expense_type(world.ct, "et-unmapped", "Parking", None)  # mapped to no category: blocks the correction

    def correct() -> None:
        world.ct.edit_expense_item(item, JobID=world.job2)  # spent on the other project
        world.item(sheet, "0.00", expense_type="et-unmapped")

    world.approved_again(sheet, correct)
    world.run()
    assert [c.key for c in world.causes()], "the correction is blocked by a cause"
    assert world.report(sheet)["id"] == report["id"]

    result = world.reconcile().as_report()

    assert result["totals"]["blocked"] == "42.50 USD", (
        f"ctns reconcile says {left_out(result)!r} left out ({result['totals']}): the 42.50 USD approved on project "
        f"{world.project2} is in NetSuite only on project {world.project} (the earlier approval's report), counted as "
        "in NetSuite"
    )
