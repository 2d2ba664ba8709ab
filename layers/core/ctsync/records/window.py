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
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

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
