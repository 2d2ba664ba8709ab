"""The expense export's side of an open defect left by the third reviews (2026-12-02): a blocked expense sheet (an
expense type with no NetSuite category) rejected, un-approved or deleted since stayed under its cause for good, as a
blocked timesheet did (tests/e2e/test_time_export_withdrawn_causes.py). Each test but the control failed before its
fix.

Built on the World of tests/e2e/test_expense_export_review.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.test_expense_export_review import World  # noqa: F401

pytestmark = pytest.mark.e2e


def plan_step(world, sheet):
    """What `ctns plan` says of the sheet, or None: it is not in the plan."""
    from ctns.plan import plan_sync

    runtime = world.session.runtime()
    return {s.source_id: s for s in plan_sync("expenses", runtime, runtime.config).steps}.get(sheet)


def gifts(world) -> str:
    """The seeded ClickTime expense type with no NetSuite expense category: its items block their sheet."""
    return {t["Name"]: t["ID"] for t in world.ct.store.expense_types.values()}["Client Gifts"]


def unmapped_causes(world, sheet: str) -> list:
    return [c for c in world.causes() if c.key.startswith("expense-type-unmapped") and sheet in c.blocked]


def blocked_sheet(world) -> str:
    """A sheet of one Client Gifts item, approved and blocked by the night's run."""
    sheet = world.sheet()
    world.item(sheet, "75.00", expense_type=gifts(world), description="Wine for the client")
    world.approve(sheet)
    world.run()
    assert world.report(sheet) is None and unmapped_causes(world, sheet)
    return sheet


@pytest.mark.parametrize("actions", [("UndoApproval",), ("UndoApproval", "Reject")], ids=["unapproved", "rejected"])
def test_a_blocked_expense_sheet_withdrawn_since_leaves_its_cause(world, actions):
    sheet = blocked_sheet(world)
    world.ct.clock.advance(timedelta(hours=2))
    for action in actions:
        world.act(sheet, action)

    step = plan_step(world, sheet)
    result = world.run()

    assert unmapped_causes(world, sheet) == [], (
        f"expense sheet {sheet} is {world.ct.store.expense_sheets[sheet]['Status']} in ClickTime (nothing to "
        f"export), yet `ctns errors` still lists it: {[(c.key, c.blocked) for c in unmapped_causes(world, sheet)]} "
        f"(counts {result.counts('expenses')})"
    )
    assert step is not None and step.action == "skip" and not result.netsuite_writes, step


def test_a_blocked_expense_sheet_deleted_since_leaves_its_cause(world):
    sheet = blocked_sheet(world)
    world.ct.clock.advance(timedelta(hours=2))
    with world.ct.store.lock:
        del world.ct.store.expense_sheets[sheet]

    world.run()

    assert unmapped_causes(world, sheet) == [], f"expense sheet {sheet} is deleted, yet still under its cause"


def test_an_expense_sheet_withdrawn_whole_then_blocked_and_withdrawn_again_leaves_its_cause(world):
    sheet, _item, _report = world.exported_sheet()
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")
    world.run()
    assert world.report(sheet) is None  # its report left NetSuite
    world.item(sheet, "75.00", expense_type=gifts(world), description="Wine for the client")
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "Approve")  # approved again, with an item that blocks it
    world.run()
    assert unmapped_causes(world, sheet) and world.report(sheet) is None
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")

    world.run()

    assert unmapped_causes(world, sheet) == [], (
        f"expense sheet {sheet} (no report in NetSuite) un-approved again, still under its cause"
    )


def test_a_blocked_expense_sheet_withdrawn_then_approved_again_still_blocked_is_told_again(world):
    sheet = blocked_sheet(world)
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")
    world.run()
    assert unmapped_causes(world, sheet) == []
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "Approve")

    world.run()

    assert world.report(sheet) is None and unmapped_causes(world, sheet), (
        f"expense sheet {sheet} approved again, still with its Client Gifts item, is listed by no cause: "
        f"{[(c.key, c.blocked) for c in world.causes()]}"
    )


# control: a sheet whose report is in NetSuite, blocked on its re-approval, then un-approved (passed before the fix)
def test_an_exported_expense_sheet_blocked_on_its_reapproval_then_withdrawn_leaves_its_cause(world):
    sheet, _item, _report = world.exported_sheet()
    world.reapprove(sheet, edit=lambda: world.item(sheet, "75.00", expense_type=gifts(world)))
    world.run()
    assert unmapped_causes(world, sheet) and world.report(sheet) is not None
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")

    world.run()

    assert world.report(sheet) is None and unmapped_causes(world, sheet) == []
