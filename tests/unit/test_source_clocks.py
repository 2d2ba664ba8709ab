"""Each change source ends its window at the source system's clock, never ours: a watermark taken from our
clock would skip records the source stamped before its own "now" whenever our clock runs ahead of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ctsync.netsuite.client import SuiteQLPage
from ctsync.records.clicktime_source import EXPENSE_SHEETS, TIMESHEETS, ApprovedSheetSource
from ctsync.records.netsuite_source import SuiteQLChangeSource

# Far from the wall clock (a year behind it), so a source that read our clock could not pass by accident.
THEIR_NOW = datetime(2025, 3, 9, 10, 2, 3, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.calls = 0

    def server_time(self) -> datetime:
        self.calls += 1
        return THEIR_NOW

    def suiteql_page(self, query: str, **kwargs: Any) -> SuiteQLPage:  # the zone check finds no project yet
        return SuiteQLPage(rows=[], has_more=False, offset=0, total=0)


def netsuite_source(client: Any, zone: str = "UTC") -> SuiteQLChangeSource:
    return SuiteQLChangeSource(
        client,
        table="job",
        alias="j",
        columns="j.id AS id",
        deleted_type="job",
        timezone=zone,
        to_changes=lambda rows, window: [],
    )


def test_the_window_ends_at_netsuites_clock_not_ours() -> None:
    client = Clock()
    assert netsuite_source(client).window_end() == THEIR_NOW
    assert client.calls == 1


def test_the_sheet_window_ends_at_clicktimes_clock_less_the_skew() -> None:
    for kind in (TIMESHEETS, EXPENSE_SHEETS):
        clicktime = Clock()
        source = ApprovedSheetSource(clicktime, None, kind, lookback_days=35, skew_seconds=90)  # type: ignore[arg-type]
        assert source.window_end() == THEIR_NOW - timedelta(seconds=90)
        assert clicktime.calls == 1
