"""Time on a NetSuite non-billable project task (`nonBillableTask`) is exported non-billable, whatever ClickTime's
billing model says (after the review of the daily syncs, 2026-12-04: `tests/e2e/test_time_export_non_billable_task_by_job.py`).

With `Company.BillableSetting` = "Job" the tasks sync sends ClickTime no task billability, ClickTime's Reports/Time
marks the time billable by its job, and the export wrote that flag. Everything that decides or checks a time bill's
billable flag must agree with the export: the run (and its note where it overrides ClickTime), `ctns plan time`, and
`ctns reconcile time` (which compares each bill with the export's plan of the moment). Each test failed before the fix.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from simulators.company import ClickTimeSettings
from tests.e2e.test_plan_fidelity_review import plan_then_cold
from tests.e2e.test_time_export_review import WEEK, unlinked_task
from tests.e2e.test_time_export_review import World as ReviewWorld

pytestmark = pytest.mark.e2e

BY_JOB = ClickTimeSettings(billable_setting="Job")


class World(ReviewWorld):
    def set_non_billable(self, task: str, flag: bool = True) -> None:
        """NetSuite's `nonBillableTask` of project task `task`, as a person sets it."""
        self.ns.records.update("projectTask", task, {"nonBillableTask": flag})

    def no_task_entry(self, sheet: str, day, hours: str) -> str:
        """An entry on the job with no ClickTime task (the simulator adds entries on a task)."""
        entry = self.entry(sheet, day, hours)
        with self.ct.store.lock:
            self.ct.store.time_entries[entry]["TaskID"] = None
        return entry


@pytest.fixture
def by_job(world_factory) -> World:
    """ClickTime billing by job, time on a ClickTime task that is no NetSuite task exported without a task."""
    return world_factory({"accounting": {"tasks_not_from_netsuite": "project_only"}}, clicktime_settings=BY_JOB)


def _check(result, start: str):
    (check,) = [c for c in result.checks if c.name.startswith(start)]
    return check


def test_time_on_a_non_billable_task_is_exported_non_billable_said_once_and_reconciled(by_job):
    world = by_job
    world.set_non_billable(world.task)
    sheet = world.sheet()
    on_it = [world.entry(sheet, WEEK + timedelta(days=d), "2") for d in range(3)]
    billable_task = world.entry(sheet, WEEK, "1", task=world.ct_task2)
    no_task = world.no_task_entry(sheet, WEEK + timedelta(days=1), "1")
    other_task = world.entry(sheet, WEEK + timedelta(days=2), "1", task=unlinked_task(world))
    world.approve(sheet)

    result = world.run()

    assert [world.bill(e)["isBillable"] for e in on_it] == [False] * 3, result.failures
    # Unchanged: ClickTime's flag (billable by the job) on a billable task, on no task, on a task of no NetSuite task
    assert [world.bill(e)["isBillable"] for e in (billable_task, no_task, other_task)] == [True] * 3
    said = [text for text in world.notes(result).values() if "non-billable" in text and world.task in text]
    assert len(said) == 1, world.notes(result)
    assert world.ct_task in said[0] and "3 time entries" in said[0], said

    recon = world.reconcile()
    assert recon.ok, [(c.name, c.differences) for c in recon.checks if not c.ok]

    # A bill someone makes billable by hand in NetSuite is still a difference
    made = world.bill(on_it[0])
    world.ns.records.update("timeBill", made["id"], {"isBillable": True})
    recon = world.reconcile()
    per_bill = _check(recon, "each time bill as the export plans it")
    assert not per_bill.ok and on_it[0] in per_bill.differences[0], per_bill.differences
    assert "non-billable planned" in per_bill.differences[0]
    assert not _check(recon, "billable minutes per employee").ok


def test_a_task_made_non_billable_after_its_time_was_exported_is_planned_and_written_on_the_next_export(by_job):
    world = by_job
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "3")
    world.approve(sheet)
    world.run()
    assert world.bill(entry)["isBillable"] is True
    assert world.reconcile().ok

    world.set_non_billable(world.task)

    # The reconciliation compares with the export's plan of the moment, as for a task or item changed since
    per_bill = _check(world.reconcile(), "each time bill as the export plans it")
    assert not per_bill.ok and entry in per_bill.differences[0], per_bill.differences
    assert "billable in NetSuite" in per_bill.differences[0] and "non-billable planned" in per_bill.differences[0]

    world.reapprove(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    action, detail = plan_then_cold(world)[sheet]
    assert action == "update", (action, detail)

    counts = world.run().counts("time")
    assert counts["updated"] == 1, counts
    assert world.bill(entry)["isBillable"] is False
    recon = world.reconcile()
    assert recon.ok, [(c.name, c.differences) for c in recon.checks if not c.ok]

    # Made billable again in NetSuite: the next export writes ClickTime's flag again
    world.set_non_billable(world.task, False)
    world.reapprove(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    world.run()
    assert world.bill(entry)["isBillable"] is True
