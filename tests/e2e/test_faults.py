"""Faults, end to end through the runner, for every sync: the two systems misbehaving at random (seeded) and by
script, crashes of workers and pollers, and data changing under a run. After each scenario the shared
invariants (`tests/e2e/invariants.py`) must hold for every sync: every record exactly once in the target by ID
and by content, nothing lost, no watermark past an unprocessed record, the product's reconciliations matching.

Each scenario adds its figures (records, faults injected by kind from the simulators' own counts, lost,
duplicated) to `build/fault-report.json`; `python -m tests.e2e.faultplay` prints them. The longer, harsher
variant is `make soak` (`tests/e2e/soak.py`).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.e2e import faultplay, invariants
from tests.e2e.support import run

pytestmark = pytest.mark.e2e
REPORT = Path("build/fault-report.json")
KINDS = {"429", "500", "503", "timeout", "reset", "reset_after", "cut", "slow_page", "401", "401_under_load"}


def test_every_sync_under_random_and_scripted_faults_lands_every_record_exactly_once(open_session):
    with faultplay.short_client_timeouts():
        session = open_session()
        # Night 1 (first export) and night 2 (after people corrected and re-approved sheets, and renamed things),
        # with both systems failing a share of requests and NetSuite over its concurrency limit for the exports.
        faultplay.arm(session, faultplay.Rates(), seed=11)
        first = faultplay.night(session, first=True, under_load=True)
        changes = faultplay.people_change_things(session, seed=11)
        faultplay.arm(session, faultplay.Rates(), seed=12)
        second = faultplay.night(session, under_load=True)
        faultplay.disarm(session)
        # A night without faults: what the faulty nights left for later (a poller that gave up, a record put
        # back during an outage pause) is done now; then a quiet night writes nothing to either system.
        session.simulators.clicktime.clock.advance(timedelta(hours=1))
        settle = faultplay.night(session)
        quiet = {sync: run(session, sync) for sync in faultplay.SYNCS}

    checked, summary = faultplay.figures(session)
    summary.update(nights={"1": first, "2": second, "settle": settle}, changes=changes)
    summary["quiet_writes"] = {s: len(p.netsuite_writes) + len(p.clicktime_writes) for s, p in quiet.items()}
    faultplay.write_report(REPORT, "random_and_scripted", summary)
    print(
        f"\nfault figures: {summary['records']} records, faults {summary['faults_by_kind']}, "
        f"lost {summary['lost']}, duplicated {summary['duplicated']}"
    )

    invariants.assert_holds(checked)
    assert summary["lost"] == 0 and summary["duplicated"] == 0 and summary["wrong"] == 0
    assert KINDS <= set(summary["faults_by_kind"]), summary["faults_by_kind"]
    assert summary["quiet_writes"] == {sync: 0 for sync in faultplay.SYNCS}
    assert all(f.reconciled for f in checked.values())
    assert session.simulators.netsuite.internal_errors == [] and session.simulators.clicktime.internal_errors == []
