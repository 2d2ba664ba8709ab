"""`ctns reconcile projects` / `tasks` compare what the sync owns on each ClickTime job and task (its number, name,
client; a task's name, code and billable flag) with what the sync would write now, and say what to do about each
difference (follows `test_review_daily_reconcile_job_fields.py`, the reviewer's test of the projects side).

The syncs write a job or task only when its NetSuite record changes, so one a ClickTime administrator edits by hand
stays so: the reconciliation is what tells finance meanwhile. A difference NetSuite made (edited since the last run)
is one the next run writes; the line says which it is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ctsync.reconcile import reconcile_projects, reconcile_tasks
from ctsync.state import ProgressStore
from tests.e2e.support import jobs_by_project, open_projects, run, tasks_by_source

pytestmark = pytest.mark.e2e


def reconcile(session, what):
    runtime = session.runtime()
    check = reconcile_projects if what == "projects" else reconcile_tasks
    return check(runtime.netsuite, runtime.clicktime, session.mappings, runtime.config)


def differences(result):
    return [d for c in result.checks for d in c.differences]


def about(line, record, source_id):
    """Whether a difference is about NetSuite `record` `source_id` (named first, or in a sentence)."""
    return line.startswith(f"{record} {source_id}:") or f"{record} {source_id} " in line


def synced_task(session):
    """An open NetSuite task and its ClickTime task."""
    open_ids = {p.id for p in open_projects(session)}
    synced = tasks_by_source(session)
    task = next(
        t
        for t in session.simulators.netsuite.records.all("projectTask")
        if t["project"]["id"] in open_ids and t["id"] in synced
    )
    (ct_task,) = synced[task["id"]]
    return task, ct_task


def test_a_job_edited_by_hand_names_both_ids_the_field_both_values_and_what_to_do(session):
    run(session, "projects")
    assert reconcile(session, "projects").ok, "no false positive after a run"
    first, second = open_projects(session)[:2]
    other = next(p for p in open_projects(session) if p.customer_id != first.customer_id)
    (other_job,) = jobs_by_project(session)[other.id]
    (job,) = jobs_by_project(session)[first.id]
    (renamed,) = jobs_by_project(session)[second.id]
    store = session.simulators.clicktime.store
    own_client = job["ClientID"]
    store.jobs[job["ID"]]["ClientID"] = other_job["ClientID"]
    store.jobs[renamed["ID"]]["Name"] = "Renamed by hand"

    result = reconcile(session, "projects")

    lines = differences(result)
    assert not result.ok
    (moved,) = [d for d in lines if about(d, "project", first.id)]
    for part in (job["ID"], "ClientID", repr(other_job["ClientID"]), repr(own_client), "in ClickTime"):
        assert part in moved, moved
    (named,) = [d for d in lines if about(d, "project", second.id)]
    for part in (renamed["ID"], "Name", "'Renamed by hand'", repr(second.company_name)):
        assert part in named, named
    # What to do: nothing the CLI has writes an unchanged project's job again, so the line says to set it back.
    assert "set it back" in named and "ctns backfill" in named, named

    # Why the line says so: a backfill (`ctns backfill projects --since 2000-01-01`: the watermark back, then a run)
    # reads the project again, finds it unchanged and leaves its job as it is.
    ProgressStore(session.state_table).reset_watermarks("projects", datetime(2000, 1, 1, tzinfo=UTC))
    run(session, "projects")
    after = differences(reconcile(session, "projects"))
    assert any(about(d, "project", first.id) for d in after) and any(about(d, "project", second.id) for d in after)


def test_a_project_edited_in_netsuite_since_the_last_run_is_a_difference_the_next_run_writes(session):
    run(session, "projects")
    project = open_projects(session)[0]
    (job,) = jobs_by_project(session)[project.id]
    session.simulators.netsuite.records.update("job", project.id, {"companyName": "Renamed in NetSuite"})

    result = reconcile(session, "projects")

    (line,) = differences(result)
    for part in (project.id, job["ID"], "Name", "'Renamed in NetSuite'", repr(job["Name"]), "its next run writes it"):
        assert part in line, line
    run(session, "projects")
    assert reconcile(session, "projects").ok, reconcile(session, "projects").as_report()


def test_a_task_renamed_recoded_or_made_billable_by_hand_in_clicktime_is_a_difference(session):
    """The tasks reconciliation compared which tasks are active, the IDs written back, duplicates and links only:
    a ClickTime task renamed by hand (people log to "P-1040 · Design" under another name), its task code or its
    billable flag changed, was "both systems agree"."""
    run(session, "projects", "tasks")
    assert reconcile(session, "tasks").ok, "no false positive after a run"
    task, ct_task = synced_task(session)
    store = session.simulators.clicktime.store
    store.tasks[ct_task["ID"]]["Name"] = "Renamed by hand"
    store.tasks[ct_task["ID"]]["TaskCode"] = "HAND-1"
    store.tasks[ct_task["ID"]]["IsBillable"] = not ct_task["IsBillable"]

    result = reconcile(session, "tasks")

    lines = [d for d in differences(result) if about(d, "task", task["id"])]
    assert not result.ok
    assert len(lines) == 3, lines
    assert all(ct_task["ID"] in line and "set it back" in line for line in lines), lines
    (name,) = [d for d in lines if "Name" in d]
    assert "'Renamed by hand'" in name and repr(ct_task["Name"]) in name, name
    (code,) = [d for d in lines if "TaskCode" in d]
    assert "'HAND-1'" in code and repr(ct_task["TaskCode"]) in code, code
    assert any("IsBillable" in d for d in lines), lines


def test_a_task_whose_title_changed_in_netsuite_since_the_last_run_is_a_difference_the_next_run_writes(session):
    run(session, "projects", "tasks")
    task, ct_task = synced_task(session)
    session.simulators.netsuite.records.update("projectTask", task["id"], {"title": "Retitled"})

    result = reconcile(session, "tasks")

    lines = [d for d in differences(result) if about(d, "task", task["id"])]
    assert len(lines) == 1, differences(result)
    assert ct_task["ID"] in lines[0] and "Retitled" in lines[0] and "its next run writes it" in lines[0], lines
    run(session, "tasks")
    assert reconcile(session, "tasks").ok, reconcile(session, "tasks").as_report()


def test_a_task_moved_to_another_job_by_hand_is_a_difference(session):
    """The links check (a company restricting tasks by job) already names a task taken off its project's job."""
    run(session, "projects", "tasks")
    task, ct_task = synced_task(session)
    store = session.simulators.clicktime.store
    own = next(j for j, ids in store.job_tasks.items() if ct_task["ID"] in ids)
    other = next(j for j in store.jobs if j != own)
    store.job_tasks[own].remove(ct_task["ID"])
    store.job_tasks.setdefault(other, []).append(ct_task["ID"])

    result = reconcile(session, "tasks")

    assert any(about(d, "task", task["id"]) and own in d for d in differences(result)), differences(result)


