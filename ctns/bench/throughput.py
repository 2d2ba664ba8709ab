"""The syncs' passes and throughput against NetSuite's bound, each in a fresh session on the moto server.

Latency: every NetSuite request spends L in flight (`processing_seconds`; at most C in flight, beyond that
NetSuite answers 429), every ClickTime request L on the network. A worker handles a record's calls one after
another, so W execution environments cannot do better than W / (L x API calls per record), and no fleet can
write to NetSuite faster than C / L (C / (L x NetSuite calls per record) records a second): the bound is the
lower of the two. Throughput is measured over the drain (the poller's time is reported beside it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ctns.bench.fleet import measure, open_session, set_latency


@dataclass
class Settings:
    seed: int = 7
    size: int = 3  # the seeded company of the passes (issue 12's table: size 3)
    concurrency_size: int = 4  # the concurrency runs' company: enough batches of ten to keep 8 environments busy
    latency: float = 0.05
    limit: int = 5
    levels: tuple[int, ...] = (2, 4, 8)
    model_size: int = 1  # the company of the W = 1 run the model is built from
    time_entries: tuple[int, ...] = (1000, 5000)
    time_workers: int | None = None  # None: the template's TimeWorkerMaxConcurrency
    updated_tasks: int = 20


def _per(numerator: float, denominator: float, digits: int = 2) -> float | None:
    return round(numerator / denominator, digits) if denominator else None


def _bound(workers: int, latency: float, limit: int, calls: float, netsuite_calls: float) -> float:
    """Records a second no fleet of `workers` can beat."""
    worker_bound = workers / (latency * calls) if calls else float("inf")
    netsuite_bound = limit / (latency * netsuite_calls) if netsuite_calls else float("inf")
    return min(worker_bound, netsuite_bound)


def drain_row(row: dict[str, Any], workers: int, settings: Settings) -> dict[str, Any]:
    """Throughput of a measured pass's drain against its bound."""
    drain = row["drain"]
    records = drain["delivered"]
    calls = _per(drain["netsuite_requests"] + drain["clicktime_requests"], records, 3) or 0.0
    netsuite_calls = _per(drain["netsuite_requests"], records, 3) or 0.0
    rate = records / drain["seconds"] if drain["seconds"] else 0.0
    bound = _bound(workers, settings.latency, settings.limit, calls, netsuite_calls)
    return {
        "sync": row["sync"],
        "workers": workers,
        "records": records,
        "drain_seconds": drain["seconds"],
        "records_per_second": round(rate, 2),
        "api_calls_per_record": calls,
        "netsuite_calls_per_record": netsuite_calls,
        "bound_records_per_second": round(bound, 2),
        "fraction_of_bound": _per(rate, bound),
        "netsuite_throttled": drain["netsuite_throttled"],
        "seconds_per_record_per_environment": _per(drain["seconds"] * workers, records, 4),
        # CPU the environments burnt over the drain, in cores: near the machine's count, the machine is the limit
        "environment_cpu_cores": _per(drain["environments"].get("cpu_seconds_total", 0.0), drain["seconds"]),
        "environments": drain["environments"],
    }


def passes(server: Any, log: str, settings: Settings) -> dict[str, Any]:
    """Projects and tasks at the template's worker concurrency: a first pass, an unchanged second pass, then a
    pass after tasks were renamed in NetSuite (updates)."""
    session = open_session(server, log, seed=settings.seed, size=settings.size)
    try:
        set_latency(session, settings.latency, settings.limit)
        workers = {sync: _workers(session, sync) for sync in ("projects", "tasks")}
        first = [measure(session, sync) for sync in ("projects", "tasks")]
        second = [measure(session, sync) for sync in ("projects", "tasks")]
        renamed = _rename_tasks(session, settings.updated_tasks)
        updated = measure(session, "tasks")
    finally:
        session.close()
    return {"workers": workers, "first": first, "second": second, "updated": updated, "renamed_tasks": renamed}


def _workers(session: Any, sync: str) -> int:
    mapping = session.runner._mapping_of_poller(f"{sync.capitalize()}Poller")
    return max(1, int(session.stack.resolve(mapping.max_concurrency)))


def _rename_tasks(session: Any, count: int) -> int:
    """A user renames `count` tasks that have a ClickTime task in NetSuite (each one ClickTime update)."""
    store = session.simulators.netsuite.records
    synced = [t["id"] for t in store.all("projectTask") if t.get("custevent_ct_task_id")]
    for task_id in synced[:count]:
        task = store.get("projectTask", task_id) or {}
        store.update("projectTask", task_id, {"title": f"{task.get('title', 'Task')} (renamed)"})
    return len(synced[:count])


