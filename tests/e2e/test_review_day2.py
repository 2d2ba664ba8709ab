"""Review of 2026-12-04's second day (the time export's backfill and hours branch, the reconcile branch), each defect
as a test that failed before its fix, on the time export review's world (`tests.e2e.test_time_export_review.World`).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.e2e.test_reconcile_blocked_internal_job_hours import internal_job
from tests.e2e.test_time_export_payroll_review import _set_hours
from tests.e2e.test_time_export_review import WEEK, World, unlinked_task  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("hours", ["1E+30", "30"])
def test_a_refused_entry_on_an_internal_job_of_a_blocked_sheet_is_in_no_total(world, hours):
    """The reconcile branch's `not_netsuite_projects` total summed a blocked sheet's internal-job entries by
    `Hours >= 0`, where the time branch refuses (and counts nowhere) any entry a day cannot hold (`hours_refused`):
    1E+30 h crashed `ctns reconcile time` (InvalidOperation cutting it to a millionth) and 30 h was counted as
    approved ClickTime time on internal jobs."""
    job, task = internal_job(world)
    sheet = world.sheet()
    world.entry(sheet, WEEK, "2", task=unlinked_task(world))  # blocks the sheet
    bad = world.entry(sheet, WEEK + timedelta(days=1), "1", task=task, job=job)
    world.entry(sheet, WEEK + timedelta(days=2), "1.5", task=task, job=job)
    _set_hours(world, bad, hours)
    world.approve(sheet)
    world.run()

    totals = world.reconcile().totals

    assert totals["blocked"] == "2 h", totals
    assert totals["not_netsuite_projects"] == "1.5 h", totals
    assert Decimal(totals["clicktime_approved"].removesuffix(" h")) == 0, totals
