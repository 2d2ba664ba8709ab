"""Poller peak memory and time per record as N grows: the projects poller over N NetSuite projects.

The projects are added straight to the NetSuite simulator's record store (copies of one open project of the
seeded company, each its own id and name), then one poller invocation runs in a fresh process, loaded as
Lambda loads it, against the simulator and the moto server: it reads the whole window and enqueues every
project. A warm-up invocation first (the runtime built, the seeded company read), so the measured one is what
grows with N: its peak of Python allocations (`tracemalloc`, started just before the handler is called), with
the process's peak RSS beside it; time is its wall time over the records it enqueued.

`python -m ctns.bench.memory` is that process: its spec a JSON line on stdin; it answers `warm` after the
warm-up, runs the measured invocation on `go`, and answers its figures (lines starting `{"bench_poller"`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any


def add_projects(session: Any, count: int) -> None:
    """`count` more open projects in NetSuite, under the seeded company's first open project's customer."""
    from simulators.netsuite.loader import _day, _drop_none, _ref

    company = session.simulators.company
    store = session.simulators.netsuite.records
    model = next(p for p in company.projects if not p.is_inactive and p.allow_time)
    for number in range(count):
        store.add(
            "job",
            _drop_none(
                {
                    "entityId": f"BENCH-{number:06d}",
                    "companyName": f"Bench project {number}",
                    "parent": _ref(model.customer_id),
                    "subsidiary": _ref(model.subsidiary_id),
                    "entityStatus": _ref(model.status_id),
                    "isInactive": False,
                    "allowTime": True,
                    "allowExpenses": model.allow_expenses,
                    "startDate": _day(model.start_date),
                    "projectedEndDate": _day(model.projected_end_date),
                }
            ),
        )


def poll_once(session: Any, log_path: str, projects: int, function: str = "ProjectsPoller") -> dict[str, Any]:
    """A poller's process: one warm-up invocation over the seeded company, then `projects` more projects are
    added to NetSuite and one measured invocation reads them all; its figures."""
    runner = session.runner
    spec = runner.stack.functions[function]
    schedule = next(s for s in runner.stack.schedules if s.function == function)
    payload = {
        "function_name": spec.name,
        "function_arn": spec.arn,
        "code_dir": str(spec.code_dir),
        "handler": spec.handler,
        "layer_dirs": [str(d) for d in spec.layer_dirs],
        "env": runner.host.environment(spec),
        "event": dict(schedule.input),
        # The simulator's SuiteQL reads cost O(N) a page, so at 100,000 projects the read outlasts the template's
        # 900 s and the run would hand over to a second invocation: one invocation is given the time to read
        # them all, so the figures are one invocation's (a hand-over, if any, runs in the same process).
        "timeout": max(spec.timeout, 6 * 3600),
    }
    with open(log_path, "a") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ctns.bench.memory"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(json.dumps(payload) + "\n")
        process.stdin.flush()
        if _answer(process) != "warm":
            raise RuntimeError(f"the poller's warm-up invocation failed; see {log_path}")
        add_projects(session, projects)
        process.stdin.write("go\n")
        process.stdin.flush()
        figures = _answer(process)
        if not isinstance(figures, dict):
            raise RuntimeError(f"the poller's measured invocation failed; see {log_path}")
        return figures
    finally:
        process.stdin.close()
        process.wait()


def _answer(process: subprocess.Popen[str]) -> Any:
    """The next line the probe meant for us (the function's own logs share its stdout)."""
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith('{"bench_poller"'):
            return json.loads(line)["bench_poller"]
    return None


def measure(server: Any, log_path: str, sizes: tuple[int, ...]) -> dict[str, Any]:
    from ctns.bench.fleet import open_session

    rows = []
    for size in sizes:
        session = open_session(server, log_path, size=1)
        try:
            figures = poll_once(session, log_path, size)
            figures["projects"] = size
            figures["seconds_per_record_ms"] = round(1000 * figures["seconds"] / max(1, figures["enqueued"]), 3)
            figures["cpu_per_record_ms"] = round(1000 * figures["cpu_seconds"] / max(1, figures["enqueued"]), 3)
            rows.append(figures)
        finally:
            session.close()
    small, large = rows[0], rows[-1]
    return {
        "value": round(large["peak_traced_mb"] / small["peak_traced_mb"], 2),
        "measure": f"peak traced memory of one projects poller invocation, {large['projects']} over {small['projects']} projects",
        "rss_growth": round(large["max_rss_mb"] / small["max_rss_mb"], 2),
        "time_per_record_growth": round(large["seconds_per_record_ms"] / small["seconds_per_record_ms"], 2),
        "cpu_per_record_growth": round(large["cpu_per_record_ms"] / small["cpu_per_record_ms"], 2),
        "rows": rows,
    }


def _main() -> None:
    import resource
    import tracemalloc

    from ctns.bench.environments import Context, _load_handler

    spec = json.loads(sys.stdin.readline())
    os.environ.update(spec["env"])
    handler = _load_handler(spec)
    continuations = _catch_continuations()

    def run() -> list[dict[str, Any]]:
        results = [handler(spec["event"], Context(spec))]
        while continuations:  # a run handed over near the time limit: its next invocation, in this process
            results.append(handler(continuations.pop(0), Context(spec)))
        return results

    run()  # cold: builds the runtime (config, secrets, clients), reads the seeded company
    print(json.dumps({"bench_poller": "warm"}), flush=True)
    if sys.stdin.readline().strip() != "go":
        return
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    started, cpu = time.perf_counter(), time.process_time()
    results = run()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    figures = {
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu, 2),  # the poller's own work (the simulator and moto run in other processes)
        "invocations": len(results),
        "status": results[-1].get("status"),
        "enqueued": results[-1].get("enqueued", 0),  # the run's total, carried across continuations
        "peak_traced_mb": round(peak / 1_000_000, 2),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "max_rss_before_mb": round(rss_before, 1),
    }
    print(json.dumps({"bench_poller": figures}), flush=True)


def _catch_continuations() -> list[dict[str, Any]]:
    """The poller's `lambda.invoke(InvocationType="Event")` of itself, kept for the loop instead of sent."""
    import boto3

    caught: list[dict[str, Any]] = []
    session = boto3.DEFAULT_SESSION or boto3.setup_default_session() or boto3.DEFAULT_SESSION

    def capture(params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        caught.append(json.loads(params.get("body") or b"{}"))
        return (_Accepted(), {"StatusCode": 202, "Payload": b""})

    session.events.register("before-call.lambda.Invoke", capture)
    return caught


class _Accepted:
    status_code = 202
    headers: dict[str, str] = {}


if __name__ == "__main__":
    _main()
