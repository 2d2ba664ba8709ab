"""An approved expense sheet with no items owes the employee nothing: it gets no NetSuite report, and a report an
earlier approval left goes once the sheet is emptied and approved again (or is flagged, by
`expenses.on_unapproved`), as an un-approved sheet's does. Before, the export wrote a report with an empty
expense list (NetSuite asks for at least one line) or replaced an existing report's lines with none.

End to end through the local runner on the seeded simulators; the sheets are built by hand (`World` of the
expense review).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.test_expense_export_review import World  # noqa: F401 - the `world` fixture builds this module's World

pytestmark = pytest.mark.e2e


def test_an_approved_sheet_with_no_items_gets_no_report(world):
    sheet = world.sheet(title="Nothing to claim")
    world.approve(sheet)

    result = world.run()

    assert world.report(sheet) is None
    assert result.counts("expenses") == {"created": 0, "updated": 0, "unchanged": 0, "skipped": 1, "failed": 0}
    assert world.causes() == [] and result.failures == [] and world.session.runner.dead_letters("expenses") == []
    assert world.reconcile().ok


def test_an_emptied_sheet_approved_again_takes_its_report_out_of_netsuite(world):
    sheet, item, report = world.exported_sheet()

    world.reapprove(sheet, edit=lambda: world.ct.delete_expense_item(item))
    result = world.run()

    assert world.report(sheet) is None, f"report {report['id']} still in NetSuite ({result.counts('expenses')})"
    assert result.counts("expenses")["updated"] == 1
    assert world.causes() == [] and result.failures == [] and world.session.runner.dead_letters("expenses") == []
    recon = world.reconcile()
    assert recon.ok, [(c.name, c.differences) for c in recon.checks if not c.ok]

    # Items added and approved once more: a report again, under the same external ID
    world.reapprove(sheet, edit=lambda: world.item(sheet, "18.00"))
    world.run()
    again = world.report(sheet)
    assert again is not None and [line["amount"] for line in again["expense"]["items"]] == [Decimal("18.00")]
    assert world.reconcile().ok


def test_an_emptied_sheet_leaves_its_report_flagged_when_withdrawals_are_flagged(world_factory):
    world = world_factory({"expenses": {"on_unapproved": "flag"}})
    sheet, item, report = world.exported_sheet()

    world.reapprove(sheet, edit=lambda: world.ct.delete_expense_item(item))
    world.run()

    kept = world.report(sheet)
    assert kept is not None and kept["id"] == report["id"] and len(kept["expense"]["items"]) == 1
    assert any("approved with no items" in c.reason and report["id"] in c.reason for c in world.causes())


def plan_steps(world) -> dict[str, Any]:
    from ctns.plan import plan_sync

    runtime = world.session.runtime()
    return {step.source_id: step for step in plan_sync("expenses", runtime, runtime.config).steps}


def test_the_plan_says_what_the_run_does_with_empty_sheets(world):
    """`ctns plan` judges an empty sheet as the worker does: no report (not a closed period's failure, not a
    create), and an emptied sheet's report removed; the reconciliation calls neither blocked."""
    october = date(2026, 10, 20)
    world.ns.close_period(october)
    in_closed_period, in_open_period = world.sheet(october, "Nothing in October"), world.sheet(title="Nothing")
    emptied = world.sheet(title="Client visit")
    item = world.item(emptied, "42.50")
    for sheet in (in_closed_period, in_open_period, emptied):
        world.approve(sheet)
    world.run()
    report = world.report(emptied)
    world.reapprove(emptied, edit=lambda: world.ct.delete_expense_item(item))

    steps = plan_steps(world)

    assert steps[emptied].action == "delete" and report["id"] in steps[emptied].detail, steps[emptied]
    assert in_closed_period not in steps or steps[in_closed_period].action == "skip", steps[in_closed_period]
    result = world.run()
    assert world.report(emptied) is None and result.failures == []
    recon = world.reconcile()
    assert recon.ok and not [note for note in recon.notes if in_closed_period in note or emptied in note]


def test_the_first_plan_skips_an_empty_sheet_in_a_closed_period_and_fails_one_with_items(world):
    october = date(2026, 10, 20)
    world.ns.close_period(october)
    sheets = [world.sheet(october, "Nothing in October"), world.sheet(title="Nothing")]
    claimed = world.sheet(october, "Dinner in October")
    world.item(claimed, "42.50", day=october)
    for sheet in (*sheets, claimed):
        world.approve(sheet)

    steps = plan_steps(world)

    assert [(steps[s].action, "no items" in steps[s].detail) for s in sheets] == [("skip", True), ("skip", True)]
    assert steps[claimed].action == "fail" and "closed" in steps[claimed].detail, steps[claimed]
    result = world.run()
    assert result.counts("expenses") == {"created": 0, "updated": 0, "unchanged": 0, "skipped": 2, "failed": 1}
    assert [claimed in cause.blocked for cause in world.causes()] == [True]


def test_an_emptied_sheet_whose_report_stays_is_flagged_once_not_by_every_run(world_factory):
    world = world_factory({"expenses": {"on_unapproved": "flag"}})
    sheet, item, _ = world.exported_sheet()
    world.reapprove(sheet, edit=lambda: world.ct.delete_expense_item(item))

    first, second = world.run(), world.run()

    said = [f.reason for f in world.session.runlog.failures(first.syncs["expenses"]["run_id"])]
    assert any("approved with no items" in reason for reason in said)
    assert world.session.runlog.failures(second.syncs["expenses"]["run_id"]) == []
    assert second.counts("expenses")["updated"] + second.counts("expenses")["skipped"] == 0
    recon = world.reconcile()  # ClickTime owes nothing, NetSuite still has 42.50: finance sees it
    assert not recon.ok and "42.50" in " ".join(" ".join(map(str, c.differences)) for c in recon.checks)
