"""Latency and fault knobs shared by the simulators.

A simulator consults one `FaultPlan` before it handles a request. Faults come in two kinds:

* random ones (an error rate per status, timeouts, connection resets, slow pages), drawn from a seeded
  random generator so a failing run can be replayed;
* scripted ones (`inject`), which fire on the next N matching requests: what tests use to make one exact
  call fail and then succeed.
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

FaultKind = Literal["status", "timeout", "reset", "reset_after", "cut", "late"]


@dataclass(frozen=True)
class Fault:
    """One fault to apply to one request."""

    kind: FaultKind
    status: int = 0
    delay_seconds: float = 0.0
    retry_after: int | None = None


@dataclass
class _Script:
    fault: Fault
    remaining: int
    method: str | None
    path_pattern: re.Pattern[str] | None

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method != method:
            return False
        return not self.path_pattern or bool(self.path_pattern.search(path))


@dataclass
class FaultPlan:
    """What goes wrong, and how slowly things go right.

    error_rates: probability per HTTP status, e.g. {429: 0.05, 503: 0.02}.
    timeout_rate: probability that a request hangs for `timeout_seconds` before it is answered.
    timeout_processes_late: a timed-out request is processed after the hang (True: as a server that is slow to
        start on it; a retry can land first and the late write then undoes a later one) or when it arrives,
        only its answer held (False: a suite whose outcome must not depend on thread timing).
    reset_rate: probability that the connection is closed without an answer, before the request is processed.
    reset_after_rate: probability that the request is processed (a write is done) and then the connection is
        closed without an answer: the client cannot know whether its write happened.
    cut_rate: probability that the request is processed and its answer breaks off: the status, the headers and
        the first half of the body are sent, then the connection is reset (the commonest way a large download
        fails; `requests` raises it as ChunkedEncodingError, not as a ConnectionError).

    A scripted `late` fault (no rate: only by `inject`) models a write NetSuite takes but processes only after
    the client gave up on its answer and went on: the request is authenticated on arrival, its connection
    closed without an answer, and it is kept until the test calls `app.process_held()`. The test decides
    when "late" is (after the retry, after a later write of the same record), never the thread scheduler.

    Every fault that fires is counted in `fired` (by label: the status as text, "timeout", "reset",
    "reset_after", "cut", "late", "slow_page"), and simulators count their own refusals there too (NetSuite's concurrency
    limit: "429_under_load", "401_under_load"): what a fault suite reports as "faults injected by kind".
    latency_seconds: added to every request.
    slow_page_seconds: added to list/query requests (the simulator decides what is a page).
    """

    seed: int = 0
    error_rates: dict[int, float] = field(default_factory=dict)
    timeout_rate: float = 0.0
    timeout_seconds: float = 5.0
    timeout_processes_late: bool = True
    reset_rate: float = 0.0
    reset_after_rate: float = 0.0
    cut_rate: float = 0.0
    latency_seconds: float = 0.0
    slow_page_seconds: float = 0.0
    retry_after: int | None = None

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._lock = threading.Lock()
        self._scripts: list[_Script] = []
        self.fired: Counter[str] = Counter()

    def record(self, label: str) -> None:
        """Count one fault that happened (see the class docstring for the labels)."""
        with self._lock:
            self.fired[label] += 1

    @staticmethod
    def label(fault: Fault) -> str:
        return str(fault.status) if fault.kind == "status" else fault.kind

    def inject(
        self,
        kind: FaultKind = "status",
        *,
        status: int = 503,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        delay_seconds: float = 0.0,
        retry_after: int | None = None,
    ) -> None:
        """Make the next `times` requests matching `method` and the `path` regex fail this way."""
        fault = Fault(kind=kind, status=status, delay_seconds=delay_seconds, retry_after=retry_after)
        pattern = re.compile(path) if path else None
        with self._lock:
            self._scripts.append(_Script(fault, times, method, pattern))

    def clear(self) -> None:
        with self._lock:
            self._scripts.clear()
        self.error_rates = {}
        self.timeout_rate = self.reset_rate = self.reset_after_rate = self.cut_rate = 0.0
        self.latency_seconds = self.slow_page_seconds = 0.0

    def draw(self, method: str, path: str) -> Fault | None:
        """The fault for this request, if any; scripted faults win over random ones."""
        with self._lock:
            for script in self._scripts:
                if script.remaining > 0 and script.matches(method, path):
                    script.remaining -= 1
                    if script.remaining == 0:
                        self._scripts.remove(script)
                    return script.fault
            roll = self._random.random()
        threshold = 0.0
        for status, rate in sorted(self.error_rates.items()):
            threshold += rate
            if roll < threshold:
                return Fault(kind="status", status=status, retry_after=self.retry_after)
        threshold += self.timeout_rate
        if roll < threshold:
            return Fault(kind="timeout", delay_seconds=self.timeout_seconds)
        threshold += self.reset_rate
        if roll < threshold:
            return Fault(kind="reset")
        threshold += self.reset_after_rate
        if roll < threshold:
            return Fault(kind="reset_after")
        threshold += self.cut_rate
        if roll < threshold:
            return Fault(kind="cut")
        return None
