"""Review of 2ef99d5 (`_left_out_hours` in ctsync/reconcile/time.py): a blocked timesheet's hours left out of
NetSuite sum every entry read, a negative one too (refused by the plan, `bad-input:hours`, never sent), so a
negative entry cancels hours that are not in NetSuite: the left-out figure and `ctns reconcile`'s headline drop them.

Fixed (2026-12-04; the test failed before): README, "second finance review", the second review of its diff.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ctns.report import left_out
from tests.e2e.test_time_export_review import WEEK, World, minutes, unlinked_task  # noqa: F401

pytestmark = pytest.mark.e2e


def blocked_hours(result) -> Decimal:
    return Decimal(result["totals"]["blocked"].removesuffix(" h"))


def test_a_negative_entry_of_a_blocked_sheet_does_not_hide_its_hours_not_in_netsuite(world_factory):
    """A blocked correction adds 3 h on a task NetSuite cannot take and an entry ClickTime returns with negative
    hours (`bad-input:hours`, never sent): the 3 h are not in NetSuite, but the negative entry is summed into the
    left-out figure and cancels them."""
    world = world_factory()
    sheet = world.sheet()
    world.entry(sheet, WEEK, "8")
    world.approve(sheet)
    world.run()
    assert world.reconcile().ok

    def correct() -> None:
        world.entry(sheet, WEEK + timedelta(days=1), "3", task=unlinked_task(world))
        e = world.entry(sheet, WEEK + timedelta(days=2), "1")
        world.ct.store.time_entries[e]["Hours"] = Decimal("-3")  # ClickTime returns negative hours

    world.reapprove(sheet, correct)
    world.run()
    assert {c.key.split(":")[0] for c in world.causes()} >= {"bad-input", "task-unlinked"}, world.causes()

    result = world.reconcile().as_report()

    assert blocked_hours(result) == Decimal(3), (
        f"ctns reconcile: {left_out(result)!r} left out; the 3 h on {WEEK + timedelta(days=1)} are not in NetSuite "
        f"({result['notes']})"
    )
