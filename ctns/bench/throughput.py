"""The syncs' passes and throughput against NetSuite's bound, each in a fresh session on the moto server.

Latency: every NetSuite request spends L in flight, the simulator's own work included (`processing_seconds`; at
most C in flight, beyond that NetSuite answers 429), every ClickTime request L on the network. A worker handles a record's calls one after
another, so W execution environments cannot do better than W / (L x API calls per record), and no fleet can
write to NetSuite faster than C / L (C / (L x NetSuite calls per record) records a second): the bound is the
lower of the two. Throughput is measured over the drain (the poller's time is reported beside it).

The time export is measured at levels W x K: W execution environments, each writing a timesheet's bills K at
once (`time.write_concurrency`), so up to W x K of its requests are in flight. A level W x K x S also sets
`time.sheets_at_once` (S timesheets of a batch in progress at once, sharing the K); without S, the default.
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
    # (W, K) at which the time export is measured: W time worker environments, each writing K bills at once
    # (time.write_concurrency). 2 x 1 is how the product wrote before (and the model's base), 2 x 2 the template's
    # default (4 of C = 5 in flight), 5 x 1 all of C.
    time_levels: tuple[tuple[int, ...], ...] = ((2, 1), (2, 2), (5, 1))
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
        delivered = session.runner.drains["tasks"].bodies
        second = [measure(session, sync) for sync in ("projects", "tasks")]
        _deliver_again(session, "tasks", delivered)
        redelivered = measure(session, "tasks")
        renamed = _rename_tasks(session, settings.updated_tasks)
        updated = measure(session, "tasks")
    finally:
        session.close()
    return {
        "workers": workers,
        "first": first,
        "second": second,
        "redelivered": redelivered,
        "updated": updated,
        "renamed_tasks": renamed,
    }


def _deliver_again(session: Any, sync: str, bodies: list[str]) -> None:
    """Every message of an earlier pass on the sync's queue once more, as SQS redelivering them would (or two
    runs queueing the same records): each record reaches a worker although its target already holds it."""
    runner = session.runner
    url = session.aws.queue_url(runner.queue_mapping(sync).queue)
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies[start : start + 10])]
        runner.esm_sqs.send_message_batch(QueueUrl=url, Entries=entries)


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


def reset_time_export(session: Any) -> int:
    """Forget the time export as if it never ran (its mappings, watermarks and cursor), so the next pass exports
    every approved entry again: each time bill is PUT by its external ID once more (an upsert, one NetSuite call,
    as on the first night). The benchmark's client is tagged: its calls are not the functions'."""
    import boto3
    from boto3.dynamodb.conditions import Attr
    from botocore.config import Config

    table = boto3.session.Session().resource("dynamodb", config=Config(user_agent_extra="ctns-bench/reset"))
    table = table.Table(session.stack.physical["StateTable"]["Ref"])
    stale = (
        Attr("pk").begins_with("MAP#timesheet#")
        | Attr("pk").begins_with("MAP#timeentry#")
        | (Attr("pk").eq("SYNC#time") & (Attr("sk").begins_with("WATERMARK") | Attr("sk").eq("CURSOR")))
    )
    keys: list[dict[str, Any]] = []
    scan: dict[str, Any] = {"FilterExpression": stale, "ProjectionExpression": "pk, sk"}
    while True:
        page = table.scan(**scan)
        keys += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            break
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    with table.batch_writer() as batch:
        for key in keys:
            batch.delete_item(Key={"pk": key["pk"], "sk": key["sk"]})
    return len(keys)


def _bills(row: dict[str, Any]) -> int:
    return sum(n for k, n in row["netsuite"]["writes_by_kind"].items() if k.endswith(" record/timeBill"))


MAX_BATCH_SIZE = 10  # the most messages the bench's event source mapping receives at once (SQS's limit)


def parse_levels(text: str, default_write_concurrency: int) -> tuple[tuple[int, ...], ...]:
    """`2x1,2x2,5,5x1x3,5x1x3x10` -> ((2, 1), (2, 2), (5, default), (5, 1, 3), (5, 1, 3, 10)): W environments,
    each writing K bills at once; a third figure S sets time.sheets_at_once (timesheets of a batch in progress at
    once), a fourth B the batch size (work messages an invocation gets; the template's when absent)."""
    levels: list[tuple[int, ...]] = []
    for part in text.split(","):
        if part.strip():
            try:
                figures = [int(figure) for figure in part.strip().lower().split("x")]
            except ValueError:
                figures = [0]
            if min(figures) < 1:
                raise ValueError(
                    f"a level is W, WxK, WxKxS or WxKxSxB in whole numbers of at least 1, not {part.strip()!r}"
                )
            workers, *rest = figures
            if len(rest) > 3:
                raise ValueError(f"a level is W, WxK, WxKxS or WxKxSxB, not {part.strip()!r}")
            if len(rest) == 3 and not 1 <= rest[2] <= MAX_BATCH_SIZE:
                raise ValueError(f"a batch size B is 1 to {MAX_BATCH_SIZE} (SQS receives at most ten), not {rest[2]}")
            levels.append((workers, rest[0] if rest else default_write_concurrency, *rest[1:]))
    return tuple(levels)


def set_write_concurrency(session: Any, write_concurrency: int, sheets_at_once: int | None = None) -> None:
    """Put `time.write_concurrency` (and `time.sheets_at_once`, or its default when None) in the session's config
    parameter: the next drain's environments (fresh processes) read it. The benchmark's client is tagged: its
    calls are not the functions'."""
    import json

    import boto3
    from botocore.config import Config

    ssm = boto3.session.Session().client("ssm", config=Config(user_agent_extra="ctns-bench/config"))
    name = session.stack.parameters["ConfigParameterName"]
    document = json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    document.setdefault("time", {})["write_concurrency"] = write_concurrency
    if sheets_at_once is None:
        document["time"].pop("sheets_at_once", None)
    else:
        document["time"]["sheets_at_once"] = sheets_at_once
    ssm.put_parameter(Name=name, Value=json.dumps(document), Type="String", Overwrite=True)


def time_row(
    first: dict[str, Any],
    workers: int,
    settings: Settings,
    write_concurrency: int = 1,
    sheets_at_once: int | None = None,
) -> dict[str, Any]:
    """A time export's drain against NetSuite's bound C / L (one write per bill) and its workers' bound: W
    environments each spending L on every call but the bill writes, which go K at a time."""
    bills = _bills(first)
    drain = first.get("drain") or {"seconds": 0.0, "netsuite_requests": 0, "clicktime_requests": 0}
    rate = bills / drain["seconds"] if drain["seconds"] else 0.0
    calls = drain["netsuite_requests"] + drain["clicktime_requests"]
    sequential_calls = calls - bills + bills / write_concurrency  # calls an environment waits for one by one
    environments = drain.get("environments") or {}
    return {
        "workers": workers,
        "write_concurrency": write_concurrency,
        "sheets_at_once": sheets_at_once or _default_sheets_at_once(),
        "in_flight": workers * write_concurrency,  # most time bill writes in flight at once
        "time_bills_written": bills,
        "drain_seconds": drain["seconds"],
        "seconds": first["seconds"],
        "poll_seconds": first["poll_seconds"],
        "time_bills_per_second": round(rate, 2),
        "fraction_of_netsuite_bound": _per(rate, settings.limit / settings.latency),
        "fraction_of_worker_bound": _per(rate, workers / (settings.latency * (sequential_calls / bills)))
        if bills
        else None,
        "seconds_per_bill_per_environment": _per(drain["seconds"] * workers, bills, 4),
        # what a bill costs an environment while it works (its invocations' time, not waiting for a batch)
        "invoked_seconds_per_bill": _per(environments.get("invoke_seconds_total", 0.0), bills, 4),
        "netsuite_calls_per_time_bill": _per(first["netsuite"]["requests"], bills, 3),
        "clicktime_calls_per_time_bill": _per(first["clicktime"]["requests"], bills, 3),
        "dynamodb_calls_per_time_bill": _per(first["aws"]["dynamodb"], bills, 2),
        "netsuite_by_kind": first["netsuite"]["by_kind"],
        "suiteql_by_table": first["netsuite"].get("suiteql_by_table", {}),
        "netsuite_throttled": first["netsuite"]["throttled"],
        "environment_cpu_cores": _per(environments.get("cpu_seconds_total", 0.0), drain["seconds"]),
        # where the bound goes: the mean NetSuite requests in flight (C at the bound), and the share of the W
        # environments' drain time they spent in an invocation (the rest: waiting for a batch, the last round)
        "netsuite_mean_in_flight": _per(drain.get("netsuite_in_flight_seconds", 0.0), drain["seconds"]),
        # a NetSuite request's mean time in the simulator: L when the simulator's own work fits inside L
        "netsuite_seconds_per_request": _per(
            drain.get("netsuite_in_flight_seconds", 0.0), drain.get("netsuite_requests", 0), 4
        ),
        "environments_busy_share": _per(environments.get("invoke_seconds_total", 0.0), drain["seconds"] * workers),
        # the AWS stand-in answers one request at a time: near 1, it set the drain's pace
        "aws_server_busy_share": _per(drain.get("aws_busy_seconds", 0.0), drain["seconds"]),
        # the busy environments' time without a NetSuite request in flight, by what they waited on and where
        "invoked_time_shares": _shares(environments.get("timeline") or {}),
        "failed": first["failed"],
    }


def _shares(timeline: dict[str, float]) -> dict[str, float | None]:
    """The timeline's seconds (`ctns.bench.timeline.summary`, summed over environments) as shares of the
    invocations' time; the first invocations' and the later ones' NetSuite share apart."""
    invoked, first = timeline.get("invoked", 0.0), timeline.get("first invoked", 0.0)
    shares = {
        key: _per(seconds, invoked, 3)
        for key, seconds in timeline.items()
        if key not in ("invoked", "first invoked", "first netsuite") and not key.startswith(("calls ", "seconds "))
    }
    shares["netsuite_first_invocations"] = _per(timeline.get("first netsuite", 0.0), first, 3)
    shares["netsuite_later_invocations"] = _per(
        timeline.get("netsuite", 0.0) - timeline.get("first netsuite", 0.0), invoked - first, 3
    )
    shares["first_invocations_of_invoked"] = _per(first, invoked, 3)
    return shares


def model_time_rows(rows: list[dict[str, Any]], settings: Settings) -> None:
    """The modelled fraction of C / L at each W x K: what a bill cost one environment at the level with the
    fewest writes in flight (the least contended run on a shared machine: its invocations' seconds per bill) is
    split into the bill's write, L / K (K at once), and the rest, which an environment does one after another
    (reading the timesheet, its references, the mappings). W environments writing K at once then do
    W / (rest + L / K) bills a second, capped at C / L: with nothing else to do that is W x K in flight, at most C.
    What Lambda's W separate environments would do if the machine running the benchmark were not the limit (nor
    the tail of the last batches).

    With S timesheets of a batch in progress at once (`time.sheets_at_once`), measured against a base that had
    one at a time: S sheets each spend the rest and their writes one after another, and the environment's writes
    share its K slots, so a bill costs it max(L / K, (rest + L / K) / S). A base that overlapped sheets itself
    only shows the rest overlapping left over: its rows keep the one-after-another formula (a lower figure)."""
    if not rows:
        return
    base = min(rows, key=lambda r: (r.get("in_flight", r["workers"]), r["workers"], r.get("sheets_at_once", 1)))
    per_bill = base.get("invoked_seconds_per_bill") or base["seconds_per_bill_per_environment"] or 0.0
    rest = max(0.0, per_bill - settings.latency / base.get("write_concurrency", 1))
    serial_base = base.get("sheets_at_once", 1) == 1
    bound = settings.limit / settings.latency
    for row in rows:
        write = settings.latency / row.get("write_concurrency", 1)
        sheets = row.get("sheets_at_once", 1)
        cost = max(write, (rest + write) / sheets) if serial_base and sheets > 1 else rest + write
        rate = min(row["workers"] / cost, bound) if per_bill and cost else None
        row["modelled_time_bills_per_second"] = round(rate, 2) if rate is not None else None
        row["modelled_fraction_of_netsuite_bound"] = _per(rate, bound) if rate is not None else None
        row["model_base_workers"] = base["workers"]
        row["model_base_write_concurrency"] = base.get("write_concurrency", 1)
        row["model_base_sheets_at_once"] = base.get("sheets_at_once", 1)
        row["model_seconds_per_bill"] = per_bill
        row["model_seconds_besides_the_write"] = round(rest, 4)


def expense_nights(session: Any) -> dict[str, Any]:
    """The expense export: a first night (reports and receipts), then a second on unchanged data. NetSuite
    writes per report (one per changed report, one more per report whose lines gained files) and per receipt
    (one upload each); none on the second night."""
    netsuite = session.simulators.netsuite
    before = len(netsuite.writes())
    first = measure(session, "expenses")
    writes = netsuite.writes()[before:]
    report_writes = [w for w in writes if "/expenseReport/" in w.path and "!attach" not in w.path]
    reports = len({w.path for w in report_writes})
    attaches = [w for w in writes if "!attach" in w.path]
    uploads = [w for w in writes if "/record/v1/file" in w.path]
    second = measure(session, "expenses")
    records = _records(first)
    return {
        "workers": _workers(session, "expenses"),
        "first": first,
        "second": second,
        "sheets": records,
        "reports_written": reports,
        "receipts_uploaded": len(uploads),
        "netsuite_writes_first": len(writes),
        "netsuite_calls_first": first["netsuite"]["requests"],
        "report_writes_per_report": _per(len(report_writes), reports),
        "attach_writes": len(attaches),
        "netsuite_writes_per_exported_record": _per(len(writes), reports + len(uploads), 3),
        "netsuite_calls_per_exported_record": _per(first["netsuite"]["requests"], reports + len(uploads), 3),
        "netsuite_writes_second": second["netsuite"]["writes"],
        "clicktime_writes_second": second["clicktime"]["writes"],
        "second_messages": second["delivered"],
        "seconds_first": first["seconds"],
        "seconds_second": second["seconds"],
        "second_over_first_seconds": _per(second["seconds"], first["seconds"], 3),
    }


def _records(row: dict[str, Any]) -> int:
    return sum(row.get(name, 0) for name in ("created", "updated", "unchanged", "skipped", "failed"))


def exports(server: Any, log: str, settings: Settings, entries: int) -> dict[str, Any]:
    """Approved time of a company logging about `entries` entries, exported at each worker concurrency W of the
    levels (the time export forgotten between them), an unchanged second pass after the first; then its
    expense reports, a first and a second night, at the template's concurrency."""
    company, size = _company_for(entries, settings.seed)
    session = open_session(server, log, seed=settings.seed, size=size, company=company)
    try:
        set_latency(session, 0.0, 10_000)  # the jobs and tasks the time goes to: set-up, not measured
        for sync in ("projects", "tasks"):
            session.runner.run([sync])
        activity = session.log_activity()
        set_latency(session, settings.latency, settings.limit)
        template_workers = _workers(session, "time")
        levels = list(settings.time_levels or ((template_workers, _default_write_concurrency()),))
        rows: list[dict[str, Any]] = []
        second: dict[str, Any] = {}
        for index, (workers, write_concurrency, *rest) in enumerate(levels):
            if index:
                reset_time_export(session)
            sheets, batch = (rest + [None, None])[:2]
            session.runner.workers["time"] = workers
            if batch:
                session.runner.batch_sizes["time"] = batch
            else:
                session.runner.batch_sizes.pop("time", None)
            set_write_concurrency(session, write_concurrency, sheets)
            first = measure(session, "time")
            rows.append(time_row(first, workers, settings, write_concurrency, sheets))
            rows[-1]["batch_size"] = first.get("batch_size")
            rows[-1]["level"] = "x".join(str(n) for n in (workers, write_concurrency, *rest))  # as asked for
            if index == 0:
                second = measure(session, "time")
                rows[-1]["first"] = first
        session.runner.workers.pop("time", None)
        session.runner.batch_sizes.pop("time", None)
        model_time_rows(rows, settings)
        expenses = expense_nights(session)
    finally:
        session.close()
    return {
        "entries": activity.get("time_entries", 0),
        "timesheets": activity.get("timesheets", 0),
        "expense_sheets": activity.get("expense_sheets", 0),
        "expense_items": activity.get("expense_items", 0),
        "company_size": size,
        "template_workers": template_workers,
        "template_write_concurrency": _default_write_concurrency(),
        "L_seconds": settings.latency,
        "C": settings.limit,
        "rows": rows,
        "second": second,
        "rerun_writes": second["netsuite"]["writes"] + second["clicktime"]["writes"],
        "expenses": expenses,
    }


def _default_write_concurrency() -> int:
    from ctsync.config import TimeExportSettings

    return TimeExportSettings().write_concurrency


def _default_sheets_at_once() -> int:
    from ctsync.config import TimeExportSettings

    return TimeExportSettings().sheets_at_once
