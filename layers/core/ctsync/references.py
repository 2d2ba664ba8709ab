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
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
TTL_SECONDS = 300.0


class References:
    def __init__(self, ttl_seconds: float = TTL_SECONDS, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._values: dict[str, tuple[float, Any]] = {}
        self._refreshed: set[str] = set()
        self._invocation: dict[str, Any] = {}
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._loading: dict[str, threading.RLock] = {}  # one per name: a value is loaded by one thread at a time

    def _loader(self, name: str) -> threading.RLock:
        with self._lock:
            return self._loading.setdefault(name, threading.RLock())

    def new_invocation(self) -> None:
        """An invocation starts: expired values go, and each reference may be refreshed once again."""
        now = self._monotonic()
        with self._lock:
            self._values = {k: v for k, v in self._values.items() if now - v[0] < self._ttl}
            self._refreshed.clear()
            self._invocation.clear()

    def get(self, name: str, load: Callable[[], T], *, per_invocation: bool = False) -> T:
        """The cached value of `name`, loading it on first use (or once it is older than the TTL; or, with
        `per_invocation`, once per invocation: for state this product itself changes, such as a cause)."""
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
