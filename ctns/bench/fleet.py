"""Sessions whose workers run as process fleets against the moto server, and one measured sync pass.

A pass is measured from the outside, as an operator's bill would be: the requests each simulator logged
(NetSuite, ClickTime), every AWS call the functions made (the moto server's counts, the event source
mapping's own calls excluded), the run log's outcome counts, and the drain's wall time and execution
environments' figures.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ctns.bench.awsserver import AwsServer, Counts
from ctns.bench.environments import Drained, Fleet
from ctns.runner import LocalRunner, SyncRun

FAST_RETRIES = {"retry": {"base_seconds": 0.05, "cap_seconds": 0.5}}
OUTCOMES = ("created", "updated", "unchanged", "skipped", "failed")


@dataclass
class Probe:
    """Where the counters stood: simulator request logs (lengths) and the AWS server's counts."""

    netsuite: int
    clicktime: int
    aws: Counts
    netsuite_in_flight_seconds: float = 0.0
    # CPU seconds of this process (the simulators and the event source mapping) and of the AWS server's
    simulators_cpu: float = field(default_factory=time.process_time)
    aws_cpu: float = 0.0
    at: float = field(default_factory=time.perf_counter)


class FleetRunner(LocalRunner):
    """The local runner with its event source mapping replaced by a process fleet per worker."""

    def __init__(self, session: Any, server: AwsServer, log_path: str) -> None:
        super().__init__(session.aws)
        import boto3
        from botocore.config import Config

        self.session = session
        self.server = server
        self.log_path = log_path
        self.esm_sqs = boto3.session.Session().client("sqs", config=Config(user_agent_extra="ctns-bench/esm"))
        self.drains: dict[str, Drained] = {}
        self.fleet_start_seconds: dict[str, float] = {}
        self.drain_probes: dict[str, tuple[Probe, Probe]] = {}
        self.poll_seconds: dict[str, float] = {}
        self.workers: dict[str, int] = {}  # a sync's worker concurrency for the next drains (the template's if absent)
        self.batch_sizes: dict[str, int] = {}  # a sync's batch size for the next drains (the template's if absent)
        self.drain_batch_size: dict[str, int] = {}  # the batch size of a sync's last drain

    def probe(self) -> Probe:
        sims = self.session.simulators
        return Probe(
            len(sims.netsuite.requests),
            len(sims.clicktime.requests),
            self.server.counts(),
            sims.netsuite.in_flight_seconds,
            aws_cpu=self.server.cpu_seconds(),
        )

    def run_sync(self, sync: str) -> SyncRun:
        self.poll_seconds[sync] = 0.0
        return super().run_sync(sync)

    def _poll(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            return super()._poll(function, event)
        finally:
            sync = str(event.get("sync", "?"))
            self.poll_seconds[sync] = self.poll_seconds.get(sync, 0.0) + time.perf_counter() - started

    def environment_spec(self, mapping: Any, role: str = "worker") -> dict[str, Any]:
        """What an execution environment of the mapping's worker (or of its sync's poller) is given."""
        logical_id = mapping.function if role == "worker" else mapping.function.replace("Worker", "Poller")
        function = self.stack.functions[logical_id]
        return {
            "role": role,
            "function_name": function.name,
            "function_arn": function.arn,
            "timeout": function.timeout,
            "code_dir": str(function.code_dir),
            "handler": function.handler,
            "layer_dirs": [str(d) for d in function.layer_dirs],
            "env": self.host.environment(function),
            "queue_url": self.aws.queue_url(mapping.queue),
            "queue_arn": self.stack.physical[mapping.queue]["Arn"],
            "batch_size": mapping.batch_size,
            "report_batch_item_failures": mapping.report_batch_item_failures,
        }

    def cold_starts(self, sync: str, role: str, repeats: int) -> list[dict[str, Any]]:
        """`repeats` fresh environments of a sync's worker or poller: each imports its handler and builds its
        runtime against this session (config, secrets, clients), then is thrown away; their figures."""
        mapping = self._mapping_of_poller(f"{sync.capitalize()}Poller")
        spec = self.environment_spec(mapping, role)
        figures = []
        for _ in range(repeats):
            fleet = Fleet(spec, 1, self.log_path, self.esm_sqs).start()
            try:
                fleet.wait_ready()
                figures.append(fleet.environments[0].ready)
            finally:
                fleet.kill()
        return figures

    def _queue_empty(self, url: str) -> bool:
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        attributes = self.esm_sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return all(int(attributes.get(name, 0)) == 0 for name in names)

    def drain(self, mapping: Any, result: SyncRun) -> None:
        if self._queue_empty(self.aws.queue_url(mapping.queue)):
            return  # nothing enqueued: the event source mapping invokes nothing (and no environment starts)
        spec = self.environment_spec(mapping)
        spec["batch_size"] = self.batch_sizes.get(result.sync) or spec["batch_size"]
        self.drain_batch_size[result.sync] = spec["batch_size"]
        size = self.workers.get(result.sync) or max(1, int(self.stack.resolve(mapping.max_concurrency)))
        starting = time.perf_counter()
        fleet = Fleet(spec, size, self.log_path, self.esm_sqs).start()
        try:
            fleet.wait_ready()
            self.fleet_start_seconds[result.sync] = time.perf_counter() - starting
            before = self.probe()
            drained = fleet.drain()
            after = self.probe()
        except BaseException:
            fleet.kill()
            raise
        result.invocations += drained.invocations
        result.delivered += drained.delivered
        result.batch_item_failures += drained.batch_item_failures
        self.drains[result.sync] = drained
        self.drain_probes[result.sync] = (before, after)


def open_session(
    server: AwsServer,
    log_path: str,
    *,
    seed: int = 7,
    size: int = 1,
    workers: dict[str, int] | None = None,
    company: Any = None,
) -> Any:
    """A simulated session on a fresh moto server account, its workers as fleets of the given sizes."""
    from ctns.session import Session

    server.reset()
    parameters = {f"{sync.capitalize()}WorkerMaxConcurrency": str(w) for sync, w in (workers or {}).items()}
    session = Session.simulated(
        seed=seed, size=size, config_overrides=FAST_RETRIES, parameters=parameters, company=company
    )
    session.runner.host.close()  # one interception of the pollers' continuations: the fleet runner's
    session.runner = FleetRunner(session, server, log_path)
    return session


def set_latency(session: Any, latency: float, limit: int) -> None:
    """Every NetSuite request takes `latency` in flight (limit `limit` in flight), every ClickTime one too."""
    sims = session.simulators
    sims.netsuite.processing_seconds = latency
    sims.netsuite.concurrency_limit = limit
    sims.clicktime.faults.latency_seconds = latency


_NAME = re.compile(r"^(?:[A-Z][a-z]+)+$")  # ClickTime resources (Jobs, Tasks, Reports); its IDs are random


def kind(method: str, path: str) -> str:
    """What a request did, without IDs: "PATCH record/job", "POST suiteql", "GET Tasks/Jobs"."""
    parts = [p for p in path.split("/") if p]
    if "record" in parts and len(parts) > parts.index("record") + 2:
        return f"{method} record/{parts[parts.index('record') + 2]}"
    if parts and parts[-1].lower() == "suiteql":
        return f"{method} suiteql"
    if "v2" in parts:
        names = [p for p in parts[parts.index("v2") + 1 :] if _NAME.match(p) and len(p) < 20]
        return f"{method} {'/'.join(names) or '/'}"
    return f"{method} {'/'.join(p for p in parts[-2:] if not any(c.isdigit() for c in p))}"


PAGING = frozenset({"limit", "offset", "verbose"})


def is_run_read(method: str, path: str, query: dict[str, list[str]] | None) -> bool:
    """A read a run makes whatever its size: a ClickTime list or settings page with no record ID and no filter
    (the adoption phase's `GET /Clients`, `GET /Company`), as opposed to a per-record lookup."""
    if method != "GET" or "v2" not in path.split("/"):
        return False
    resource = path.split("/v2/", 1)[-1].strip("/")
    return bool(_NAME.match(resource)) and set(query or {}) <= PAGING


_FROM = re.compile(r"\bFROM\s+(\w+)", re.IGNORECASE)


def suiteql_table(body: Any) -> str:
    """The table a SuiteQL request reads first ("job", "timebill"), from its body's `q`."""
    text = body.get("q", "") if isinstance(body, dict) else ""
    found = _FROM.search(text)
    return found.group(1).lower() if found else "?"


def _requests(log: list[Any], start: int, end: int | None = None) -> dict[str, Any]:
    chunk = log[start:end]
    kinds: Counter[str] = Counter()
    writes: Counter[str] = Counter()
    tables: Counter[str] = Counter()
    run_reads = 0
    for r in chunk:
        name = kind(r.method, r.path)
        kinds[name] += 1
        run_reads += is_run_read(r.method, r.path, r.query)
        if name.endswith(" suiteql"):
            tables[suiteql_table(getattr(r, "body", None))] += 1
        if (
            r.method in {"POST", "PUT", "PATCH", "DELETE"}
            and not r.path.lower().endswith("/suiteql")
            and r.status < 400
        ):
            writes[name] += 1
    return {
        "requests": len(chunk),
        "writes": sum(writes.values()),
        "throttled": sum(1 for r in chunk if r.status == 429),
        "errors": sum(1 for r in chunk if r.status >= 400 and r.status != 429),
        "run_reads": run_reads,
        "by_kind": dict(sorted(kinds.items())),
        "writes_by_kind": dict(sorted(writes.items())),
        "suiteql_by_table": dict(sorted(tables.items())),
    }


def measure(session: Any, sync: str) -> dict[str, Any]:
    """Run one sync once (poller, then the fleet drains its queue) and say what it cost."""
    from ctns.report import pass_report

    runner: FleetRunner = session.runner
    sims = session.simulators
    runner.drains.pop(sync, None)
    runner.fleet_start_seconds.pop(sync, None)
    before = runner.probe()
    [run] = runner.run([sync])
    after = runner.probe()
    wall = after.at - before.at
    drained = runner.drains.get(sync)
    # The pass's time: the poller's and the drain's. Starting the execution environments (imports, runtime build)
    # is the cold start, reported on its own; on a quiet pass no environment starts at all.
    seconds = runner.poll_seconds.get(sync, 0.0) + (drained.seconds if drained else 0.0)
    report = pass_report(session, [run])  # reads the run log: after the counts were taken
    row = report["syncs"][sync]
    aws = after.aws - before.aws
    result: dict[str, Any] = {
        "sync": sync,
        "seconds": round(seconds, 3),
        "wall_seconds": round(wall, 3),
        "poll_seconds": round(runner.poll_seconds.get(sync, 0.0), 3),
        "environments_start_seconds": round(runner.fleet_start_seconds.get(sync, 0.0), 3),
        "enqueued": row.get("enqueued", 0),
        "delivered": run.delivered,
        "invocations": run.invocations,
        "batch_size": runner.drain_batch_size.get(sync),
        "returned_to_queue": run.batch_item_failures,
        **{name: row.get(name, 0) for name in OUTCOMES},
        "failures": report["failures"],
        "netsuite": _requests(sims.netsuite.requests, before.netsuite, after.netsuite),
        "clicktime": _requests(sims.clicktime.requests, before.clicktime, after.clicktime),
        "aws": {
            "dynamodb": aws.total(service="dynamodb"),
            "sqs": aws.total(service="sqs"),
            "other": aws.total() - aws.total(service="dynamodb") - aws.total(service="sqs"),
            "by_operation": aws.by_operation(),
        },
    }
    if drained is not None:
        d_before, d_after = runner.drain_probes[sync]
        result["drain"] = {
            "seconds": round(drained.seconds, 3),
            "delivered": drained.delivered,
            "netsuite_requests": d_after.netsuite - d_before.netsuite,
            "clicktime_requests": d_after.clicktime - d_before.clicktime,
            "netsuite_throttled": sum(
                1 for r in sims.netsuite.requests[d_before.netsuite : d_after.netsuite] if r.status == 429
            ),
            # NetSuite's requests' time in the simulator added up: over the drain, the mean number in flight
            "netsuite_in_flight_seconds": round(
                d_after.netsuite_in_flight_seconds - d_before.netsuite_in_flight_seconds, 3
            ),
            "simulators_cpu_seconds": round(d_after.simulators_cpu - d_before.simulators_cpu, 3),
            "aws_server_cpu_seconds": round(d_after.aws_cpu - d_before.aws_cpu, 3),
            "aws_busy_seconds": round((d_after.aws - d_before.aws).busy_seconds(), 3),
            "aws_busy_seconds_by_operation": (d_after.aws - d_before.aws).busy_seconds_by_operation(),
            "environments": _environments(drained.environments),
        }
    return result


def _environments(figures: list[dict[str, Any]]) -> dict[str, Any]:
    import statistics

    for f in figures:  # the handler's import and the runtime's build: what a cold start costs in CPU
        if f.get("init_cpu_seconds") is not None and f.get("warm_up_cpu_seconds") is not None:
            f["cold_start_cpu_seconds"] = f["init_cpu_seconds"] + f["warm_up_cpu_seconds"]

    def median(key: str) -> float | None:
        values = [f[key] for f in figures if f.get(key) is not None]
        return round(statistics.median(values), 4) if values else None

    return {
        "count": len(figures),
        "init_seconds_median": median("init_seconds"),
        "warm_up_seconds_median": median("warm_up_seconds"),
        "cold_start_cpu_seconds_median": median("cold_start_cpu_seconds"),
        "init_cpu_seconds_median": median("init_cpu_seconds"),
        "first_invocation_seconds_median": median("first_invocation_seconds"),
        "warm_invocation_seconds_median": median("warm_invocation_median_seconds"),
        "modules_imported_by_first_invocation": median("modules_imported_by_first_invocation"),
        "cpu_seconds_total": round(sum(f.get("cpu_seconds", 0.0) for f in figures), 3),
        "invoke_seconds_total": round(sum(f.get("invoke_seconds", 0.0) for f in figures), 3),
        "max_rss_mb": max((f.get("max_rss_mb", 0.0) for f in figures), default=None),
        # the invocations' time by what had a request in flight (`ctns.bench.timeline`), summed over environments
        "timeline": {
            key: round(sum(f.get("timeline", {}).get(key, 0.0) for f in figures), 3)
            for key in sorted({key for f in figures for key in f.get("timeline", {})})
        },
    }
