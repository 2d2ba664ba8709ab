"""Instants as the stores keep them: read back whatever the year (a new user's reset to year 1 was unreadable)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctsync.timeutil import day_named, format_instant, latest_instant_of, parse_instant, parse_loose_instant


def test_an_early_year_is_written_with_four_digits() -> None:
    assert format_instant(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00Z"
    assert format_instant(datetime(2026, 12, 1, 15, 4, 5, 999, tzinfo=UTC)) == "2026-12-01T15:04:05Z"
    assert format_instant(datetime(2026, 12, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))) == "2026-11-30T23:00:00Z"


@given(st.datetimes(min_value=datetime(1, 1, 2), timezones=st.just(UTC)))
def test_every_instant_reads_back_to_the_second(value: datetime) -> None:
    assert parse_instant(format_instant(value)) == value.replace(microsecond=0)


@pytest.mark.parametrize(
    ("stamp", "latest"),
    [
        ("2026-11-23T11:00:00Z", "2026-11-23T11:00:00+00:00"),  # a zone: the stamp itself
        ("2026-11-23T03:00:00-08:00", "2026-11-23T11:00:00+00:00"),
        ("2026-11-23T03:00:00", "2026-11-23T15:00:00+00:00"),  # no zone: as late as UTC-12 reads it
        ("2026-11-23", "2026-11-24T12:00:00+00:00"),  # a date alone: the end of that day at UTC-12
    ],
)
def test_the_latest_instant_a_clicktime_stamp_can_stand_for(stamp, latest):
    # found by a review: an approval stamped without a zone (or a time) read as UTC fell before the next run's
    # window start, and the watermark skipped the timesheet for good
    assert latest_instant_of(stamp).isoformat() == latest
    assert latest_instant_of(stamp) >= parse_loose_instant(stamp)


def test_a_stamp_that_reads_the_same_all_day_is_told_apart_from_one_with_a_time() -> None:
    """`same_all_day`: the stamps under which every approval of a day looks alike to the poller (the worker judges
    those), in every form `parse_loose_instant` reads a date alone; a day written as its midnight counts too."""
    from ctsync.timeutil import same_all_day

    for alike in (
        "2026-11-23",
        " 2026-11-23 ",
        "20261123",
        "2026-W48-1",
        "2026-11-23T00:00:00",
        "2026-11-23T00:00:00Z",
    ):
        assert same_all_day(alike), alike
    for timed in ("2026-11-23T11:00:00", "2026-11-23T00:00:01Z", "2026-11-23T03:00:00-08:00", "soon", "", "11/23/2026"):
        assert not same_all_day(timed), timed


@pytest.mark.parametrize(
    ("stamp", "day"),
    [
        ("2026-12-01", "2026-12-01"),
        ("20261201", "2026-12-01"),
        ("2026-12-01T00:00:00", "2026-12-01"),
        ("2026-12-01T23:30:00", "2026-12-01"),  # a local time of a zone ClickTime does not say: as written
        ("2026-12-01T00:00:00Z", "2026-12-01"),  # a day as its midnight (`same_all_day`), with a zone or not
        ("2026-12-01T00:30:00Z", "2026-11-30"),  # an instant: the evening before in Los Angeles
        ("2026-12-01T09:00:00+09:00", "2026-11-30"),
        ("2026-12-01T08:00:00Z", "2026-12-01"),
    ],
)
def test_the_day_a_stamp_names_for_netsuite(stamp, day):
    assert day_named(stamp, ZoneInfo("America/Los_Angeles")).isoformat() == day
