"""Instants are aware UTC datetimes everywhere in the core; local time only at the edges that need it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

SUITEQL_TIMESTAMP_MASK = "YYYY-MM-DD HH24:MI:SS"


def local_timestamp_column(column: str, alias: str) -> str:
    """A SuiteQL select of `column` as wall-clock text in the running user's zone (read it with `from_local_text`)."""
    return f"TO_CHAR({column}, '{SUITEQL_TIMESTAMP_MASK}') AS {alias}"


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
    """SuiteQL's TO_CHAR output (wall-clock time in the user's zone) back to an instant: its latest reading.

    In the hour repeated when clocks go back the text is ambiguous, and no single reading keeps versions in order:
    taking the later instant (as here) makes an edit at 01:45 before the change read as later than one at 01:10
    after it. So a NetSuite version read from this text is an interval (`local_readings`): an incoming version is
    compared at its latest reading (this one) against a stored version at its earliest (`earliest_reading`), and a
    newer edit in the repeated hour is never taken for an older one. (An older snapshot of that hour that arrives
    late is then applied; the next run's overlap reads the record again and its content hash differs.)
    """
    return local_readings(text, zone)[1]


def local_readings(text: str, zone: str) -> tuple[datetime, datetime]:
    """The earliest and latest instant (UTC) a wall-clock text in `zone` can stand for: the same instant but in the
    hour repeated when clocks go back, where they are an hour apart."""
    naive = datetime.strptime(text, _PY_TIMESTAMP).replace(tzinfo=ZoneInfo(zone))
    readings = (naive.replace(fold=0).astimezone(UTC), naive.replace(fold=1).astimezone(UTC))
    return min(readings), max(readings)


def earliest_reading(instant: datetime, zone: str) -> datetime:
    """The earliest instant whose wall-clock text in `zone` is the same as `instant`'s: what a NetSuite version
    (`from_local_text`, its latest reading) is stored as, so a later version compared with it at its latest reading
    is never taken for older. `instant` itself outside the hour repeated when clocks go back."""
    local = instant.astimezone(ZoneInfo(zone))
    return local.replace(fold=0).astimezone(UTC) if local.fold else instant.astimezone(UTC)


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
