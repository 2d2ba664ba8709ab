"""Review of 2026-12-04's non-billable task change (`time_export.planned_billable`).

README ("Time" sync): "A task made non-billable (or billable again) after its time was exported is ... the plan of the
moment: the reconciliation reports its bills until the timesheet is exported again (approved again, or `ctns
backfill time`), which writes the new flag."

A backfill re-read the approved timesheet, but its ClickTime fingerprint was unchanged, so the poller stopped it as
unchanged and no plan ran: the bill stayed billable (invoiced to the customer) and the reconciliation kept reporting
it (a strict xfail until fixed). Now a backfill (a watermark a person set back) queues every timesheet it reads for
the worker to plan again (`SyncDefinition.replans_on_reread`); a nightly run still trusts the fingerprint.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_frozen_then_released import backfill
from tests.e2e.test_time_export_non_billable_task import BY_JOB as BILLS_BY_JOB
from tests.e2e.test_time_export_non_billable_task import World
from tests.e2e.test_time_export_review import WEEK

pytestmark = pytest.mark.e2e


@pytest.fixture
def by_job(world_factory) -> World:
    return world_factory({"accounting": {"tasks_not_from_netsuite": "project_only"}}, clicktime_settings=BILLS_BY_JOB)


def test_a_backfill_writes_the_non_billable_flag_of_a_task_made_non_billable_after_export(by_job):
    world = by_job
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "3")
    world.approve(sheet)
    world.run()
    assert world.bill(entry)["isBillable"] is True

    world.set_non_billable(world.task)
    assert not world.reconcile().ok  # reported, as the README says
    world.run()  # a nightly run trusts the unchanged sheet's fingerprint: no read or write more per bill
    assert world.bill(entry)["isBillable"] is True

    result = backfill(world)  # `ctns backfill time --since` before the sheet's approval: what the README says writes it
    counts = result.counts("time")
    assert sum(counts.values()) >= 1 and not result.failures, (counts, result.failures)  # the sheet was read again

    assert world.bill(entry)["isBillable"] is False, f"the backfill left the bill billable (invoiced): {counts}"
