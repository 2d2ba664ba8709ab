"""Time and expenses on a ClickTime task that stands for no NetSuite project task (made in ClickTime, not by the
tasks sync). A review found the time exported to the project with no task and the default service item, and an
expense line without its task, with no cause and no note: task budgets and the item's rate were wrong and no one
was told. `accounting.tasks_not_from_netsuite` now decides: `fail` (the default) blocks the sheet with one cause
naming the task and the entries; `project_only` posts to the project without a task and says so in the run's
notes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from simulators.clicktime import catalog
from tests.e2e.support import run
from tests.e2e.test_expense_export import (  # noqa: F401 - fixtures
    activity,
    exportable_sheets,
    exported,
    report_of,
)
from tests.e2e.test_time_export_review import WEEK, World

pytestmark = pytest.mark.e2e


def unlinked_task(ct, job_id: str) -> str:
    task = catalog.create_task(ct.store, {"Name": "Workshop prep", "TaskCode": "WSP"}, unique_names=True)
    catalog.link_task(ct.store, job_id, task["ID"])
    return task["ID"]


def test_time_on_an_unlinked_task_blocks_its_timesheet_with_one_cause_by_default(open_session):
    world = World(open_session())
    sheet = world.sheet()
    linked = world.entry(sheet, WEEK, "2")
    stray = world.entry(sheet, WEEK + timedelta(days=1), "3", task=unlinked_task(world.ct, world.job))
    world.approve(sheet)

    world.run()

    assert world.bill(stray) is None and world.bill(linked) is None  # whole or nothing
    (cause,) = [c for c in world.causes() if c.key.startswith("task-unlinked:")]
    assert "Workshop prep" in cause.reason and stray in cause.reason and linked not in cause.reason
    assert "tasks_not_from_netsuite" in cause.fix


def test_time_on_an_unlinked_task_goes_to_the_project_without_a_task_when_told_and_the_run_says_so(open_session):
    world = World(open_session({"accounting": {"tasks_not_from_netsuite": "project_only"}}))
    sheet = world.sheet()
    linked = world.entry(sheet, WEEK, "2")
    stray = world.entry(sheet, WEEK + timedelta(days=1), "3", task=unlinked_task(world.ct, world.job))
    world.approve(sheet)

    result = world.run()

    bill = world.bill(stray)
    assert bill is not None and "caseTaskEvent" not in bill and bill["customer"]["id"] == world.project
    assert world.bill(linked)["caseTaskEvent"]["id"] == world.task
    notes = " ".join(world.notes(result).values())
    assert "Workshop prep" in notes and stray in notes and "without a task" in notes
    assert not [c for c in world.causes() if c.key.startswith("task-unlinked:")]


def test_an_expense_on_an_unlinked_task_blocks_its_sheet_by_default(exported):  # noqa: F811
    session = exported
    ct = session.simulators.clicktime
    sheet, item = next((s, i) for s in exportable_sheets(session) for i in ct.items_of(s["ID"]) if i.get("JobID"))
    held = report_of(session, sheet["ID"])
    stray = unlinked_task(ct, item["JobID"])
    ct.clock.advance(timedelta(days=1))
    ct.expense_sheet_action(sheet["ID"], "UndoApproval", "task")
    ct.edit_expense_item(item["ID"], TaskID=stray)
    ct.expense_sheet_action(sheet["ID"], "Approve")

    run(session, "expenses")

    assert report_of(session, sheet["ID"]) == held  # not written without its task
    (cause,) = [c for c in session.runlog.causes("expenses") if c.key == f"task-unlinked:{stray.lower()}"]
    assert item["ID"] in cause.reason and "Workshop prep" in cause.reason


# -- a task of another project (a review of the expense export; the time export had the same gap) ---------------
def task_of_another_project(world: World) -> tuple[str, str]:
    """A ClickTime task the tasks sync made for a NetSuite task of another project, made available on the world's
    job as well (ClickTime's task list is company-wide): (its ClickTime ID, that other project)."""
    other = next(
        t
        for t in world.company.tasks
        if t.project_id != world.project and t.id in world.ids.tasks and not t.is_inactive
    )
    catalog.link_task(world.ct.store, world.job, world.ids.tasks[other.id])
    return world.ids.tasks[other.id], other.project_id


@pytest.mark.parametrize("tasks_synced", [True, False], ids=["mapped-by-the-tasks-sync", "by-accountingpackageid"])
def test_time_on_a_task_of_another_project_blocks_its_timesheet_by_default(open_session, tasks_synced):
    world = World(open_session())
    if tasks_synced:
        run(world.session, "projects")
        run(world.session, "tasks")
    sheet = world.sheet()
    linked = world.entry(sheet, WEEK, "2")
    ct_task, elsewhere = task_of_another_project(world)
    stray = world.entry(sheet, WEEK + timedelta(days=1), "3", task=ct_task)
    world.approve(sheet)

    world.run()

    assert world.bill(stray) is None and world.bill(linked) is None  # whole or nothing
    (cause,) = [c for c in world.causes() if c.key.startswith("task-of-other-project:")]
    assert stray in cause.reason and linked not in cause.reason
    assert f"of project {elsewhere}, not of project {world.project}" in cause.reason


def test_time_on_a_task_of_another_project_goes_to_its_own_project_without_the_task_when_told(open_session):
    world = World(open_session({"accounting": {"tasks_not_from_netsuite": "project_only"}}))
    sheet = world.sheet()
    ct_task, elsewhere = task_of_another_project(world)
    stray = world.entry(sheet, WEEK, "3", task=ct_task)
    world.approve(sheet)

    result = world.run()

    bill = world.bill(stray)
    assert bill is not None and "caseTaskEvent" not in bill and bill["customer"]["id"] == world.project
    notes = " ".join(world.notes(result).values())
    assert stray in notes and f"of project {elsewhere}" in notes and "without a task" in notes


def test_the_projects_of_tasks_linked_by_accountingpackageid_cost_one_suiteql_read_per_sheet_not_a_get_per_task(
    open_session,
):
    """Where the tasks sync did not link a ClickTime task, its NetSuite task's project comes from NetSuite. Read
    record by record, that was one `GET projectTask` per distinct task in each execution environment (and again
    after the cache's TTL): in an account whose tasks were linked by hand, more NetSuite calls than bills. One
    SuiteQL read answers every task of a sheet."""
    world = World(open_session())
    sheet = world.sheet()
    entries = [
        world.entry(sheet, WEEK, "2"),
        world.entry(sheet, WEEK + timedelta(days=1), "3", task=world.ct_task2),
        world.entry(sheet, WEEK + timedelta(days=2), "1.5"),
    ]
    world.approve(sheet)
    requests = world.session.simulators.netsuite.requests
    before = len(requests)

    world.run()

    assert all(world.bill(entry) is not None for entry in entries)
    made = requests[before:]
    task_reads = [r for r in made if r.method == "GET" and "/projecttask/" in r.path.lower()]
    # (the run's one list of non-billable tasks, `NetSuiteReferences.non_billable_tasks`, is no read of projects)
    task_queries = [
        r for r in made if r.path.lower().endswith("/suiteql") and "t.project as project from projecttask " in _query(r)
    ]
    assert task_reads == []
    assert len(task_queries) == 1 and world.task in _query(task_queries[0]) and world.task2 in _query(task_queries[0])


def _query(request) -> str:
    body = getattr(request, "body", None)
    return (body.get("q", "") if isinstance(body, dict) else "").lower()
