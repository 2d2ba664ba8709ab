"""The expense side of a finance review's finding (2026-12-04, `test_review_fin_left_out_held.py` for time): a
sheet exported whole, then corrected with an item its plan refuses (an expense type mapped to no category), is
blocked; the
reconciliation left the whole sheet out, "approved, not in NetSuite", though NetSuite holds the report of its
earlier approval. Only what the correction adds beyond that report is left out (failed before: 52.50 USD)."""

from __future__ import annotations

import pytest

from ctns.report import left_out
from tests.e2e.badinput_seed import add_expense_type
from tests.e2e.test_expense_export_review import World  # noqa: F401

pytestmark = pytest.mark.e2e


def test_a_blocked_correction_leaves_out_only_what_the_held_report_does_not_hold(world):
    sheet, _, report = world.exported_sheet("42.50")
    add_expense_type(world.ct, "et-unmapped", "Parking", None)  # made in ClickTime, mapped to no category
    world.approved_again(sheet, lambda: world.item(sheet, "10.00", expense_type="et-unmapped"))
    world.run()
    assert [c.key for c in world.causes()], "the correction is blocked by a cause"
    assert world.report(sheet)["id"] == report["id"]

    result = world.reconcile().as_report()

    assert result["totals"]["blocked"] == "10.00 USD", (left_out(result), result["notes"])
    assert result["totals"]["netsuite_of_blocked_sheets"] == "42.50 USD"
    assert left_out(result) == "10.00 USD approved"
