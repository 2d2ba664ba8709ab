"""`ctsync.records.window`: a timesheet's bills written up to `limit` at once, with an outcome that does not
depend on how the threads are scheduled. Nothing here waits on time: events and barriers decide the order (their
timeouts only turn a defect into a failure instead of a hang)."""

from __future__ import annotations

import threading
from contextvars import ContextVar

import pytest

from ctsync.records.window import in_window

GUARD = 30.0  # seconds: only ever reached when the window is wrong


class Refused(Exception):
    pass


class Writes:
    """A fake NetSuite: counts the writes in flight and each item's writes; `refuse` names the items it refuses."""

    def __init__(self, refuse: set[int] | None = None) -> None:
        self.refuse = refuse or set()
        self._lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.written: list[int] = []
        self.threads: set[str] = set()

    def __call__(self, item: int) -> str:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            self.threads.add(threading.current_thread().name)
        try:
            self.before(item)
            if item in self.refuse:
                raise Refused(f"item {item}")
            with self._lock:
                self.written.append(item)
            return f"bill-{item}"
        finally:
            with self._lock:
                self.in_flight -= 1

    def before(self, item: int) -> None:
        """A hook for a test to hold an item back."""


def test_the_first_writes_overlap_up_to_the_limit_and_never_beyond_and_each_item_is_written_once() -> None:
    limit = 3
    together = threading.Barrier(limit, timeout=GUARD)

    class Overlapping(Writes):
        def before(self, item: int) -> None:
            if item < limit:
                together.wait()  # passes only when `limit` writes are in flight at once

    writes = Overlapping()
    outcomes = in_window(list(range(20)), writes, limit)

    assert writes.most_in_flight == limit
    assert sorted(writes.written) == list(range(20))
    assert [(o.item, o.value, o.error) for o in outcomes] == [(i, f"bill-{i}", None) for i in range(20)]


@pytest.mark.parametrize("order", ["the refusal first", "the refusal last"])
def test_a_refusal_stops_the_window_at_the_same_items_whichever_finishes_first(order: str) -> None:
    """Item j starts only when every item up to j - limit succeeded: with item 4 refused and limit 3, items 0-6 run
    (5 and 6 were let in beside it) and 7-9 never do, whether the refusal comes before or after 5 and 6 finish."""
    limit = 3
    later_done = threading.Event()
    refusal_done = threading.Event()

    class Ordered(Writes):
        def before(self, item: int) -> None:
            if order == "the refusal last" and item == 4:
                assert later_done.wait(GUARD)  # 5 and 6 finish first
            if order == "the refusal first" and item in (5, 6):
                assert refusal_done.wait(GUARD)

        def __call__(self, item: int) -> str:
            try:
                return super().__call__(item)
            finally:
                if item == 4:
                    refusal_done.set()
                if item == 6:
                    later_done.set()

    writes = Ordered(refuse={4})
    outcomes = in_window(list(range(10)), writes, limit)

    assert [o.item for o in outcomes] == list(range(7))
    assert [o.item for o in outcomes if o.error is not None] == [4]
    assert isinstance(outcomes[4].error, Refused)
    assert sorted(writes.written) == [0, 1, 2, 3, 5, 6]
    assert writes.most_in_flight <= limit


def test_the_same_refusals_give_the_same_outcome_on_every_run() -> None:
    seen = set()
    for _ in range(30):
        writes = Writes(refuse={2, 9})
        outcomes = in_window(list(range(12)), writes, 2)
        seen.add(tuple((o.item, o.error is None) for o in outcomes))
        assert writes.most_in_flight <= 2
    # 2 refused: 3 ran beside it, 4 needed 0..2 to succeed; 9 is never reached
    assert seen == {((0, True), (1, True), (2, False), (3, True))}


def test_a_limit_of_one_is_one_after_another_in_the_callers_thread_stopping_at_the_first_refusal() -> None:
    writes = Writes(refuse={3})
    outcomes = in_window(list(range(6)), writes, 1)

    assert writes.written == [0, 1, 2]
    assert [o.item for o in outcomes] == [0, 1, 2, 3] and isinstance(outcomes[3].error, Refused)
    assert writes.threads == {threading.current_thread().name}


def test_each_write_sees_the_callers_context() -> None:
    """The worker's log keys (run, record) live in context variables: a write's log lines keep them."""
    record: ContextVar[str] = ContextVar("record", default="none")
    record.set("timesheet 42")
    seen: list[str] = []
    lock = threading.Lock()

    def write(item: int) -> int:
        with lock:
            seen.append(record.get())
        return item

    assert [o.value for o in in_window(list(range(5)), write, 3)] == list(range(5))
    assert seen == ["timesheet 42"] * 5


def test_nothing_to_write_writes_nothing() -> None:
    assert in_window([], Writes(), 4) == []
