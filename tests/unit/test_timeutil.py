"""Instants as the stores keep them: read back whatever the year (a new user's reset to year 1 was unreadable)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctsync.timeutil import (
    day_named,
    earliest_reading,
    format_instant,
    from_local_text,
    latest_instant_of,
    local_readings,
    parse_instant,
    parse_loose_instant,
    to_local_text,
)


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


# -- NetSuite clock text in the hour repeated when clocks go back --------------------------------------------------
PACIFIC = "America/Los_Angeles"
FALL_BACK = datetime(2027, 11, 7, 8, 0, tzinfo=UTC)  # 01:00 PDT; the hour from 01:00 to 02:00 comes twice


def test_a_time_of_the_repeated_hour_stands_for_two_instants_an_hour_apart() -> None:
    assert local_readings("2027-11-07 01:45:00", PACIFIC) == (
        datetime(2027, 11, 7, 8, 45, tzinfo=UTC),  # PDT
        datetime(2027, 11, 7, 9, 45, tzinfo=UTC),  # PST
    )
    assert from_local_text("2027-11-07 01:45:00", PACIFIC) == datetime(2027, 11, 7, 9, 45, tzinfo=UTC)
    assert earliest_reading(datetime(2027, 11, 7, 9, 45, tzinfo=UTC), PACIFIC) == datetime(
        2027, 11, 7, 8, 45, tzinfo=UTC
    )
    # Outside it, one instant.
    assert local_readings("2027-11-07 02:15:00", PACIFIC) == (datetime(2027, 11, 7, 10, 15, tzinfo=UTC),) * 2
    assert earliest_reading(datetime(2027, 11, 7, 10, 15, tzinfo=UTC), PACIFIC) == datetime(
        2027, 11, 7, 10, 15, tzinfo=UTC
    )


@given(
    st.integers(min_value=-90, max_value=210),  # minutes after 01:00 PDT, around the two passes of the hour
    st.integers(min_value=1, max_value=120),
)
def test_a_later_edit_is_never_older_than_an_earlier_one_as_the_versions_are_compared(first: int, later: int) -> None:
    """The version fence's rule (`records.targets._stale`): an incoming version at its latest reading against the
    stored one at its earliest. Read through SuiteQL's clock text, a later edit is never taken for an older one,
    which no single reading of the repeated hour can promise (fold=1 took 01:10 PST for older than 01:45 PDT)."""
    edits = [FALL_BACK + timedelta(minutes=first), FALL_BACK + timedelta(minutes=first + later)]
    stored, incoming = (from_local_text(to_local_text(edit, PACIFIC), PACIFIC) for edit in edits)
    assert not incoming < earliest_reading(stored, PACIFIC)


def test_a_single_reading_of_the_repeated_hour_does_not_keep_edits_in_order() -> None:
    """Why the rule needs both readings: 01:45 PDT read late is after 01:10 PST read late."""
    before, after = datetime(2027, 11, 7, 8, 45, tzinfo=UTC), datetime(2027, 11, 7, 9, 10, tzinfo=UTC)
    assert from_local_text(to_local_text(after, PACIFIC), PACIFIC) < from_local_text(
        to_local_text(before, PACIFIC), PACIFIC
    )
