"""Instants are aware UTC datetimes everywhere in the core; local time only at the edges that need it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

SUITEQL_TIMESTAMP_MASK = "YYYY-MM-DD HH24:MI:SS"
_PY_TIMESTAMP = "%Y-%m-%d %H:%M:%S"


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_instant(text: str) -> datetime:
    """ISO 8601 with an offset or `Z`; a naive value is refused because its zone would be a guess."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return value.astimezone(UTC)


def format_instant(value: datetime) -> str:
    """UTC to the second, `Z`; the year always four digits (strftime's `%Y` writes year 1 as `1`, which no parser
    reads back)."""
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def to_local_text(value: datetime, zone: str) -> str:
    """An instant as SuiteQL's TO_TIMESTAMP expects it: wall-clock time in the user's zone."""
    return value.astimezone(ZoneInfo(zone)).strftime(_PY_TIMESTAMP)


def from_local_text(text: str, zone: str) -> datetime:
    """SuiteQL's TO_CHAR output (wall-clock time in the user's zone) back to an instant.

    In the hour repeated when clocks go back the text is ambiguous; the later instant is taken, so a change made
    then is never mistaken for an older version and skipped (a late older snapshot is caught by the next run's
    overlap, where the content hash differs).
    """
    naive = datetime.strptime(text, _PY_TIMESTAMP)
    return naive.replace(tzinfo=ZoneInfo(zone), fold=1).astimezone(UTC)


def parse_loose_instant(text: str) -> datetime:
    """A ClickTime stamp (`ApprovedDate` and friends): their format is undocumented (research notes §1.5, U8).

    ISO 8601 with or without a time and a zone is read; a value without a zone is taken as UTC (what the API
    sends where it sends a zone), a date alone as its midnight UTC.
    """
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def latest_instant_of(text: str) -> datetime:
    """The latest instant a ClickTime stamp can stand for (UTC). With a zone, the stamp itself. Without one it
    is a local time of a zone we are not told, so up to 12 h after the same clock reading in UTC (UTC-12 is the
    westernmost offset); a day rather than an instant (a date alone, or a day as its midnight: `same_all_day`), up
    to the end of that day there. A window's start compared with this never leaves out an approval its run did not
    see."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if same_all_day(text):  # a day, not an instant (`same_all_day`): up to the end of that day, anywhere
        return datetime.combine(value.date(), time(0), UTC) + timedelta(days=1, hours=12)
    if value.tzinfo is not None:
        return value.astimezone(UTC)
    return value.replace(tzinfo=UTC) + timedelta(hours=12)


def day_named(text: str, zone: tzinfo) -> date:
    """The calendar day a ClickTime stamp names, for a NetSuite date in `zone` (the account's): a day (a date alone,
    or a day as its midnight with or without an offset: `same_all_day`) or a local time of a zone ClickTime does not
    say is the day as written, which reading it as UTC would move a day back west of UTC; any other stamp with an
    offset is an instant, dated where `zone` is. Raises ValueError for what `parse_loose_instant` cannot read."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None or same_all_day(text):
        return value.date()
    return value.astimezone(zone).date()


def _date_alone(text: str) -> bool:
    return len(text.strip()) <= len("2026-11-23")  # "2026-11-23", "20261123", "2026-W48-1"


def same_all_day(text: str) -> bool:
    """Whether a ClickTime stamp reads the same for every instant of its day: a date alone, in any ISO 8601 form
    `parse_loose_instant` reads, or a day written as its midnight ("2026-11-23T00:00:00", with or without a zone).
    False for what cannot be read."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except (AttributeError, TypeError, ValueError):
        return False
    return _date_alone(text) or value.timetz().replace(tzinfo=None) == time(0)
