"""The projects of NetSuite project tasks (`NetSuiteReferences.read_projects_of_tasks` and `project_of_task`): the
tasks of a sheet read together over SuiteQL, each then answered from the cache; a task NetSuite does not list
remembered as none; an account that hides `projecttask` read task by task over REST, as before."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from ctsync.errors import NeedsAttention
from ctsync.netsuite.errors import NetSuiteNotFound
from ctsync.records.references import NetSuiteReferences
from ctsync.references import References


class ProjectTasks:
    """A NetSuite client answering SuiteQL on projecttask (id, project) and GET projectTask, counting both."""

    def __init__(self, projects: dict[int, int], hidden: bool = False) -> None:
        self.projects = projects
        self.hidden = hidden
        self.queries: list[str] = []
        self.records: list[str] = []

    def rows(self, build_query: Callable[[str | None], str], **_: Any) -> Iterator[dict[str, Any]]:
        query = build_query(None)
        self.queries.append(query)
        if self.hidden:
            raise NeedsAttention("Record 'projecttask' was not found.", code="INVALID_SEARCH")
        asked = re.search(r"IN \(([^)]*)\)", query)
        assert asked is not None and "FROM projecttask t" in query
        for task in sorted(int(t) for t in asked.group(1).split(", ")):
            if task in self.projects:
                yield {"id": task, "project": self.projects[task]}

    def get_record(self, record_type: str, record_id: str, **_: Any) -> dict[str, Any]:
        assert record_type == "projectTask"
        self.records.append(record_id)
        if int(record_id) not in self.projects:
            raise NetSuiteNotFound(404, "NONEXISTENT_ID", "no such task")
        return {"project": {"id": str(self.projects[int(record_id)])}}


def test_a_sheets_tasks_cost_one_query_and_each_is_then_answered_from_the_cache():
    client = ProjectTasks({10: 500, 11: 500, 12: 501})
    cache = References()
    ns = NetSuiteReferences(client, cache)  # type: ignore[arg-type]

    ns.read_projects_of_tasks(["12", "10", "10", "99", "", "APID-not-a-number"])
    assert [ns.project_of_task(t) for t in ("10", "12", "99")] == ["500", "501", None]
    assert len(client.queries) == 1 and "IN (10, 12, 99)" in client.queries[0]
    assert client.records == []

    cache.new_invocation()
    ns.read_projects_of_tasks(["10", "11"])  # only what is not held yet
    assert ns.project_of_task("11") == "500"
    assert len(client.queries) == 2 and "IN (11)" in client.queries[1]
    ns.read_projects_of_tasks(["10", "11", "99"])  # all held (99 as none): nothing read
    assert len(client.queries) == 2 and client.records == []


def test_a_task_asked_for_without_the_sheets_read_is_read_over_rest_once():
    client = ProjectTasks({10: 500})
    ns = NetSuiteReferences(client, References())  # type: ignore[arg-type]

    assert ns.project_of_task("10") == "500" and ns.project_of_task("10") == "500"
    assert ns.project_of_task("98") is None
    assert client.records == ["10", "98"] and client.queries == []


def test_an_account_that_hides_the_table_is_read_task_by_task_and_not_asked_again():
    client = ProjectTasks({10: 500, 11: 501}, hidden=True)
    cache = References()
    ns = NetSuiteReferences(client, cache)  # type: ignore[arg-type]

    ns.read_projects_of_tasks(["10", "11"])
    assert [ns.project_of_task("10"), ns.project_of_task("11")] == ["500", "501"]
    cache.new_invocation()
    ns.read_projects_of_tasks(["12"])
    assert len(client.queries) == 1 and client.records == ["10", "11"]


def test_the_cache_says_what_it_holds_until_its_ttl_has_passed():
    now = [0.0]
    cache = References(ttl_seconds=300, monotonic=lambda: now[0])
    assert not cache.holds("x")
    cache.get("x", lambda: None)
    assert cache.holds("x")  # a value of None is held too
    now[0] = 301
    assert not cache.holds("x")
