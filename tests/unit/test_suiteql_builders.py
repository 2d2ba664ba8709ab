"""SuiteQL text built by ctsync.records.netsuite_source: explicit timestamp masks in the user's zone,
keyset paging, and integer-only id lists."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctsync.records.netsuite_source import (
    CHANGES,
    DELETIONS,
    SuiteQLChangeSource,
    id_list,
    local_timestamp_column,
    timestamp_literal,
)
from ctsync.sync.definition import Window
from ctsync.sync.messages import Change

LA = "America/Los_Angeles"
MASK = "'YYYY-MM-DD HH24:MI:SS'"
SINCE = datetime(2026, 11, 25, 5, 0, 0, tzinfo=UTC)
WINDOW = Window(start=SINCE, end=SINCE + timedelta(hours=1))


class FakeNetSuite:
    """Records the query builders handed to keyset_pages and answers with canned pages."""

    def __init__(
        self, pages: list[list[dict[str, Any]]] | None = None, rows: list[dict[str, Any]] | None = None
    ) -> None:
        self.pages = pages or []
        self.rows_answer = rows or []
        self.builders: list[tuple[Callable[[str | None], str], str, str | None]] = []
        self.queries: list[str] = []

    def keyset_pages(
        self,
        build_query: Callable[[str | None], str],
        *,
        key: str = "id",
        after: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        self.builders.append((build_query, key, after))
        self.queries.append(build_query(after))
        yield from self.pages

    def rows(
        self, build_query: Callable[[str | None], str], *, key: str = "id", page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        self.queries.append(build_query(None))
        yield from self.rows_answer

    def server_time(self) -> datetime:
        return SINCE


def source(client: FakeNetSuite, zone: str = LA, seen: list[Any] | None = None) -> SuiteQLChangeSource:
    def to_changes(rows: list[dict[str, Any]], window: Window) -> list[Change]:
        if seen is not None:
            seen.append((rows, window))
        return [Change(source_id=str(r["id"]), version=window.start) for r in rows]

    return SuiteQLChangeSource(
        client,  # type: ignore[arg-type]
        table="job",
        alias="j",
        columns="j.id AS id, j.entityid AS entityid",
        deleted_type="job",
        timezone=zone,
        to_changes=to_changes,
    )


# -- literals ---------------------------------------------------------------------------------------------


def test_timestamp_literal_converts_the_instant_to_the_users_zone_with_an_explicit_mask() -> None:
    assert timestamp_literal(SINCE, LA) == f"TO_TIMESTAMP('2026-11-24 21:00:00', {MASK})"


@pytest.mark.parametrize(
    ("instant", "zone", "text"),
    [
        (datetime(2026, 7, 1, 12, 0, tzinfo=UTC), LA, "2026-07-01 05:00:00"),  # PDT, UTC-7
        (datetime(2026, 1, 1, 12, 0, tzinfo=UTC), LA, "2026-01-01 04:00:00"),  # PST, UTC-8
        (datetime(2026, 1, 1, 0, 30, tzinfo=UTC), "Europe/Berlin", "2026-01-01 01:30:00"),
        (datetime(2026, 1, 1, 0, 30, tzinfo=UTC), "Asia/Kolkata", "2026-01-01 06:00:00"),
        (datetime(2026, 1, 1, 0, 30, 59, 999999, tzinfo=UTC), "UTC", "2026-01-01 00:30:59"),
    ],
)
def test_timestamp_literal_zones(instant: datetime, zone: str, text: str) -> None:
    assert timestamp_literal(instant, zone) == f"TO_TIMESTAMP('{text}', {MASK})"


def test_local_timestamp_column_has_the_same_mask() -> None:
    assert (
        local_timestamp_column("j.lastmodifieddate", "lastmodified")
        == f"TO_CHAR(j.lastmodifieddate, {MASK}) AS lastmodified"
    )


# -- changes query ----------------------------------------------------------------------------------------


def test_changes_query_without_a_resume_key() -> None:
    client = FakeNetSuite()
    list(source(client).read(CHANGES, WINDOW, None))
    (query,) = client.queries
    assert query == (
        f"SELECT j.id AS id, j.entityid AS entityid, TO_CHAR(j.lastmodifieddate, {MASK}) AS lastmodified "
        f"FROM job j WHERE j.lastmodifieddate >= TO_TIMESTAMP('2026-11-24 21:00:00', {MASK}) ORDER BY j.id"
    )
    assert " > " not in query
    assert client.builders[0][1] == "id"


def test_changes_query_with_a_resume_key_adds_the_keyset_condition() -> None:
    client = FakeNetSuite()
    list(source(client).read(CHANGES, WINDOW, "4711"))
    (query,) = client.queries
    assert "WHERE j.lastmodifieddate >= TO_TIMESTAMP('2026-11-24 21:00:00', " in query
    assert "AND j.id > 4711 " in query
    assert query.endswith("ORDER BY j.id")
    # the builder is what keyset_pages issues for every page, from the last key it saw
    build, _, _ = client.builders[0]
    assert "AND j.id > 9000 " in build("9000")
    assert " AND j.id > " not in build(None)


def test_changes_query_also_reads_records_whose_joined_parent_was_modified_in_the_window() -> None:
    """A customer renamed in NetSuite makes its projects changes of the same read (projects review, 2026-12-03)."""
    client = FakeNetSuite()
    joined = SuiteQLChangeSource(
        client,  # type: ignore[arg-type]
        table="job",
        alias="j",
        columns="j.id AS id, c.companyname AS customername",
        deleted_type="job",
        timezone=LA,
        to_changes=lambda rows, window: [],
        joins="LEFT OUTER JOIN customer c ON j.parent = c.id",
        parents_modified=("c",),
    )
    list(joined.read(CHANGES, WINDOW, "4711"))
    (query,) = client.queries
    since = f"TO_TIMESTAMP('2026-11-24 21:00:00', {MASK})"
    assert (
        f"FROM job j LEFT OUTER JOIN customer c ON j.parent = c.id "
        f"WHERE (j.lastmodifieddate >= {since} OR c.lastmodifieddate >= {since}) AND j.id > 4711 ORDER BY j.id"
    ) in query


@pytest.mark.parametrize("after", ["1 OR 1=1", "5; DROP TABLE job", "abc", "1.5", "'7'"])
def test_resume_keys_that_are_not_integers_are_refused(after: str) -> None:
    client = FakeNetSuite()
    with pytest.raises(ValueError):
        list(source(client).read(CHANGES, WINDOW, after))
    with pytest.raises(ValueError):
        list(source(client).read(DELETIONS, WINDOW, after))


def test_changes_are_batched_with_the_last_key_of_each_page() -> None:
    seen: list[Any] = []
    client = FakeNetSuite(pages=[[{"id": "3"}, {"id": "8"}], [{"id": "12"}]])
    batches = list(source(client, seen=seen).read(CHANGES, WINDOW, None))
    assert [b.last_key for b in batches] == ["8", "12"]
    assert [[c.source_id for c in b.changes] for b in batches] == [["3", "8"], ["12"]]
    assert all(window == WINDOW for _, window in seen)  # to_changes gets the window


# -- deletions query --------------------------------------------------------------------------------------


def test_deletions_query_filters_the_record_type() -> None:
    client = FakeNetSuite()
    list(source(client).read(DELETIONS, WINDOW, None))
    (query,) = client.queries
    assert query == (
        f"SELECT d.recordid AS recordid, TO_CHAR(d.deleteddate, {MASK}) AS deleteddate FROM deletedrecord d "
        f"WHERE d.recordtypeid = 'job' AND d.deleteddate >= TO_TIMESTAMP('2026-11-24 21:00:00', {MASK}) "
        "ORDER BY d.recordid"
    )
    assert client.builders[0][1] == "recordid"


def test_deletions_query_with_a_resume_key() -> None:
    client = FakeNetSuite()
    list(source(client).read(DELETIONS, WINDOW, "77"))
    (query,) = client.queries
    assert " AND d.recordid > 77 ORDER BY d.recordid" in query


def test_deletions_become_delete_changes_versioned_in_the_users_zone() -> None:
    client = FakeNetSuite(pages=[[{"recordid": "55", "deleteddate": "2026-11-24 21:30:00"}]])
    (batch,) = source(client).read(DELETIONS, WINDOW, None)
    (change,) = batch.changes
    assert change.op == "delete"
    assert change.source_id == "55"
    assert change.version == datetime(2026, 11, 25, 5, 30, tzinfo=UTC)
    assert batch.last_key == "55"


def test_unknown_phase_is_refused() -> None:
    with pytest.raises(ValueError, match="phase"):
        list(source(FakeNetSuite()).read("projects", WINDOW, None))


# -- fetch and id_list ------------------------------------------------------------------------------------


def test_fetch_selects_by_id_list() -> None:
    client = FakeNetSuite(rows=[{"id": "1"}])
    assert source(client).fetch(["3", "1", "20"]) == [{"id": "1"}]
    (query,) = client.queries
    assert "WHERE j.id IN (1, 3, 20) ORDER BY j.id" in query


def test_fetch_of_nothing_sends_no_query() -> None:
    client = FakeNetSuite()
    assert source(client).fetch([]) == []
    assert client.queries == []


def test_id_list() -> None:
    assert id_list(["1", "22", "333"]) == "1, 22, 333"
    assert id_list(["7"]) == "7"
    assert id_list([]) == ""
    assert id_list([" 5 "]) == "5"  # normalised, not quoted


@pytest.mark.parametrize(
    "bad", ["1) OR (1=1", "1; DELETE FROM job", "abc", "1.0", "", "0x1F", "1e3", "'1'", "1 -- comment", "NULL"]
)
def test_id_list_refuses_non_integers(bad: str) -> None:
    with pytest.raises(ValueError):
        id_list(["1", bad])


def test_fetch_refuses_an_injected_id() -> None:
    client = FakeNetSuite()
    with pytest.raises(ValueError):
        source(client).fetch(["1", "2) OR (1=1"])
    assert client.queries == []


@given(st.lists(st.integers(min_value=0, max_value=10**12), max_size=20))
def test_id_list_output_is_only_digits_commas_and_spaces(ids: list[int]) -> None:
    text = id_list([str(i) for i in ids])
    assert set(text) <= set("0123456789, ")
    assert [int(part) for part in text.split(", ")] == ids if ids else text == ""


@given(st.text(max_size=12).filter(lambda s: not s.strip().lstrip("+-").replace("_", "").isdigit()))
def test_id_list_never_passes_text_through(text: str) -> None:
    try:
        out = id_list([text])
    except ValueError:
        return
    assert set(out) <= set("-0123456789")  # whatever int() accepted, only a number comes out
