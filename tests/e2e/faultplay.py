"""Driving a whole company through every sync while both simulators misbehave: shared by the fault suite
(`tests/e2e/test_faults*.py`, in `make test`) and the soak (`tests/e2e/soak.py` via `make soak`, longer and
harsher). `python -m tests.e2e.faultplay [build/fault-report.json]` prints the figures the fault tests recorded.

A *night* runs the four syncs in the template's order; the first night the people of the seeded company log
their time and expenses once their jobs exist (as in the demo), and between nights they correct, un-approve
and re-approve sheets (`simulators.scenarios.after_first_export`) while NetSuite users rename, close and delete
projects. Faults come from each simulator's seeded `FaultPlan` at the given rates, plus scripted ones so that
every kind claimed happens in every run whatever the request count.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from ctns.session import Session
from ctsync.clicktime.client import ClickTimeClient
from ctsync.netsuite.client import NetSuiteClient
from simulators.common.faults import FaultPlan
from simulators.scenarios import after_first_export
from tests.e2e import invariants
from tests.e2e.support import run

SYNCS = ("projects", "tasks", "time", "expenses")
CLIENT_TIMEOUT_SECONDS = 0.5  # the clients' read timeout during a fault run (60 s in production)
SIMULATED_TIMEOUT_SECONDS = 0.8  # a `timeout` fault holds the answer this long, then processes the request


@dataclass(frozen=True)
class Rates:
    """Per-request probabilities on each simulator."""

    status: dict[int, float] = field(default_factory=lambda: {429: 0.03, 500: 0.02, 503: 0.02})
    timeout: float = 0.004
    reset: float = 0.01
    reset_after: float = 0.01
    cut: float = 0.0  # an answer broken off mid-body; scripted in `make test`, random in the soak
    slow_page_seconds: float = 0.01


def arm(
    session: Session,
    rates: Rates,
    seed: int,
    *,
    timeout_seconds: float = SIMULATED_TIMEOUT_SECONDS,
    timeouts_process_late: bool = False,
) -> None:
    """Random faults on both simulators (seeded), plus one scripted fault of every kind on each. A `timeout`
    holds its answer `timeout_seconds` (longer than the clients wait: see short_client_timeouts). By default
    the timed-out request is processed when it arrives: were it processed after the hang, whether the client's
    retry or the late write lands last would be thread timing, and `make test` must not depend on it. The
    soak turns `timeouts_process_late` on. `script` places one late-processed expense report PUT by request
    events instead (a `late` fault)."""
    for offset, app in enumerate((session.simulators.netsuite, session.simulators.clicktime)):
        plan = FaultPlan(
            seed=seed * 10 + offset,
            error_rates=dict(rates.status),
            timeout_rate=rates.timeout,
            timeout_seconds=timeout_seconds,
            timeout_processes_late=timeouts_process_late,
            reset_rate=rates.reset,
            reset_after_rate=rates.reset_after,
            cut_rate=rates.cut,
            slow_page_seconds=rates.slow_page_seconds,
        )
        plan.fired = app.faults.fired  # the counts span the whole scenario
        app.faults = plan
    script(session, timeout_seconds)


def script(session: Session, timeout_seconds: float = SIMULATED_TIMEOUT_SECONDS) -> None:
    """One of each kind on each simulator, on reads and on writes (the next matching requests)."""
    ns, ct = session.simulators.netsuite.faults, session.simulators.clicktime.faults
    for plan, write in ((ns, "PUT"), (ct, "PATCH")):
        plan.inject(status=429, times=1, retry_after=0)
        plan.inject(status=500, times=1, method="GET" if plan is ct else "POST")
        plan.inject(status=503, times=1, method=write)
        plan.inject("timeout", times=1, method=write, delay_seconds=timeout_seconds)
        plan.inject("reset", times=1)
        plan.inject("reset_after", times=1, method=write)
        plan.inject("cut", times=1, method="GET")  # half an answer's body, then a reset
    # The answers that matter most: a create whose answer is lost (ClickTime jobs and tasks; NetSuite files)
    ct.inject("reset_after", times=1, method="POST", path=r"/Jobs$")
    ct.inject("reset_after", times=1, method="POST", path=r"/Tasks$")
    ct.inject(status=500, times=1, method="POST", path=r"/Jobs$")
    ct.inject("cut", times=1, method="GET", path=r"^/receipts/")  # a receipt download broken off mid-body
    ns.inject("reset_after", times=1, method="PUT", path=r"/timeBill/eid:")
    ns.inject("reset_after", times=1, method="PUT", path=r"/expenseReport/eid:")
    # A report PUT NetSuite processes late, after the client's retry (found by the soak, seed 427260): placed by
    # request events (`late`), not a `timeout`, so that the outcome never depends on thread timing.
    ns.inject("late", times=1, method="PUT", path=r"/expenseReport/eid:")
    session.simulators.netsuite.process_held_after(writes=1)
    ns.inject(status=401, times=1, method="PUT")


def disarm(session: Session) -> None:
    for app in (session.simulators.netsuite, session.simulators.clicktime):
        app.faults.clear()
        app.process_held()  # a `late` request whose record was not written again: NetSuite gets round to it now
    session.simulators.netsuite.throttle_as_unauthorized = False
    session.simulators.netsuite.concurrency_limit = 5
    session.simulators.netsuite.processing_seconds = 0.0


@contextmanager
def short_client_timeouts(timeout: float = CLIENT_TIMEOUT_SECONDS) -> Iterator[None]:
    """The clients give up on an answer after `timeout` seconds, so a `timeout` fault is a timeout to them."""
    originals = (NetSuiteClient.__init__, ClickTimeClient.__init__)

    def wrap(original: Callable[..., None]) -> Callable[..., None]:
        def init(self: Any, *args: Any, **kwargs: Any) -> None:
            kwargs["timeout_seconds"] = timeout
            original(self, *args, **kwargs)

        return init

    NetSuiteClient.__init__ = wrap(originals[0])  # type: ignore[method-assign]
    ClickTimeClient.__init__ = wrap(originals[1])  # type: ignore[method-assign]
    try:
        yield
    finally:
        NetSuiteClient.__init__, ClickTimeClient.__init__ = originals  # type: ignore[method-assign]


def netsuite_under_load(session: Session, limit: int = 1, processing_seconds: float = 0.01) -> None:
    """NetSuite's concurrency limit reached by the workers, answered with 401 INVALID_LOGIN as it sometimes is."""
    ns = session.simulators.netsuite
    ns.concurrency_limit = limit
    ns.throttle_as_unauthorized = True
    ns.processing_seconds = processing_seconds


