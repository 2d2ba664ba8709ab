"""`ctsync.records.window`: a timesheet's bills written up to `limit` at once, with an outcome that does not
depend on how the threads are scheduled. Nothing here waits on time: events and barriers decide the order (their
timeouts only turn a defect into a failure instead of a hang)."""

from __future__ import annotations

import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar

import pytest

from ctsync.errors import TransientError
from ctsync.records.window import Ran, Slots, in_window, read_beside, sharing_slots, slots

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


# -- the slots the sheets of one invocation share -------------------------------------------------------------


def _hold(slots: Slots, ticket: int, entered: list[int], lock: threading.Lock, release: threading.Event) -> None:
    def request() -> None:
        with lock:
            entered.append(ticket)
        assert release.wait(GUARD)

    slots.send(ticket, request)


def _until_waiting(slots: Slots, count: int) -> None:
    with slots._changed:
        assert slots._changed.wait_for(lambda: len(slots._waiting) == count, timeout=GUARD)


def test_a_free_slot_goes_to_the_sheet_that_started_first_whatever_order_its_writes_came_in() -> None:
    """Limit 1: the holder's sheet started first; a later sheet's write waits, then an earlier sheet's write
    comes: when the slot frees, the earlier sheet's write gets it, and only one write ever holds it."""
    slots = Slots(1)
    holder, earlier, later = slots.ticket(), slots.ticket(), slots.ticket()
    entered: list[int] = []
    lock = threading.Lock()
    release = {t: threading.Event() for t in (holder, earlier, later)}
    threads = [threading.Thread(target=_hold, args=(slots, holder, entered, lock, release[holder]))]
    threads[0].start()
    _until_waiting(slots, 0)
    with slots._changed:
        assert slots._changed.wait_for(lambda: slots.most_busy == 1, timeout=GUARD)
    for ticket, waiting in ((later, 1), (earlier, 2)):
        threads.append(threading.Thread(target=_hold, args=(slots, ticket, entered, lock, release[ticket])))
        threads[-1].start()
        _until_waiting(slots, waiting)
    for ticket in (holder, earlier, later):
        release[ticket].set()
    for thread in threads:
        thread.join(GUARD)

    assert entered == [holder, earlier, later]
    assert slots.most_busy == 1 and slots.waiters() == 0


def test_slots_let_the_limit_in_at_once_never_more_and_free_a_slot_on_an_error() -> None:
    limit = 2
    slots = Slots(limit)
    together = threading.Barrier(limit, timeout=GUARD)

    class Guarded(Writes):
        def before(self, item: int) -> None:
            if item < limit:
                together.wait()  # passes only when `limit` writes hold a slot at once

    writes = Guarded(refuse={3})
    tickets = [slots.ticket() for _ in range(3)]

    def sheet(ticket: int, items: list[int]) -> list[Ran[int, str]]:
        def write(item: int) -> str:
            return slots.send(ticket, lambda: writes(item))

        return in_window(items, write, limit)

    with ThreadPoolExecutor(max_workers=3) as pool:
        outcomes = list(pool.map(sheet, tickets, [[0, 4, 5], [1, 6, 7], [3, 8]]))

    assert writes.most_in_flight == limit and slots.most_busy == limit
    assert sorted(writes.written) == [0, 1, 4, 5, 6, 7, 8]  # the refusal of 3 freed its slot: 8 still ran
    assert isinstance(outcomes[2][0].error, Refused)


def test_the_sender_that_gets_an_answer_sends_the_next_waiting_request_itself() -> None:
    """Limit 1: while the first request is on the wire two more wait; both are sent by the thread that sent the
    first as soon as its answer is in (not each by its own caller's thread, which would first have to wake up),
    and each caller gets its own answer back."""
    slots = Slots(1)
    release = threading.Event()
    senders: list[threading.Thread] = []

    def request(answer: str, hold: bool = False) -> str:
        senders.append(threading.current_thread())
        if hold:
            assert release.wait(GUARD)
        return answer

    with ThreadPoolExecutor(max_workers=3) as callers:
        first = callers.submit(slots.send, slots.ticket(), lambda: request("first", hold=True))
        with slots._changed:
            assert slots._changed.wait_for(lambda: slots.most_busy == 1, timeout=GUARD)
        rest = [callers.submit(slots.send, slots.ticket(), lambda a=a: request(a)) for a in ("second", "third")]
        _until_waiting(slots, 2)
        release.set()
        answers = [first.result(GUARD)] + [r.result(GUARD) for r in rest]

    assert answers == ["first", "second", "third"]
    assert len(set(senders)) == 1 and senders[0] is not threading.current_thread()


def test_a_request_that_raises_raises_in_its_caller_and_frees_its_slot() -> None:
    slots = Slots(1)

    def refused() -> str:
        raise Refused("429")

    with pytest.raises(Refused):
        slots.send(slots.ticket(), refused)
    assert slots.send(slots.ticket(), lambda: "next") == "next"
    assert slots.most_busy == 1 and slots.waiters() == 0


def test_the_senders_end_when_the_invocation_ends() -> None:
    senders: list[threading.Thread] = []

    def request() -> None:
        senders.append(threading.current_thread())

    with sharing_slots():
        shared = slots("writes", 2)
        shared.LINGER_SECONDS = 3600.0  # so only the invocation's end can end them
        shared.send(shared.ticket(), request)
        shared.send(shared.ticket(), request)

    for sender in senders:
        sender.join(GUARD)
    assert senders and not any(sender.is_alive() for sender in senders)


def test_the_records_of_one_invocation_share_one_slots_and_outside_one_each_caller_has_its_own() -> None:
    assert slots("writes", 2) is not slots("writes", 2)
    with sharing_slots():
        shared = slots("writes", 2)
        seen: list[Slots] = []
        thread = threading.Thread(
            target=contextvars.copy_context().run, args=(lambda: seen.append(slots("writes", 2)),)
        )
        thread.start()
        thread.join(GUARD)
        assert seen == [shared] and shared.limit == 2
        assert slots("other", 1) is not shared
    assert slots("writes", 2) is not shared


# -- read_beside: one read in flight beside the caller ------------------------------------------------------------

_where: ContextVar[str] = ContextVar("where", default="nowhere")


def test_a_read_beside_runs_in_the_callers_context_and_leaving_waits_for_it() -> None:
    started, release = threading.Event(), threading.Event()
    seen: list[str] = []

    def read() -> str:
        started.set()
        release.wait(30)
        seen.append(_where.get())
        return "rows"

    token = _where.set("invocation")
    try:
        with read_beside(read) as rows:
            assert started.wait(30)  # in flight while the caller goes on
            release.set()
        # left: the read has finished, in the caller's context
        assert seen == ["invocation"] and rows.done() and rows.result() == "rows"
    finally:
        _where.reset(token)


def test_a_read_beside_that_fails_raises_only_when_its_result_is_asked_for() -> None:
    def read() -> str:
        raise TransientError("ClickTime 503")

    with read_beside(read) as rows:
        pass  # not used: nothing raised on leaving
    with pytest.raises(TransientError, match="ClickTime 503"):
        rows.result()
