"""Reference data cached in a function's execution environment: one way for every sync to read employees,
periods, service items, company settings and the like once, not once per record.

A value is kept for `ttl_seconds` (five minutes by default: a nightly run's references do not change under
it), across the invocations a warm execution environment serves, so a batch of ten timesheets does not read
every employee again. What a person fixes between two runs is still seen: a lookup that misses (an employee
not found) may `refresh` its reference once per invocation before it reports the miss.

Loads are single-flight per name: records an invocation has in progress at once (`time.sheets_at_once`) that
miss the same reference wait for one read of it rather than each reading it (a NetSuite request each, for one
of the slots the invocation's writes use).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
TTL_SECONDS = 300.0


class References:
    def __init__(self, ttl_seconds: float = TTL_SECONDS, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._values: dict[str, tuple[float, Any]] = {}
        self._refreshed: set[str] = set()
        self._invocation: dict[str, Any] = {}
        self._runs: frozenset[str] = frozenset()  # the runs of the invocation in progress
        self._per_run: dict[str, tuple[float, frozenset[str], Any]] = {}  # name -> (read at, for runs, value)
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._loading: dict[str, threading.RLock] = {}  # one per name: a value is loaded by one thread at a time

    def _loader(self, name: str) -> threading.RLock:
        with self._lock:
            return self._loading.setdefault(name, threading.RLock())

    def new_invocation(self, runs: Iterable[str] = ()) -> None:
        """An invocation starts, for records of `runs` (the run IDs of its messages): expired values go, and each
        reference may be refreshed once again."""
        now = self._monotonic()
        with self._lock:
            self._values = {k: v for k, v in self._values.items() if now - v[0] < self._ttl}
            self._refreshed.clear()
            self._invocation.clear()
            self._runs = frozenset(runs)

    def holds(self, name: str) -> bool:
        """Whether a value of `name` is held and younger than the TTL: what `get` would answer without loading."""
        now = self._monotonic()
        with self._lock:
            held = self._values.get(name)
            return held is not None and now - held[0] < self._ttl

    def get(
        self, name: str, load: Callable[[], T], *, per_invocation: bool = False, per_run_within: float | None = None
    ) -> T:
        """The cached value of `name`, loading it on first use (or once it is older than the TTL; or, with
        `per_invocation`, once per invocation: for state this product itself changes, such as a cause; or, with
        `per_run_within` seconds, again for an invocation with a run the value was not read for, and once the
        value is that old: for what a person may change while a run goes on, such as a period closed)."""
        if per_run_within is not None:
            return self._per_run_value(name, load, per_run_within)
        if per_invocation:
            with self._lock:
                if name in self._invocation:
                    return self._invocation[name]
            with self._loader(name):
                with self._lock:
                    if name in self._invocation:  # loaded by another thread while this one waited
                        return self._invocation[name]
                value = load()
                with self._lock:
                    return self._invocation.setdefault(name, value)
        now = self._monotonic()
        with self._lock:
            held = self._values.get(name)
            if held is not None and now - held[0] < self._ttl:
                return held[1]
        with self._loader(name):
            return self._load(name, load, now)

    def _load(self, name: str, load: Callable[[], T], now: float) -> T:
        with self._lock:
            held = self._values.get(name)
            if held is not None and now - held[0] < self._ttl:
                return held[1]  # loaded by another thread while this one waited
        value = load()
        with self._lock:
            held = self._values.get(name)
            if held is not None and now - held[0] < self._ttl:
                return held[1]
            self._values[name] = (now, value)
            return value

    def _per_run_value(self, name: str, load: Callable[[], T], within: float) -> T:
        def held() -> tuple[float, frozenset[str], Any] | None:  # under self._lock
            entry = self._per_run.get(name)
            fresh = entry is not None and self._runs <= entry[1] and self._monotonic() - entry[0] < within
            return entry if fresh else None

        with self._lock:
            entry = held()
        if entry is not None:
            return entry[2]
        with self._loader(name):
            with self._lock:
                entry, runs = held(), self._runs
            if entry is not None:
                return entry[2]  # loaded by another thread while this one waited
            started = self._monotonic()  # the value is as old as the read's start
            value = load()
            with self._lock:
                self._per_run[name] = (started, runs, value)
            return value

    def refresh(self, name: str) -> bool:
        """Drop `name` so the next `get` reads it again; at most once per invocation (False when already done)."""
        with self._lock:
            if name in self._refreshed:
                return False
            self._refreshed.add(name)
            self._values.pop(name, None)
            return True

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._refreshed.clear()
            self._invocation.clear()
            self._per_run.clear()
