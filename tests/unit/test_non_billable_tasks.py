"""NetSuite's non-billable project tasks as the time export reads them (`NetSuiteReferences.non_billable_tasks`): the
account's list in one SuiteQL read per run (a timesheet costs no request of its own), read again for the next run;
past the page limit the tasks the list did not reach read by ID; an account that hides `projecttask` read over REST.
And the rule (`planned_billable`) with the run's note (`overridden_notes`): counted per ClickTime task, not a line per
entry. (Review of the daily syncs, 2026-12-04: tests/e2e/test_review_daily_billable_by_job.py.)"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from ctsync.clicktime.models import Timesheet
from ctsync.errors import NeedsAttention
from ctsync.netsuite.errors import NetSuiteNotFound
from ctsync.records import references
from ctsync.records.references import NetSuiteReferences
from ctsync.records.time_export import SheetPlan, overridden_notes, planned_billable
from ctsync.references import References


class Tasks:
    """A NetSuite client answering SuiteQL on projecttask (the non-billable list, or tasks by ID) and GET projectTask,
    counting each request."""

    page_size = 3

    def __init__(self, non_billable: set[int], hidden: bool = False) -> None:
        self.non_billable = sorted(non_billable)
        self.hidden = hidden
        self.queries: list[str] = []
        self.records: list[str] = []

    def keyset_pages(self, build_query: Callable[[str | None], str], **_: Any) -> Iterator[list[dict[str, Any]]]:
        after: str | None = None
        while True:
            query = build_query(after)
            self.queries.append(query)
            if self.hidden:
                raise NeedsAttention("Record 'projecttask' was not found.", code="INVALID_SEARCH")
            assert "t.nonbillabletask = 'T'" in query
            page = [{"id": t} for t in self.non_billable if after is None or t > int(after)][: self.page_size]
            if page:
                yield page
            if len(page) < self.page_size:
                return
            after = str(page[-1]["id"])

    def rows(self, build_query: Callable[[str | None], str], **_: Any) -> Iterator[dict[str, Any]]:
        query = build_query(None)
        self.queries.append(query)
        asked = re.search(r"IN \(([^)]*)\)", query)
        assert asked is not None and "FROM projecttask t" in query
        for task in sorted(int(t) for t in asked.group(1).split(", ")):
            yield {"id": task, "nonbillabletask": "T" if task in self.non_billable else "F"}

    def get_record(self, record_type: str, record_id: str, **kwargs: Any) -> dict[str, Any]:
        assert record_type == "projectTask" and kwargs.get("fields") == ["nonBillableTask"]
        self.records.append(record_id)
        if int(record_id) > 1000:
            raise NetSuiteNotFound(404, "NONEXISTENT_ID", "no such task")
        return {"nonBillableTask": int(record_id) in self.non_billable}


def test_the_accounts_list_is_read_once_per_run_and_answers_every_sheet():
    client = Tasks({10, 12})
    cache = References()
    ns = NetSuiteReferences(client, cache)  # type: ignore[arg-type]
    cache.new_invocation(["run-1"])

    assert ns.non_billable_tasks(["10", "11", "", "APID"]) == {"10"}
    assert ns.non_billable_tasks(["12", "13"]) == {"12"}
    assert len(client.queries) == 1 and client.records == []
    assert ns.non_billable_tasks([]) == set() and len(client.queries) == 1

    # A task made non-billable before the next run is seen by it
    client.non_billable = [10, 11]
    cache.new_invocation(["run-2"])
    assert ns.non_billable_tasks(["11"]) == {"11"}
    assert len(client.queries) == 2


def test_past_the_page_limit_the_tasks_the_list_did_not_reach_are_read_by_id_once(monkeypatch):
    monkeypatch.setattr(references, "NON_BILLABLE_PAGES", 1)
    client = Tasks({10, 11, 12, 13})
    client.page_size = 2
    cache = References()
    ns = NetSuiteReferences(client, cache)  # type: ignore[arg-type]
    cache.new_invocation(["run-1"])

    assert ns.non_billable_tasks(["10", "13", "14"]) == {"10", "13"}
    assert len(client.queries) == 2 and "IN (13, 14)" in client.queries[1]
    assert ns.non_billable_tasks(["13", "14", "11"]) == {"11", "13"}  # 11 was listed; 13 and 14 held
    assert len(client.queries) == 2


def test_an_account_that_hides_the_table_is_read_task_by_task_over_rest():
    client = Tasks({10}, hidden=True)
    cache = References()
    ns = NetSuiteReferences(client, cache)  # type: ignore[arg-type]
    cache.new_invocation(["run-1"])

    assert ns.non_billable_tasks(["10", "11", "2000"]) == {"10"}
    assert ns.non_billable_tasks(["10", "11"]) == {"10"}
    assert len(client.queries) == 1 and client.records == ["10", "11", "2000"]


def test_a_non_billable_task_is_never_billable_and_clicktime_decides_the_rest():
    assert [planned_billable(says, False) for says in (True, False, None)] == [True, False, False]
    assert [planned_billable(says, True) for says in (True, False, None)] == [False, False, False]


def test_the_note_counts_the_entries_of_each_task_and_names_both_tasks():
    sheet = Timesheet.model_validate(
        {"ID": "S1", "UserID": "U1", "StartDate": "2026-11-02", "EndDate": "2026-11-08", "Status": "Approved"}
    )
    plan = SheetPlan(sheet, "7")
    plan.overridden = {("CT1", "501"): [f"E{i}" for i in range(7)], ("CT2", "502"): ["E9"]}

    notes = overridden_notes(plan)

    assert len(notes) == 2
    assert "timesheet S1: 7 time entries" in notes[0] and "ClickTime task CT1" in notes[0]
    assert "NetSuite project task 501 is non-billable" in notes[0] and "E0, E1, E2, E3, E4 and 2 more" in notes[0]
    assert "1 time entry " in notes[1] and "CT2" in notes[1] and "502" in notes[1] and "(E9)" in notes[1]
