"""Finance review (2026-12-04), the expense side of tests/e2e/test_reconcile_unreadable_and_short_sheets.py: an
approved expense sheet ClickTime sends unreadable (one item the product refuses) is a dead letter, not in NetSuite;
the reconciliation named it only in a note and `ctns reconcile expenses` left it out of `left_out` (exit 0). Its
amount by the sheet's own TotalAmount is counted as left out, as a blocked sheet's is; without a TotalAmount the
sheet is named as of unknown amount."""

from __future__ import annotations

import pytest

from ctns.report import left_out
from tests.e2e.test_expense_export_review import World  # noqa: F401

pytestmark = pytest.mark.e2e


def _unreadable_sheet(world) -> str:
    good = world.sheet()
    world.item(good, "42.50")
    world.approve(good)
    bad = world.sheet(title="Conference")
    odd = world.item(bad, "19.90")
    world.item(bad, "100.00")
    world.approve(bad)
    world.ct.store.expense_items[odd]["ExpenseDate"] = "20261110"  # ClickTime sends one item the product refuses
    world.run()
    assert world.report(good) is not None and world.report(bad) is None
    return bad


def test_reconcile_counts_an_unreadable_expense_sheet_as_left_out(world):
    bad = _unreadable_sheet(world)

    result = world.reconcile().as_report()

    assert result["ok"], result  # what was compared agrees
    assert result["totals"]["blocked"] == "119.90 USD" and result["totals"]["blocked_unknown"] == "none", result
    assert left_out(result) == "119.90 USD approved"
    assert any(
        n.startswith(f"expense sheet {bad} (119.90 USD by its TotalAmount) cannot be read") for n in result["notes"]
    )


def test_reconcile_names_an_unreadable_expense_sheet_without_its_total(world, monkeypatch):
    from ctsync.records.clicktime_source import ApprovedSheetSource

    bad = _unreadable_sheet(world)
    listed = ApprovedSheetSource.approved_sheets  # a sheet without its TotalAmount: its amount is unknown
    monkeypatch.setattr(
        ApprovedSheetSource,
        "approved_sheets",
        lambda self, window: [{k: v for k, v in s.items() if k != "TotalAmount"} for s in listed(self, window)],
    )

    result = world.reconcile().as_report()

    unknown = f"expense sheet {bad} (amount unknown: the sheet cannot be read)"
    assert result["totals"]["blocked_unknown"] == unknown, result
    assert left_out(result) == unknown
