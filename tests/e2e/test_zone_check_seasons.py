"""The per-run netsuite.timezone check on a sample from another season (review, 2026-12-03: it compared one project
only, and a zone agreeing with NetSuite's on a July edit passed all winter while every window was read an hour late,
so with an overlap under an hour a task renamed or deleted in that hour never reached ClickTime).

The integration user's preference is America/Los_Angeles (the simulator's). America/Phoenix (UTC-7 all year) agrees
with it in summer only; America/Denver agrees with it in the half hour Denver repeats when its clocks go back
(08:00-09:00 UTC on 2027-11-07, before Los Angeles goes back at 09:00), and is an hour ahead of it all winter. Tasks
and deletions do not touch a project's `lastmodifieddate`, so the sample stays where it was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.e2e.support import run, tasks_by_source
from tests.e2e.test_dates_review import netsuite_clock_at

pytestmark = pytest.mark.e2e

JULY = datetime(2027, 7, 1, 10, 0, tzinfo=UTC)
DENVERS_REPEATED_HOUR = datetime(2027, 11, 7, 8, 30, tzinfo=UTC)  # 01:30 MST in Denver, 01:30 PDT in Los Angeles


def synced_with_a_project_edited_at(session, edited: datetime):
    ns = session.simulators.netsuite.records
    clock = netsuite_clock_at(session, edited)
    ns.update("job", session.simulators.company.projects[0].id, {"companyName": "Edited long ago"})
    clock.now = edited.replace(minute=45)
    assert run(session, "projects", "tasks").failures == []

    clock.now = datetime(2027, 12, 1, 10, 0, tzinfo=UTC)  # winter: the nightly tasks run
    first = run(session, "tasks")
    assert first.syncs["tasks"]["status"] != "failed", first.syncs["tasks"]
    clock.now = datetime(2027, 12, 1, 10, 10, tzinfo=UTC)  # ten minutes after that run
    return ns, clock


def later_nights(session, clock) -> None:
    for day in (2, 3):
        clock.now = datetime(2027, 12, day, 10, 0, tzinfo=UTC)
        result = run(session, "tasks")
        assert result.syncs["tasks"]["status"] != "failed", result.syncs["tasks"]


@pytest.mark.parametrize(
    ("zone", "edited"),
    [
        ("America/Los_Angeles", JULY),  # the user's zone: the control
        ("America/Phoenix", JULY),
        ("America/Denver", DENVERS_REPEATED_HOUR),
    ],
)
def test_task_renamed_after_a_winter_run_reaches_clicktime(open_session, zone, edited):
    session = open_session({"netsuite": {"timezone": zone}, "windows": {"overlap_minutes": 30}})
    ns, clock = synced_with_a_project_edited_at(session, edited)
    task = session.simulators.company.tasks[0]
    ns.update("projectTask", task.id, {"title": "Renamed in December"})

    later_nights(session, clock)

    names = [t["Name"] for t in tasks_by_source(session)[task.id]]
    assert any("Renamed in December" in n for n in names), names


@pytest.mark.parametrize("zone", ["America/Los_Angeles", "America/Phoenix"])
def test_task_deleted_after_a_winter_run_is_deactivated_in_clicktime(open_session, zone):
    session = open_session({"netsuite": {"timezone": zone}, "windows": {"overlap_minutes": 30}})
    ns, clock = synced_with_a_project_edited_at(session, JULY)
    tasks = session.simulators.company.tasks
    leaf = next(t for t in tasks if not any(o.parent_id == t.id for o in tasks))
    (before,) = tasks_by_source(session)[leaf.id]
    assert before["IsActive"] is True
    ns.delete("projectTask", leaf.id)

    later_nights(session, clock)

    (after,) = tasks_by_source(session)[leaf.id]
    assert after["IsActive"] is False, after
