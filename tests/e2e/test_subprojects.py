"""Review of the daily projects and tasks syncs as a PMO uses them (2026-12-04): a sub-project.

NetSuite keeps customers and projects in one hierarchy: a project's `parent` may be a customer or another project
(the simulator's own `REFERENCE_TARGETS["job.parent"]` is ("customer", "job")), e.g. "Acme : Website : Phase 2".
Such a sub-project has a customer (its parent project's), and its people must log time to it. The first test is the
review's (2026-12-04: failed before the fix, `records.projects.CUSTOMER_JOIN`); the others pin what the fix must do too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.support import jobs_by_project, open_projects, run, tasks_by_source

pytestmark = pytest.mark.e2e


def _sub_project(session, number: str, parent_id: str) -> str:
    return session.simulators.netsuite.records.add(
        "job",
        {
            "entityId": number,
            "companyName": f"{number} phase",
            "parent": {"id": parent_id},
            "subsidiary": {"id": session.simulators.company.subsidiaries[0].id},
            "entityStatus": {"id": "2"},
            "isInactive": False,
            "allowTime": True,
        },
    )


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


def test_a_sub_sub_project_gets_its_top_customers_client_and_one_deeper_is_reported_naming_the_levels(session):
    run(session, "projects")
    top = open_projects(session)[0]
    (top_job,) = jobs_by_project(session)[top.id]
    middle = _sub_project(session, "P-SUB-2", top.id)
    low = _sub_project(session, "P-SUB-2-1", middle)
    lowest = _sub_project(session, "P-SUB-2-1-1", low)

    result = run(session, "projects")

    jobs = jobs_by_project(session)
    assert jobs[middle][0]["ClientID"] == jobs[low][0]["ClientID"] == top_job["ClientID"]
    assert lowest not in jobs
    (failure,) = result.failures
    assert failure["source_id"] == lowest
    assert (
        "P-SUB-2-1-1 has no customer (its parent is no customer, nor a project of one up to 2 levels"
        in (failure["reason"])
    )


def test_a_parent_project_moved_to_another_customer_moves_its_sub_projects_job_to_that_client(session):
    """The sub-project itself is unchanged (last modified by its ID's write-back a day before, past the window's
    overlap): its parent project's edit makes it a change of the next run."""
    from tests.e2e.test_dates_review import netsuite_clock_at

    ns = session.simulators.netsuite.records
    clock = netsuite_clock_at(session, datetime.now(UTC).replace(microsecond=0))
    run(session, "projects")
    parent = open_projects(session)[0]
    sub = _sub_project(session, "P-SUB-3", parent.id)
    run(session, "projects")
    clock.now += timedelta(days=1)
    assert run(session, "projects").syncs["projects"]["enqueued"] == 0
    other = next(p for p in open_projects(session) if p.customer_id != parent.customer_id)
    (other_job,) = jobs_by_project(session)[other.id]

    ns.update("job", parent.id, {"parent": {"id": other.customer_id}})
    result = run(session, "projects")

    assert result.failures == []
    jobs = jobs_by_project(session)
    assert jobs[parent.id][0]["ClientID"] == jobs[sub][0]["ClientID"] == other_job["ClientID"]
