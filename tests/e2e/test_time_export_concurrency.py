"""The time worker writes a timesheet's bills `time.write_concurrency` at once, through the template's wiring:
every bill once, never more in flight than the workers' share, and a refusal part-way leaves the same bills
written and mapped on every run (which bills ran is decided by the plan's order, not by thread timing)."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from ctsync.errors import ConfigurationError
from ctsync.records import window
from ctsync.records.time_export import external_id
from tests.e2e.support import periods_unreadable, run, sheet_reads_waiting_for_periods
from tests.e2e.test_time_export import bills_by_external_id, exportable_sheets

pytestmark = pytest.mark.e2e
GUARD = 30.0  # seconds: only ever reached when the sheets of a batch do not overlap


class PutsInFlight:
    """Wraps the NetSuite simulator's dispatch: the most time bill PUTs it was handling at once."""

    def __init__(self, app: Any) -> None:
        self._dispatch = app.dispatch
        self._lock = threading.Lock()
        self.now = 0
        self.most = 0
        app.dispatch = self

    def __call__(self, request: Any) -> Any:
        counted = request.method == "PUT" and "/timeBill/" in request.path
        if counted:
            with self._lock:
                self.now += 1
                self.most = max(self.most, self.now)
        try:
            return self._dispatch(request)
        finally:
            if counted:
                with self._lock:
                    self.now -= 1


def ready(open_session, concurrency: int) -> Any:
    session = open_session(config={"time": {"write_concurrency": concurrency}})
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    return session


def time_workers(session: Any) -> int:
    mapping = next(m for m in session.stack.queue_mappings if m.queue == "TimeQueue")
    return max(1, int(session.stack.resolve(mapping.max_concurrency)))


def test_every_bill_lands_once_with_at_most_workers_times_write_concurrency_in_flight(open_session):
    session = ready(open_session, 3)
    flight = PutsInFlight(session.simulators.netsuite)
    requests = session.simulators.netsuite.requests
    before = len(requests)

    first = run(session, "time")

    puts = [r for r in requests[before:] if r.method == "PUT" and "/timeBill/" in r.path]
    bills = bills_by_external_id(session)
    expected = {
        external_id(e["ID"])
        for s in exportable_sheets(session)
        for e in session.simulators.clicktime.entries_of(s["ID"])
        if e["Hours"] > 0
    }
    assert set(bills) >= expected and all(len(found) == 1 for found in bills.values())
    assert len(puts) == len(bills)  # one write per bill: nothing written twice, nothing refused for concurrency
    assert session.simulators.netsuite.faults.fired["429_under_load"] == 0
    assert 1 <= flight.most <= time_workers(session) * 3
    # each bill has its mapping: the unchanged second pass writes nothing
    assert all(f["kind"] == "BLOCKED" for f in first.failures)  # the seeded contractor's sheets, on purpose
    second = run(session, "time")
    assert second.netsuite_writes == [] and second.clicktime_writes == []


def test_a_bill_refused_part_way_leaves_the_same_bills_written_and_mapped_on_every_run(open_session):
    """Write concurrency 3, the second bill of a timesheet refused: the first, and the two let in beside the refused
    one, are written and mapped (a redrive does not write them again); none after them is sent."""
    session = ready(open_session, 3)
    exporter = session.runtime("TimeWorker").definition.applier
    clicktime = session.runtime("TimeWorker").clicktime
    sheets = [clicktime.timesheet(s["ID"]) for s in exportable_sheets(session)]
    sheet, plan = next((s, p) for s in sheets if len((p := exporter.plan(s)).entries) >= 7 and not p.problems)
    planned = [e.entry_id for e in plan.entries]
    refused = planned[1]
    session.simulators.netsuite.faults.inject(
        "status", status=400, times=100, method="PUT", path=re.escape(f"eid:{external_id(refused)}") + "$"
    )

    result = run(session, "time")

    failure = next(f for f in result.failures if f["source_id"] == sheet.ID)
    assert refused in failure["reason"] and external_id(refused) in failure["reason"]
    bills = bills_by_external_id(session)
    written = [entry for entry in planned if external_id(entry) in bills]
    assert written == [planned[0], planned[2], planned[3]]
    mapped = sorted(m.source_id for m in session.mappings.children("timesheet", sheet.ID))
    assert mapped == sorted(written)
    assert all(len(bills[external_id(entry)]) == 1 for entry in written)


