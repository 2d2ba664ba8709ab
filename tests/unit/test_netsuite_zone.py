"""`records.netsuite_zone`: the zone SuiteQL writes times in, read off one project both ways (SuiteQL text and the
REST record's UTC instant), and a change source that refuses to open a window under another zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ctsync.errors import ConfigurationError
from ctsync.netsuite.client import SuiteQLPage
from ctsync.records import netsuite_zone
from ctsync.sync.definition import start_margin
from ctsync.timeutil import to_local_text
from tests.unit.test_source_clocks import netsuite_source

MODIFIED = "2026-11-20T17:04:05Z"  # the project's lastModifiedDate as the REST GET gives it (UTC)
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class NetSuite:
    """Answers the two reads: SuiteQL writes the project's time as `texts` (one per read, the last repeated)."""

    def __init__(self, *texts: str, projects: bool = True) -> None:
        self.texts = list(texts)
        self.projects = projects
        self.queries: list[str] = []

    def suiteql_page(self, query: str, **kwargs: Any) -> SuiteQLPage:
        self.queries.append(query)
        text = self.texts.pop(0) if len(self.texts) > 1 else self.texts[0]
        rows = [{"id": "812", "lastmodified": text}] if self.projects else []
        return SuiteQLPage(rows=rows, has_more=False, offset=0, total=len(rows))

    def get_record(self, record_type: str, record_id: str, **kwargs: Any) -> dict[str, Any]:
        assert (record_type, record_id) == ("job", "812")
        return {"lastModifiedDate": MODIFIED}

    def server_time(self) -> datetime:
        return NOW


@pytest.mark.parametrize(
    ("zone", "text", "gap_hours"),
    [
        ("America/Los_Angeles", "2026-11-20 09:04:05", 0),  # PST, UTC-8: the user's zone
        ("America/New_York", "2026-11-20 09:04:05", -3),  # the same text read three hours east
        ("UTC", "2026-11-20 09:04:05", -8),
        ("Asia/Kolkata", "2026-11-20 22:34:05", 0),  # a half-hour zone, agreeing
    ],
)
def test_the_gap_is_what_suiteqls_text_means_in_the_zone_less_the_rest_instant(zone, text, gap_hours) -> None:
    found = netsuite_zone.read_zone(NetSuite(text), zone)
    assert found is not None
    assert found.gap_seconds == gap_hours * 3600
    assert found.agrees is (gap_hours == 0)


def test_a_zone_that_agrees_only_in_winter_passes_the_reading_and_says_one_instant_is_all_it_proves() -> None:
    """Pacific/Pitcairn is UTC-8 all year, as Los Angeles is in winter: the reading cannot tell them apart, and the
    check's line says so rather than that it is the zone NetSuite writes in (review, 2026-12-03)."""
    found = netsuite_zone.read_zone(NetSuite("2026-11-20 09:04:05"), "Pacific/Pitcairn")
    assert found is not None and found.agrees
    line = found.agreement()
    assert line.startswith(
        "Pacific/Pitcairn agrees with the zone NetSuite writes SuiteQL times in at 2026-11-20T17:04:05"
    )
    assert "cannot tell apart zones whose clocks change on other dates" in line


def test_a_project_edited_between_the_two_reads_is_read_again_and_agrees() -> None:
    # The first SuiteQL read saw an older edit (an hour before the REST read's); the second sees the same edit.
    client = NetSuite("2026-11-20 08:04:05", "2026-11-20 09:04:05")
    found = netsuite_zone.read_zone(client, "America/Los_Angeles")
    assert found is not None and found.agrees and len(client.queries) == 2
    assert "WHERE j.id = 812" in client.queries[1]


def test_no_project_to_compare_on_is_no_answer_and_lets_a_window_open() -> None:
    client = NetSuite("", projects=False)
    assert netsuite_zone.read_zone(client, "America/New_York") is None
    assert netsuite_source(client, "America/New_York").window_end() == NOW


def test_a_change_source_opens_its_window_under_the_users_zone_and_refuses_another_saying_what_to_set() -> None:
    assert netsuite_source(NetSuite("2026-11-20 09:04:05"), "America/Los_Angeles").window_end() == NOW

    with pytest.raises(ConfigurationError) as refused:
        netsuite_source(NetSuite("2026-11-20 09:04:05"), "America/New_York").window_end()

    message = str(refused.value)
    assert message.startswith("netsuite.timezone is America/New_York but NetSuite writes times 3 h off it (behind")
    assert "project 812 was modified at" in message and "Set Preferences > Time Zone" in message
    assert refused.value.fix == netsuite_zone.FIX and refused.value.systemic


# -- a sample from another season (review, 2026-12-03) ------------------------------------------------------------
JULY = datetime(2027, 7, 1, 10, 0, tzinfo=UTC)  # both US zones on summer time; Arizona never changes
DECEMBER = datetime(2027, 12, 1, 9, 30, tzinfo=UTC)
NEXT_JULY = datetime(2028, 7, 1, 9, 30, tzinfo=UTC)
LA, PHOENIX, DENVER = "America/Los_Angeles", "America/Phoenix", "America/Denver"


