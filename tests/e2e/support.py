"""Helpers of the end-to-end tests: run syncs and look at both systems."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from ctns.report import pass_report
from ctns.session import Session
from ctsync.records.references import NetSuiteReferences
from simulators.clicktime.approvals import STAMP_KINDS, stamp
from tests.e2e import invariants

FAST_RETRIES = {"retry": {"base_seconds": 0.01, "cap_seconds": 0.05, "max_attempts": 6, "systemic_pause_seconds": 1}}


@dataclass
class Pass:
    """What one run of some syncs did: counts per sync, failures, and the writes each system received."""

    syncs: dict[str, dict[str, Any]]
    failures: list[dict[str, Any]]
    netsuite_writes: list[Any]
    clicktime_writes: list[Any]

    def counts(self, sync: str) -> dict[str, int]:
        row = self.syncs[sync]
        return {k: row[k] for k in ("created", "updated", "unchanged", "skipped", "failed")}


def run(session: Session, *syncs: str) -> Pass:
    sims = session.simulators
    ns_before, ct_before = len(sims.netsuite.writes()), len(sims.clicktime.writes())
    chosen = syncs or tuple(session.runner.syncs())
    invariants.note_run(session, chosen, None)
    started = sims.clicktime.clock()
    runs = session.runner.run(list(syncs))
    invariants.note_run(session, chosen, started)  # the windows the exports read, for the checker
    report = pass_report(session, runs)
    return Pass(
        syncs=report["syncs"],
        failures=report["failures"],
        netsuite_writes=sims.netsuite.writes()[ns_before:],
        clicktime_writes=sims.clicktime.writes()[ct_before:],
    )


def jobs_by_project(session: Session) -> dict[str, list[dict[str, Any]]]:
    jobs: dict[str, list[dict[str, Any]]] = {}
    for job in session.simulators.clicktime.jobs():
        jobs.setdefault(job.get("AccountingPackageID"), []).append(job)
    return jobs


def tasks_by_source(session: Session) -> dict[str, list[dict[str, Any]]]:
    tasks: dict[str, list[dict[str, Any]]] = {}
    for task in session.simulators.clicktime.tasks():
        tasks.setdefault(task.get("AccountingPackageID"), []).append(task)
    return tasks


def open_projects(session: Session) -> list[Any]:
    return [p for p in session.simulators.company.projects if p.status_id != "1" and not p.is_inactive and p.allow_time]


# -- NetSuite's accounting periods, as a worker reads them ------------------------------------------------------
SHEET_READERS = {"TimeWorker": "timesheet", "ExpensesWorker": "expense_sheet"}


def _on_periods_read(monkeypatch: Any, netsuite: Any, action: Callable[[], None]) -> None:
    """`action()` as each read of the accounting periods starts (raising from it fails the read)."""
    read_rows = netsuite.rows

    def rows(query: Any, *args: Any, **kwargs: Any) -> Any:
        if "FROM accountingperiod" in (query(None) if callable(query) else str(query)):
            action()
        return read_rows(query, *args, **kwargs)

    monkeypatch.setattr(netsuite, "rows", rows)


def sheet_reads_waiting_for_periods(monkeypatch: Any, session: Session, function: str, guard: float) -> list[bool]:
    """Make each sheet read of `function`'s worker wait (up to `guard` seconds) until its invocation has asked
    for the accounting periods (read from NetSuite, or held from an earlier batch of its run). Returns, per sheet
    read, whether they were asked for in time: all True only when the periods are asked for beside the sheet, not
    after it.

    The worker runs in one execution environment meanwhile: the local runner's environments share one runtime, so
    a second invocation starting while the first reads would clear the first one's "asked" for its own, and a read
    of the first could wait out its guard (a CI run saw it: scheduling, not the product)."""
    one = [replace(m, max_concurrency=1) if m.function == function else m for m in session.stack.queue_mappings]
    monkeypatch.setattr(session.stack, "queue_mappings", one)
    runtime = session.runtime(function)
    asked = threading.Event()
    waited: list[bool] = []
    new_invocation, read_sheet = runtime.references.new_invocation, getattr(runtime.clicktime, SHEET_READERS[function])

    def invocation(runs: Any = ()) -> None:
        asked.clear()
        new_invocation(runs=runs)

    def sheet(sheet_id: str) -> Any:
        waited.append(asked.wait(guard))
        return read_sheet(sheet_id)

    ask_periods = NetSuiteReferences.periods

    def periods(self: NetSuiteReferences) -> Any:
        asked.set()  # asked for: read from NetSuite, or held from an earlier batch of the run (PERIODS_FRESH_SECONDS)
        return ask_periods(self)

    monkeypatch.setattr(runtime.references, "new_invocation", invocation)
    monkeypatch.setattr(runtime.clicktime, SHEET_READERS[function], sheet)
    monkeypatch.setattr(NetSuiteReferences, "periods", periods)
    return waited


@dataclass
class Reads:
    sheets: int = 0
    periods: int = 0


def periods_unreadable(monkeypatch: Any, session: Session, function: str, error: Exception) -> Reads:
    """Make every read of the accounting periods by `function`'s worker raise `error`; count those reads and the
    worker's sheet reads."""
    runtime = session.runtime(function)
    reads, lock = Reads(), threading.Lock()
    read_sheet = getattr(runtime.clicktime, SHEET_READERS[function])

    def sheet(sheet_id: str) -> Any:
        with lock:
            reads.sheets += 1
        return read_sheet(sheet_id)

    def refused() -> None:
        with lock:
            reads.periods += 1
        raise error

    monkeypatch.setattr(runtime.clicktime, SHEET_READERS[function], sheet)
    _on_periods_read(monkeypatch, runtime.netsuite, refused)
    return reads