@pytest.mark.parametrize(
    ("write_concurrency", "sheets_at_once", "references_kept"),
    [(1, 2, True), (2, 3, True), (1, 2, False)],
    ids=["1x2", "2x3", "1x2-references-read-by-every-sheet"],
)
def test_two_timesheets_of_a_batch_are_in_progress_at_once_and_an_invocation_never_has_more_than_k_requests_in_flight(
    open_session, write_concurrency: int, sheets_at_once: int, references_kept: bool
):
    """The first bill write of the night is held on the wire until its invocation has read a second timesheet:
    that happens only when the batch's sheets overlap (one after another, the next sheet is read once this one is
    done). Every NetSuite request, reads (references, billed bills) as well as writes, is counted per invocation
    while it is on the wire (the invocation's shared slots tell them apart): never more than K. So W workers x K
    is the most the time export ever has in flight, which the template sizes within NetSuite's limit. With the
    references never kept, every sheet reads them from NetSuite: the second sheet's reads come while the first
    write is held on the wire, and must wait for a slot."""
    session = open_session(config={"time": {"write_concurrency": write_concurrency, "sheets_at_once": sheets_at_once}})
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    runtime = session.runtime("TimeWorker")
    netsuite, clicktime = runtime.netsuite, runtime.clicktime
    read, send = clicktime.timesheet, netsuite._session.send
    if not references_kept:
        runtime.references._ttl = 0.0
    lock = threading.Lock()
    sheets_read: dict[int, set[str]] = {}
    in_flight: dict[int, int] = {}
    most: dict[int, int] = {}
    held: list[int] = []  # the invocation whose first write waits
    second_sheet = threading.Event()
    overlapped: list[bool] = []

    def invocation() -> int:
        shared = window._shared.get()
        assert shared is not None  # every write and read of the worker runs inside its invocation's slots
        return id(shared)

    def reading(timesheet_id: str) -> Any:
        key = invocation()
        with lock:
            sheets_read.setdefault(key, set()).add(timesheet_id)
            if held == [key] and len(sheets_read[key]) >= 2:
                second_sheet.set()
        return read(timesheet_id)

    def sending(prepared: Any, **kwargs: Any) -> Any:
        method, url = prepared.method, prepared.url
        key = invocation()
        with lock:
            in_flight[key] = in_flight.get(key, 0) + 1
            most[key] = max(most.get(key, 0), in_flight[key])
            first = not held and method == "PUT" and "/timeBill/" in url
            if first:
                held.append(key)
                if len(sheets_read.get(key, ())) >= 2:
                    second_sheet.set()
        try:
            if first:
                overlapped.append(second_sheet.wait(GUARD))
            return send(prepared, **kwargs)
        finally:
            with lock:
                in_flight[key] -= 1

    clicktime.timesheet = reading  # type: ignore[method-assign]
    netsuite._session.send = sending  # type: ignore[method-assign]
    try:
        first = run(session, "time")
    finally:
        del clicktime.timesheet, netsuite._session.send

    assert overlapped == [True]
    assert max(most.values()) <= write_concurrency and len(most) >= 2  # per invocation, over several invocations
    assert all(f["kind"] == "BLOCKED" for f in first.failures)  # the seeded contractor's sheets, on purpose
    bills = bills_by_external_id(session)
    puts = [w for w in first.netsuite_writes if w.method == "PUT" and "/timeBill/" in w.path]
    assert len(puts) == len(bills) and all(len(found) == 1 for found in bills.values())
    second = run(session, "time")
    assert second.netsuite_writes == [] and second.clicktime_writes == []


def test_a_timesheet_and_its_rows_are_read_from_clicktime_at_once(open_session):
    """A sheet's first NetSuite write waits on two ClickTime reads, the timesheet (its status and approval) and its
    Reports/Time rows; one after the other they cost a batch's first sheets two latencies before NetSuite has
    anything to do. The rows are read beside the timesheet: each timesheet read here waits until its rows have
    been asked for, which happens only when the two are in flight together."""
    session = open_session()
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    clicktime = session.runtime("TimeWorker").clicktime
    read_sheet, read_rows = clicktime.timesheet, clicktime.time_report
    lock = threading.Lock()
    rows_asked: dict[str, threading.Event] = {}
    overlapped: list[bool] = []

    def asked(timesheet_id: str) -> threading.Event:
        with lock:
            return rows_asked.setdefault(timesheet_id, threading.Event())

    def rows(**filters: Any) -> Any:
        asked(filters["TimesheetID"]).set()
        return read_rows(**filters)

    def sheet(timesheet_id: str) -> Any:
        overlapped.append(asked(timesheet_id).wait(GUARD))
        return read_sheet(timesheet_id)

    clicktime.timesheet, clicktime.time_report = sheet, rows  # type: ignore[method-assign]
    try:
        first = run(session, "time")
    finally:
        del clicktime.timesheet, clicktime.time_report

    assert overlapped and all(overlapped)
    bills = bills_by_external_id(session)
    puts = [w for w in first.netsuite_writes if w.method == "PUT" and "/timeBill/" in w.path]
    assert len(puts) == len(bills) and all(len(found) == 1 for found in bills.values())
    second = run(session, "time")
    assert second.netsuite_writes == [] and second.clicktime_writes == []


def test_the_accounting_periods_are_read_from_netsuite_beside_the_first_timesheet(open_session, monkeypatch):
    """Every sheet with bills needs the accounting periods (the closed-period rule), read from NetSuite once per
    invocation. Read only when the first sheet is planned, they cost each batch one NetSuite latency after its
    ClickTime reads, before its first write. They are read beside the timesheet: each timesheet read here waits
    until this invocation's periods have been asked for, which happens only when the two are in flight together."""
    session = open_session()
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    overlapped = sheet_reads_waiting_for_periods(monkeypatch, session, "TimeWorker", GUARD)

    first = run(session, "time")

    assert overlapped and all(overlapped)
    bills = bills_by_external_id(session)
    puts = [w for w in first.netsuite_writes if w.method == "PUT" and "/timeBill/" in w.path]
    assert len(puts) == len(bills) and all(len(found) == 1 for found in bills.values())


def test_a_failed_read_of_the_accounting_periods_is_met_once_per_timesheet_not_read_again(open_session, monkeypatch):
    """The periods are read beside the timesheet; when that read fails, the sheet fails with its error and the plan
    does not read them again (under an outage a second read would wait through the client's retries twice)."""
    session = open_session()
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    refusal = ConfigurationError("the integration role cannot read accountingperiod", cause="periods-unreadable")
    reads = periods_unreadable(monkeypatch, session, "TimeWorker", refusal)

    first = run(session, "time")

    assert reads.sheets > 1 and reads.periods == reads.sheets
    assert not [w for w in first.netsuite_writes if "/timeBill/" in w.path]
    assert first.failures and all("cannot read accountingperiod" in f["reason"] for f in first.failures)