DAILY_RETRIES = 3


def night(session: Session, *, first: bool = False, under_load: bool = False) -> dict[str, Any]:
    """The four syncs once; returns what each did (the support module's `Pass` rows). `first`: people log their
    time and expenses before the time sync, on the tasks synced so far; with none yet (both daily pollers failed
    under faults) the daily syncs run again first, as the scheduler's retries would, up to `DAILY_RETRIES` times:
    else nothing would be exported at all (soak 45005 at --scale 3 exported no bill and no report in six nights,
    and passed). The activity's approvals are stamped that night, so it cannot be put off to a later one."""
    rows: dict[str, Any] = {}
    for sync in SYNCS:
        if first and sync == "time":
            for _ in range(DAILY_RETRIES):
                if any(m.target_id and not m.deleted for m in session.mappings.all_of_kind("task")):
                    break
                rows["daily_retried"] = rows.get("daily_retried", 0) + 1
                run(session, "projects")
                run(session, "tasks")
            session.log_activity()
        if under_load and sync in ("time", "expenses"):
            netsuite_under_load(session)
        result = run(session, sync)
        if under_load:
            ns = session.simulators.netsuite
            ns.throttle_as_unauthorized, ns.concurrency_limit, ns.processing_seconds = False, 5, 0.0
        rows[sync] = {**result.syncs[sync], "failures": len(result.failures)}
    return rows


