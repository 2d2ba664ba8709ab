"""Which NetSuite project and task a ClickTime job and task stand for (`records.references.Projects`), against
the mappings table as moto emulates it.

Both exports ask it for every time entry and expense item. Each execution environment used to ask DynamoDB
once per distinct job and task (a query on the reverse index each, cached for the references' TTL): with W
environments that is W queries per task, most of a time bill's DynamoDB calls. It now reads each kind's
mappings in one listing per environment and TTL (a few pages at most), and asks the reverse index only for a
job or task the listing does not hold (mapped since, or beyond its pages).
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ctsync.records import references as references_module
from ctsync.records.references import Projects
from ctsync.references import References
from ctsync.state.mappings import Mapping, MappingStore
from tests.integration.conftest import dynamodb_calls


class ClickTimeLists:
    """The ClickTime jobs and tasks lists as `ClickTimeReferences` gives them: ID -> record."""

    def __init__(self, jobs: dict[str, str] | None = None, tasks: dict[str, str] | None = None) -> None:
        self._jobs = {i: SimpleNamespace(AccountingPackageID=a) for i, a in (jobs or {}).items()}
        self._tasks = {i: SimpleNamespace(AccountingPackageID=a) for i, a in (tasks or {}).items()}

    def jobs(self) -> dict[str, Any]:
        return self._jobs

    def tasks(self) -> dict[str, Any]:
        return self._tasks


def _map(store: MappingStore, kind: str, source_id: str, target_id: str, *, deleted: bool = False) -> None:
    store.put(Mapping(kind=kind, source_id=source_id, target_id=target_id, deleted=deleted))


def _queries(calls: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [body.get("IndexName", "") for operation, body in calls if operation == "Query"]


def test_the_tasks_and_jobs_of_many_entries_cost_one_listing_per_kind(table):
    store = MappingStore(table)
    for n in range(40):
        _map(store, "task", f"{1000 + n}", f"ct-task-{n}")
    for n in range(10):
        _map(store, "project", f"{500 + n}", f"ct-job-{n}")
    projects = Projects(store, ClickTimeLists(), References(), None)  # type: ignore[arg-type]
    calls = dynamodb_calls(table)

    tasks = [projects.task_of(f"ct-task-{n}") for n in range(40)]
    jobs = [projects.project_of_job(f"ct-job-{n}") for n in range(10)]

    assert tasks == [f"{1000 + n}" for n in range(40)]
    assert jobs == [f"{500 + n}" for n in range(10)]
    assert _queries(calls) == ["by_kind", "by_kind"]  # one listing per kind, not one query per job or task
    assert [projects.task_of(f"ct-task-{n}") for n in range(40)] == tasks
    assert len(_queries(calls)) == 2  # held for the references' TTL


def test_a_task_mapped_after_the_listing_is_found_and_an_unknown_one_falls_back_to_clicktime(table):
    store = MappingStore(table)
    _map(store, "task", "1000", "ct-task-0")
    lists = ClickTimeLists(tasks={"ct-task-9": "2009", "ct-task-8": ""})
    projects = Projects(store, lists, References(), None)  # type: ignore[arg-type]
    assert projects.task_of("ct-task-0") == "1000"

    _map(store, "task", "1001", "ct-task-1")  # the tasks sync ran meanwhile
    assert projects.task_of("ct-task-1") == "1001"
    assert projects.task_of("ct-task-9") == "2009"  # no mapping: ClickTime's AccountingPackageID
    assert projects.task_of("ct-task-8") is None  # neither


def test_a_deleted_mapping_is_no_answer_and_a_live_one_of_the_same_target_wins(table):
    store = MappingStore(table)
    _map(store, "task", "1000", "ct-task-0", deleted=True)
    _map(store, "task", "1100", "ct-task-1", deleted=True)
    _map(store, "task", "1101", "ct-task-1")  # the task recreated in NetSuite, linked to the same ClickTime task
    lists = ClickTimeLists(tasks={"ct-task-0": "3000"})
    projects = Projects(store, lists, References(), None)  # type: ignore[arg-type]
    calls = dynamodb_calls(table)

    assert projects.task_of("ct-task-0") == "3000"
    assert projects.task_of("ct-task-1") == "1101"
    assert _queries(calls) == ["by_kind"]  # the listing answered both: a deleted mapping is an answer too


def test_a_kind_too_large_to_list_is_read_a_page_at_most_and_the_rest_asked_one_by_one(table, monkeypatch):
    store = MappingStore(table)
    for n in range(12):
        _map(store, "task", f"{1000 + n}", f"ct-task-{n}")
    monkeypatch.setattr(references_module, "LISTED_PAGES", 2)
    paged = PagedTable(table, limit=4)
    projects = Projects(MappingStore(paged), ClickTimeLists(), References(), None)  # type: ignore[arg-type]

    assert [projects.task_of(f"ct-task-{n}") for n in range(12)] == [f"{1000 + n}" for n in range(12)]
    # 2 pages of 4 listed; the other 4 tasks asked of the reverse index one by one
    assert paged.queries == {"by_kind": 2, "by_target": 4}


class PagedTable:
    """The table, with at most `limit` items a query and every query counted by index."""

    def __init__(self, table: Any, limit: int) -> None:
        self._table, self._limit = table, limit
        self.queries: dict[str, int] = {}

    def query(self, **kwargs: Any) -> dict[str, Any]:
        index = kwargs.get("IndexName", "")
        self.queries[index] = self.queries.get(index, 0) + 1
        return self._table.query(Limit=self._limit, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)


def test_the_reverse_index_alone_also_prefers_a_live_mapping_to_a_deleted_one(table, monkeypatch):
    store = MappingStore(table)
    _map(store, "task", "1100", "ct-task-1", deleted=True)
    _map(store, "task", "1101", "ct-task-1")
    _map(store, "task", "1000", "ct-task-0", deleted=True)
    monkeypatch.setattr(references_module, "LISTED_PAGES", 0)  # nothing listed: every answer from the index
    projects = Projects(store, ClickTimeLists(tasks={"ct-task-0": "3000"}), References(), None)  # type: ignore[arg-type]

    assert projects.task_of("ct-task-1") == "1101"
    assert projects.task_of("ct-task-0") == "3000"
    assert store.by_target("task", "ct-task-1").source_id == "1101"


def test_the_listing_holds_each_target_once_a_live_mapping_first_and_no_mapping_without_a_target(table):
    store = MappingStore(table)
    _map(store, "task", "1000", "ct-task-0")
    _map(store, "task", "1100", "ct-task-1", deleted=True)
    _map(store, "task", "1101", "ct-task-1")
    _map(store, "task", "1200", "ct-task-2", deleted=True)
    _map(store, "task", "1300", "")  # a mapping that names no target (never written to ClickTime)
    _map(store, "project", "500", "ct-job-0")

    listed = store.live_by_target("task", max_pages=3)
    assert {t: m.source_id if m else None for t, m in listed.items()} == {
        "ct-task-0": "1000",
        "ct-task-1": "1101",
        "ct-task-2": None,
    }
