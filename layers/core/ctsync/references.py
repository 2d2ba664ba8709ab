"""Reference data cached for one invocation: one way for every sync to read employees, expense categories,
service items, company settings and the like once, not once per record.

A worker invocation starts with an empty cache (`new_invocation`), so what a person fixes between two runs
(an employee mapped, an expense type renamed) is seen by the next invocation; within one, each reference is
read once, whatever the number of records that need it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class References:
    def __init__(self) -> None:
        self._values: dict[str, Any] = {}
        self._lock = threading.Lock()

    def new_invocation(self) -> None:
        with self._lock:
            self._values.clear()

    def get(self, name: str, load: Callable[[], T]) -> T:
        """The cached value of `name`, loading it on first use in this invocation."""
        with self._lock:
            if name in self._values:
                return self._values[name]
        value = load()
        with self._lock:
            return self._values.setdefault(name, value)
