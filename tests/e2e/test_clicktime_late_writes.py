"""A ClickTime write whose answer was lost and that ClickTime processes only after a newer write of the same
record (`late`, placed by request events, not by time). Found by `make soak` (seed 190850): a project's update
timed out, the deletion that followed made its job inactive, then the late update made the job active again, and
no later run looked. Fixed for every ClickTime record the syncs write (jobs, tasks, clients): the record stays
listed after a write of unknown outcome, and each later run looks at it and writes back what a late request
changed (`ctsync.unsettled`, `records.targets.recheck`)."""

from __future__ import annotations

import pytest

from tests.e2e.support import jobs_by_project, open_projects, run
from tests.e2e.test_tasks_sync import open_tasks, the_task

pytestmark = pytest.mark.e2e


def a_late_rename(session, name: str) -> tuple[str, dict]:
    """A project and its job, after a run in which the project was renamed to `name` and the job's PATCH was taken
    and its answer lost (the client's retry renamed the job)."""
    netsuite, clicktime = session.simulators.netsuite.records, session.simulators.clicktime
    run(session, "projects")
    project = open_projects(session)[0].id
    (job,) = jobs_by_project(session)[project]
    clicktime.faults.inject("late", times=1, method="PATCH", path=rf"/Jobs/{job['ID']}$")
    netsuite.update("job", project, {"companyName": name})
    run(session, "projects")
    assert clicktime.faults.fired["late"] == 1
    return project, job


def test_a_late_update_that_reactivates_a_deleted_projects_job_is_undone_by_a_later_run(session):
    netsuite, clicktime = session.simulators.netsuite.records, session.simulators.clicktime
    project, job = a_late_rename(session, "Renamed Before Deletion")
    # The project is deleted: its job is made inactive
    netsuite.delete("job", project)
    run(session, "projects")
    assert jobs_by_project(session)[project][0]["IsActive"] is False

    # ClickTime gets round to the first PATCH only now: the job is active again
    assert clicktime.process_held() == 1
    assert jobs_by_project(session)[project][0]["IsActive"] is True

    # The next run looks at the job again and makes it inactive; the one after finds it in step
    repaired = run(session, "projects")
    assert jobs_by_project(session)[project][0]["IsActive"] is False
    assert [(w.method, w.path, w.body) for w in repaired.clicktime_writes] == [
        ("PATCH", f"/v2/Jobs/{job['ID']}", {"IsActive": False})
    ]
    assert repaired.syncs["projects"]["updated"] == 1
    quiet = run(session, "projects")
    assert quiet.clicktime_writes == [] and jobs_by_project(session)[project][0]["IsActive"] is False


def test_a_late_rename_of_a_client_after_a_newer_one_is_undone_by_a_later_run(session):
    netsuite, clicktime = session.simulators.netsuite.records, session.simulators.clicktime
    run(session, "projects")
    project = open_projects(session)[0]
    client_id = jobs_by_project(session)[project.id][0]["ClientID"]

    clicktime.faults.inject("late", times=1, method="PATCH", path=rf"/Clients/{client_id}$")
    netsuite.update("customer", project.customer_id, {"companyName": "First Name"})
    netsuite.update("job", project.id, {"companyName": "Touched Once"})  # the project's row carries its customer
    run(session, "projects")
    assert clicktime.faults.fired["late"] == 1
    netsuite.update("customer", project.customer_id, {"companyName": "Second Name"})
    netsuite.update("job", project.id, {"companyName": "Touched Twice"})
    run(session, "projects")
    assert clicktime.process_held() == 1
    assert next(c for c in clicktime.clients() if c["ID"] == client_id)["Name"] == "First Name"

    run(session, "projects")

    assert next(c for c in clicktime.clients() if c["ID"] == client_id)["Name"] == "Second Name"


def test_a_late_update_that_reactivates_a_deleted_task_is_undone_by_a_later_run(session):
    netsuite, clicktime = session.simulators.netsuite.records, session.simulators.clicktime
    run(session, "projects", "tasks")
    tasks = open_tasks(session)
    leaf = next(t for t in tasks if not any(o.get("parent", {}).get("id") == t["id"] for o in tasks))
    task_id = the_task(session, leaf["id"])["ID"]

    clicktime.faults.inject("late", times=1, method="PATCH", path=rf"/Tasks/{task_id}$")
    netsuite.update("projectTask", leaf["id"], {"title": "Renamed Before Deletion"})
    run(session, "tasks")
    assert clicktime.faults.fired["late"] == 1
    netsuite.delete("projectTask", leaf["id"])
    run(session, "tasks")
    assert the_task(session, leaf["id"])["IsActive"] is False
    assert clicktime.process_held() == 1
    assert the_task(session, leaf["id"])["IsActive"] is True

    run(session, "tasks")

    assert the_task(session, leaf["id"])["IsActive"] is False


def test_the_look_and_a_new_change_of_one_project_in_one_run_never_hold_its_lock_together(session, lock_owners):
    # Found by a review of the time export's look: both messages come in one run, a worker applies several at
    # once, and the lock lets its owner in again (a redelivery), so they must not share an owner.
    netsuite, clicktime = session.simulators.netsuite.records, session.simulators.clicktime
    project, _ = a_late_rename(session, "Renamed Once")
    netsuite.update("job", project, {"companyName": "Renamed Twice"})
    lock_owners.clear()

    run(session, "projects")

    assert len({owner for kind, source_id, owner in lock_owners if (kind, source_id) == ("project", project)}) == 2
    assert clicktime.process_held() == 1
    run(session, "projects")
    assert jobs_by_project(session)[project][0]["Name"].startswith("Renamed Twice")
