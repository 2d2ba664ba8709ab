"""The version of a task's work message (ctsync.records.tasks.message_version): the latest of the task's own and
those of the records whose data the message carries (its project, its ancestors), so the worker's version fence
holds back an older delivery of any of them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ctsync.records.tasks import message_version

ZONE = "America/Los_Angeles"


def row(task_id: str, modified: str | None, parent: str | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {"id": task_id, "title": f"T{task_id}", "project": "101"}
    if modified is not None:
        r["lastmodified"] = modified
    if parent is not None:
        r["parent"] = parent
    return r


OWN = datetime(2027, 1, 5, 18, 0, tzinfo=UTC)  # 10:00 in Los Angeles
FAMILY = {
    "1": row("1", "2027-01-06 09:00:00"),  # the top task, renamed the next day
    "2": row("2", "2027-01-05 10:00:00", "1"),
    "3": row("3", "2027-01-05 10:00:00", "2"),
    "4": row("4", "2027-01-07 09:00:00"),  # not an ancestor of 3
}


def test_a_task_alone_is_at_its_own_version() -> None:
    assert message_version(OWN, "9", {}, None, ZONE) == OWN


def test_a_project_changed_later_than_the_task_versions_the_message() -> None:
    later = datetime(2027, 1, 6, 18, 0, tzinfo=UTC)  # after the top task's rename
    assert message_version(OWN, "3", FAMILY, later, ZONE) == later
    assert message_version(later, "9", {}, OWN, ZONE) == later


def test_an_ancestor_renamed_later_versions_the_message_and_other_tasks_do_not() -> None:
    assert message_version(OWN, "3", FAMILY, None, ZONE) == datetime(2027, 1, 6, 17, 0, tzinfo=UTC)
    assert message_version(OWN, "4", FAMILY, None, ZONE) == datetime(2027, 1, 7, 17, 0, tzinfo=UTC)


def test_rows_without_a_version_and_cycles_are_passed_over() -> None:
    family = {"1": row("1", None, "2"), "2": row("2", "2027-01-05 09:00:00", "1")}
    assert message_version(OWN, "1", family, None, ZONE) == OWN
