"""NetSuite's accounting periods as an execution environment keeps them (`NetSuiteReferences.periods` through
`References.get(per_run_within=...)`): read again for each run and, within a run, once a minute old, so a period
closed while a run exports is seen a minute later at most, and a batch of a run costs no NetSuite request for
them once its environment has read them (the bench's smaller time batches rest on it)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ctsync.records import references as refs
from ctsync.records.references import NetSuiteReferences
from ctsync.references import References

ROW = {"id": "1", "periodname": "Nov 2026", "startdate": "2026-11-01", "enddate": "2026-11-30", "closed": "F"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Periods:
    """A NetSuite client answering the accounting periods' SuiteQL; `closed` flips the one period."""

    def __init__(self) -> None:
        self.reads = 0
        self.closed = False

    def rows(self, build_query: Callable[[str | None], str]) -> Iterator[dict[str, Any]]:
        assert "FROM accountingperiod" in build_query(None)
        self.reads += 1
        yield {**ROW, "closed": "T" if self.closed else "F"}


@pytest.fixture
def world() -> tuple[Clock, Periods, References, NetSuiteReferences]:
    clock, netsuite = Clock(), Periods()
    cache = References(monotonic=clock)
    return clock, netsuite, cache, NetSuiteReferences(netsuite, cache)  # type: ignore[arg-type]


def test_the_invocations_of_one_run_share_one_read(world):
    clock, netsuite, cache, ns = world
    for _ in range(5):
        cache.new_invocation(runs=["run-1"])
        assert [p.closed for p in ns.periods()] == [False]
        clock.now += 10
    assert netsuite.reads == 1


def test_a_new_run_reads_them_again_at_once(world):
    clock, netsuite, cache, ns = world
    cache.new_invocation(runs=["run-1"])
    ns.periods()
    netsuite.closed = True  # finance closes the period between two runs
    clock.now += 1
    cache.new_invocation(runs=["run-2"])
    assert [p.closed for p in ns.periods()] == [True]
    # A batch with a message of each run (two runs overlapping) has a run the value was not read for.
    cache.new_invocation(runs=["run-2", "run-3"])
    ns.periods()
    assert netsuite.reads == 3


def test_within_a_run_a_period_closed_is_seen_once_the_read_is_a_minute_old(world):
    clock, netsuite, cache, ns = world
    cache.new_invocation(runs=["run-1"])
    ns.periods()
    netsuite.closed = True
    clock.now += refs.PERIODS_FRESH_SECONDS - 0.001
    cache.new_invocation(runs=["run-1"])
    assert [p.closed for p in ns.periods()] == [False]  # still within the minute
    clock.now += 0.001
    assert [p.closed for p in ns.periods()] == [True]  # mid-invocation too: the age is checked on every use
    assert netsuite.reads == 2


def test_the_age_counts_from_the_start_of_the_read():
    clock = Clock()
    cache = References(monotonic=clock)

    def slow_read() -> str:
        clock.now += 50  # a read that waited through the client's retries
        return "periods"

    cache.new_invocation(runs=["run-1"])
    cache.get("p", slow_read, per_run_within=60)
    clock.now += 10  # 60 s after the read started, 10 s after it ended
    reads = []
    cache.get("p", lambda: reads.append(1) or "again", per_run_within=60)
    assert reads == [1]


def test_a_failed_read_is_not_kept(world):
    _clock, _netsuite, cache, _ns = world
    cache.new_invocation(runs=["run-1"])
    calls = []

    def failing() -> str:
        calls.append(1)
        raise RuntimeError("NetSuite 503")

    for _ in range(2):
        with pytest.raises(RuntimeError):
            cache.get("p", failing, per_run_within=60)
    assert len(calls) == 2
    assert cache.get("p", lambda: "read", per_run_within=60) == "read"


def test_threads_of_one_invocation_wait_for_one_read(world):
    _clock, netsuite, cache, ns = world
    cache.new_invocation(runs=["run-1"])
    started, release = threading.Event(), threading.Event()
    read_rows = netsuite.rows

    def slow_rows(build_query: Callable[[str | None], str]) -> Iterator[dict[str, Any]]:
        started.set()
        assert release.wait(10)
        yield from read_rows(build_query)

    netsuite.rows = slow_rows  # type: ignore[method-assign]
    results: list[Any] = []
    first = threading.Thread(target=lambda: results.append(ns.periods()))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=lambda: results.append(ns.periods()))
    second.start()
    release.set()
    first.join(10)
    second.join(10)
    assert len(results) == 2 and results[0] == results[1]
    assert netsuite.reads == 1


def test_clear_forgets_them(world):
    _clock, netsuite, cache, ns = world
    cache.new_invocation(runs=["run-1"])
    ns.periods()
    cache.clear()
    ns.periods()
    assert netsuite.reads == 2
