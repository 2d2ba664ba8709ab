"""Review of the daily projects and tasks syncs as a PMO uses them (2026-12-04): a sub-project.

NetSuite keeps customers and projects in one hierarchy: a project's `parent` may be a customer or another project
(the simulator's own `REFERENCE_TARGETS["job.parent"]` is ("customer", "job")), e.g. "Acme : Website : Phase 2".
Such a sub-project has a customer (its parent project's), and its people must log time to it."""

from __future__ import annotations

import pytest

from tests.e2e.support import jobs_by_project, open_projects, run, tasks_by_source

pytestmark = pytest.mark.e2e


def test_a_sub_project_gets_a_job_under_its_top_customers_client_and_its_tasks(session):
    """Defect: `records.projects.customer_of` takes the project's `parent` for its customer only when the SuiteQL
    join `customer c ON j.parent = c.id` finds it; a sub-project's parent is a project, so the join finds nothing,
    `ProjectSync.upsert` raises BadInput "project P-SUB-1 has no customer; a ClickTime job needs a client (field
    parent=None)" (cause `project-without-customer`, which is untrue: its customer is its parent project's), and the
    sub-project and every one of its tasks are dead-lettered: nobody can log time to them in ClickTime."""
    ns = session.simulators.netsuite.records
    ct = session.simulators.clicktime
    run(session, "projects", "tasks")
    parent = open_projects(session)[0]
    (parent_job,) = jobs_by_project(session)[parent.id]
    sub = ns.add(
        "job",
        {
            "entityId": "P-SUB-1",
            "companyName": "Website – Phase 2",
            "parent": {"id": parent.id},  # a sub-project: its parent is a project, not a customer
            "subsidiary": {"id": session.simulators.company.subsidiaries[0].id},
            "entityStatus": {"id": "2"},
            "isInactive": False,
            "allowTime": True,
        },
    )
    task = ns.add("projectTask", {"title": "Build", "project": {"id": sub}, "status": {"id": "PROGRESS"}})

    result = run(session, "projects", "tasks")

    assert [f["reason"] for f in result.failures] == []
    (job,) = jobs_by_project(session)[sub]
    assert job["IsActive"] is True and job["JobNumber"] == "P-SUB-1"
    # Billed to the same customer as its parent project: the same ClickTime client.
    assert job["ClientID"] == parent_job["ClientID"]
    (clicktime_task,) = tasks_by_source(session)[task]
    assert clicktime_task["ID"] in ct.job_tasks(job["ID"])