def customer_and_client(session):
    """An open project's NetSuite customer and its ClickTime client (as the projects sync made it)."""
    project = open_projects(session)[0]
    (job,) = jobs_by_project(session)[project.id]
    return project.customer_id, session.simulators.clicktime.store.clients[job["ClientID"]]


def test_a_client_renamed_or_renumbered_by_hand_in_clicktime_is_a_difference(session):
    """`ctns reconcile projects` compared each job's ClientID, not the client's own Name, ClientNumber and IsActive,
    which the projects sync writes from the customer (`client_payload`): a client renamed by hand in ClickTime (its time then
    reported under another customer name) read "both systems agree"."""
    run(session, "projects")
    assert reconcile(session, "projects").ok, "no false positive after a run"
    customer_id, client = customer_and_client(session)
    name, number = client["Name"], client["ClientNumber"]
    client["Name"] = "Renamed by hand"
    client["ClientNumber"] = "HAND-1"
    client["IsActive"] = False

    result = reconcile(session, "projects")

    assert not result.ok
    lines = [d for d in differences(result) if about(d, "customer", customer_id)]
    assert len(lines) == 3, differences(result)
    assert any("IsActive False" in line for line in lines), lines
    assert all(client["ID"] in line and "set it back" in line for line in lines), lines
    (named,) = [d for d in lines if " Name " in d]
    assert "'Renamed by hand'" in named and repr(name) in named, named
    (numbered,) = [d for d in lines if "ClientNumber" in d]
    assert "'HAND-1'" in numbered and repr(number) in numbered, numbered


def test_a_customer_renamed_in_netsuite_since_the_last_run_is_a_client_difference_the_next_run_writes(session):
    run(session, "projects")
    customer_id, client = customer_and_client(session)
    session.simulators.netsuite.records.update("customer", customer_id, {"companyName": "Renamed in NetSuite"})

    result = reconcile(session, "projects")

    lines = [d for d in differences(result) if about(d, "customer", customer_id)]
    assert len(lines) == 1, differences(result)
    assert client["ID"] in lines[0] and "'Renamed in NetSuite'" in lines[0] and "its next run writes it" in lines[0]
    run(session, "projects")
    assert reconcile(session, "projects").ok, reconcile(session, "projects").as_report()
