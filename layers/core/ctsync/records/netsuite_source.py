"""Reading NetSuite changes with SuiteQL: records modified since an instant, then records deleted since it.

Times cross into SuiteQL as wall-clock text in the integration user's time zone, with explicit masks on both
sides (`TO_TIMESTAMP` in the filter, `TO_CHAR` in the select), because a bare literal would be parsed with
the user's date-format preference and a bare column rendered as a date without its time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from ctsync.netsuite.client import NetSuiteClient
from ctsync.sync.definition import ChangeBatch
from ctsync.sync.messages import Change
from ctsync.timeutil import SUITEQL_TIMESTAMP_MASK, from_local_text, to_local_text

Row = dict[str, Any]
ToChanges = Callable[[list[Row], datetime], list[Change]]  # a page of rows, and the window's start

CHANGES, DELETIONS = "changes", "deletions"


def timestamp_literal(instant: datetime, zone: str) -> str:
    return f"TO_TIMESTAMP('{to_local_text(instant, zone)}', '{SUITEQL_TIMESTAMP_MASK}')"


def local_timestamp_column(column: str, alias: str) -> str:
    return f"TO_CHAR({column}, '{SUITEQL_TIMESTAMP_MASK}') AS {alias}"


def id_list(ids: list[str]) -> str:
    """A SQL IN list of NetSuite internal ids; anything not an integer is refused rather than quoted."""
    return ", ".join(str(int(value)) for value in ids)


class SuiteQLChangeSource:
    """Changes of one NetSuite record type. `to_changes` turns a page of rows into work (and may enrich it)."""

    phases = (CHANGES, DELETIONS)

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
    ) -> None:
        self._client = client
        self._table = table
        self._alias = alias
        self._columns = columns
        self._deleted_type = deleted_type
        self._zone = timezone
        self._to_changes = to_changes

    def server_time(self) -> datetime:
        return self._client.server_time()

    def read(self, phase: str, since: datetime, after: str | None) -> Iterator[ChangeBatch]:
        if phase == CHANGES:
            pages = self._client.keyset_pages(lambda key: self._changes_query(since, key), key="id", after=after)
            for rows in pages:
                yield ChangeBatch(self._to_changes(rows, since), last_key=str(rows[-1]["id"]))
        elif phase == DELETIONS:
            pages = self._client.keyset_pages(
                lambda key: self._deletions_query(since, key), key="recordid", after=after
            )
            for rows in pages:
                yield ChangeBatch([self._deletion(row) for row in rows], last_key=str(rows[-1]["recordid"]))
        else:
            raise ValueError(f"unknown phase {phase!r}")

    def _changes_query(self, since: datetime, after: str | None) -> str:
        a = self._alias
        keyset = f" AND {a}.id > {int(after)}" if after else ""
        return (
            f"SELECT {self._columns}, {local_timestamp_column(f'{a}.lastmodifieddate', 'lastmodified')} "
            f"FROM {self._table} {a} "
            f"WHERE {a}.lastmodifieddate >= {timestamp_literal(since, self._zone)}{keyset} "
            f"ORDER BY {a}.id"
        )

    def _deletions_query(self, since: datetime, after: str | None) -> str:
        keyset = f" AND d.recordid > {int(after)}" if after else ""
        return (
            f"SELECT d.recordid AS recordid, {local_timestamp_column('d.deleteddate', 'deleteddate')} "
            f"FROM deletedrecord d "
            f"WHERE d.recordtypeid = '{self._deleted_type}' AND d.deleteddate >= {timestamp_literal(since, self._zone)}"
            f"{keyset} ORDER BY d.recordid"
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
        query = (
            f"SELECT {self._columns}, {local_timestamp_column(f'{a}.lastmodifieddate', 'lastmodified')} "
            f"FROM {self._table} {a} WHERE {a}.id IN ({id_list(ids)}) ORDER BY {a}.id"
        )
        return list(self._client.suiteql(query))
