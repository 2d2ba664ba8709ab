"""`make bench`: throughput of the syncs through the local runner, compared side by side in one run.

Machines here are shared and noisy, so the figures that mean something are the ratios between variants
measured in the same run, not the absolute seconds:
- a first pass (everything created) against a second pass on unchanged data (nothing written);
- worker concurrency 2 against 4, with per-request latency on both simulated APIs (where concurrency pays);
- the expense export: a first night (reports and receipts) against a second on unchanged data, with the NetSuite
  writes per report and per receipt (one per changed report, one per receipt, one more per report whose lines
  gained files; none on the second night).
"""

from __future__ import annotations

import argparse
import json
import time
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path
from typing import Any

from ctns.session import Session

SYNCS = ["projects", "tasks"]
FAST_RETRIES = {"retry": {"base_seconds": 0.05, "cap_seconds": 0.5}}


def _timed_pass(session: Session, syncs: list[str] = SYNCS) -> dict[str, Any]:
    sims = session.simulators
    requests_before = len(sims.netsuite.requests) + len(sims.clicktime.requests)
    start = time.perf_counter()
    runs = session.runner.run(syncs)
    seconds = time.perf_counter() - start
    messages = sum(run.delivered for run in runs)
    requests = len(sims.netsuite.requests) + len(sims.clicktime.requests) - requests_before
    return {
        "seconds": round(seconds, 3),
        "messages": messages,
        "api_requests": requests,
        "messages_per_second": round(messages / seconds, 1) if seconds else None,
        "requests_per_message": round(requests / messages, 2) if messages else None,
    }


def passes(size: int) -> dict[str, Any]:
    with Session.simulated(seed=7, size=size, config_overrides=FAST_RETRIES) as session:
        first = _timed_pass(session)
        second = _timed_pass(session)
    return {
        "first": first,
        "second": second,
        "second_over_first_seconds": round(second["seconds"] / first["seconds"], 3),
    }


def concurrency(size: int, levels: tuple[int, ...] = (2, 4)) -> dict[str, Any]:
    results = {}
    for level in levels:
        parameters = {f"{name.capitalize()}WorkerMaxConcurrency": str(level) for name in SYNCS}
        with Session.simulated(seed=7, size=size, config_overrides=FAST_RETRIES, parameters=parameters) as session:
            session.simulators.netsuite.processing_seconds = 0.01
            session.simulators.netsuite.concurrency_limit = 10
            session.simulators.clicktime.faults.latency_seconds = 0.01
            results[level] = _timed_pass(session)
    low, high = levels[0], levels[-1]
    return {
        "levels": results,
        f"speedup_{high}_over_{low}": round(results[low]["seconds"] / results[high]["seconds"], 2),
    }


def expenses(size: int) -> dict[str, Any]:
    with Session.simulated(seed=7, size=size, config_overrides=FAST_RETRIES) as session:
        session.runner.run(["projects", "tasks"])
        session.log_activity()
        netsuite = session.simulators.netsuite
        before = len(netsuite.writes())
        first = _timed_pass(session, ["expenses"])
        writes = netsuite.writes()[before:]
        report_writes = [w for w in writes if "/expenseReport/" in w.path and "!attach" not in w.path]
        reports = len({w.path for w in report_writes})
        uploads = len([w for w in writes if "/record/v1/file/" in w.path])
        before = len(netsuite.writes())
        second = _timed_pass(session, ["expenses"])
        second_writes = len(netsuite.writes()) - before
    return {
        "first": first,
        "second": second,
        "reports": reports,
        "receipts_uploaded": uploads,
        "netsuite_writes_first": len(writes),
        "report_writes_per_report": round(len(report_writes) / reports, 2) if reports else None,
        "netsuite_writes_second": second_writes,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ctns-bench", description=__doc__)
    parser.add_argument("--size", type=int, default=3)
    parser.add_argument("--out", default="build/bench.json")
    args = parser.parse_args(argv)
    function_output = StringIO()
    with redirect_stdout(function_output):  # the functions' JSON logs are not the benchmark's output
        result = {
            "size": args.size,
            "passes": passes(args.size),
            "concurrency": concurrency(args.size),
            "expenses": expenses(args.size),
        }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    p, c = result["passes"], result["concurrency"]
    print(f"company size {args.size}: projects + tasks through the local runner")
    print(
        f"  first pass : {p['first']['messages']} messages in {p['first']['seconds']} s, "
        f"{p['first']['requests_per_message']} API requests per message"
    )
    print(
        f"  second pass: {p['second']['messages']} messages in {p['second']['seconds']} s, "
        f"{p['second']['requests_per_message']} API requests per message (unchanged data)"
    )
    print(f"  second/first time ratio: {p['second_over_first_seconds']}")
    for level, row in c["levels"].items():
        print(
            f"  workers x{level} with 10 ms API latency: {row['seconds']} s ({row['messages_per_second']} messages/s)"
        )
    print(f"  speed-up of 4 workers over 2: {c['speedup_4_over_2']}")
    e = result["expenses"]
    print(
        f"expenses: {e['reports']} reports and {e['receipts_uploaded']} receipts in {e['first']['seconds']} s, "
        f"{e['netsuite_writes_first']} NetSuite writes ({e['report_writes_per_report']} report writes per report); "
        f"second night {e['second']['seconds']} s, {e['netsuite_writes_second']} writes"
    )
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
