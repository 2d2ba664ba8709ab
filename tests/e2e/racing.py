"""Data changing under a run, for the race scenarios (`tests/e2e/test_faults_races.py`) and the soak.

Every change is triggered by the request that reads the data (the simulators' own handling of it), never by
a clock or a thread's luck: the same run reads the same pages and meets the same changes every time.

- `NetSuitePaging` changes NetSuite records while a poller pages through its SuiteQL changes query: at the
  query of the first keyset page (`<alias>.id > <after>`) inside the scenario's records, one record already read and one not yet read are
  modified, one of each is deleted, and a new record appears;
- `same_stamp` makes many records share one `lastModifiedDate` (NetSuite stamps to the second);
- `ReadCounter` counts, per run of a sync and per phase, how often each source ID came out of the reader:
  keyset paging must yield each exactly once.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ctns.session import Session
from ctsync.records.netsuite_source import SuiteQLChangeSource

KEYSET = re.compile(r"\b(\w+)\.id > (\d+)")


@contextmanager
def same_stamp(session: Session) -> Iterator[datetime]:
    """NetSuite's clock stands still (to the second) while the block adds or edits records."""
    records = session.simulators.netsuite.records
    frozen = datetime.now(UTC).replace(microsecond=0)
    original = records._clock
    records._clock = lambda: frozen
    try:
        yield frozen
    finally:
        records._clock = original


def add_projects(session: Session, count: int, *, label: str, open_: bool = True) -> list[str]:
    """Projects under the customer of an open seeded project (open ones are synced; others only read)."""
    ns = session.simulators.netsuite.records
    template = next(p for p in ns.all("job") if p.get("allowTime") and not p.get("isInactive"))
    ids = []
    for n in range(count):
        fields = {
            "entityId": f"{label}-{n:04d}",
            "companyName": f"{label} project {n}",
            "parent": {"id": template["parent"]["id"]},
            "subsidiary": {"id": template["subsidiary"]["id"]},
            "entityStatus": {"id": template["entityStatus"]["id"]},
            "isInactive": not open_,
            "allowTime": open_,
            "allowExpenses": open_,
        }
        ids.append(ns.add("job", fields))
    return ids


def add_tasks(session: Session, project_id: str, count: int, *, label: str) -> list[str]:
    ns = session.simulators.netsuite.records
    return [
        ns.add(
            "projectTask",
            {"title": f"{label} task {n}", "project": {"id": project_id}, "status": {"id": "PROGRESS"}},
        )
        for n in range(count)
    ]


@dataclass
class PagingChange:
    """What one `NetSuitePaging` did, by NetSuite internal id."""

    table: str
    after: int = 0
    modified_read: str = ""  # modified after this run read it: the next run reads it again
    modified_unread: str = ""  # modified before this run reached it: read once, with the change
    deleted_read: str = ""  # read (an upsert queued), then deleted: the deletions phase follows
    deleted_unread: str = ""  # deleted before this run reached it: never read as a change
    created: str = ""  # a new record after the keyset position: read in this run


@dataclass
class NetSuitePaging:
    """Change `table` records at the first keyset page of a changes query that falls inside `candidates`."""

    session: Session
    table: str  # "job" | "projecttask"
    candidates: Callable[[], list[str]]  # ids the scenario may modify or delete (its own, without children)
    create: Callable[[], str]
    done: list[PagingChange] = field(default_factory=list)

    def install(self) -> None:
        app = self.session.simulators.netsuite
        original = app.query_page  # what the REST SuiteQL service answers every page with

        def query_page(sql: str, start: int, end: int | None) -> tuple[list[dict[str, Any]], int]:
            found = re.search(rf"\bFROM {self.table} (\w+)", sql, re.IGNORECASE)
            if found and f"{found.group(1)}.lastmodifieddate >=" in sql:
                keyset = KEYSET.search(sql)
                if keyset and not self.done and self._inside(int(keyset.group(2))):
                    self._change(int(keyset.group(2)))
            return original(sql, start, end)

        app.query_page = query_page  # type: ignore[method-assign]
        self._original = original

    def uninstall(self) -> None:
        self.session.simulators.netsuite.query_page = self._original  # type: ignore[method-assign]

    def _inside(self, after: int) -> bool:
        """The reader is inside the scenario's records: two of them read, two not yet."""
        ids = [int(i) for i in self.candidates()]
        return sum(i <= after for i in ids) >= 2 and sum(i > after for i in ids) >= 2

    def _change(self, after: int) -> None:
        records = self.session.simulators.netsuite.records
        rtype = "job" if self.table == "job" else "projectTask"
        ids = sorted(self.candidates(), key=int)
        read = [i for i in ids if int(i) <= after]
        unread = [i for i in ids if int(i) > after]
        change = PagingChange(self.table, after)
        change.modified_read, change.deleted_read = read[0], read[1]
        change.modified_unread, change.deleted_unread = unread[0], unread[-1]
        title = "companyName" if rtype == "job" else "title"
        for record_id in (change.modified_read, change.modified_unread):
            records.update(rtype, record_id, {title: f"{records.get(rtype, record_id)[title]} (edited mid-run)"})
        records.delete(rtype, change.deleted_read)
        records.delete(rtype, change.deleted_unread)
        change.created = self.create()
        self.done.append(change)


class ReadCounter:
    """How often each source ID came out of a SuiteQL change source, per table and phase, since `reset`."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self._original = SuiteQLChangeSource.read

    def install(self, monkeypatch: Any) -> None:
        counter, original = self, self._original

        def read(source: SuiteQLChangeSource, phase: str, window: Any, after: str | None) -> Iterator[Any]:
            for batch in original(source, phase, window, after):
                counter.counts[(source._table, phase)].update(c.source_id for c in batch.changes)
                yield batch

        monkeypatch.setattr(SuiteQLChangeSource, "read", read)

    def reset(self) -> None:
        self.counts.clear()

    def read_twice(self) -> dict[str, list[str]]:
        return {
            f"{table}/{phase}": sorted(i for i, n in counts.items() if n > 1)
            for (table, phase), counts in self.counts.items()
            if any(n > 1 for n in counts.values())
        }

    def ids(self, table: str, phase: str = "changes") -> set[str]:
        return set(self.counts[(table, phase)])
