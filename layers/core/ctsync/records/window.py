"""Writes of one record's parts (a timesheet's time bills) with up to `limit` NetSuite requests in flight.

One invocation writing one bill after another keeps a single request in flight, while NetSuite's account limit
(5 by default) allows more: `limit` of them at once, and no more, is the point. What sequential writing
guaranteed still holds, and does not depend on how the threads are scheduled:

- item j starts only once item j - limit has finished, and only if every item up to j - limit succeeded. So at
  most `limit` are in flight, and which items ran is decided by which items failed, not by timing: after a
  failure at i, the items up to i + limit - 1 may have run (they were in flight or were let in beside it),
  none after. With `limit` 1 that is exactly one after another, stopping at the first failure;
- a failure stops the window rather than letting every other write meet it too (an outage, bad credentials:
  each write would spend the client's whole retry budget);
- the outcomes come back in the items' order, every started item's success or error, so the caller records
  what was written (also past a failure) and raises the first error in that order.

Each item runs in a copy of the caller's context, so the log keys the worker set (run, record) stay on its lines.

An invocation may have several records (timesheets) in progress at once (`time.sheets_at_once`): their NetSuite
requests, reads as well as writes, then share one `Slots` of the same `limit` (each request is sent on one of its
slots, by one of its `limit` sender threads: `ctsync.netsuite.client.requests_sent_by`), so an execution
environment never has more than `limit` requests in flight whatever the number of sheets, and the template's
sizing (workers x limit <= NetSuite's limit) holds. A free slot goes to the waiting request of the sheet that started first: that sheet finishes while
the next one reads and plans beside it, rather than every sheet in progress finishing late together.
"""

from __future__ import annotations

import contextvars
import heapq
import itertools
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


@dataclass(frozen=True)
class Ran(Generic[Item, Result]):
    """One started item: what `work` returned, or what it raised."""

    item: Item
    value: Result | None = None
    error: BaseException | None = None


def in_window(items: Sequence[Item], work: Callable[[Item], Result], limit: int) -> list[Ran[Item, Result]]:
    """`work` on each item, at most `limit` at once (see the module): the started items' outcomes, in order."""
    if limit <= 1 or len(items) <= 1:
        return _one_by_one(items, work)
    futures: list[Future[Result]] = []
    with ThreadPoolExecutor(max_workers=min(limit, len(items)), thread_name_prefix="ctns-write") as pool:
        for index, item in enumerate(items):
            # Waiting for the item `limit` places back (not for whichever finishes first) is what makes the set
            # of started items the same on every run.
            if index >= limit and futures[index - limit].exception() is not None:
                break
            futures.append(pool.submit(contextvars.copy_context().run, work, item))
    return [_outcome(item, future) for item, future in zip(items, futures, strict=False)]


@contextmanager
def read_beside(read: Callable[[], Result]) -> Iterator[Future[Result]]:
    """`read()` in a thread of its own while the caller goes on, in a copy of the caller's context (its log keys,
    its NetSuite slots). Leaving waits for it, used or not, so nothing outlives the record (a Lambda environment
    is frozen between invocations). What it raised is raised by `result()`, and only then."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ctns-read") as pool:
        yield pool.submit(contextvars.copy_context().run, read)


def _one_by_one(items: Sequence[Item], work: Callable[[Item], Result]) -> list[Ran[Item, Result]]:
    outcomes: list[Ran[Item, Result]] = []
    for item in items:
        try:
            outcomes.append(Ran(item, work(item)))
        except Exception as error:  # noqa: BLE001 - handed back to the caller, which raises it
            outcomes.append(Ran(item, error=error))
            break
    return outcomes


def _outcome(item: Item, future: Future[Result]) -> Ran[Item, Result]:
    error = future.exception()
    return Ran(item, error=error) if error is not None else Ran(item, future.result())


class Slots:
    """At most `limit` NetSuite requests on the wire among the records an invocation has in progress; a free slot
    goes to the waiting request with the lowest ticket (the sheet that started first), whatever the order the
    threads wake in.

    The requests are sent by the slots' own sender threads, at most `limit`: a sender that gets an answer hands it
    to the thread that asked and sends the next waiting request itself, straight away. With the slot handed to the
    next request's own thread instead, that thread waited for the interpreter until the one that got the answer
    had read it and planned its next write: 1-2 ms a request on the benchmark's machine (docs/bench.md), longer on
    a Lambda's fraction of a vCPU, during which a share of NetSuite's limit sat idle.
    """

    # A sender with nothing to send waits this long for the next request before it ends; an invocation's
    # `sharing_slots` ends its senders when it ends. Only how often a thread is started depends on it.
    LINGER_SECONDS = 1.0

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._changed = threading.Condition()
        self._waiting: list[tuple[int, int, Callable[[], Any], Future[Any]]] = []  # a heap: ticket, arrival
        self._arrivals = itertools.count()
        self._tickets = itertools.count()
        self._senders = 0
        self._busy = 0
        self._closed = False
        self.most_busy = 0  # the most requests on the wire at once (for the tests and the logs)

    def waiters(self) -> int:
        """Requests waiting for a slot now."""
        with self._changed:
            return len(self._waiting)

    def ticket(self) -> int:
        """A sheet's place in the queue for slots: the order its requests are served in when several wait."""
        with self._changed:
            return next(self._tickets)

    def send(self, ticket: int, request: Callable[[], Result]) -> Result:
        """`request()` on a slot once one is free and no waiting request has a lower ticket: what it returned, or
        what it raised. It runs in a sender thread, in a copy of the caller's context (its log keys, its invocation)."""
        answered: Future[Result] = Future()
        in_context = partial(contextvars.copy_context().run, request)
        with self._changed:
            heapq.heappush(self._waiting, (ticket, next(self._arrivals), in_context, answered))
            if self._senders < self.limit:
                self._senders += 1
                threading.Thread(target=self._send_waiting, name="ctns-netsuite-sender", daemon=True).start()
            self._changed.notify_all()
        return answered.result()

    def close(self) -> None:
        """End the senders once nothing waits (the invocation is over)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _send_waiting(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._waiting or self._closed, timeout=self.LINGER_SECONDS)
                if not self._waiting:  # lingered long enough, or the invocation is over
                    self._senders -= 1
                    return
                _, _, request, answered = heapq.heappop(self._waiting)
                self._busy += 1
                self.most_busy = max(self.most_busy, self._busy)
                self._changed.notify_all()  # for an observer (`waiters`)
            try:
                if answered.set_running_or_notify_cancel():
                    try:
                        answered.set_result(request())
                    except BaseException as error:  # noqa: BLE001 - raised in the thread that asked
                        answered.set_exception(error)
            finally:
                with self._changed:
                    self._busy -= 1


_shared: contextvars.ContextVar[dict[str, Slots] | None] = contextvars.ContextVar("ctns_write_slots", default=None)
_registry = threading.Lock()


@contextmanager
def sharing_slots() -> Iterator[dict[str, Slots]]:
    """Within it (one invocation: the records it has in progress, and their threads, which copy the context),
    `slots(name, limit)` is one `Slots` per name."""
    shared: dict[str, Slots] = {}
    token = _shared.set(shared)
    try:
        yield shared
    finally:
        _shared.reset(token)
        for each in shared.values():
            each.close()


def slots(name: str, limit: int) -> Slots:
    """The invocation's `Slots` called `name` (see `sharing_slots`); outside one, slots of the caller's own."""
    shared = _shared.get()
    if shared is None:
        return Slots(limit)
    with _registry:
        return shared.setdefault(name, Slots(limit))
