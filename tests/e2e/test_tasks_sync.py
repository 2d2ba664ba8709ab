"""NetSuite project tasks become ClickTime tasks under the right job, end to end."""

from __future__ import annotations

import pytest

from simulators.company import ClickTimeSettings
from tests.e2e.support import jobs_by_project, open_projects, run, tasks_by_source

pytestmark = pytest.mark.e2e


def open_tasks(session):
    """NetSuite tasks that should be active in ClickTime, from the simulator's current state."""
    netsuite = session.simulators.netsuite.records
    open_ids = {p.id for p in open_projects(session)}
    return [
        t
        for t in netsuite.all("projectTask")
        if t["project"]["id"] in open_ids and not t.get("isInactive") and t["status"]["id"] != "COMPLETE"
    ]


def the_task(session, netsuite_id):
    (task,) = tasks_by_source(session)[netsuite_id]
    return task


def job_of(session, project_id):
    (job,) = jobs_by_project(session)[project_id]
    return job["ID"]


def test_tasks_land_under_their_jobs_with_hierarchy_names_and_write_back(session):
    netsuite = session.simulators.netsuite.records
    clicktime = session.simulators.clicktime
    run(session, "projects")

    result = run(session, "tasks")

    expected = open_tasks(session)
    assert result.failures == []
    assert result.counts("tasks")["created"] == len(expected)
    synced = tasks_by_source(session)
    assert set(synced) == {t["id"] for t in expected}
    projects = {p.id: p for p in session.simulators.company.projects}
    for task in expected:
        (ct_task,) = synced[task["id"]]
        path = [task["title"]]
        parent = task.get("parent")
        while parent:
            parent_record = netsuite.get("projectTask", parent["id"])
            path.insert(0, parent_record["title"])
            parent = parent_record.get("parent")
        project = projects[task["project"]["id"]]
        assert ct_task["Name"] == f"{project.entity_id} · {' › '.join(path)}"
        assert ct_task["TaskCode"] == f"NS-{task['id']}"
        assert ct_task["IsActive"] is True
        assert ct_task["ID"] in clicktime.job_tasks(job_of(session, project.id))
        assert netsuite.get("projectTask", task["id"])["custevent_ct_task_id"] == ct_task["ID"]
    assert any(" › " in t[0]["Name"] for t in synced.values()), "the seed has subtasks"


def test_second_pass_writes_nothing(session):
    run(session, "projects", "tasks")

    second = run(session, "projects", "tasks")

    assert second.netsuite_writes == [] and second.clicktime_writes == []
    assert second.syncs["tasks"]["enqueued"] == 0  # every task stops at the poller
    assert second.counts("tasks")["unchanged"] == len(session.simulators.company.tasks)


def test_a_task_whose_project_was_never_synced_gets_its_project_on_demand(session):
    # When the tasks sync runs before the projects sync ever has
    result = run(session, "tasks")

    # Then the jobs were created on demand, each once, and the tasks are under them
    assert result.failures == []
    jobs = jobs_by_project(session)
    assert {pid: len(found) for pid, found in jobs.items()} == {p.id: 1 for p in open_projects(session)}
    for task in open_tasks(session):
        assert the_task(session, task["id"])["ID"] in session.simulators.clicktime.job_tasks(
            job_of(session, task["project"]["id"])
        )
    # and the projects sync that follows finds nothing to create or write
    projects = run(session, "projects")
    assert projects.counts("projects")["created"] == 0
    assert projects.clicktime_writes == []


def test_a_new_project_and_task_created_after_the_first_sync(session):
    netsuite = session.simulators.netsuite.records
    run(session, "projects", "tasks")
    customer = session.simulators.company.customers[0].id
    project_id = netsuite.add(
        "job",
        {
            "entityId": "P-2001",
            "companyName": "Brand New Project",
            "parent": {"id": customer},
            "subsidiary": {"id": session.simulators.company.subsidiaries[0].id},
            "entityStatus": {"id": "2"},
            "isInactive": False,
            "allowTime": True,
        },
    )
    task_id = netsuite.add(
        "projectTask", {"title": "Kick-off", "project": {"id": project_id}, "status": {"id": "NOTSTART"}}
    )

    # When only the tasks sync runs (the daily projects sync has not run yet)
    result = run(session, "tasks")

    assert result.failures == []
    job_id = job_of(session, project_id)
    task = the_task(session, task_id)
    assert task["Name"] == "P-2001 · Kick-off"
    assert session.simulators.clicktime.job_tasks(job_id) == [task["ID"]]
    assert netsuite.get("job", project_id)["custentity_ct_job_id"] == job_id


def test_completion_makes_a_task_inactive_and_reopening_reverses_it(session):
    netsuite = session.simulators.netsuite.records
    clicktime = session.simulators.clicktime
    run(session, "projects", "tasks")
    task = open_tasks(session)[0]
    job_id = job_of(session, task["project"]["id"])

    netsuite.update("projectTask", task["id"], {"status": {"id": "COMPLETE"}})
    run(session, "tasks")
    assert the_task(session, task["id"])["IsActive"] is False

    netsuite.update("projectTask", task["id"], {"status": {"id": "PROGRESS"}})
    run(session, "tasks")
    reopened = the_task(session, task["id"])
    assert reopened["IsActive"] is True
    assert reopened["ID"] in clicktime.job_tasks(job_id)


