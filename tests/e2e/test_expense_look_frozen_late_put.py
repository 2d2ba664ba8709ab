"""Found by a second review of the 2026-12-02 changes, fixed since (the test failed before the fix): the fix lets a look at a report NetSuite froze since (approved by accounting) settle without a word whenever
the last export's hash equals the plan. That hash is what the export WROTE, not what NetSuite HOLDS: the look exists
because a late PUT may have put older lines back, and here it did, before accounting approved the report."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from ctsync.records.expense_export import external_id
from tests.e2e.test_expense_accounting_approved import approve_in_netsuite
from tests.e2e.test_expense_export import REPORTS
from tests.e2e.test_expense_export_review import World, lines  # noqa: F401 - the module's world
from tests.e2e.test_expense_late_writes import after_the_wait, clock  # noqa: F401

pytestmark = pytest.mark.e2e


def test_a_look_at_a_report_a_late_put_reverted_and_accounting_approved_tells_finance(world, clock):  # noqa: F811
    sheet = world.sheet()
    item = world.item(sheet, "100.00")
    world.approve(sheet)
    world.ns.faults.inject("late", times=1, method="PUT", path=f"{REPORTS}eid:{external_id(sheet)}$")
    world.run()
    assert world.ns.faults.fired["late"] == 1

    # corrected in ClickTime to 150.00 and approved again: written
    world.reapprove(sheet, lambda: world.ct.edit_expense_item(item, Amount="150.00"))
    world.run()
    assert [line["amount"] for line in lines(world.report(sheet))] == [Decimal("150.00")]

    # NetSuite processes the first PUT only now: 100.00 is back; the accountant approves the report as it stands
    assert world.ns.process_held() == 1
    report = world.report(sheet)
    assert [line["amount"] for line in lines(report)] == [Decimal("100.00")]
    approve_in_netsuite(world, report["id"])

    after_the_wait(world.session, clock)
    look = world.run()  # the look the late write listed the sheet for
    after_the_wait(world.session, clock)
    world.ct.clock.advance(timedelta(hours=12))
    later = world.run()

    told = [c.reason for c in world.causes() if sheet in c.blocked]
    amounts = [line["amount"] for line in lines(world.report(sheet))]
    assert told, (
        f"expense sheet {sheet} is approved at 150.00; its report {report['id']} holds {amounts} (a late PUT of the "
        f"first approval) and is approved by accounting for payment; the look settled it without a word "
        f"({look.counts('expenses')}, then {later.counts('expenses')}): `ctns errors` is empty, the employee is "
        f"reimbursed 50.00 short (only `ctns reconcile` {'says so' if not world.reconcile().ok else 'would tell, and it does not'})"
    )