CLICKTIME_STAMP = object()  # `SheetWorld.approved_again`: keep the approval stamp ClickTime gave


class SheetWorld:
    """A small world on the seeded simulators for tests that build sheets by hand (the finance reviews of the two
    exports): ClickTime jobs and tasks seeded from the company (carrying their NetSuite IDs), one export to run."""

    sync = ""
    table = ""  # the ClickTime simulator's store of this export's sheets

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sims = session.simulators
        self.ct = self.sims.clicktime
        self.ns = self.sims.netsuite
        self.company = self.sims.company
        self.ids = self.ct.seed_jobs_and_tasks(self.company)

    def act(self, sheet: str, action: str) -> None:
        raise NotImplementedError

    def store_sheet(self, table: str, fields: dict[str, Any]) -> str:
        """A sheet put in the ClickTime simulator's store (`table`: "timesheets", "expense_sheets") as ClickTime
        holds a new one, its approval stamps empty; its ID."""
        store = self.ct.store
        with store.lock:
            sheet = {"ID": store.mint_id(), **fields, "_seq": store.next_sequence()}
            for kind in STAMP_KINDS:
                stamp(sheet, kind, None)
            getattr(store, table)[sheet["ID"]] = sheet
        return sheet["ID"]

    def approve(self, sheet: str) -> None:
        self.act(sheet, "Submit")
        self.act(sheet, "Approve")

    def reapprove(self, sheet: str, edit: Callable[[], Any] = lambda: None) -> None:
        self.ct.clock.advance(timedelta(hours=2))
        self.act(sheet, "UndoApproval")
        edit()
        self.act(sheet, "Approve")

    def set_approved_date(self, sheet: str, text: str | None) -> None:
        """ClickTime's `ApprovedDate` of `sheet` made `text`: a date alone, a day's midnight, none at all (the stamps
        that read the same for every approval of a day)."""
        getattr(self.ct.store, self.table)[sheet]["ApprovedDate"] = text

    def exported_under(self, approved_date: str | None, line: Callable[[str], str]) -> tuple[str, str, Any]:
        """The opening of the same-stamp correction tests, on ClickTime's clock (02:00Z at the start): a run at 10:00Z;
        at 11:00Z a new sheet with one line (`line(sheet)` adds it, returns its ID) approved, its `ApprovedDate` made
        `approved_date`; the run at 12:00Z that exports it. Returns (sheet, line ID, that run's result)."""
        self.ct.clock.advance(timedelta(hours=8))
        self.run()
        self.ct.clock.advance(timedelta(hours=1))
        sheet = self.sheet()
        line_id = line(sheet)
        self.approve(sheet)
        self.set_approved_date(sheet, approved_date)
        self.ct.clock.advance(timedelta(hours=1))
        return sheet, line_id, self.run()

    def approved_again(
        self,
        sheet: str,
        correct: Callable[[], Any],
        approved_date: Any = CLICKTIME_STAMP,
        then: timedelta = timedelta(hours=12),
    ) -> None:
        """`sheet` sent back two hours on, corrected by `correct()` and approved again, its `ApprovedDate` made
        `approved_date` (or the stamp ClickTime gives it); the clock moved `then` on, to the next run."""
        self.reapprove(sheet, correct)
        if approved_date is not CLICKTIME_STAMP:
            self.set_approved_date(sheet, approved_date)
        self.ct.clock.advance(then)

    def sheet(self) -> str:
        raise NotImplementedError

    def run(self) -> Any:
        return run(self.session, self.sync)

    def causes(self) -> list[Any]:
        return list(self.session.runlog.causes(self.sync))
