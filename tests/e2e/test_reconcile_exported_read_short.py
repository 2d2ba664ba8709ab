"""Review of 2026-12-04's "a sheet exported whole before what its plan finds now is compared, not left out"
(`reconcile_expenses`, `exported_as_approved`). The rule takes any problem of the plan for "its employee left, its
category was retired", also one about the read itself: ClickTime returning a sheet's items short (the integration
user may not see one, `clicktime-expense-items-short`). A sheet exported whole, unchanged since, whose item list the
reconciliation reads short is now "compared as NetSuite holds it" on the items read: its 60.00 USD not read is told
as a difference, NetSuite holding 60.00 USD more than ClickTime approved, where it was left out as not read (and the
export, reading the same, blocks the sheet and changes nothing).

Fixed (2026-12-04; the test failed before): README, "second finance review", the review of its diff.
"""

from __future__ import annotations

import pytest

from ctns.report import left_out
from tests.e2e.test_expense_export_review import World  # noqa: F401
from tests.e2e.test_expense_export_short_items import hide

pytestmark = pytest.mark.e2e


def test_an_exported_sheet_read_short_is_not_a_difference_of_netsuite(world, monkeypatch):
    sheet = world.sheet()
    world.item(sheet, "40.00")
    unseen = world.item(sheet, "60.00")
    world.approve(sheet)
    world.run()
    assert world.reconcile().ok
    hide(monkeypatch, {unseen})  # the integration user no longer sees one item: nothing changed in either system

    result = world.reconcile().as_report()

    amounts = next(c for c in result["checks"] if c["name"].startswith("amounts per employee"))
    assert amounts["ok"], (
        f"the report NetSuite holds as approved is told as a difference: {amounts['differences']}; left out: "
        f"{left_out(result)!r}; notes: {result['notes']}"
    )