def concurrency(server: Any, log: str, settings: Settings, at_template: dict[str, Any] | None) -> dict[str, Any]:
    """First passes of projects and tasks at W = 1 (the model's per-record cost) and at each level."""
    rows: list[dict[str, Any]] = []
    if at_template and settings.size != settings.concurrency_size:
        at_template = None
    runs = [(1, settings.model_size)] + [(w, settings.concurrency_size) for w in settings.levels]
    for workers, size in runs:
        if at_template and workers == at_template["workers"]["tasks"] and size == settings.size:
            rows += [drain_row(r, workers, settings) for r in at_template["first"]]  # that run is already measured
            continue
        session = open_session(
            server, log, seed=settings.seed, size=size, workers={"projects": workers, "tasks": workers}
        )
        try:
            set_latency(session, settings.latency, settings.limit)
            rows += [drain_row(measure(session, sync), workers, settings) for sync in ("projects", "tasks")]
        finally:
            session.close()
    model = {row["sync"]: row for row in rows if row["workers"] == 1}
    for row in rows:
        base = model[row["sync"]]
        per_record = base["seconds_per_record_per_environment"] or 0.0
        modelled = min(
            row["workers"] / per_record if per_record else float("inf"),
            _bound(10**9, settings.latency, settings.limit, 1.0, base["netsuite_calls_per_record"]),
        )
        bound = _bound(
            row["workers"],
            settings.latency,
            settings.limit,
            base["api_calls_per_record"],
            base["netsuite_calls_per_record"],
        )
        row["modelled_fraction_of_bound"] = _per(modelled, bound)
    return {"rows": rows}


def _company_for(entries: int, seed: int) -> tuple[Any, int]:
    """The smallest seeded company whose plan logs at least `entries` time entries."""
    from simulators.generator import generate_company

    size = 1
    while True:
        company = generate_company(seed=seed, size=size)
        planned = sum(len(sheet.entries) for sheet in company.timesheets)
        if planned >= entries or size > 400:
            return company, size
        size = max(size + 1, int(size * entries / max(planned, 1)))


def time_export(server: Any, log: str, settings: Settings, entries: int) -> dict[str, Any]:
    """Approved time of a company logging about `entries` entries, exported at the time worker's concurrency."""
    company, size = _company_for(entries, settings.seed)
    workers = {"projects": 8, "tasks": 8}
    if settings.time_workers:
        workers["time"] = settings.time_workers
    session = open_session(server, log, seed=settings.seed, size=size, company=company, workers=workers)
    try:
        set_latency(session, 0.0, 10_000)  # the jobs and tasks the time goes to: set-up, not measured
        for sync in ("projects", "tasks"):
            session.runner.run([sync])
        activity = session.log_activity()
        set_latency(session, settings.latency, settings.limit)
        time_workers = _workers(session, "time")
        first = measure(session, "time")
        second = measure(session, "time")
    finally:
        session.close()
    bills = sum(n for k, n in first["netsuite"]["writes_by_kind"].items() if k.endswith(" record/timeBill"))
    drain = first["drain"]
    rate = bills / drain["seconds"] if drain["seconds"] else 0.0
    calls = drain["netsuite_requests"] + drain["clicktime_requests"]
    return {
        "entries": activity.get("time_entries", 0),
        "timesheets": activity.get("timesheets", 0),
        "company_size": size,
        "workers": time_workers,
        "time_bills_written": bills,
        "drain_seconds": drain["seconds"],
        "seconds": first["seconds"],
        "time_bills_per_second": round(rate, 2),
        "fraction_of_netsuite_bound": _per(rate, settings.limit / settings.latency),
        "fraction_of_worker_bound": _per(rate, time_workers / (settings.latency * (calls / bills))) if bills else None,
        "netsuite_calls_per_time_bill": _per(first["netsuite"]["requests"], bills, 3),
        "clicktime_calls_per_time_bill": _per(first["clicktime"]["requests"], bills, 3),
        "dynamodb_calls_per_time_bill": _per(first["aws"]["dynamodb"], bills, 2),
        "netsuite_throttled": first["netsuite"]["throttled"],
        "failed": first["failed"],
        "first": first,
        "second": second,
    }
