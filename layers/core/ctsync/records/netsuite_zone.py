"""Whether `netsuite.timezone` is the zone NetSuite writes SuiteQL times in.

SuiteQL renders datetimes, and reads the window's timestamp literals, in the running user's time-zone preference
(netsuite-api.md §3.1, an inference the reference says to verify per account by this very comparison). The change
windows are written in `netsuite.timezone`, so a zone that is not the integration user's shifts every window start
by the difference, and the changes in the gap never reach ClickTime, with no error anywhere. It happens at setup (a
guess at the zone) and later (someone edits the integration user's preferences). `ctns check` reads it before the
first night; each NetSuite change source reads it again as it opens a run's window, and refuses the run rather than
read a shifted window.

The comparison: the most recently modified project's `lastmodifieddate` as SuiteQL writes it (`TO_CHAR` text, read
in `netsuite.timezone`) against the same record's `lastModifiedDate` from the REST GET, an instant in UTC. Two
requests.

One sample is one instant, and proves the zone's offset at that instant only: America/Phoenix agrees with an
America/Los_Angeles user on a July edit and is an hour off it all winter (review, 2026-12-03), and tasks and
deletions do not touch a project's `lastmodifieddate`, so the sample may stay in July for months. So a passing
sample comes with a margin (`ZoneReading.start_margin`): every tz-database zone that writes the sample's text at its
instant could be the user's, and a window start is moved back by the most any of them would read its literal late.
Why this rather than another proof: the reference (netsuite-api.md §3.1) verifies no SuiteQL function that renders
NetSuite's current time in the user's zone, and a more recent sample may not exist; reading an hour more is
harmless (runs are idempotent; an unchanged record stops at the poller), skipping an hour is not. A sample from the
current season gives no margin; a wrong zone in the sample's own season is still refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from ctsync.errors import ConfigurationError
from ctsync.timeutil import (
    format_instant,
    from_local_text,
    local_readings,
    local_timestamp_column,
    parse_instant,
    to_local_text,
)

TOLERANCE_SECONDS = 60  # both reads are to the second; a minute leaves room for rounding
FIX = (
    "set netsuite.timezone to the integration user's time zone preference (in NetSuite, the user's Set "
    "Preferences > Time Zone), then `ctns config push`"
)
# Without a tz database to list zones from, the margin a sample from another season needs is not known: the largest
# seasonal change any zone makes now (Antarctica/Troll, +00 to +02), plus an hour for a zone that moves its rule.
UNLISTED_MARGIN = timedelta(hours=3)


@cache
def _zones() -> tuple[ZoneInfo, ...]:
    return tuple(ZoneInfo(name) for name in sorted(available_timezones()))


def zones_writing(text: str, instant: datetime) -> list[ZoneInfo]:
    """Every zone of the tz database whose wall clock at `instant` reads `text` (to the tolerance): the zones one
    sample cannot tell apart."""
    wall = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    offset = wall - instant.astimezone(UTC).replace(tzinfo=None)
    return [
        zone
        for zone in _zones()
        if abs((instant.astimezone(zone).utcoffset() or timedelta(0)) - offset).total_seconds() <= TOLERANCE_SECONDS
    ]


@dataclass(frozen=True)
class ZoneReading:
    """One project's modification time both ways. `gap_seconds`: what `text` means in `zone` less `modified` (the
    nearer reading in the hour clocks go back); positive when the zone is ahead of the one NetSuite writes in."""

    zone: str
    record: str  # the project's internal ID
    text: str  # its lastmodifieddate as SuiteQL writes it
    modified: datetime  # its lastModifiedDate from the REST record (UTC)
    gap_seconds: float

    @property
    def agrees(self) -> bool:
        return abs(self.gap_seconds) <= TOLERANCE_SECONDS

    def start_margin(self, start: datetime) -> timedelta:
        """How much earlier than `start` a window must start so that its literal (`start` written in `zone`) is
        read at or before `start` by NetSuite in any zone this reading cannot tell from `zone` (`zones_writing`):
        zero when the sample proves `zone` for `start`'s season; an hour for America/Phoenix in winter on a July
        sample, as NetSuite may be writing America/Los_Angeles. The latest reading of a literal in a repeated hour
        is taken, as NetSuite's choice there is not documented."""
        if not self.agrees:
            return timedelta(0)  # refused (`require_zone`); no window opens
        candidates = zones_writing(self.text, self.modified)
        if not candidates:
            return UNLISTED_MARGIN
        literal = to_local_text(start, self.zone)
        wall = datetime.strptime(literal, "%Y-%m-%d %H:%M:%S")
        late = max(
            max(wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)) - start for zone in candidates
        )
        return max(late, timedelta(0))

    def agreement(self, now: datetime | None = None) -> str:
        """The line `ctns check` shows when the zone agrees. One reading is one instant: a zone whose clocks change
        on other dates (or never) agrees on it too, and parts from NetSuite's on a later date; said, rather than
        passed as proven (review, 2026-12-03: Pacific/Pitcairn passed against America/Los_Angeles in winter)."""
        return (
            f"{self.zone} agrees with the zone NetSuite writes SuiteQL times in at {format_instant(self.modified)} "
            f"(project {self.record}: {self.text} there); one instant cannot tell apart zones whose clocks change on "
            "other dates: set the integration user's own zone, and each NetSuite poller compares again every run"
            + self._margin_note(now)
        )

    def _margin_note(self, now: datetime | None) -> str:
        margin = self.start_margin(now) if now is not None else timedelta(0)
        if not margin:
            return ""
        return (
            f"; that instant is from another season: a zone that agreed then may be NetSuite's and read a window "
            f"start {margin.total_seconds() / 60:g} min late now, so each run starts its windows that much earlier "
            "until a project is modified in this season"
        )

    def disagreement(self) -> str:
        """The one line a person reads when the zone is wrong: what is off, by how much, and what it costs."""
        hours = self.gap_seconds / 3600
        off = f"{abs(hours):g} h off it ({'behind' if self.gap_seconds < 0 else 'ahead of'} {self.zone})"
        local = from_local_text(self.text, self.zone)
        return (
            f"netsuite.timezone is {self.zone} but NetSuite writes times {off}: project {self.record} was modified at "
            f"{format_instant(self.modified)}, SuiteQL gives {self.text}, read in {self.zone} as "
            f"{format_instant(local)}; every window would start that far off, and changes in the gap would never "
            "reach ClickTime"
        )


