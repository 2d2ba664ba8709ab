"""A task's work message carries snapshots of other records: its project's (number, name, status) and its ancestors'
titles (the path in its name). SQS standard queues deliver twice and in no set order, so an earlier run's message
can arrive after a later one was applied. It must not put back the older project or parent data: no later run reads
the task again (neither it nor its project changed since), so what it wrote would stay for good.

(From a review: the fence compared only the task's own `lastmodifieddate`.)"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ctsync.sync.queues import WorkQueue
from ctsync.sync.registry import build
from tests.e2e.support import run, tasks_by_source
from tests.e2e.test_dates_review import netsuite_clock_at

pytestmark = pytest.mark.e2e


@pytest.fixture
def sent(monkeypatch) -> list[Any]:
    """Every work message the pollers queue."""
    messages: list[Any] = []
    original = WorkQueue.send

    def spy(self: WorkQueue, batch: Any) -> int:
        batch = list(batch)
        messages.extend(batch)
        return original(self, batch)

    monkeypatch.setattr(WorkQueue, "send", spy)
    return messages


def redeliver(session, message) -> Any:
    """The message delivered to the tasks worker again (a duplicate, a retry after a visibility timeout)."""
    return build("tasks", session.runtime("TasksWorker")).applier.apply(message)


def nights_after(session, clock, *days: int) -> None:
    for day in days:
        clock.now = datetime(2027, 1, day, 10, 0, tzinfo=UTC)
        run(session, "projects", "tasks")


def the_task(session, task_id: str) -> dict[str, Any]:
    (task,) = tasks_by_source(session)[task_id]
    return task


def first_night(session, child: bool = False) -> tuple[Any, Any]:
    """The clock (NetSuite's, at 2027-01-04 10:00Z) and a task (a subtask if `child`) active in ClickTime after the
    first run of projects and tasks."""
    clock = netsuite_clock_at(session, datetime(2027, 1, 4, 10, 0, tzinfo=UTC))
    run(session, "projects", "tasks")
    task = next(
        t
        for t in session.simulators.company.tasks
        if (t.parent_id or not child) and any(x.get("IsActive") for x in tasks_by_source(session).get(t.id, []))
    )
    return clock, task


def test_a_redelivered_task_message_of_an_older_project_number_does_not_rename_the_task_back(session, sent):
    ns = session.simulators.netsuite.records
    task = session.simulators.company.tasks[0]
    clock = netsuite_clock_at(session, datetime(2027, 1, 4, 10, 0, tzinfo=UTC))
    run(session, "projects", "tasks")

    clock.now = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)
    ns.update("job", task.project_id, {"entityId": "P-FIRST"})
    clock.now = datetime(2027, 1, 5, 10, 0, tzinfo=UTC)
    sent.clear()
    run(session, "projects", "tasks")
    older = [m for m in sent if m.sync == "tasks" and m.source_id == task.id]
    assert older, "the tasks run queued the task with the project's first new number"

    clock.now = datetime(2027, 1, 6, 8, 0, tzinfo=UTC)
    ns.update("job", task.project_id, {"entityId": "P-SECOND"})
    clock.now = datetime(2027, 1, 6, 10, 0, tzinfo=UTC)
    run(session, "projects", "tasks")
    assert the_task(session, task.id)["Name"].startswith("P-SECOND")

    outcome = redeliver(session, older[0])
    assert outcome.action in ("skipped", "unchanged"), outcome
    nights_after(session, clock, 7, 8)
    assert the_task(session, task.id)["Name"].startswith("P-SECOND"), the_task(session, task.id)

    # No loop: a night with nothing changed writes nothing.
    clock.now = datetime(2027, 1, 9, 10, 0, tzinfo=UTC)
    quiet = run(session, "projects", "tasks")
    assert quiet.clicktime_writes == [] and quiet.netsuite_writes == []


def test_a_redelivered_task_message_from_before_its_project_closed_does_not_reactivate_the_task(session, sent):
    ns = session.simulators.netsuite.records
    clock, task = first_night(session)

    clock.now = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)
    ns.update("job", task.project_id, {"companyName": "Renamed while open"})
    clock.now = datetime(2027, 1, 5, 10, 0, tzinfo=UTC)
    sent.clear()
    run(session, "projects", "tasks")
    older = [m for m in sent if m.sync == "tasks" and m.source_id == task.id]
    assert older

    clock.now = datetime(2027, 1, 6, 8, 0, tzinfo=UTC)
    ns.update("job", task.project_id, {"entityStatus": {"id": "1"}})  # closed
    clock.now = datetime(2027, 1, 6, 10, 0, tzinfo=UTC)
    run(session, "projects", "tasks")
    assert not the_task(session, task.id)["IsActive"]

    outcome = redeliver(session, older[0])
    assert outcome.action in ("skipped", "unchanged"), outcome
    nights_after(session, clock, 7, 8)
    job = [j for j in session.simulators.clicktime.jobs() if j.get("AccountingPackageID") == task.project_id][0]
    assert not the_task(session, task.id)["IsActive"], ("task active again", "job active:", job["IsActive"])


def test_a_redelivered_subtask_message_of_an_older_parent_title_does_not_rename_the_subtask_back(session, sent):
    ns = session.simulators.netsuite.records
    clock, child = first_night(session, child=True)

    clock.now = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)
    ns.update("projectTask", child.parent_id, {"title": "Phase First"})
    clock.now = datetime(2027, 1, 5, 10, 0, tzinfo=UTC)
    sent.clear()
    run(session, "projects", "tasks")
    older = [m for m in sent if m.sync == "tasks" and m.source_id == child.id]
    assert older, "the tasks run queued the subtask with its parent's first new title"
    assert "Phase First › " in the_task(session, child.id)["Name"]

    clock.now = datetime(2027, 1, 6, 8, 0, tzinfo=UTC)
    ns.update("projectTask", child.parent_id, {"title": "Phase Second"})
    clock.now = datetime(2027, 1, 6, 10, 0, tzinfo=UTC)
    run(session, "projects", "tasks")
    assert "Phase Second › " in the_task(session, child.id)["Name"]

    outcome = redeliver(session, older[0])
    assert outcome.action in ("skipped", "unchanged"), outcome
    nights_after(session, clock, 7, 8)
    assert "Phase Second › " in the_task(session, child.id)["Name"], the_task(session, child.id)


def test_a_task_edited_after_its_project_changed_is_applied(session, sent):
    """The fence must not hold back a genuinely newer task edit: the task's own change after the project's."""
    ns = session.simulators.netsuite.records
    clock, task = first_night(session)

    clock.now = datetime(2027, 1, 5, 8, 0, tzinfo=UTC)
    ns.update("job", task.project_id, {"entityId": "P-RENUMBERED"})
    clock.now = datetime(2027, 1, 5, 10, 0, tzinfo=UTC)
    run(session, "projects", "tasks")
    assert the_task(session, task.id)["Name"].startswith("P-RENUMBERED")

    clock.now = datetime(2027, 1, 5, 11, 0, tzinfo=UTC)
    ns.update("projectTask", task.id, {"title": "Edited after"})
    clock.now = datetime(2027, 1, 5, 12, 0, tzinfo=UTC)
    run(session, "tasks")
    name = the_task(session, task.id)["Name"]
    assert name.startswith("P-RENUMBERED") and name.endswith("Edited after"), name
