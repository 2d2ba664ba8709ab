"""Dates, time zones and instants of NetSuite's SuiteQL clock text (review 15): the hour repeated when clocks go
back, and a netsuite.timezone that is not the integration user's preference."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.support import jobs_by_project, open_projects, run

pytestmark = pytest.mark.e2e


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def netsuite_clock_at(session: Any, start: datetime) -> FakeClock:
    """NetSuite's clock (serverTime and the records' lastModifiedDate) set to `start`; TBA keeps real time."""
    clock = FakeClock(start)
    netsuite = session.simulators.netsuite
    netsuite.clock = clock
    netsuite.records._clock = clock
    return clock


# -- DST fall-back: the repeated hour makes a later edit look older than an earlier one ------------------------
def test_a_project_renamed_twice_across_the_repeated_dst_hour_reaches_clicktime(session):
    """Implementation engineer: on the night US clocks go back (2027-11-07, America/Los_Angeles), a project renamed
    at 01:50 PDT is synced; renamed again twenty minutes later (01:10 PST), the ClickTime job keeps the first name
    for good: the worker logs "stale: a newer version was applied" and the window moves on.

    Why: SuiteQL gives lastmodifieddate as wall-clock text without an offset (`TO_CHAR(..., 'YYYY-MM-DD
    HH24:MI:SS')`, netsuite-api.md §3.1 "Time-zone pitfalls"), and `timeutil.from_local_text` (timeutil.py:36-43)
    reads every time of the repeated hour as its *later* instant (fold=1). 01:50 PDT (08:50Z) becomes 09:50Z, the
    real later edit 01:10 PST stays 09:10Z, so the version fence (`records/targets.py:86-87`, `_stale`) takes the
    newer snapshot for an older one. fold=1 does not make versions monotonic; it only moves the ambiguity. Now a
    version of the repeated hour is compared at its latest reading against the stored one at its earliest.

    Found by review 15; failed before the fix."""
    netsuite = session.simulators.netsuite.records
    project = open_projects(session)[0].id
    clock = netsuite_clock_at(session, datetime(2027, 11, 7, 8, 45, tzinfo=UTC))  # 01:45 PDT

    netsuite.update("job", project, {"companyName": "Renamed before the clocks went back"})
    clock.now = datetime(2027, 11, 7, 8, 50, tzinfo=UTC)  # 01:50 PDT: the nightly run
    first = run(session, "projects")
    assert first.failures == []
    assert jobs_by_project(session)[project][0]["Name"] == "Renamed before the clocks went back"

    clock.now = datetime(2027, 11, 7, 9, 10, tzinfo=UTC)  # 01:10 PST, twenty minutes later
    netsuite.update("job", project, {"companyName": "Renamed after the clocks went back"})
    clock.now = datetime(2027, 11, 7, 9, 20, tzinfo=UTC)
    run(session, "projects")
    clock.now = datetime(2027, 11, 8, 9, 20, tzinfo=UTC)  # and the next night
    run(session, "projects")

    assert jobs_by_project(session)[project][0]["Name"] == "Renamed after the clocks went back"


# -- netsuite.timezone is trusted, never checked against the integration user's preference ----------------------
def test_a_timezone_setting_east_of_the_integration_users_preference_loses_changes_and_check_says_nothing(
    open_session, tmp_path, capsys
):
    """Implementation engineer: the customer's head office is in New York, so netsuite.timezone is set to
    America/New_York; the integration user's own preference in NetSuite is Pacific (the default the config itself
    assumes). `ctns check` passed, and a project renamed right after a run never reached ClickTime: the next run's
    window started three hours late.

    Why: every SuiteQL window literal is wall-clock text in `netsuite.timezone` (`netsuite_source.timestamp_literal`),
    and NetSuite reads it in the user's preference (netsuite-api.md §3.1: "SuiteQL datetime values are rendered in
    the running user's time-zone preference — INFERENCE ... Verify per account by comparing
    TO_CHAR(lastmodifieddate…) with the UTC lastModifiedDate from the REST record GET"). Nothing made that comparison,
    so a zone east of the user's silently shifted every window start later by the difference (3 h here, beyond the
    60 min overlap). `ctns check` now makes it on the most recently modified project, and fails saying what to set.

    Found by review 15; failed before the fix."""
    session = open_session({"netsuite": {"timezone": "America/New_York"}})
    assert str(session.simulators.netsuite.user_timezone) == "America/Los_Angeles"
    run(session, "projects")

    rows = check_rows(session, tmp_path, capsys, {"timezone": "America/New_York"})
    assert any(c["name"] == "NetSuite login (TBA)" and c["status"] == "ok" for c in rows), rows  # the check ran
    zone = [c for c in rows if c["name"] == "netsuite.timezone"]
    assert [c["status"] for c in zone] == ["FAIL"], rows
    assert "netsuite.timezone is America/New_York but NetSuite writes times 3 h off it" in zone[0]["detail"], zone
    assert "time zone preference" in zone[0]["fix"], zone

    # Set to the user's preference, the check passes and names the zone.
    rows = check_rows(session, tmp_path, capsys, {"timezone": "America/Los_Angeles"})
    assert [c["status"] for c in rows if c["name"] == "netsuite.timezone"] == ["ok"], rows


def check_rows(session: Any, tmp_path: Any, capsys: Any, netsuite: dict[str, Any]) -> list[dict[str, Any]]:
    """`ctns check --json` against the session's simulators, with these netsuite settings."""
    import json

    from simulators.netsuite.app import DEFAULT_CREDENTIALS
    from tests.e2e.cli_support import ctns

    sims = session.simulators
    config = {
        "netsuite": {
            "account_id": sims.netsuite.account_id,
            "rest_base_url": f"{sims.netsuite_url}/services/rest",
            "restlets_base_url": sims.netsuite_url,
            **netsuite,
        },
        "clicktime": {"base_url": f"{sims.clicktime_url}/v2"},
        "time": {"service_item_id": sims.company.service_items[0].id},
    }
    tba = DEFAULT_CREDENTIALS
    secrets = {
        "netsuite": {
            "consumer_key": tba.consumer_key,
            "consumer_secret": tba.consumer_secret,
            "token_id": tba.token_id,
            "token_secret": tba.token_secret,
        },
        "clicktime": {"api_token": sims.clicktime.token},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "secrets.json").write_text(json.dumps(secrets))
    result = ctns(
        capsys,
        "check",
        "--config",
        str(tmp_path / "config.json"),
        "--secrets",
        str(tmp_path / "secrets.json"),
        "--json",
    )
    return result.json["checks"]


def test_a_run_under_a_netsuite_timezone_the_integration_user_does_not_write_in_is_refused_saying_what_to_set(
    open_session,
):
    """The same setting as above, with `ctns check` never run (or the integration user's preference changed after
    it passed): each NetSuite change source compares the zones as it opens its window (`records.netsuite_zone`) and
    refuses the run, one line saying what is off and what to set, rather than read a window three hours late. No
    watermark moves, so once the zone is set the next run reads everything the refused ones would have.

    Found by review 15 ("the zone is compared only in `ctns check`"); failed before the fix (the run went ahead)."""
    session = open_session({"netsuite": {"timezone": "America/New_York"}})

    result = run(session, "projects", "tasks")

    for sync in ("projects", "tasks"):
        row = result.syncs[sync]
        assert row["status"] == "failed", row
        assert "netsuite.timezone is America/New_York but NetSuite writes times 3 h off it" in row["note"], row
        assert "Set Preferences > Time Zone" in row["note"] and "Traceback" not in row["note"], row
        assert session.runtime().progress.watermarks(sync) == {}
    assert result.clicktime_writes == []
