"""Soak seed 45005 (`--scale 3`): a timesheet given up on ("gave up after 5 attempts") on night 1, whose bills
went to NetSuite on later nights, was counted by the checker as an unexpected failure; the expense sheets' kind
(`test_soak_checker_stale_dead_letter.py`) was not.

Not the checker's doing, nor `ctns errors`' `describe_record` (it says the timesheet went through): the WORKER's.
The failed export's writes were of unknown outcome (a 500, a connection dropped), so the timesheet was listed and
what exported it later was a look (`op: check`, `TimeExport.recheck`): the sheet exported again whole as it stands.
The worker never counted a look as the record going through, so the cause it was dead-lettered under
(`gave-up:…`) kept naming it: `ctns errors` listed that cause as open (exit 1) over a timesheet it itself marked
"went through since", and the checker, which takes every open cause's records for failures, counted it.

Failing test (the worker's, found by the checker): a look that exports the timesheet whole leaves the causes that
held it, as an export does.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from ctns.commands.failures import describe_record
from ctsync.records.time_export import external_id
from tests.e2e import invariants
from tests.e2e.support import run
from tests.e2e.test_time_export import bills_by_external_id, exportable_sheets
from tests.e2e.test_time_late_writes import clock  # noqa: F401 - a fixture

pytestmark = pytest.mark.e2e

BILLS = "/services/rest/record/v1/timeBill/"


def test_a_timesheet_given_up_on_then_exported_by_a_later_look_leaves_its_cause(session, clock):  # noqa: F811
    ns, ct = session.simulators.netsuite, session.simulators.clicktime
    run(session, "projects", "tasks")
    session.log_activity()
    sheet = next(s for s in exportable_sheets(session) if len(ct.entries_of(s["ID"])) >= 2)
    entries = ct.entries_of(sheet["ID"])
    eids = "|".join(external_id(e["ID"]) for e in entries)

    # Night 1: every PUT of its bills answers 500 (a write of unknown outcome), every try of every attempt.
    ns.faults.inject(status=500, times=10_000, method="PUT", path=rf"{BILLS}eid:({eids})$")
    run(session, "time")
    (letter,) = [d for d in session.runner.dead_letters("time") if d.source_id == sheet["ID"]]
    assert "gave up after" in letter.reason, letter.reason
    assert any(sheet["ID"] in c.blocked for c in session.runlog.causes("time"))

    # Night 2: NetSuite answers again; the wait after the writes of unknown outcome is over. The run's look at
    # the listed timesheet exports it whole (no new approval: only the look reads it).
    ns.faults.clear()
    clock.now += timedelta(seconds=session.runtime().config.netsuite.late_write_seconds + 60)
    run(session, "time")
    bills = bills_by_external_id(session)
    assert all(len(bills.get(external_id(e["ID"]), [])) == 1 for e in entries), "the look wrote every bill once"
    described = describe_record(SimpleNamespace(mappings=session.mappings), "time", sheet["ID"], letter.version)
    assert described["went_through"], described  # `ctns errors`: went through since; the redrive clears it

    held = [c.key for c in session.runlog.causes("time") if sheet["ID"] in c.blocked]
    assert held == [], (
        f"timesheet {sheet['ID']} is in NetSuite whole (exported by a look), yet the causes {held} still hold it: "
        "`ctns errors` lists them as open"
    )
    figures = invariants.check(session, ("time",), reconcile=False)["time"]
    assert figures.unexpected_failures == [] and figures.lost == [], figures.summary()
