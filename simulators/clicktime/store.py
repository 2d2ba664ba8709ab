"""The simulator's state: one table per resource, the Job-Task links, receipts, and one lock over all of it.

Records are dicts keyed by wire names (dates as "YYYY-MM-DD" strings, money and hours as Decimal); keys
starting with "_" are the simulator's own bookkeeping and never reach a response. Handlers run under `lock`
(re-entrant, so helpers can call each other), which makes every request atomic against every other.
"""

from __future__ import annotations

import copy
import functools
import random
import string
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from simulators.company import ClickTimeSettings

Record = dict[str, Any]
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase

# UNVERIFIED: the spec types ApprovedDate, SubmittedDate etc. as plain strings; ISO 8601 UTC to the second is
# the simulator's choice until a real response has been seen.
DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def format_instant(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime(DATETIME_FORMAT)


class Store:
    def __init__(self, seed: int, clock: Callable[[], datetime], settings: ClickTimeSettings) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.settings = settings
        self.company_name = "Simulated Company"
        self.company_overrides: Record = {}  # what PATCH /Company changed
        self.unique_task_names = True
        self.token = ""
        self._ids = random.Random(seed)
        self._sequence = 0
        self.clients: dict[str, Record] = {}
        self.jobs: dict[str, Record] = {}
        self.tasks: dict[str, Record] = {}
        self.users: dict[str, Record] = {}
        self.timesheets: dict[str, Record] = {}
        self.time_entries: dict[str, Record] = {}
        self.expense_sheets: dict[str, Record] = {}
        self.expense_items: dict[str, Record] = {}
        self.expense_types: dict[str, Record] = {}
        self.payment_types: dict[str, Record] = {}
        self.currencies: dict[str, Record] = {}  # by ISO code, as /Currencies/{currencyISO} addresses them
        self.job_tasks: dict[str, list[str]] = {}  # job ID -> task IDs, in the order they were linked
        self.receipts: dict[str, tuple[bytes, str]] = {}  # expense item ID -> (content, MIME type)
        self.receipt_failures: dict[str, int] = {}  # expense item ID -> the status its download answers
        self.history: dict[str, list[Record]] = {}  # timesheet or expense sheet ID -> actions, oldest first
        self.company_id = self.mint_id()
        self.admin_id = ""  # the token's user, set by the simulator

    def mint_id(self) -> str:
        """An opaque 22-character base62 ID; seeded, so a run can be replayed.

        UNVERIFIED length: the one real ID seen in public code has 24 characters; clients must not care.
        """
        with self.lock:
            return "".join(self._ids.choice(BASE62) for _ in range(22))

    def next_sequence(self) -> int:
        """Creation order, for the sorts the spec defines by creation date."""
        with self.lock:
            self._sequence += 1
            return self._sequence

    def now(self) -> str:
        return format_instant(self.clock())

    @property
    def admin(self) -> Record:
        return self.users[self.admin_id]


def public(record: Record) -> Record:
    """A deep copy without the simulator's bookkeeping keys: what accessors hand to tests."""
    return {k: copy.deepcopy(v) for k, v in record.items() if not k.startswith("_")}


def brief(record: Record | None) -> Record | None:
    """A record to embed as a verbose nested object (Job, User, ...); render.project trims it to the
    properties the schema gives that nested object."""
    return None if record is None else {k: v for k, v in record.items() if not k.startswith("_")}


def sort_records(records: Iterable[Record], *keys: tuple[str, bool]) -> list[Record]:
    """Stable multi-key sort; each key is (field, descending). Text sorts case-blind, None first."""

    def key(record: Record, field: str) -> tuple[bool, Any]:
        value = record.get(field)
        if value is None:
            return (False, "")
        return (True, value.lower() if isinstance(value, str) else value)

    out = list(records)
    for field, descending in reversed(keys):
        out.sort(key=functools.partial(key, field=field), reverse=descending)
    return out