def people_change_things(session: Session, seed: int) -> dict[str, Any]:
    """Between two nights: ClickTime sheets corrected, un-approved and approved again; NetSuite projects renamed,
    closed, deleted and a task renamed."""
    sims = session.simulators
    sims.clicktime.clock.advance(timedelta(days=1))
    changes = after_first_export(sims.clicktime, sims.company)
    ns = sims.netsuite.records
    closed = set(session.runtime().config.projects.closed_status_ids)
    open_ids = [
        p["id"]
        for p in ns.all("job")
        if not p.get("isInactive") and p.get("allowTime") and p["entityStatus"]["id"] not in closed
    ]
    # Projects that carry no time or expenses, so the exports' figures stay comparable.
    used = {j.get("AccountingPackageID") for j in sims.clicktime.jobs() if _has_activity(session, j["ID"])}
    quiet = [pid for pid in open_ids if pid not in used]
    renamed = quiet[seed % len(quiet)] if quiet else open_ids[0]
    ns.update("job", renamed, {"companyName": f"Renamed {seed}"})
    changes["renamed_project"] = renamed
    task = next((t for t in ns.all("projectTask") if t["project"]["id"] in open_ids), None)
    if task:
        ns.update("projectTask", task["id"], {"title": f"{task['title']} (renamed)"})
        changes["renamed_task"] = task["id"]
    return changes


def _has_activity(session: Session, job_id: str) -> bool:
    ct = session.simulators.clicktime
    return any(e["JobID"] == job_id for e in ct.time_entries()) or any(
        i.get("JobID") == job_id for i in ct.expense_items()
    )


def write_report(path: Path, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Add one scenario's figures to a JSON report (several tests and workers write their own key, one at a time:
    `pytest -n 2` runs two scenarios at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current: dict[str, Any] = {}
        if path.exists():
            try:
                current = json.loads(path.read_text())
            except ValueError:
                current = {}
        current[name] = {**payload, "scenario": name}
        path.write_text(json.dumps(current, indent=2, default=str))
    return payload


def report_table(path: Path) -> str:
    """The figures of every scenario in a report, one line each, and their totals (`python -m tests.e2e.faultplay`)."""
    scenarios = json.loads(path.read_text())
    lines = [f"{'scenario':28} {'records':>7} {'lost':>4} {'dup':>4}  faults, crashes and races injected, by kind"]
    totals: dict[str, int] = {"records": 0, "lost": 0, "duplicated": 0}
    kinds: dict[str, int] = {}
    for name, figures in sorted(scenarios.items()):
        for key in totals:
            totals[key] += int(figures.get(key, 0))
        injected = {**figures.get("faults_by_kind", {}), **figures.get("crashes_and_races", {})}
        for kind, n in injected.items():
            kinds[kind] = kinds.get(kind, 0) + n
        lines.append(
            f"{name:28} {figures.get('records', 0):>7} {figures.get('lost', 0):>4} {figures.get('duplicated', 0):>4}  "
            f"{injected}"
        )
    lines.append(
        f"{'all':28} {totals['records']:>7} {totals['lost']:>4} {totals['duplicated']:>4}  {dict(sorted(kinds.items()))}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(report_table(Path(sys.argv[1] if len(sys.argv) > 1 else "build/fault-report.json")))


def figures(session: Session, **kwargs: Any) -> tuple[dict[str, invariants.SyncFigures], dict[str, Any]]:
    checked = invariants.check(session, **kwargs)
    faults = invariants.faults_injected(session)
    by_kind: dict[str, int] = {}
    for counts in faults.values():
        for kind, n in counts.items():
            by_kind[kind] = by_kind.get(kind, 0) + n
    summary = {
        **invariants.totals(checked),
        "faults_by_kind": dict(sorted(by_kind.items())),
        "faults_by_system": faults,
        "requests": {
            "netsuite": len(session.simulators.netsuite.requests),
            "clicktime": len(session.simulators.clicktime.requests),
        },
        "syncs": {sync: f.summary() for sync, f in checked.items()},
    }
    return checked, summary
