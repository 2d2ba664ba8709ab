"""The time export's side of the expense export's empty sheets (tests/e2e/test_expense_empty_sheets.py): a
timesheet approved with no entries writes nothing and fails nothing, and a timesheet emptied and approved again
takes its bills out of NetSuite; the reconciliation matches after both.

End to end through the local runner on the seeded simulators (`World` of the time review).
"""

from __future__ import annotations

import pytest

from tests.e2e.test_time_export_review import WEEK, World, reconcile  # noqa: F401 - `world` builds World

pytestmark = pytest.mark.e2e


def test_an_approved_timesheet_with_no_entries_writes_nothing(world):
    sheet = world.sheet()
    world.approve(sheet)

    result = world.run()

    assert result.netsuite_writes == [] and result.failures == [] and world.causes() == []
    assert world.session.runner.dead_letters("time") == []
    assert reconcile(world).ok


def test_an_emptied_timesheet_approved_again_takes_its_bills_out_of_netsuite(world):
    sheet = world.sheet()
    entries = [world.entry(sheet, WEEK, "1.5"), world.entry(sheet, WEEK, "2", task=world.ct_task2)]
    world.approve(sheet)
    world.run()
    assert all(world.bill(e) is not None for e in entries)

    def emptied() -> None:
        for entry in entries:
            world.ct.delete_time_entry(entry)

    world.reapprove(sheet, edit=emptied)
    result = world.run()

    assert [world.bill(e) for e in entries] == [None, None], result.counts("time")
    assert result.failures == [] and world.causes() == []
    recon = reconcile(world)
    assert recon.ok, [(c.name, c.differences) for c in recon.checks if not c.ok]
