"""An approved expense sheet with no items owes the employee nothing: it gets no NetSuite report, and a report an
earlier approval left goes once the sheet is emptied and approved again (or is flagged, by
`expenses.on_unapproved`), as an un-approved sheet's does. Before, the export wrote a report with an empty
expense list (NetSuite asks for at least one line) or replaced an existing report's lines with none.

End to end through the local runner on the seeded simulators; the sheets are built by hand (`World` of the
expense review).
"""

from __future__ import annotations

from decimal import Decimal

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
    sheet = world.sheet()
    item = world.item(sheet, "42.50")
    world.approve(sheet)
    world.run()
    report = world.report(sheet)
    assert report is not None

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
    sheet = world.sheet()
    item = world.item(sheet, "42.50")
    world.approve(sheet)
    world.run()
    report = world.report(sheet)

    world.reapprove(sheet, edit=lambda: world.ct.delete_expense_item(item))
    world.run()

    kept = world.report(sheet)
    assert kept is not None and kept["id"] == report["id"] and len(kept["expense"]["items"]) == 1
    assert any("approved with no items" in c.reason and report["id"] in c.reason for c in world.causes())
