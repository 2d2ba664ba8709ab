"""Soak seed 45005 (`--scale 3`): a defect in the soak's CHECKER, not in the product.

Night 1's time poller failed before it opened its window (ClickTime's GET /Company reset on every try), so the
first successful time run came a day later, and its first window (`time.first_run_days`: 35 days back) no longer
reached the seeded timesheets approved on its edge. By design a first run reads that far back and no farther
(`ctns backfill --since` reads older), so nothing of them is owed to NetSuite; the checker counted 21 timesheets as
"lost" (and each as "would never be read again" under `watermark`, and their hours as reconciliation differences).

Failing test: the checker judges each sheet against the window of the first SUCCESSFUL run of its export: a sheet
approved before it, of which nothing is in NetSuite and no failure is recorded, is "outside the windows read"
(reported, not lost), and the reconciliation is judged without it; a sheet inside the window that is missing is
still lost.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from ctsync.records.time_export import external_id
from tests.e2e import invariants
from tests.e2e.support import run
from tests.e2e.test_time_export import exportable_sheets

pytestmark = pytest.mark.e2e


def test_the_checker_judges_each_sheet_against_the_first_window_a_run_read(session):
    ns, ct = session.simulators.netsuite, session.simulators.clicktime
    config = session.runtime().config
    days = config.windows.for_sync("time").first_run_days
    run(session, "projects", "tasks")
    session.log_activity()
    approved = {s["ID"]: invariants._version(session, "time", s["ID"]) for s in exportable_sheets(session)}
    earliest, later = sorted(set(approved.values()))[:2]
    assert later - earliest > timedelta(hours=2), "two approval instants hours apart (the seeded plan)"

    # Night 1: the time poller fails before it opens its window (every try of GET /Company reset)
    ct.faults.inject("reset", times=10_000, method="GET", path=r"/Company$")
    run(session, "time")
    ct.faults.clear()
    assert ct.faults.fired["reset"] > 0 and not session.runtime().progress.watermarks("time")

    # The next night's run is the first to read: its window starts an hour after the earliest approvals
    wait = earliest + timedelta(days=days, hours=1, seconds=config.clicktime.clock_skew_seconds) - ct.clock()
    assert wait > timedelta(0), "night 1's window, had it opened, would have read the earliest approvals"
    ct.clock.advance(wait)
    run(session, "time")
    outside = sorted(  # the contractor's too (no NetSuite employee): no run read it, so no cause names it
        s["ID"]
        for s in ct.timesheets()
        if s["Status"] == "Approved" and invariants._version(session, "time", s["ID"]) == earliest
    )
    bills = {b.get("externalId") for b in ns.records.all("timeBill")}
    assert outside and not any(external_id(e["ID"]) in bills for sid in outside for e in ct.entries_of(sid))

    figures = invariants.check(session, ("time",))["time"]
    assert figures.lost == [], f"sheets outside every window read counted as lost: {figures.lost}"
    assert figures.watermark == [] and figures.reconciliation == [], figures.summary()
    assert sorted(line.split(":")[0] for line in figures.outside_windows) == outside
    assert figures.ok

    # Strict otherwise: a sheet inside the window whose bills are gone from NetSuite is lost
    inside = next(sid for sid, version in approved.items() if version > earliest)
    for entry in ct.entries_of(inside):
        for bill in ns.records.all("timeBill"):
            if bill.get("externalId") == external_id(entry["ID"]):
                ns.records.delete("timeBill", bill["id"])
    figures = invariants.check(session, ("time",))["time"]
    assert [line.split(":")[0] for line in figures.lost] == [inside]
    assert figures.reconciliation and not figures.ok
