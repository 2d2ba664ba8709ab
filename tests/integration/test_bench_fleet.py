"""The benchmark's event source mapping (`ctns.bench.environments.Fleet.drain`) against SQS (moto): every message
delivered, a batch item failure returned to the queue and delivered again, the queue empty at the end, and the
drain's time ending with its last batch (not with the pollers' last look at an empty queue)."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ctns.bench.environments import IDLE_PAUSE_SECONDS, DrainFailed, Fleet

HELD_SECONDS = 1.0  # how long the first marking waits for a second poller beside it


class FakeEnvironment:
    """An execution environment that answers at once; the first delivery of `refuse` is a batch item failure."""

    def __init__(self, refuse: str, refused: set[str], lock: threading.Lock) -> None:
        self.refuse, self.refused, self.lock = refuse, refused, lock
        self.bodies: list[str] = []

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        failures = []
        for record in event["Records"]:
            self.bodies.append(record["body"])
            with self.lock:
                if record["body"] == self.refuse and self.refuse not in self.refused:
                    self.refused.add(self.refuse)
                    failures.append({"itemIdentifier": record["messageId"]})
        return {"response": {"batchItemFailures": failures}}

    def stop(self) -> dict[str, Any]:
        return {"invocations": 0}


def fleet_on(
    sqs: Any, count: int, *, batch_size: int, size: int, log: str = "/dev/null"
) -> tuple[Fleet, str, list[str]]:
    """A fleet of `size` environments (none set yet) draining a queue that holds `count` messages: the fleet, the
    queue's URL and the bodies sent."""
    url = sqs.create_queue(QueueName="work")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bodies = [json.dumps({"n": n}) for n in range(count)]
    for start in range(0, len(bodies), 10):
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])],
        )
    spec = {"queue_url": url, "queue_arn": arn, "batch_size": batch_size, "report_batch_item_failures": True}
    return Fleet(spec, size, log, sqs), url, bodies


def test_a_drain_delivers_every_message_and_a_refused_one_again_and_ends_with_its_last_batch() -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        fleet, url, bodies = fleet_on(sqs, 23, batch_size=10, size=2)
        refused: set[str] = set()
        lock = threading.Lock()
        fleet.environments = [FakeEnvironment(bodies[5], refused, lock) for _ in range(2)]  # type: ignore[list-item]

        before = time.perf_counter()
        drained = fleet.drain()
        elapsed = time.perf_counter() - before

        delivered = [b for e in fleet.environments for b in e.bodies]  # type: ignore[attr-defined]
        assert sorted(delivered) == sorted([*bodies, bodies[5]])  # each once, the refused one twice
        assert drained.delivered == 24 and drained.batch_item_failures == 1
        assert sorted(drained.bodies) == sorted(delivered)
        left = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert left["ApproximateNumberOfMessages"] == "0" and left["ApproximateNumberOfMessagesNotVisible"] == "0"
        # After the last batch each poller looked at the empty queue twice, pausing between: not the drain's time
        assert 0 < drained.seconds <= elapsed - IDLE_PAUSE_SECONDS[0]


def test_two_pollers_never_take_one_message_both(monkeypatch) -> None:
    """moto's SQS backend checks that a message is visible, then marks it received: two threads receiving at once
    can both take it (getmoto/moto#519; the drain test above once delivered a message twice while mutmut collected
    its stats). AWS applies each request atomically, and the tests' in-process moto answers one request at a time
    (`tests/conftest.py`), so it cannot happen. To make the race certain rather than rare, the first marking
    waits (up to HELD_SECONDS) for a second poller to reach the same point: served one at a time, none does."""
    from moto.sqs import models

    arrived = threading.Barrier(2)
    original = models.Message.mark_received

    def held(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            arrived.wait(timeout=HELD_SECONDS)
        except threading.BrokenBarrierError:
            pass  # no other poller came in beside this one: the expected case
        return original(self, *args, **kwargs)

    monkeypatch.setattr(models.Message, "mark_received", held)
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        fleet, _, bodies = fleet_on(sqs, 4, batch_size=1, size=2)
        fleet.environments = [FakeEnvironment("none", set(), threading.Lock()) for _ in range(2)]  # type: ignore[list-item]

        drained = fleet.drain()

        delivered = [b for e in fleet.environments for b in e.bodies]  # type: ignore[attr-defined]
        assert sorted(delivered) == sorted(bodies), "a message was delivered to both pollers"
        assert drained.delivered == 4


class BrokenEnvironment(FakeEnvironment):
    """An execution environment whose handler raises on every invocation, as one that cannot import its code."""

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.bodies.extend(record["body"] for record in event["Records"])
        return {"error": "ModuleNotFoundError: No module named 'ctsync'"}


def test_a_drain_whose_invocations_fail_as_a_whole_stops_and_says_why_rather_than_measuring_nothing() -> None:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        fleet, _, _ = fleet_on(sqs, 6, batch_size=2, size=1, log="build/functions.log")
        fleet.environments = [BrokenEnvironment("none", set(), threading.Lock())]  # type: ignore[list-item]

        with pytest.raises(DrainFailed) as failed:
            fleet.drain()

        assert "No module named 'ctsync'" in str(failed.value) and "build/functions.log" in str(failed.value)
        # it stopped at the first failed invocation: its batch went back to the queue, nothing was retried
        assert len(fleet.environments[0].bodies) == 2  # type: ignore[attr-defined]
