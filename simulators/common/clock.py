"""A clock that runs at the real pace from a chosen instant, so a seeded company's dates mean the same whatever
day the tests or the demo run on."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class AnchoredClock:
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock's start needs a time zone")
        self._start = start.astimezone(UTC)
        self._began = time.monotonic()
        self._skipped = timedelta()
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._start + self._skipped + timedelta(seconds=time.monotonic() - self._began)

    def advance(self, delta: timedelta) -> None:
        """Move the clock on (a night between two runs), without waiting for it."""
        with self._lock:
            self._skipped += delta