def test_a_task_moved_to_another_project_moves_its_link_and_name(session):
    netsuite = session.simulators.netsuite.records
    clicktime = session.simulators.clicktime
    run(session, "projects", "tasks")
    top_level = [t for t in open_tasks(session) if not t.get("parent")]
    task = top_level[0]
    source_project = task["project"]["id"]
    destination = next(p for p in open_projects(session) if p.id != source_project)

    netsuite.update("projectTask", task["id"], {"project": {"id": destination.id}})
    result = run(session, "tasks")

    assert result.failures == []
    moved = the_task(session, task["id"])
    assert moved["ID"] in clicktime.job_tasks(job_of(session, destination.id))
    assert moved["ID"] not in clicktime.job_tasks(job_of(session, source_project))
    assert moved["Name"].startswith(f"{destination.entity_id} · ")


def test_renaming_a_parent_renames_its_subtasks(session):
    netsuite = session.simulators.netsuite.records
    run(session, "projects", "tasks")
    child = next(t for t in open_tasks(session) if t.get("parent"))
    parent_id = child["parent"]["id"]

    netsuite.update("projectTask", parent_id, {"title": "Renamed Phase"})
    run(session, "tasks")

    assert " › ".join(["Renamed Phase", child["title"]]) in the_task(session, child["id"])["Name"]


def test_deleted_tasks_and_tasks_of_a_closed_project_become_inactive(session):
    netsuite = session.simulators.netsuite.records
    run(session, "projects", "tasks")
    tasks = open_tasks(session)
    deleted = next(t for t in tasks if not any(o.get("parent", {}).get("id") == t["id"] for o in tasks))
    closing_project = next(p.id for p in open_projects(session) if p.id != deleted["project"]["id"])
    closing_tasks = [t["id"] for t in tasks if t["project"]["id"] == closing_project]

    netsuite.delete("projectTask", deleted["id"])
    netsuite.update("job", closing_project, {"entityStatus": {"id": "1"}})
    result = run(session, "projects", "tasks")

    assert result.failures == []
    assert the_task(session, deleted["id"])["IsActive"] is False
    assert closing_tasks and all(the_task(session, t)["IsActive"] is False for t in closing_tasks)
    assert jobs_by_project(session)[closing_project][0]["IsActive"] is False


def test_a_task_shared_with_another_job_is_unlinked_not_deactivated(session):
    netsuite = session.simulators.netsuite.records
    clicktime_client = session.runtime().clicktime
    run(session, "projects", "tasks")
    task = open_tasks(session)[0]
    own_job = job_of(session, task["project"]["id"])
    other_job = next(job_of(session, p.id) for p in open_projects(session) if p.id != task["project"]["id"])
    ct_task = the_task(session, task["id"])
    clicktime_client.link_task(other_job, ct_task["ID"])  # someone shares it in ClickTime

    netsuite.update("projectTask", task["id"], {"status": {"id": "COMPLETE"}})
    run(session, "tasks")

    after = the_task(session, task["id"])
    assert after["IsActive"] is True
    assert after["ID"] not in session.simulators.clicktime.job_tasks(own_job)
    assert after["ID"] in session.simulators.clicktime.job_tasks(other_job)


def test_a_company_that_does_not_restrict_tasks_by_job_gets_tasks_without_links(open_session):
    session = open_session(clicktime_settings=ClickTimeSettings(task_restriction_method="mytasks"))

    result = run(session, "projects", "tasks")

    assert result.failures == []
    assert result.counts("tasks")["created"] == len(open_tasks(session))
    note = result.syncs["tasks"]["notes"]["task_links_skipped"]
    assert "not 'by job'" in note
    assert not any(
        r.path.endswith("/Tasks") and r.method == "POST" and "/Jobs/" in r.path
        for r in session.simulators.clicktime.requests
    )


def test_a_batch_reads_each_project_mapping_once_not_once_per_task(session, monkeypatch):
    """The job of a task's project is read once per invocation (the tasks of a batch share a few projects),
    and every task still lands under its own project's job."""
    from ctsync.state import MappingStore

    run(session, "projects")
    reads: list[str] = []
    original = MappingStore.get

    def counting_get(self, kind, source_id):
        if kind == "project":
            reads.append(source_id)
        return original(self, kind, source_id)

    monkeypatch.setattr(MappingStore, "get", counting_get)

    result = run(session, "tasks")

    tasks = open_tasks(session)
    assert result.counts("tasks")["created"] == len(tasks) > 20
    in_clicktime = {t["project"]["id"] for t in tasks}
    assert len([r for r in reads if r in in_clicktime]) < len(tasks) / 2  # synced projects: once per batch
    for task in tasks:
        job = job_of(session, task["project"]["id"])
        assert the_task(session, task["id"])["ID"] in session.simulators.clicktime.job_tasks(job)
