"""Reading NetSuite changes with SuiteQL: records modified in a window, then records deleted in it.

Times cross into SuiteQL as wall-clock text in the integration user's time zone, with explicit masks on both
sides (`TO_TIMESTAMP` in the filter, `TO_CHAR` in the select), because a bare literal would be parsed with
the user's date-format preference and a bare column rendered as a date without its time.

Every read is a keyset read (`id > last`, ordered by id, each page from offset 0): an offset would shift when
a record of an earlier page is deleted or leaves the filter while the run reads, and lose a record.

The window ends at NetSuite's `serverTime` when the run starts: every change NetSuite stamped before it is
visible to the queries of this run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from ctsync.netsuite.client import NetSuiteClient
from ctsync.observability import logger
from ctsync.records.netsuite_zone import ZoneReading, require_zone
from ctsync.sync.definition import ADOPT, ChangeBatch, Window
from ctsync.sync.messages import Change
from ctsync.timeutil import SUITEQL_TIMESTAMP_MASK, from_local_text, local_timestamp_column, to_local_text

Row = dict[str, Any]
ToChanges = Callable[[list[Row], Window], list[Change]]  # a page of rows, and the window being read
Adopter = Callable[[str | None], Iterator[ChangeBatch]]  # adoption batches, resumable after a key

CHANGES, DELETIONS = "changes", "deletions"


def timestamp_literal(instant: datetime, zone: str) -> str:
    return f"TO_TIMESTAMP('{to_local_text(instant, zone)}', '{SUITEQL_TIMESTAMP_MASK}')"


def id_list(ids: list[str]) -> str:
    """A SQL IN list of NetSuite internal ids; anything not an integer is refused rather than quoted."""
    return ", ".join(str(int(value)) for value in ids)


def keyset(alias: str, after: str | None, column: str = "id") -> str:
    """The keyset condition `AND <alias>.<column> > <after>` (empty for the first page)."""
    return f" AND {alias}.{column} > {int(after)}" if after else ""


def rows_by_id(client: NetSuiteClient, select: str, source: str, alias: str, ids: list[str]) -> list[Row]:
    """Rows of some records by internal id (a thousand ids at a time), keyset-paged. `source` is the FROM
    clause, aliases (and joins) included, e.g. `job j`."""
    found: list[Row] = []
    unique = sorted({int(i) for i in ids})
    for start in range(0, len(unique), 1000):
        chunk = id_list([str(i) for i in unique[start : start + 1000]])

        def query(after: str | None, chunk: str = chunk) -> str:
            return (
                f"SELECT {select} FROM {source} WHERE {alias}.id IN ({chunk}){keyset(alias, after)} ORDER BY {alias}.id"
            )

        found.extend(client.rows(query))
    return found


class SuiteQLChangeSource:
    """Changes of one NetSuite record type. `to_changes` turns a page of rows into work (and may enrich it);
    `adopter`, when given, lists targets that already carry a NetSuite ID, for the adopt phase.

    `parents_modified`: aliases of joined parents (`joins`) whose own `lastmodifieddate` in the window makes a
    record a change too (a project whose customer was renamed), read in the same query: a record is read once
    per run whichever of the two changed, and one whose snapshot is unchanged stops at the poller."""

    def __init__(
        self,
        client: NetSuiteClient,
        *,
        table: str,
        alias: str,
        columns: str,
        deleted_type: str,
        timezone: str,
        to_changes: ToChanges,
        adopter: Adopter | None = None,
        adopt_when: str = "first_run",
        joins: str = "",
        parents_modified: tuple[str, ...] = (),
    ) -> None:
        self._client = client
        self._table = table
        self._alias = alias
        self._columns = columns
        self._deleted_type = deleted_type
        self._zone = timezone
        self._to_changes = to_changes
        self._adopter = adopter
        self._adopt_when = adopt_when
        self._from = f"{table} {alias} {joins}".strip()  # a join brings a parent's columns in the same read
        self._parents_modified = parents_modified
        self._zone_reading: ZoneReading | None = None  # the comparison `window_end` made
        self._margins_told: set[timedelta] = set()
        self.phases = ((ADOPT,) if adopter else ()) + (CHANGES, DELETIONS)

    def window_end(self) -> datetime:
        """NetSuite's clock; raises ConfigurationError when `netsuite.timezone` is not the zone SuiteQL writes in
        (`records.netsuite_zone`): the window's literals would be read that far off, and changes lost unseen."""
        end = self._client.server_time()
        self._zone_reading = require_zone(self._client, self._zone)
        self._margins_told = set()
        return end

    def start_margin(self, start: datetime) -> timedelta:
        """How much earlier than `start` this run's window must start (`ZoneReading.start_margin`): the zone
        comparison `window_end` made passed on a sample from another season, and its literal could be read late.
        Logged, so a widened window is never a silent one."""
        if self._zone_reading is None:
            return timedelta(0)
        margin = self._zone_reading.start_margin(start)
        if margin and margin not in self._margins_told:  # once a run, not once a phase
            self._margins_told.add(margin)
            found = self._zone_reading
            logger.warning(
                "netsuite.timezone not proven for this season: window starts earlier",
                extra={
                    "timezone": self._zone,
                    "sample_project": found.record,
                    "sample_modified": found.modified.isoformat(),
                    "start": start.isoformat(),
                    "margin_minutes": margin.total_seconds() / 60,
                },
            )
        return margin

    def read(self, phase: str, window: Window, after: str | None) -> Iterator[ChangeBatch]:
        if phase == ADOPT:
            if self._adopter and (
                self._adopt_when == "every_run" or (self._adopt_when == "first_run" and window.first_run)
            ):
                yield from self._adopter(after)
        elif phase == CHANGES:
            pages = self._client.keyset_pages(lambda key: self._changes_query(window.start, key), key="id", after=after)
            for rows in pages:
                yield ChangeBatch(self._to_changes(rows, window), last_key=str(rows[-1]["id"]))
        elif phase == DELETIONS:
            pages = self._client.keyset_pages(
                lambda key: self._deletions_query(window.start, key), key="recordid", after=after
            )
            for rows in pages:
                yield ChangeBatch([self._deletion(row) for row in rows], last_key=str(rows[-1]["recordid"]))
        else:
            raise ValueError(f"unknown phase {phase!r}")

    def _changes_query(self, since: datetime, after: str | None) -> str:
        a = self._alias
        literal = timestamp_literal(since, self._zone)
        modified = " OR ".join(f"{alias}.lastmodifieddate >= {literal}" for alias in (a, *self._parents_modified))
        if self._parents_modified:
            modified = f"({modified})"
        return (
            f"SELECT {self._columns}, {local_timestamp_column(f'{a}.lastmodifieddate', 'lastmodified')} "
            f"FROM {self._from} "
            f"WHERE {modified}{keyset(a, after)} "
            f"ORDER BY {a}.id"
        )

    def _deletions_query(self, since: datetime, after: str | None) -> str:
        return (
            f"SELECT d.recordid AS recordid, {local_timestamp_column('d.deleteddate', 'deleteddate')} "
            f"FROM deletedrecord d "
            f"WHERE d.recordtypeid = '{self._deleted_type}' AND d.deleteddate >= {timestamp_literal(since, self._zone)}"
            f"{keyset('d', after, 'recordid')} ORDER BY d.recordid"
        )

    def _deletion(self, row: Row) -> Change:
        return Change(
            source_id=str(row["recordid"]),
            version=from_local_text(row["deleteddate"], self._zone),
            op="delete",
        )

    def fetch(self, ids: list[str]) -> list[Row]:
        """Current rows of some records by id (same columns as a change), e.g. a parent synced on demand."""
        if not ids:
            return []
        a = self._alias
        select = f"{self._columns}, {local_timestamp_column(f'{a}.lastmodifieddate', 'lastmodified')}"
        return rows_by_id(self._client, select, self._from, a, ids)
