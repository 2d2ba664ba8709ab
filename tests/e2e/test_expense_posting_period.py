"""An expense report the export moved out of a closed period (`accounting.on_closed_period = next_open_period`)
stays in the period it was posted to, as a time bill does (its `posted` date): when that period closes in turn,
the report is neither a reconciliation difference nor a change to flag when its sheet is approved again unchanged.

Before, the plan chose the next open period again at every look (the export, `ctns plan`, `ctns reconcile`): once
November (where an October sheet had been posted) closed, it planned December, so the reconciliation reported the
report as posting to the wrong period and the unchanged re-approval was flagged as a change to a report in a
closed period.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.e2e.test_expense_export_review import World  # noqa: F401 - the module's world (world_factory)
from tests.e2e.test_expense_export_third_review import plan_steps

pytestmark = pytest.mark.e2e

OCTOBER = date(2026, 10, 20)
NOVEMBER = date(2026, 11, 1)


def moved_report(world_factory):
    """A world whose October is closed, and a sheet of October exported: its report posted to November."""
    world = world_factory({"accounting": {"on_closed_period": "next_open_period"}})
    world.ns.close_period(OCTOBER)
    sheet = world.sheet(OCTOBER, "October trip")
    world.item(sheet, "250.00", day=OCTOBER)
    world.approve(sheet)
    world.run()
    report = world.report(sheet)
    assert report["postingPeriod"]["id"] == world.ns.accounting_period(NOVEMBER)["id"], report
    return world, sheet, report


def test_a_report_posted_to_the_next_open_period_reconciles_after_that_period_closes(world_factory):
    world, sheet, report = moved_report(world_factory)
    world.ns.close_period(NOVEMBER)  # month end: November closes too

    recon = world.reconcile()

    assert recon.ok, (
        f"report {report['id']} is where the export posted it (November) and unchanged, but the reconciliation "
        f"reports: {[d for c in recon.checks for d in c.differences]}"
    )


def test_an_unchanged_reapproval_of_a_moved_report_is_not_flagged_after_its_period_closes(world_factory):
    world, sheet, report = moved_report(world_factory)
    world.ns.close_period(NOVEMBER)
    world.reapprove(sheet)  # approved again in ClickTime, nothing changed

    step = plan_steps(world)[sheet]
    result = world.run()

    assert result.counts("expenses")["unchanged"] == 1 and result.netsuite_writes == [], result.failures
    assert world.causes() == [], f"an unchanged approval is flagged: {[c.reason for c in world.causes()]}"
    assert step.action == "unchanged", f"ctns plan says {step.action!r} ({step.detail}); the run writes nothing"
    assert world.report(sheet)["postingPeriod"]["id"] == report["postingPeriod"]["id"]


def test_a_correction_to_a_moved_report_goes_to_the_period_it_was_posted_to(world_factory):
    """While that period is open, a correction stays there (as a time bill's does), rather than moving on."""
    world, sheet, report = moved_report(world_factory)
    item = world.ct.items_of(sheet)[0]["ID"]
    world.reapprove(sheet, lambda: world.ct.edit_expense_item(item, Amount="275.00"))

    result = world.run()

    after = world.report(sheet)
    assert result.counts("expenses")["updated"] == 1, result.failures
    assert after["postingPeriod"]["id"] == report["postingPeriod"]["id"]
    assert world.reconcile().ok
