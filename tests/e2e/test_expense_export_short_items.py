"""An expense sheet whose item list ClickTime returns short (money review, 2026-12-03 evening).

ClickTime returns only the items its API user may see. Nothing compared the items read with the sheet's own figures
(`TotalAmount`, `ExpenseItemCount`): a sheet of 40.00 and 60.00 whose 60.00 the integration user cannot see was
exported as a report of 40.00, without a word, and the reconciliation said ok at 40.00 on both sides; approved again
while the read returned no items, its report was deleted as an emptied sheet's. Now such a sheet is blocked (cause
`clicktime-expense-items-short`), nothing is written, and the report in NetSuite stays as it is. The first two tests
failed before the fix; the third is a control (a sheet whose items add up), which passed before too.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.e2e.test_expense_empty_sheets import plan_steps
from tests.e2e.test_expense_export_review import lines
from tests.e2e.test_frozen_then_released import backfill

pytestmark = pytest.mark.e2e

SHORT = "clicktime-expense-items-short"


def hide(monkeypatch, hidden: set[str] | None = None) -> None:
    """ClickTime's item list leaves out `hidden` (all items when None), as for a user who may not see them."""
    from ctsync.clicktime.client import ClickTimeClient

    read = ClickTimeClient.expense_items

    def seen(self, **filters):
        return [] if hidden is None else [i for i in read(self, **filters) if i.ID not in hidden]

    monkeypatch.setattr(ClickTimeClient, "expense_items", seen)


def short_causes(world) -> list:
    return [c for c in world.causes() if c.key == SHORT]


def test_a_sheet_whose_item_list_comes_back_short_is_blocked_and_nothing_is_written(expense_world, monkeypatch):
    world = expense_world
    sheet = world.sheet()
    world.item(sheet, "40.00")
    unseen = world.item(sheet, "60.00")
    hide(monkeypatch, {unseen})
    world.approve(sheet)

    result = world.run()

    assert world.report(sheet) is None, f"exported short: {[line['amount'] for line in lines(world.report(sheet))]}"
    assert not [w for w in result.netsuite_writes if "expenseReport" in w.path], result.netsuite_writes
    (cause,) = short_causes(world)
    assert sheet in cause.blocked, cause
    for said in (f"expense sheet {sheet}", "2 item(s)", "100.00", "1 item(s)", "40.00"):
        assert said in cause.reason, (said, cause.reason)
    assert "integration" in cause.fix and "see" in cause.fix, cause.fix
    reconciliation = world.reconcile()
    assert any(sheet in note and "is blocked" in note for note in reconciliation.notes), reconciliation.notes
    assert reconciliation.totals["clicktime_approved"] == "none", reconciliation.totals
    monkeypatch.undo()  # the integration user may see every item again: a backfill, as the fix says, completes it
    backfill(world)
    assert sorted(line["amount"] for line in lines(world.report(sheet))) == [Decimal("40.00"), Decimal("60.00")]
    assert short_causes(world) == []


def test_an_empty_item_read_on_reapproval_keeps_the_report(expense_world, monkeypatch):
    world = expense_world
    sheet = world.sheet()
    first = world.item(sheet, "40.00")
    world.item(sheet, "60.00")
    world.approve(sheet)
    world.run()
    report = world.report(sheet)
    assert sorted(line["amount"] for line in lines(report)) == [Decimal("40.00"), Decimal("60.00")]
    # Approved again unchanged; the integration user now sees none of its items: the sheet itself still says 2, 100.00
    hide(monkeypatch)
    world.reapprove(sheet)

    step = plan_steps(world)[sheet]
    assert step.action == "fail" and "2 item(s)" in step.detail, step  # not "delete"
    result = world.run()

    kept = world.report(sheet)
    assert kept is not None, f"report {report['id']} deleted on an empty read: {result.counts('expenses')}"
    assert sorted(line["amount"] for line in lines(kept)) == [Decimal("40.00"), Decimal("60.00")]
    assert [sorted(c.blocked) for c in short_causes(world)] == [[sheet]], [c.reason for c in world.causes()]
    notes = world.reconcile().notes
    assert any(sheet in note and "is blocked" in note and report["id"] in note for note in notes), notes
    # approved again with one item still hidden: a correction of one line is not written either
    monkeypatch.undo()
    hide(monkeypatch, {first})
    world.reapprove(sheet)
    world.run()
    assert sorted(line["amount"] for line in lines(world.report(sheet))) == [Decimal("40.00"), Decimal("60.00")]


def test_a_sheet_whose_items_add_up_is_exported(expense_world):
    world = expense_world
    sheet = world.sheet()
    world.item(sheet, "0.10")
    world.item(sheet, "0.20")
    refund = world.item(sheet, "25.00")
    world.ct.store.expense_items[refund]["Amount"] = Decimal("-25.005")  # a refund, to the tenth of a cent
    world.approve(sheet)

    world.run()

    report = world.report(sheet)
    assert report is not None and len(lines(report)) == 3, world.causes()
    assert short_causes(world) == []
