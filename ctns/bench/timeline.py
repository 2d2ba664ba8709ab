"""Where an execution environment's invocations spend the time they have no NetSuite request in flight.

At NetSuite's bound every environment keeps its share of the account's limit busy; the throughput figure says
how far from it a drain was, not why. Inside one environment (a process of `ctns.bench.environments`) this
records when each invocation ran and when each HTTP request was on the wire: NetSuite's and ClickTime's (the
`requests` adapter's `send`, told apart by path) and AWS's (botocore's endpoint `_send`). `summary()` then
splits the invocations' time without a NetSuite request in flight by what the environment was waiting on:
an AWS call, a ClickTime call, or neither (its own CPU, the interpreter lock, the machine's other processes),
and by where in the invocation it fell (before its first NetSuite request, after its last, between).

Recording is two clock reads and an append per request, in the benchmark's processes only. With
`CTNS_BENCH_TIMELINE_DIR` set, each environment also writes what it recorded there (`timeline-<pid>.json`:
each request's kind or AWS operation, start, end and thread; each invocation's start and end), to look at
single invocations.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

DUMP_FOLDER = "CTNS_BENCH_TIMELINE_DIR"

_lock = threading.Lock()
_requests: list[tuple[str, float, float]] = []  # (kind, start, end) of each request on the wire
_invocations: list[tuple[float, float]] = []
_threads: list[str] = []


def _kind_of_url(url: str) -> str:
    return "netsuite" if "/services/rest/" in url or "suiteql" in url.lower() else "clicktime"


def _timed(kind_of: Any, send: Any) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return send(*args, **kwargs)
        finally:
            ended = time.perf_counter()
            with _lock:
                _requests.append((kind_of(*args), started, ended))
                _threads.append(threading.current_thread().name)

    return timed


def install() -> None:
    """Time every request the process sends from now on (idempotent enough for one call per process)."""
    import botocore.endpoint
    import requests.adapters

    adapter = requests.adapters.HTTPAdapter
    adapter.send = _timed(lambda self, request, *a: _kind_of_url(request.url), adapter.send)  # type: ignore[method-assign]
    endpoint = botocore.endpoint.Endpoint
    endpoint._send = _timed(lambda self, request, *a: _aws_operation(request), endpoint._send)  # type: ignore[method-assign]


def _aws_operation(request: Any) -> str:
    target = request.headers.get("X-Amz-Target", b"")
    target = target.decode() if isinstance(target, bytes) else str(target)
    return "aws:" + (target.rsplit(".", 1)[-1] if target else "other")


def invoked(started: float, ended: float) -> None:
    _invocations.append((started, ended))


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _covered(spans: list[tuple[float, float]], start: float, end: float) -> float:
    return sum(max(0.0, min(end, b) - max(start, a)) for a, b in spans)


def summary() -> dict[str, float]:
    """Seconds, summed over the invocations: `invoked`, `netsuite` (one or more NetSuite requests in flight),
    and the rest split into `aws`, `clicktime` and `neither` (what was in flight, AWS counted first), and into
    `head`, `between` and `tail` (before the invocation's first NetSuite request, between, after its last);
    `first invoked` and `first netsuite`, the same of the first invocation alone; per AWS operation, its time
    in those gaps (`aws:<operation>`), its calls and their seconds as the client saw them."""
    with _lock:
        requests = list(_requests)
    folder = os.environ.get(DUMP_FOLDER)
    if folder:
        with open(os.path.join(folder, f"timeline-{os.getpid()}.json"), "w") as dump:
            json.dump({"requests": requests, "threads": _threads, "invocations": _invocations}, dump)
    by_kind: dict[str, list[tuple[float, float]]] = {"netsuite": [], "clicktime": [], "aws": []}
    operations: dict[str, list[tuple[float, float]]] = {}
    for kind, start, end in requests:
        by_kind[kind.split(":")[0]].append((start, end))
        if kind.startswith("aws:"):
            operations.setdefault(kind, []).append((start, end))
    unions = {kind: _union(spans) for kind, spans in by_kind.items()}
    operation_unions = {kind: _union(spans) for kind, spans in operations.items()}
    totals = dict.fromkeys(("invoked", "netsuite", "aws", "clicktime", "neither", "head", "between", "tail"), 0.0)
    for number, (started, ended) in enumerate(_invocations):
        totals["invoked"] += ended - started
        netsuite = [(max(a, started), min(b, ended)) for a, b in unions["netsuite"] if b > started and a < ended]
        gaps = _gaps(netsuite, started, ended)
        totals["netsuite"] += sum(b - a for a, b in netsuite)
        if number == 0:  # the environment's first: it also loads what it keeps for the next (listings, periods)
            totals["first invoked"] = ended - started
            totals["first netsuite"] = sum(b - a for a, b in netsuite)
        for a, b in gaps:
            aws = _covered(unions["aws"], a, b)
            clicktime_alone = _covered(unions["clicktime"], a, b) - _overlap(unions["clicktime"], unions["aws"], a, b)
            totals["aws"] += aws
            for operation, spans in operation_unions.items():  # overlapping: these may sum to more than `aws`
                totals[operation] = totals.get(operation, 0.0) + _covered(spans, a, b)
            totals["clicktime"] += clicktime_alone
            totals["neither"] += (b - a) - aws - clicktime_alone
            if not netsuite or b <= netsuite[0][0]:
                totals["head"] += b - a
            elif a >= netsuite[-1][1]:
                totals["tail"] += b - a
            else:
                totals["between"] += b - a
    for operation, spans in operations.items():  # the calls' own time as the client saw it, and their number
        totals[f"calls {operation}"] = float(len(spans))
        totals[f"seconds {operation}"] = sum(b - a for a, b in spans)
    return {key: round(value, 3) for key, value in totals.items()}


def _gaps(spans: list[tuple[float, float]], start: float, end: float) -> list[tuple[float, float]]:
    gaps, at = [], start
    for a, b in spans:
        if a > at:
            gaps.append((at, a))
        at = max(at, b)
    if end > at:
        gaps.append((at, end))
    return gaps


def _overlap(first: list[tuple[float, float]], second: list[tuple[float, float]], start: float, end: float) -> float:
    return sum(_covered(second, max(a, start), min(b, end)) for a, b in first if min(b, end) > max(a, start))
