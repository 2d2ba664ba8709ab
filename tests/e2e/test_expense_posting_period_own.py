"""Found by a review of the 2026-12-02 changes, fixed since (the test failed before the fix): a report posted to its date's own (open) period, whose period then closes, under
`accounting.on_closed_period = next_open_period`."""

from __future__ import annotations

import pytest

from tests.e2e.test_expense_export_review import World  # noqa: F401 - the module's world (world_factory)
from tests.e2e.test_expense_export_third_review import plan_steps
from tests.e2e.test_expense_posting_period import NOVEMBER, OCTOBER

pytestmark = pytest.mark.e2e


def own_period_report(world_factory):
    world = world_factory({"accounting": {"on_closed_period": "next_open_period"}})
    sheet = world.sheet(OCTOBER, "October trip")
    world.item(sheet, "250.00", day=OCTOBER)
    world.approve(sheet)
    world.run()
    report = world.report(sheet)
    assert report["postingPeriod"]["id"] == world.ns.accounting_period(OCTOBER)["id"], report
    world.ns.close_period(OCTOBER)  # month end
    return world, sheet, report


def test_a_report_in_its_own_period_reconciles_after_that_period_closes(world_factory):
    world, sheet, report = own_period_report(world_factory)
    recon = world.reconcile()
    assert recon.ok, (
        f"report {report['id']} was posted to October (its own period, open then) and is unchanged, but once "
        f"October closes the reconciliation reports: {[d for c in recon.checks for d in c.differences]}"
    )


def test_an_unchanged_reapproval_after_its_own_period_closed_is_not_flagged_nor_recorded_as_moved(world_factory):
    world, sheet, report = own_period_report(world_factory)
    world.reapprove(sheet)  # approved again in ClickTime, nothing changed

    step = plan_steps(world)[sheet]
    world.run()

    assert world.report(sheet)["postingPeriod"]["id"] == report["postingPeriod"]["id"]
    assert world.causes() == [], f"an unchanged approval is flagged: {[c.reason for c in world.causes()]}"
    assert step.action == "unchanged", f"ctns plan says {step.action!r} ({step.detail})"
    world.ns.close_period(NOVEMBER)
    recon = world.reconcile()
    assert recon.ok, f"reconciliation after November closes: {[d for c in recon.checks for d in c.differences]}"
