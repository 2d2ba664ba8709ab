"""`records.netsuite_zone`: the zone SuiteQL writes times in, read off one project both ways (SuiteQL text and the
REST record's UTC instant), and a change source that refuses to open a window under another zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ctsync.errors import ConfigurationError
from ctsync.netsuite.client import SuiteQLPage
from ctsync.records import netsuite_zone
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
