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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ctsync.errors import ConfigurationError
from ctsync.timeutil import format_instant, from_local_text, local_readings, local_timestamp_column, parse_instant

TOLERANCE_SECONDS = 60  # both reads are to the second; a minute leaves room for rounding
FIX = (
    "set netsuite.timezone to the integration user's time zone preference (in NetSuite, the user's Set "
    "Preferences > Time Zone), then `ctns config push`"
)


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

    def agreement(self) -> str:
        """The line `ctns check` shows when the zone agrees. One reading is one instant: a zone whose clocks change
        on other dates (or never) agrees on it too, and parts from NetSuite's on a later date; said, rather than
        passed as proven (review, 2026-12-03: Pacific/Pitcairn passed against America/Los_Angeles in winter)."""
        return (
            f"{self.zone} agrees with the zone NetSuite writes SuiteQL times in at {format_instant(self.modified)} "
            f"(project {self.record}: {self.text} there); one instant cannot tell apart zones whose clocks change on "
            "other dates: set the integration user's own zone, and each NetSuite poller compares again every run"
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


def require_zone(client: Any, zone: str) -> None:
    """Raise ConfigurationError (its fix says what to set) unless `zone` is the one NetSuite writes SuiteQL times in;
    nothing to compare on (no project yet) passes."""
    found = read_zone(client, zone)
    if found is not None and not found.agrees:
        raise ConfigurationError(f"{found.disagreement()}; {FIX}", code="TIMEZONE", cause="netsuite-timezone", fix=FIX)
