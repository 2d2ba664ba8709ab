"""Found by a review of the 2026-12-02 changes, fixed since (the test failed before the fix): a look writes the report whole without reading it first (`held = ""`). When the report is right and
NetSuite froze it since (approved by accounting, as finance does the day after), the look flags a change that does
not exist: `ctns errors` tells finance "not changed" for a report that holds exactly the approved sheet, and the
mapping forgets the report's hash."""

from __future__ import annotations

import pytest

from ctsync.records.expense_export import external_id
from tests.e2e.test_expense_accounting_approved import approve_in_netsuite
from tests.e2e.test_expense_export import REPORTS
from tests.e2e.test_expense_export_review import World  # noqa: F401
from tests.e2e.test_expense_late_writes import after_the_wait, clock  # noqa: F401

pytestmark = pytest.mark.e2e


def test_a_look_at_a_correct_report_approved_by_accounting_since_flags_nothing(world, clock):  # noqa: F811
    sheet = world.sheet()
    world.item(sheet, "42.50")
    world.approve(sheet)
    # one 500 on the report's PUT (its answer lost: never processed here), the client's retry writes it
    world.ns.faults.inject(status=500, times=1, method="PUT", path=f"{REPORTS}eid:{external_id(sheet)}$")
    world.run()
    report = world.report(sheet)
    assert report is not None and world.ns.faults.fired["500"] == 1 and world.causes() == []
    approve_in_netsuite(world, report["id"])  # the accountant approves it: right, to the cent

    after_the_wait(world.session, clock)
    result = world.run()  # the look

    flagged = [c.reason for c in world.causes() if sheet in c.blocked]
    assert flagged == [], (
        f"expense report {report['id']} holds exactly the approved sheet {sheet}; the look after a 500 on its first "
        f"PUT flagged it anyway for finance: {flagged} ({result.counts('expenses')})"
    )
    assert world.reconcile().ok