def sampled(zone: str, users_zone: str, modified: datetime) -> netsuite_zone.ZoneReading:
    """The reading `read_zone` makes when NetSuite writes in `users_zone` and the latest project edit is
    `modified`."""

    class Sample(NetSuite):
        def get_record(self, record_type: str, record_id: str, **kwargs: Any) -> dict[str, Any]:
            return {"lastModifiedDate": modified.isoformat().replace("+00:00", "Z")}

    found = netsuite_zone.read_zone(Sample(to_local_text(modified, users_zone)), zone)
    assert found is not None and found.agrees
    return found


@pytest.mark.parametrize(
    ("zone", "users_zone", "sample", "start", "margin_hours"),
    [
        # Phoenix set, the user in Los Angeles: they agree in July only; in winter Phoenix's literal is read an hour
        # late by Los Angeles, so the window starts an hour earlier; the next summer, nothing.
        (PHOENIX, LA, JULY, JULY, 0),
        (PHOENIX, LA, JULY, DECEMBER, 1),
        (PHOENIX, LA, JULY, NEXT_JULY, 0),
        # The right zone on a summer sample: every zone the sample cannot tell from it (Phoenix, Hermosillo, UTC-7)
        # reads a winter literal earlier, not later: no margin.
        (LA, LA, JULY, DECEMBER, 0),
        # The right zone on a winter sample: Pacific/Pitcairn (UTC-8 all year) agrees then and would read a summer
        # literal an hour late, so summer windows start an hour earlier until a project is edited in summer.
        (LA, LA, DECEMBER, NEXT_JULY, 1),
        (LA, LA, DECEMBER, DECEMBER, 0),
        # Phoenix set and right, on a winter sample (Denver, Edmonton agree then): they read summer literals early.
        (PHOENIX, PHOENIX, DECEMBER, NEXT_JULY, 0),
    ],
)
def test_a_sample_proves_the_zone_only_for_its_season_and_the_window_start_moves_back_by_what_it_cannot(
    zone, users_zone, sample, start, margin_hours
) -> None:
    assert sampled(zone, users_zone, sample).start_margin(start) == timedelta(hours=margin_hours)


def test_a_sample_from_the_hour_denver_repeats_agrees_with_phoenix_and_the_margin_covers_both_seasons() -> None:
    """Denver goes back at 08:00 UTC on 2027-11-07: 01:30 is then both 07:30 and 08:30 UTC, and at 08:30 Phoenix
    and Los Angeles (which goes back at 09:00) write 01:30 too. `read_zone` takes Denver's nearer reading and agrees;
    a Phoenix user then reads Denver's summer literals an hour late, a Los Angeles user its winter ones."""
    repeated = datetime(2027, 11, 7, 8, 30, tzinfo=UTC)
    for users_zone in (PHOENIX, LA):
        found = sampled(DENVER, users_zone, repeated)
        assert found.text == "2027-11-07 01:30:00"
        names = {zone.key for zone in netsuite_zone.zones_writing(found.text, found.modified)}
        assert {DENVER, PHOENIX, LA} <= names
        assert found.start_margin(DECEMBER) == timedelta(hours=1)
        assert found.start_margin(NEXT_JULY) == timedelta(hours=1)


def test_without_a_zone_list_the_margin_is_the_largest_a_zone_could_need(monkeypatch) -> None:
    monkeypatch.setattr(netsuite_zone, "_zones", lambda: ())
    found = sampled(LA, LA, JULY)
    assert found.start_margin(DECEMBER) == netsuite_zone.UNLISTED_MARGIN >= timedelta(hours=2)


def test_a_change_source_asks_its_window_to_start_earlier_when_its_sample_is_from_another_season() -> None:
    class July(NetSuite):
        def get_record(self, record_type: str, record_id: str, **kwargs: Any) -> dict[str, Any]:
            return {"lastModifiedDate": "2027-07-01T10:00:00Z"}

    summer_text = to_local_text(JULY, LA)
    phoenix = netsuite_source(July(summer_text), PHOENIX)
    assert phoenix.window_end() == NOW
    assert start_margin(phoenix, DECEMBER) == timedelta(hours=1)
    la = netsuite_source(July(summer_text), LA)
    la.window_end()
    assert start_margin(la, DECEMBER) == timedelta(0)
    # No project to compare on: nothing asked (as before); a source without the hook neither.
    empty = netsuite_source(NetSuite("", projects=False), PHOENIX)
    empty.window_end()
    assert start_margin(empty, DECEMBER) == timedelta(0)
    assert start_margin(object(), DECEMBER) == timedelta(0)  # type: ignore[arg-type]


def test_the_check_line_says_when_a_run_starts_its_windows_earlier_and_why() -> None:
    found = sampled(PHOENIX, LA, JULY)
    assert found.agreement(JULY) == found.agreement()  # the sample's own season: nothing more to say
    line = found.agreement(DECEMBER)
    assert "each NetSuite poller compares again every run" in line
    assert "read a window start 60 min late now, so each run starts its windows that much earlier" in line
