"""An expense report a person deleted in NetSuite after its period closed is made anew as a first export would be.

The sheet of Nov 10 is exported (its report posted to November), a person deletes the report in NetSuite, November
closes, and the sheet is approved again (what the reconciliation tells the operator to do). The export kept the
report's old posting period (the sheet's mapping says it was posted to November) and wrote the report anew into
closed November: NetSuite refused it and the sheet was dead-lettered under `period-closed`, under
`accounting.on_closed_period = next_open_period` too, where a first export posts to the next open period. A report
made anew is a first export: `fail` holds the sheet under a cause naming the period, `next_open_period` posts it to
December and says so in the memo. Both tests failed before the fix (`ExpenseExport._apply_locked` plans a report
kept in a closed period again as a first export when NetSuite no longer holds it).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from tests.e2e.test_expense_export_review import World, lines  # noqa: F401 - the module's world (world_factory)
from tests.e2e.test_expense_export_third_review import plan_steps

pytestmark = pytest.mark.e2e

NOVEMBER = date(2026, 11, 10)
DECEMBER = date(2026, 12, 1)


def _deleted_after_its_period_closed(world, correct_to: str | None = None):
    sheet = world.sheet(NOVEMBER, "November trip")
    item = world.item(sheet, "42.50", day=NOVEMBER)
    world.approve(sheet)
    world.run()
    report = world.report(sheet)
    assert report["postingPeriod"]["id"] == world.ns.accounting_period(NOVEMBER)["id"], report
    world.ns.records.delete("expenseReport", report["id"])  # a clean-up in NetSuite gone wrong
    world.ns.close_period(NOVEMBER)  # then November closes
    edit = (lambda: world.ct.edit_expense_item(item, Amount=correct_to)) if correct_to else (lambda: None)
    world.reapprove(sheet, edit)
    world.ct.clock.advance(timedelta(hours=1))
    return sheet


@pytest.mark.parametrize("correct_to", [None, "45.00"], ids=["unchanged", "corrected"])
def test_next_open_period_posts_a_report_made_anew_to_the_next_open_period(world_factory, correct_to):
    world = world_factory({"accounting": {"on_closed_period": "next_open_period"}})
    sheet = _deleted_after_its_period_closed(world, correct_to)

    step = plan_steps(world)[sheet]
    result = world.run()

    again = world.report(sheet)
    assert again is not None, (
        f"no report made anew; failures {result.failures}, causes {[(c.key, c.reason) for c in world.causes()]}"
    )
    assert again["postingPeriod"]["id"] == world.ns.accounting_period(DECEMBER)["id"], again["postingPeriod"]
    assert "period" in again["memo"] and "closed" in again["memo"], again["memo"]
    assert [line["amount"] for line in lines(again)] == [Decimal(correct_to or "42.50")]
    assert not result.failures and world.causes() == [], world.said(result)
    assert step.action == "update" and "deleted in NetSuite" in step.detail and "Dec" in step.detail, step
    recon = world.reconcile()
    assert recon.ok, [(c.name, c.differences[:3]) for c in recon.checks if not c.ok]
    world.reapprove(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    assert [w for w in world.run().netsuite_writes if w.method != "GET"] == []  # held as it is from then on


@pytest.mark.parametrize("correct_to", [None, "45.00"], ids=["unchanged", "corrected"])
def test_fail_holds_a_report_made_anew_into_a_closed_period_under_a_cause_naming_it(world_factory, correct_to):
    world = world_factory({"accounting": {"on_closed_period": "fail"}})
    sheet = _deleted_after_its_period_closed(world, correct_to)

    result = world.run()

    assert world.report(sheet) is None
    causes = [(c.key, c.reason, c.fix) for c in world.causes()]
    (cause,) = [c for c in causes if c[0].startswith("period-closed:")] or [None]
    assert cause is not None, causes
    assert "Nov 2026" in cause[0] or "nov" in cause[0].lower(), cause
    assert "next_open_period" in cause[2], cause
    # blocked by the export's own rule, not refused by NetSuite on a write
    assert [w for w in result.netsuite_writes if w.method != "GET" and "expensereport" in w.path.lower()] == []