def read_zone(client: Any, zone: str) -> ZoneReading | None:
    """The comparison on the most recently modified project, or None when NetSuite has no project. A record edited
    between the two reads shows a gap once: its SuiteQL time is read again, and a real offset stays. Raises what the
    client raises (`ctsync.netsuite.errors`)."""
    stamp = local_timestamp_column("j.lastmodifieddate", "lastmodified")

    def suiteql(where: str, order: str) -> dict[str, Any] | None:
        page = client.suiteql_page(f"SELECT j.id AS id, {stamp} FROM job j{where}{order}", limit=1)
        return page.rows[0] if page.rows else None

    def reading(row: dict[str, Any]) -> ZoneReading:
        record = str(row["id"])
        modified = parse_instant(str(client.get_record("job", record, fields=["lastModifiedDate"])["lastModifiedDate"]))
        text = str(row["lastmodified"])
        gap = min(((local - modified).total_seconds() for local in local_readings(text, zone)), key=abs)
        return ZoneReading(zone, record, text, modified, gap)

    row = suiteql("", " ORDER BY j.lastmodifieddate DESC, j.id DESC")
    if row is None:
        return None
    first = reading(row)
    if first.agrees:
        return first
    again = suiteql(f" WHERE j.id = {int(first.record)}", "")
    return reading(again) if again is not None else first


def require_zone(client: Any, zone: str) -> ZoneReading | None:
    """Raise ConfigurationError (its fix says what to set) unless `zone` is the one NetSuite writes SuiteQL times in
    at the sample's instant; the reading (for `ZoneReading.start_margin`: the sample may be from another season), or
    None when there is nothing to compare on (no project yet)."""
    found = read_zone(client, zone)
    if found is not None and not found.agrees:
        raise ConfigurationError(f"{found.disagreement()}; {FIX}", code="TIMEZONE", cause="netsuite-timezone", fix=FIX)
    return found
