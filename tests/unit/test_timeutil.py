"""Instants as the stores keep them: read back whatever the year (a new user's reset to year 1 was unreadable)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from ctsync.timeutil import format_instant, parse_instant


def test_an_early_year_is_written_with_four_digits() -> None:
    assert format_instant(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00Z"
    assert format_instant(datetime(2026, 12, 1, 15, 4, 5, 999, tzinfo=UTC)) == "2026-12-01T15:04:05Z"
    assert format_instant(datetime(2026, 12, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))) == "2026-11-30T23:00:00Z"


@given(st.datetimes(min_value=datetime(1, 1, 2), timezones=st.just(UTC)))
def test_every_instant_reads_back_to_the_second(value: datetime) -> None:
    assert parse_instant(format_instant(value)) == value.replace(microsecond=0)
