"""Service items of project tasks (ctsync.records.references.NetSuiteReferences.service_items): read in bulk once
per execution environment (TTL), not once per timesheet; a large account's tasks beyond the bulk read still
found; an account that hides the table still answered, task by task over REST, on every lookup."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from ctsync.errors import NeedsAttention
from ctsync.records import references as refs
from ctsync.records.references import NetSuiteReferences
from ctsync.references import References


class Assignments:
    """A NetSuite client answering SuiteQL on projecttaskassignment from a list of (line id, task, item)."""

    def __init__(self, lines: list[tuple[int, int, int | None]], page_size: int = 1000, hidden: bool = False) -> None:
        self.lines = lines
        self.page_size = page_size
        self.hidden = hidden
        self.queries: list[str] = []
        self.records: list[str] = []

    def keyset_pages(
        self, build_query: Callable[[str | None], str], *, key: str = "id", page_size: int | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        after: str | None = None
        while True:
            query = build_query(after)
            self.queries.append(query)
            if self.hidden:
                raise NeedsAttention("Record 'projecttaskassignment' was not found.", code="INVALID_SEARCH")
            rows = [
                {"id": line, "projecttask": task, "serviceitem": item}
                for line, task, item in sorted(self.lines)
                if (after is None or line > int(after))
                and ("IS NOT NULL" not in query or item is not None)
                and (not (m := re.search(r"IN \(([^)]*)\)", query)) or str(task) in m.group(1).split(", "))
            ]
            page = rows[: self.page_size]
            if not page:
                return
            yield page
            if len(rows) <= self.page_size:
                return
            after = str(page[-1]["id"])

    def rows(self, build_query: Callable[[str | None], str], **_: Any) -> Iterator[dict[str, Any]]:
        for page in self.keyset_pages(build_query):
            yield from page

    def get_record(self, record_type: str, record_id: str, *, expand: bool = False) -> dict[str, Any]:
        self.records.append(record_id)
        items = [{"serviceItem": {"id": str(i)}} for _, t, i in sorted(self.lines) if str(t) == record_id and i]
        return {"assignee": {"items": items}}


def test_one_bulk_read_answers_every_sheet_of_the_environment():
    client = Assignments([(1, 10, 100), (2, 10, 101), (3, 11, None), (4, 12, 102)])
    cache = References()
    ns = NetSuiteReferences(client, cache)  # type: ignore[arg-type]

    assert ns.service_items(["10", "11"]) == {"10": "100"}  # the first line with an item
    cache.new_invocation()
    assert ns.service_items(["12", "11", "13"]) == {"12": "102"}
    assert ns.service_items(["10", "12"]) == {"10": "100", "12": "102"}
    assert len(client.queries) == 1


def test_the_bulk_read_is_read_again_once_its_ttl_has_passed():
    now = [0.0]
    client = Assignments([(1, 10, 100)])
    cache = References(ttl_seconds=300, monotonic=lambda: now[0])
    ns = NetSuiteReferences(client, cache)  # type: ignore[arg-type]
    assert ns.service_items(["10", "11"]) == {"10": "100"}
    client.lines.append((2, 11, 101))  # a person gives task 11 its item
    now[0] = 301
    cache.new_invocation()
    assert ns.service_items(["10", "11"]) == {"10": "100", "11": "101"}
    assert len(client.queries) == 2


def test_past_the_page_limit_the_tasks_not_covered_are_read_as_sheets_need_them(monkeypatch):
    monkeypatch.setattr(refs, "ASSIGNMENT_PAGES", 2)
    lines = [(n, 1000 + n, 5000 + n) for n in range(1, 8)] + [(8, 2000, None)]
    client = Assignments(lines, page_size=2)
    ns = NetSuiteReferences(client, References())  # type: ignore[arg-type]

    assert ns.service_items(["1001", "1004"]) == {"1001": "5001", "1004": "5004"}
    assert len(client.queries) == 2  # two pages, then no more: the limit
    assert ns.service_items(["1001", "1006", "2000"]) == {"1001": "5001", "1006": "5006"}
    assert len(client.queries) == 3 and "IN (1006, 2000)" in client.queries[-1]
    assert ns.service_items(["1006", "2000"]) == {"1006": "5006"}  # 2000 remembered as having none
    assert len(client.queries) == 3


def test_an_account_that_hides_the_table_is_read_over_rest_on_every_lookup():
    client = Assignments([(1, 10, 100), (2, 11, 101)], hidden=True)
    cache = References()
    ns = NetSuiteReferences(client, cache)  # type: ignore[arg-type]

    assert ns.service_items(["10"]) == {"10": "100"}
    cache.new_invocation()
    assert ns.service_items(["10", "11"]) == {"10": "100", "11": "101"}
    assert len(client.queries) == 1  # the table is not asked again
    assert client.records == ["10", "11"]  # each task once
