"""The records of one batch in progress at once (`ctsync.entrypoints.process_batch`, `records_at_once`): per-record
partial batch failures as before, each record with its own log keys, no more at once than asked, and what the
batch shares (`Batch`) counted under a lock. Nothing here waits on time: barriers and events decide the order
(their timeouts only turn a defect into a failure instead of a hang)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from ctsync.entrypoints import process_batch
from ctsync.observability import logger
from ctsync.records.window import slots
from ctsync.sync.definition import SyncDefinition
from ctsync.sync.worker import Batch, Worker

GUARD = 30.0  # seconds: only ever reached when records do not overlap as they should


def sqs_event(count: int) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{index}",
                "receiptHandle": f"h{index}",
                "body": str(index),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:time-work",
                "awsRegion": "us-east-1",
            }
            for index in range(count)
        ]
    }


class InProgress:
    """Counts the records in progress at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.most = 0
        self.done: list[str] = []

    def __enter__(self) -> None:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def __exit__(self, *_: object) -> None:
        with self._lock:
            self.now -= 1


def test_two_records_are_in_progress_at_once_each_with_its_own_log_keys_and_failures_are_reported_per_record() -> None:
    """Records 0 and 1 meet at a barrier, which passes only while both are in progress; each then still sees its
    own log keys (set in its own thread); record 2 fails and is the one batch item failure."""
    both = threading.Barrier(2, timeout=GUARD)
    progress = InProgress()
    keys_seen: dict[str, Any] = {}
    lock = threading.Lock()

    def handler(record: Any) -> str:
        with progress:
            logger.thread_safe_append_keys(source_id=record.body)
            if record.body in ("0", "1"):
                both.wait()
            if record.body == "2":
                raise RuntimeError("record 2 fails")
            with lock:
                keys_seen[record.body] = logger.thread_safe_get_current_keys().get("source_id")
            return record.body

    response = process_batch(sqs_event(4), None, BatchProcessor(EventType.SQS), handler, at_once=2)  # type: ignore[arg-type]

    assert response == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert keys_seen == {"0": "0", "1": "1", "3": "3"}
    assert progress.most == 2


def test_no_more_records_are_in_progress_than_asked_and_each_runs_once() -> None:
    progress = InProgress()
    ran: Counter[str] = Counter()
    lock = threading.Lock()

    def handler(record: Any) -> None:
        with progress:
            with lock:
                ran[record.body] += 1

    response = process_batch(sqs_event(10), None, BatchProcessor(EventType.SQS), handler, at_once=3)  # type: ignore[arg-type]

    assert response == {"batchItemFailures": []}
    assert ran == Counter(str(i) for i in range(10))
    assert 1 <= progress.most <= 3


def test_one_at_once_is_powertools_batch_processor_in_the_invocations_own_thread() -> None:
    threads: set[str] = set()

    def handler(record: Any) -> None:
        threads.add(threading.current_thread().name)
        if record.body == "1":
            raise RuntimeError("record 1 fails")

    response = process_batch(sqs_event(3), None, BatchProcessor(EventType.SQS), handler, at_once=1)  # type: ignore[arg-type]

    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert threads == {threading.current_thread().name}


def test_a_batch_whose_every_record_failed_raises_as_powertools_does_one_at_a_time() -> None:
    def handler(record: Any) -> None:
        raise RuntimeError(f"record {record.body} fails")

    for at_once in (1, 2):
        with pytest.raises(BatchProcessingError):
            process_batch(sqs_event(3), None, BatchProcessor(EventType.SQS), handler, at_once=at_once)  # type: ignore[arg-type]


def test_the_records_of_a_batch_share_the_invocations_write_slots_and_the_next_batch_has_new_ones() -> None:
    both = threading.Barrier(2, timeout=GUARD)
    seen: list[Any] = []
    lock = threading.Lock()

    def handler(record: Any) -> None:
        both.wait()
        with lock:
            seen.append(slots("time-bill-writes", 1))

    process_batch(sqs_event(2), None, BatchProcessor(EventType.SQS), handler, at_once=2)  # type: ignore[arg-type]
    process_batch(sqs_event(2), None, BatchProcessor(EventType.SQS), handler, at_once=2)  # type: ignore[arg-type]

    assert seen[0] is seen[1] and seen[2] is seen[3] and seen[0] is not seen[2]


def test_the_counts_of_records_finishing_at_once_all_reach_the_batch() -> None:
    batch = Batch(breaker=None)
    threads = 8
    start = threading.Barrier(threads, timeout=GUARD)

    def finish(index: int) -> None:
        start.wait()
        for _ in range(500):
            batch.add(f"run-{index % 2}", "created", applied=True)
            batch.add(f"run-{index % 2}", "retried")

    workers = [threading.Thread(target=finish, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(GUARD)

    assert batch.applied == threads * 500
    assert batch.counts == {
        "run-0": Counter(created=2000, retried=2000),
        "run-1": Counter(created=2000, retried=2000),
    }


def test_records_at_once_is_the_definitions_and_one_unless_a_sync_asks_for_more() -> None:
    def worker(definition: SyncDefinition) -> Worker:
        return Worker(definition, None, None, None, None, None, 5)  # type: ignore[arg-type]

    plain = SyncDefinition(name="projects", mapping_kind="project", source=None, applier=None)  # type: ignore[arg-type]
    assert worker(plain).records_at_once == 1
    time = SyncDefinition(name="time", mapping_kind="timesheet", source=None, applier=None, records_at_once=3)  # type: ignore[arg-type]
    assert worker(time).records_at_once == 3
