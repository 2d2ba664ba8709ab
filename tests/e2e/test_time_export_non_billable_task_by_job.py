"""Review of the daily projects and tasks syncs as a PMO uses them (2026-12-04): a ClickTime company that bills by
job (`Company.BillableSetting` = "Job", one of the two values clicktime-api.md §3.7 lists).

NetSuite marks a project task non-billable (`nonBillableTask`: training, internal QA, warranty work): time on it
must not reach the customer's invoice."""

from __future__ import annotations

import pytest

from simulators.company import ClickTimeSettings
from tests.e2e.support import run

pytestmark = pytest.mark.e2e


def test_time_on_a_netsuite_non_billable_task_is_not_exported_billable_when_clicktime_bills_by_job(open_session):
    """Defect: `TaskSync._fields` sends a task's billability (`IsBillable = not task.non_billable`) only when the
    company bills by task; billing by job, NetSuite's non-billable flag goes nowhere (no field, no note, `ctns
    check` says OK), ClickTime's Reports/Time marks the time billable by its job, and `TimeExport` writes
    `isBillable` as ClickTime decided: hours on a task NetSuite says is non-billable become billable time bills,
    which NetSuite's invoicing picks up and bills the customer for."""
    session = open_session(clicktime_settings=ClickTimeSettings(billable_setting="Job"))
    ns = session.simulators.netsuite.records
    run(session, "projects", "tasks")
    session.log_activity()
    result = run(session, "time")
    assert result.syncs["time"]["created"] > 0

    non_billable = {t["id"] for t in ns.all("projectTask") if t.get("nonBillableTask")}
    on_them = [b for b in ns.all("timeBill") if (b.get("caseTaskEvent") or {}).get("id") in non_billable]
    assert on_them, "the seeded activity logs time on non-billable NetSuite tasks"
    billed = [(b["externalId"], b["caseTaskEvent"]["id"]) for b in on_them if b.get("isBillable")]
    assert billed == [], f"{len(billed)} of {len(on_them)} time bills on non-billable NetSuite tasks are billable"
