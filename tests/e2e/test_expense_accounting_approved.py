"""A report accounting approved in NetSuite is what A/P pays: a later ClickTime correction or un-approval does not
change or delete it behind their back; it is flagged with the reason (the cause `expense-report-frozen`, as a paid
report or one in a closed period is). When the export sets `accountingapproval` itself (`expenses.approval`), every
report it writes is approved by accounting, so that status is its own and the report follows ClickTime as before.

End to end through the local runner on the seeded simulators; the sheets are built by hand (`World` of the
expense review).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.e2e.test_expense_export_review import World  # noqa: F401 - the `world` fixture builds this module's World

pytestmark = pytest.mark.e2e


def amounts(report) -> list[Decimal]:
    return [line["amount"] for line in report["expense"]["items"]]


def approve_in_netsuite(world, report_id: str, status: str = "F") -> None:
    """The accountant approves the report in NetSuite (an administrator's write, not the integration's): F
    Approved by Accounting, G Approved (Overridden) by Accounting."""
    world.ns.records.update(
        "expenseReport", report_id, {"supervisorapproval": True, "accountingapproval": True, "status": {"id": status}}
    )


@pytest.mark.parametrize("status", ["F", "G"])
def test_a_correction_does_not_change_a_report_accounting_approved_in_netsuite(world, status):
    sheet, item, report = world.exported_sheet()
    approve_in_netsuite(world, report["id"], status)

    world.reapprove(sheet, edit=lambda: world.ct.edit_expense_item(item, Amount="50.00"))
    result = world.run()

    assert amounts(world.report(sheet)) == [Decimal("42.50")]
    assert not [w for w in result.netsuite_writes if "expenseReport" in w.path]
    (cause,) = [c for c in world.causes() if c.key == "expense-report-frozen"]
    assert "approved by accounting" in cause.reason and report["id"] in cause.reason and sheet in cause.blocked
    assert not world.reconcile().ok  # ClickTime says 50.00, NetSuite 42.50: finance sees it


def test_an_un_approval_does_not_delete_a_report_accounting_approved_in_netsuite(world):
    sheet, _, report = world.exported_sheet()
    approve_in_netsuite(world, report["id"])

    world.act(sheet, "UndoApproval")
    world.run()

    assert world.report(sheet) is not None and amounts(world.report(sheet)) == [Decimal("42.50")]
    assert any("approved by accounting" in c.reason for c in world.causes() if c.key == "expense-report-frozen")


def test_a_report_the_export_itself_approves_for_accounting_follows_clicktime(world_factory):
    world = world_factory({"expenses": {"approval": {"accountingapproval": True}}})
    sheet, item, report = world.exported_sheet()
    assert report["status"]["id"] == "F"

    world.reapprove(sheet, edit=lambda: world.ct.edit_expense_item(item, Amount="50.00"))
    world.run()

    assert amounts(world.report(sheet)) == [Decimal("50.00")]
    assert not [c for c in world.causes() if c.key == "expense-report-frozen"]
    assert world.reconcile().ok


def test_an_emptied_sheet_does_not_delete_a_report_accounting_approved_in_netsuite(world):
    sheet, item, report = world.exported_sheet()
    approve_in_netsuite(world, report["id"], "G")

    world.reapprove(sheet, edit=lambda: world.ct.delete_expense_item(item))
    world.run()

    assert amounts(world.report(sheet)) == [Decimal("42.50")]
    (cause,) = [c for c in world.causes() if c.key == "expense-report-frozen"]
    assert "approved with no items" in cause.reason and "approved by accounting" in cause.reason
