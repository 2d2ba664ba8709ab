"""Found by a review of the 2026-12-02 changes, fixed since (the test failed before the fix): with `expenses.on_unapproved = flag`, the look at a sheet rejected since settles the doubt without
writing the report and without forgetting what NetSuite holds: the mapping keeps the hash of the corrected report
while a late PUT put the old lines back. Approved again unchanged, the sheet is "unchanged" and the report keeps the
old amount for good. (The time export clears the hash of a bill in doubt that stays: `_withdraw`, flag policy.)"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ctsync.records.expense_export import external_id
from tests.e2e.test_expense_export import REPORTS
from tests.e2e.test_expense_export_review import World, lines  # noqa: F401 - the module's world
from tests.e2e.test_expense_late_writes import after_the_wait, clock  # noqa: F401

pytestmark = pytest.mark.e2e


def test_a_late_put_over_a_kept_report_is_repaired_when_the_sheet_is_approved_again(world_factory, clock):  # noqa: F811
    world = world_factory({"expenses": {"on_unapproved": "flag"}})
    sheet = world.sheet()
    item = world.item(sheet, "100.00")
    world.approve(sheet)
    world.ns.faults.inject("late", times=1, method="PUT", path=f"{REPORTS}eid:{external_id(sheet)}$")
    world.run()
    assert world.ns.faults.fired["late"] == 1

    # Corrected in ClickTime: 150.00, written
    world.reapprove(sheet, lambda: world.ct.edit_expense_item(item, Amount="150.00"))
    world.run()
    assert [line["amount"] for line in lines(world.report(sheet))] == [Decimal("150.00")]

    # Rejected: the report stays (policy: flag)
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "UndoApproval")
    world.run()

    # NetSuite processes the first PUT only now: 100.00 is back
    assert world.ns.process_held() == 1
    assert [line["amount"] for line in lines(world.report(sheet))] == [Decimal("100.00")]
    after_the_wait(world.session, clock)
    world.run()  # the look

    # Approved again, unchanged: 150.00 is what finance owes
    world.ct.clock.advance(timedelta(hours=2))
    world.act(sheet, "Approve")
    result = world.run()
    after_the_wait(world.session, clock)
    world.run()

    amounts = [line["amount"] for line in lines(world.report(sheet))]
    assert amounts == [Decimal("150.00")], (
        f"expense sheet {sheet} is approved at 150.00, but its report in NetSuite holds {amounts} (a late PUT of the "
        f"first approval) and the export calls it {result.counts('expenses')}: the employee is reimbursed 50.00 short"
    )
