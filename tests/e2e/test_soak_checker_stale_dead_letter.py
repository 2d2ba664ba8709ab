"""Soak seed 45003 (`--nights 6 --scale 3`): a defect in the soak's CHECKER, not in the product.

At three times the HARSH fault rates a worker sometimes gives up on a record (ClickTime or NetSuite failing on every
client retry of every queue attempt): it dead-letters it with the reason (`gave up after 5 attempts: …`). A later
night's run changes the record again and it goes through; its dead letter stays in the queue until an operator's
redrive, which the product tells as left over (`ctns errors`: "went through since (version …); the redrive clears
its dead letter", `ctns.commands.failures.describe_record`). `invariants.check` counts every dead letter as a
failure, so a record that is in ClickTime exactly once with the right content is reported under
`unexpected_failures` (soak 45003: task 5011, expense sheet glyYp3ERY8914O2aNk0UKF) and the soak exits 1.

Failing test (the checker's, like test_soak_checker_empty_sheets.py): a dead letter whose record went through
since, with the version it carried or a newer one applied, is no failure of the record.
"""

from __future__ import annotations

import pytest

from tests.e2e import invariants
from tests.e2e.support import run, tasks_by_source

pytestmark = pytest.mark.e2e


def test_the_checker_takes_a_left_over_dead_letter_of_a_record_that_went_through_since_for_no_failure(session):
    ns, ct = session.simulators.netsuite.records, session.simulators.clicktime
    run(session, "projects", "tasks")
    task = sorted(tasks_by_source(session), key=int)[0]
    (clicktime_task,) = tasks_by_source(session)[task]

    # Night 2: the task renamed in NetSuite; ClickTime answers 500 to its update, every try of every attempt.
    ns.update("projectTask", task, {"title": f"{ns.get('projectTask', task)['title']} (renamed)"})
    ct.faults.inject(status=500, times=10_000, method="PATCH", path=rf"/Tasks/{clicktime_task['ID']}$")
    run(session, "tasks")
    letters = [d for d in session.runner.dead_letters("tasks") if d.source_id == task]
    assert letters and "gave up after" in letters[0].reason, session.runner.dead_letters("tasks")

    # Night 3: ClickTime answers again; the task renamed again goes through.
    ct.faults.clear()
    ns.update("projectTask", task, {"title": f"{ns.get('projectTask', task)['title']} again"})
    run(session, "tasks")
    (clicktime_task,) = tasks_by_source(session)[task]
    assert clicktime_task["Name"].endswith("(renamed) again"), clicktime_task

    figures = invariants.check(session, ("tasks",))["tasks"]
    assert figures.wrong == [] and figures.lost == []  # the product: the task is in ClickTime once, right
    assert figures.unexpected_failures == [], (
        f"the checker counts the left-over dead letter of task {task} (in ClickTime, right, since a later run) as "
        f"an unexpected failure: {figures.unexpected_failures}"
    )
