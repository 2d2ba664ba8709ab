"""Review of the daily projects and tasks syncs as a PMO uses them (2026-12-04): does `ctns reconcile projects` see a
ClickTime job that no longer matches its project?

The projects sync writes a job only when its project's snapshot changes (the payload's hash), so a job a ClickTime
administrator edits by hand (moved to another client, renumbered) stays so until the project changes; the
reconciliation is what is to tell finance the two systems disagree meanwhile."""

from __future__ import annotations

import pytest

from ctsync.reconcile import reconcile_projects
from tests.e2e.support import jobs_by_project, open_projects, run

pytestmark = pytest.mark.e2e


def reconcile(session):
    runtime = session.runtime()
    return reconcile_projects(runtime.netsuite, runtime.clicktime, session.mappings, runtime.config)


def test_a_job_moved_to_another_client_or_renumbered_in_clickTime_is_a_reconciliation_difference(session):
    """Defect: `reconcile.catalog.reconcile_projects` compares only which jobs are active, the IDs written back and
    duplicate AccountingPackageIDs; it never compares a job's client, number or name with its project's customer,
    number and name. A job moved by hand to another customer's client (its time reported, and priced by client
    billing rates, under the wrong customer) or renumbered (people pick P-1040 and log to another project's job)
    is reported as "both systems agree", and the sync does not repair it while the project is unchanged."""
    run(session, "projects")
    clean = reconcile(session)
    assert clean.ok, clean.as_report()

    first, second = open_projects(session)[:2]
    other = next(p for p in open_projects(session) if p.customer_id != first.customer_id)
    (other_job,) = jobs_by_project(session)[other.id]
    (job,) = jobs_by_project(session)[first.id]
    (renumbered,) = jobs_by_project(session)[second.id]
    store = session.simulators.clicktime.store
    store.jobs[job["ID"]]["ClientID"] = other_job["ClientID"]  # a ClickTime admin picks the wrong client
    store.jobs[renumbered["ID"]]["JobNumber"] = second.entity_id + "-X"  # and "tidies" a number

    result = reconcile(session)

    differences = [d for c in result.checks for d in c.differences]
    assert not result.ok, "reconcile says both systems agree: " + repr(result.as_report()["checks"])
    assert any(first.id in d for d in differences), differences
    assert any(second.id in d for d in differences), differences
