"""The IDs one record's log lines name, beside its own: a timesheet's time entries and time bills, an expense
sheet's items and its expense report. The saved Logs Insights query *A record by its NetSuite or ClickTime ID*
(and `ctns trace ID --search-logs`) finds a line by any of them.

An applier notes the IDs it comes to know while it works on a record (`note`, `note_mappings`); the worker
collects them per message (`noting`) and `SyncDefinition.ids` puts them on every line about the record, as
`netsuite_ids` / `clicktime_ids`: the IDs joined by spaces with a space at each end, so the query's
`like " <ID> "` matches one whole ID. A placeholder or a `kind:id` form (a mapping that names no record of the
other system) is never an ID here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ctsync.state import Mapping

LISTED = 100  # IDs per system a line lists at most; the rest are counted in `ids_left_out`


def is_record_id(value: object) -> bool:
    """Whether `value` is one system's record ID: not empty, not a placeholder or `kind:id` form, one word."""
    return isinstance(value, str) and bool(value) and ":" not in value and not any(c.isspace() for c in value)


@dataclass
class Noted:
    """IDs noted for the record in progress, each system's in the order first noted."""

    source: dict[str, None] = field(default_factory=dict)
    target: dict[str, None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, source: Iterable[str | None] = (), target: Iterable[str | None] = ()) -> None:
        with self._lock:
            self.source.update((i, None) for i in source if is_record_id(i))
            self.target.update((i, None) for i in target if is_record_id(i))

    def __bool__(self) -> bool:
        return bool(self.source or self.target)


_noted: ContextVar[Noted | None] = ContextVar("ctns_record_ids", default=None)


@contextmanager
def noting() -> Iterator[Noted]:
    """Collect the IDs noted while the block runs (one message's work)."""
    noted = Noted()
    token = _noted.set(noted)
    try:
        yield noted
    finally:
        _noted.reset(token)


def current() -> Noted | None:
    return _noted.get()


def note(*, source: Iterable[str | None] = (), target: Iterable[str | None] = ()) -> None:
    """Note IDs of the record in progress: `source` of the sync's source system, `target` of its target system.
    Outside a worker's message (a CLI plan, a test calling an applier) nothing is kept."""
    noted = _noted.get()
    if noted is not None:
        noted.add(source, target)


def note_mappings(mappings: Iterable[Mapping]) -> None:
    """Note the source and target IDs of the record's parts (its child mappings)."""
    listed = list(mappings)
    note(source=(m.source_id for m in listed), target=(m.target_id for m in listed))


def joined(ids: Iterable[str | None]) -> tuple[str, int]:
    """The distinct IDs as one field value (` a b c `), at most `LISTED` of them, and how many were left out."""
    distinct = list(dict.fromkeys(i for i in ids if is_record_id(i)))
    if not distinct:
        return "", 0
    return f" {' '.join(distinct[:LISTED])} ", max(0, len(distinct) - LISTED)
