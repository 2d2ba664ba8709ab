"""Two NetSuite projects that swap numbers, and two tasks of one project that swap titles (an accountant fixing
numbers given the wrong way round, a project manager reordering phases).

ClickTime refuses a JobNumber, or a task name, that another record holds (clicktime-api.md §3.1; task names:
UNVERIFIED, the simulator refuses them). Each update asked for the value the other's ClickTime record still held, so
both were tried again, then dead-lettered, and a redrive met the same refusals (review 16, kept as a strict xfail
until 2026-12-04); `ctns plan` said both would fail. Now the first update moves the other record, whose NetSuite
record no longer has the value, onto a placeholder (`records.targets._vacated`), and the other's own update takes
the value freed; the plan says update for both. Each test failed before the fix.
"""

from __future__ import annotations

import pytest

from tests.e2e.cli_support import ctns
from tests.e2e.support import jobs_by_project, tasks_by_source

pytestmark = pytest.mark.e2e


@pytest.fixture
def stack(small_stack):
    return small_stack


def _steps(capsys, sync: str) -> dict[str, dict]:
    plan = ctns(capsys, "plan", sync, "--json")
    return {s["source_id"]: s for s in plan.json["plans"][0]["steps"]}


def test_projects_that_swap_numbers_are_planned_as_updates_and_swapped_by_one_run(stack, capsys):
    ns = stack.session.simulators.netsuite.records
    assert ctns(capsys, "run", "projects").code == 0
    jobs = jobs_by_project(stack.session)
    a, b = sorted((p for p in jobs if jobs[p][0]["IsActive"]), key=int)[:2]
    a_number, b_number = ns.get("job", a)["entityId"], ns.get("job", b)["entityId"]
    ns.update("job", b, {"entityId": "TMP-SWAP"})
    ns.update("job", a, {"entityId": b_number})
    ns.update("job", b, {"entityId": a_number})

    steps = _steps(capsys, "projects")
    ran = ctns(capsys, "run", "projects")

    assert (steps[a]["action"], steps[b]["action"]) == ("update", "update"), (steps[a], steps[b])
    assert ran.code == 0, ran.out
    jobs = jobs_by_project(stack.session)
    assert (jobs[a][0]["JobNumber"], jobs[b][0]["JobNumber"]) == (b_number, a_number)


def test_a_project_that_takes_the_number_of_one_still_holding_it_is_still_foreseen_to_fail(stack, capsys):
    """The other project keeps its number: nothing is moved aside, and the plan and the run say so."""
    ns = stack.session.simulators.netsuite.records
    assert ctns(capsys, "run", "projects").code == 0
    jobs = jobs_by_project(stack.session)
    a, b = sorted((p for p in jobs if jobs[p][0]["IsActive"]), key=int)[:2]
    b_number = ns.get("job", b)["entityId"]
    ns.update("job", a, {"entityId": b_number.lower()})  # NetSuite's entity IDs differ in letters; ClickTime's not

    steps = _steps(capsys, "projects")
    ran = ctns(capsys, "run", "projects")

    assert steps[a]["action"] == "fail" and "holds JobNumber" in steps[a]["detail"], steps[a]
    assert ran.code == 1
    jobs = jobs_by_project(stack.session)
    assert jobs[b][0]["JobNumber"] == b_number


def test_tasks_that_swap_titles_are_planned_as_updates_and_swapped_by_one_run(stack, capsys):
    ns = stack.session.simulators.netsuite.records
    assert ctns(capsys, "run", "projects", "tasks").code == 0
    tasks = tasks_by_source(stack.session)
    project = next(
        t["project"]["id"]
        for t in ns.all("projectTask")
        if t["id"] in tasks and tasks[t["id"]][0]["IsActive"] and not t.get("parent")
    )
    fields = {"project": {"id": project}, "status": {"id": "NOTSTART"}}
    alpha = ns.add("projectTask", {**fields, "title": "Phase Alpha"})
    omega = ns.add("projectTask", {**fields, "title": "Phase Omega"})
    assert ctns(capsys, "run", "tasks").code == 0
    ns.update("projectTask", alpha, {"title": "Phase Omega"})
    ns.update("projectTask", omega, {"title": "Phase Alpha"})

    steps = _steps(capsys, "tasks")
    ran = ctns(capsys, "run", "tasks")

    assert (steps[alpha]["action"], steps[omega]["action"]) == ("update", "update"), (steps[alpha], steps[omega])
    assert ran.code == 0, ran.out
    tasks = tasks_by_source(stack.session)
    assert [tasks[i][0]["Name"].split(" · ")[-1] for i in (alpha, omega)] == ["Phase Omega", "Phase Alpha"]
