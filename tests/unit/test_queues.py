"""The SQS side of the engine (ctsync.sync.queues): work messages sent in batches SQS accepts, refused entries
sent again, messages put back with their history, and failures dead-lettered with their reason.

A fake SQS client records each call and answers as scripted; one test runs the whole round trip on moto.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ctsync.errors import BadInput, TransientError
from ctsync.state.runlog import Failure
from ctsync.sync.messages import WorkMessage
from ctsync.sync.queues import (
    ATTEMPTS,
    DEFERRALS,
    MAX_DELAY_SECONDS,
    SEND_ATTEMPTS,
    SQS_BATCH_BYTES,
    Carried,
    DeadLetterQueue,
    WorkQueue,
)

URL = "https://sqs.us-east-1.amazonaws.com/123456789012/ctns-work"
V1 = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)


def message(source_id: str, padding: int = 0) -> WorkMessage:
    return WorkMessage(sync="projects", run_id="r-1", source_id=source_id, version=V1, snapshot={"pad": "x" * padding})


class FakeSQS:
    """Records send_message_batch and send_message calls; `refuse` scripts entry IDs to refuse per call."""

    def __init__(self) -> None:
        self.batches: list[dict[str, Any]] = []
        self.singles: list[dict[str, Any]] = []
        self.refuse: list[list[dict[str, Any]]] = []
        self._lock = threading.Lock()

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            self.batches.append(kwargs)
            failed = self.refuse.pop(0) if self.refuse else []
        return {"Successful": [], "Failed": failed} if failed else {"Successful": []}

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        self.singles.append(kwargs)
        return {"MessageId": "m"}


def bodies(call: dict[str, Any]) -> list[str]:
    return [entry["MessageBody"] for entry in call["Entries"]]


# -- sending work -------------------------------------------------------------------------------------------
def test_messages_go_in_batches_of_ten_each_entry_with_its_own_id():
    sqs = FakeSQS()
    sent = WorkQueue(sqs, URL).send(message(str(i)) for i in range(23))

    assert sent == 23
    assert sorted(len(call["Entries"]) for call in sqs.batches) == [3, 10, 10]
    assert all(call["QueueUrl"] == URL for call in sqs.batches)
    for call in sqs.batches:
        assert [e["Id"] for e in call["Entries"]] == [str(i) for i in range(len(call["Entries"]))]
    got = sorted(WorkMessage.model_validate_json(b).source_id for call in sqs.batches for b in bodies(call))
    assert got == sorted(str(i) for i in range(23))


def test_one_batch_keeps_the_messages_in_order():
    sqs = FakeSQS()
    assert WorkQueue(sqs, URL).send(message(str(i)) for i in range(10)) == 10
    (call,) = sqs.batches
    assert [WorkMessage.model_validate_json(b).source_id for b in bodies(call)] == [str(i) for i in range(10)]


def test_nothing_to_send_sends_nothing():
    sqs = FakeSQS()
    assert WorkQueue(sqs, URL).send([]) == 0
    assert sqs.batches == []


def test_a_batch_never_exceeds_the_payload_limit():
    sqs = FakeSQS()
    size = len(message("0", 60_000).model_dump_json().encode())
    per_batch = SQS_BATCH_BYTES // size  # four of these fit, a fifth does not

    WorkQueue(sqs, URL).send(message(str(i), 60_000) for i in range(9))

    assert per_batch == 4
    assert sorted(len(call["Entries"]) for call in sqs.batches) == [1, 4, 4]
    for call in sqs.batches:
        assert sum(len(b.encode()) for b in bodies(call)) <= SQS_BATCH_BYTES


def test_a_message_exactly_at_the_limit_is_sent_alone():
    sqs = FakeSQS()
    base = len(message("big").model_dump_json().encode())
    exact = message("big", SQS_BATCH_BYTES - base)
    assert len(exact.model_dump_json().encode()) == SQS_BATCH_BYTES

    WorkQueue(sqs, URL).send([message("small"), exact, message("after")])

    assert [len(call["Entries"]) for call in sorted(sqs.batches, key=lambda c: bodies(c)[0])] in ([1, 1, 1],)


def test_a_message_too_large_for_sqs_is_bad_input_naming_the_record():
    sqs = FakeSQS()
    base = len(message("big").model_dump_json().encode())
    with pytest.raises(BadInput) as raised:
        WorkQueue(sqs, URL).send([message("big", SQS_BATCH_BYTES - base + 1)])
    assert "projects big" in raised.value.message and f"SQS takes {SQS_BATCH_BYTES}" in raised.value.message
    assert sqs.batches == []


def test_messages_filling_a_batch_to_exactly_the_payload_limit_go_together():
    """The limit is SQS's own, inclusive: two messages of half of it each share a batch, batch after batch."""
    sqs = FakeSQS()
    half = SQS_BATCH_BYTES // 2
    padding = half - len(message("a").model_dump_json().encode())
    messages = [message(name, padding) for name in "abcd"]
    assert all(len(m.model_dump_json().encode()) == half for m in messages)

    assert WorkQueue(sqs, URL).send(messages) == 4

    assert sorted(len(call["Entries"]) for call in sqs.batches) == [2, 2]
    assert sorted(sum(len(b.encode()) for b in bodies(call)) for call in sqs.batches) == [SQS_BATCH_BYTES] * 2


def test_a_message_too_large_for_sqs_names_the_snapshot_and_its_size():
    base = len(message("big").model_dump_json().encode())
    length = SQS_BATCH_BYTES + 1
    with pytest.raises(BadInput) as raised:
        WorkQueue(FakeSQS(), URL).send([message("big", length - base)])
    assert (raised.value.field, raised.value.value) == ("snapshot", f"{length} bytes")
    assert raised.value.cause_key == "bad-input:snapshot"


class ThreadRecordingSQS(FakeSQS):
    """Also records which thread sent each batch."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[int] = []

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        with self._lock:
            self.threads.append(threading.get_ident())
        return super().send_message_batch(**kwargs)


def test_a_single_batch_is_sent_from_the_calling_thread():
    """No pool of threads is started for one batch (most runs queue a handful of records)."""
    sqs = ThreadRecordingSQS()
    assert WorkQueue(sqs, URL).send(message(str(i)) for i in range(10)) == 10
    assert sqs.threads == [threading.get_ident()]


def test_two_batches_or_more_are_sent_from_a_pool_of_threads():
    sqs = ThreadRecordingSQS()
    assert WorkQueue(sqs, URL).send(message(str(i)) for i in range(11)) == 11
    assert len(sqs.threads) == 2 and threading.get_ident() not in sqs.threads


def test_refused_entries_are_sent_again_and_only_they():
    sqs = FakeSQS()
    sqs.refuse = [[{"Id": "1", "SenderFault": False, "Code": "ServiceUnavailable"}, {"Id": "3"}], [{"Id": "3"}]]

    assert WorkQueue(sqs, URL).send(message(str(i)) for i in range(5)) == 5

    first, second, third = sqs.batches
    assert [e["Id"] for e in first["Entries"]] == ["0", "1", "2", "3", "4"]
    assert [e["Id"] for e in second["Entries"]] == ["1", "3"]
    assert [e["Id"] for e in third["Entries"]] == ["3"]
    assert bodies(third) == [message("3").model_dump_json()]


def test_entries_refused_on_every_attempt_raise_a_transient_error():
    sqs = FakeSQS()
    sqs.refuse = [[{"Id": "0"}, {"Id": "1"}]] * SEND_ATTEMPTS

    with pytest.raises(TransientError) as raised:
        WorkQueue(sqs, URL).send([message("a"), message("b")])

    assert len(sqs.batches) == SEND_ATTEMPTS == 3
    assert raised.value.message == "SQS kept refusing 2 messages"
    assert raised.value.code == "SQS_SEND"


def test_an_entry_refused_for_its_content_is_not_sent_again():
    sqs = FakeSQS()
    sqs.refuse = [[{"Id": "0", "SenderFault": True, "Message": "invalid characters"}]]
    with pytest.raises(ValueError, match="SQS refused message: invalid characters"):
        WorkQueue(sqs, URL).send([message("a")])
    assert len(sqs.batches) == 1


# -- putting work back --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("delay", "sent"), [(-5, 0), (0, 0), (37.9, 37), (MAX_DELAY_SECONDS, 900), (MAX_DELAY_SECONDS + 1, 900)]
)
def test_put_back_sends_a_new_message_with_its_history_and_a_delay_sqs_accepts(delay: float, sent: int):
    sqs = FakeSQS()
    WorkQueue(sqs, URL).put_back("{}", Carried(attempts=2, deferrals=7), delay_seconds=delay)  # type: ignore[arg-type]
    (call,) = sqs.singles
    assert call == {
        "QueueUrl": URL,
        "MessageBody": "{}",
        "DelaySeconds": sent,
        "MessageAttributes": {
            ATTEMPTS: {"DataType": "Number", "StringValue": "2"},
            DEFERRALS: {"DataType": "Number", "StringValue": "7"},
        },
    }


def test_carried_history_is_read_from_either_spelling_and_defaults_to_none():
    lambda_event = {ATTEMPTS: {"stringValue": "3", "dataType": "Number"}, DEFERRALS: {"stringValue": "12"}}
    boto3_answer = {ATTEMPTS: {"StringValue": "4"}, DEFERRALS: {"StringValue": "5"}}
    assert Carried.from_attributes(lambda_event) == Carried(attempts=3, deferrals=12)
    assert Carried.from_attributes(boto3_answer) == Carried(attempts=4, deferrals=5)
    assert Carried.from_attributes({}) == Carried(attempts=0, deferrals=0)
    assert Carried.from_attributes({ATTEMPTS: None, DEFERRALS: {"stringValue": ""}}) == Carried()
    assert Carried.from_attributes({ATTEMPTS: {"stringValue": "-1"}, DEFERRALS: {"stringValue": "x"}}) == Carried()


# -- dead letters -------------------------------------------------------------------------------------------
def test_a_dead_letter_carries_its_reason_and_ids_as_attributes():
    sqs = FakeSQS()
    failure = Failure(
        sync="projects",
        source_id="101",
        target_id="job-7",
        kind="BAD_INPUT",
        reason="r" * 1200,
        cause_key="c" * 300,
        fix="f" * 600,
    )
    DeadLetterQueue(sqs, URL).send('{"a": 1}', failure, receive_count=3)
    (call,) = sqs.singles
    assert call["QueueUrl"] == URL and call["MessageBody"] == '{"a": 1}'
    attributes = {k: v["StringValue"] for k, v in call["MessageAttributes"].items()}
    assert attributes == {
        "sync": "projects",
        "source_id": "101",
        "failure_kind": "BAD_INPUT",
        "failure_reason": "r" * 1000,
        "cause_key": "c" * 250,
        "receive_count": "3",
        "target_id": "job-7",
        "fix": "f" * 500,
    }
    assert {v["DataType"] for v in call["MessageAttributes"].values()} == {"String"}


def test_a_dead_letter_leaves_out_what_it_does_not_know():
    sqs = FakeSQS()
    failure = Failure(sync="projects", source_id="101", kind="GAVE_UP", reason="timeout", cause_key="")
    DeadLetterQueue(sqs, URL).send("{}", failure, receive_count=5)
    (call,) = sqs.singles
    assert set(call["MessageAttributes"]) == {"sync", "source_id", "failure_kind", "failure_reason", "receive_count"}


def test_the_round_trip_on_sqs(fake_aws_credentials):
    """On moto: what the worker reads back is what was sent, history included."""
    with mock_aws():
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="work")["QueueUrl"]
        queue = WorkQueue(sqs, url)
        assert queue.send(message(str(i)) for i in range(12)) == 12
        queue.put_back(message("back").model_dump_json(), Carried(attempts=1, deferrals=2), delay_seconds=0)
        seen: dict[str, Carried] = {}
        for _ in range(5):
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
            for m in answer.get("Messages", []):
                source_id = WorkMessage.model_validate_json(m["Body"]).source_id
                seen[source_id] = Carried.from_attributes(m.get("MessageAttributes", {}))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        assert set(seen) == {str(i) for i in range(12)} | {"back"}
        assert seen["back"] == Carried(attempts=1, deferrals=2) and seen["0"] == Carried()


def test_a_work_message_names_judged_by_worker_only_when_set() -> None:
    """A worker of the version before the field (a rollback, a redrive after one) refuses unknown keys
    (`extra="forbid"`): only the messages that need it carry it."""
    from datetime import UTC, datetime

    from ctsync.sync.messages import WorkMessage

    plain = WorkMessage(sync="time", run_id="r", source_id="s", version=datetime(2026, 11, 23, tzinfo=UTC))
    judged = plain.model_copy(update={"judged_by_worker": True})
    assert "judged_by_worker" not in plain.model_dump_json()
    assert WorkMessage.model_validate_json(judged.model_dump_json()).judged_by_worker is True


# -- characters SQS refuses ---------------------------------------------------------------------------------
# A vertical tab and a NUL (echoed from a ClickTime validation message), a non-character, half an emoji (a server
# cutting one in two): SQS refuses a message holding any of them (InvalidParameterValue).
REFUSED = "a\x0bb\x00c\ufffed\ud83de"


def test_what_sqs_refuses_reaches_the_queue_readable_from_every_sender(strict_sqs):
    """Each is written as its escape (a half character as U+FFFD): readable in an attribute, and in a JSON body
    the same text again (review, 2026-12-03: a dead letter with such a reason was refused, and lost)."""
    dead, work, back = (strict_sqs.create_queue(QueueName=name)["QueueUrl"] for name in ("dead", "work", "back"))
    failure = Failure(
        sync="projects",
        source_id="101",
        kind="CLICKTIME_400",
        reason=f"Name: {REFUSED}",
        cause_key=REFUSED,
        fix=REFUSED,
    )
    record = WorkMessage(sync="projects", run_id="r-1", source_id="102", version=V1, snapshot={"name": REFUSED})

    DeadLetterQueue(strict_sqs, dead).send(message("101").model_dump_json(), failure, receive_count=1)
    assert WorkQueue(strict_sqs, work).send([record]) == 1
    WorkQueue(strict_sqs, back).put_back('{"name": "a\ufffeb"}', Carried(), delay_seconds=0)

    def received(url: str) -> dict[str, Any]:
        (one,) = strict_sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
        return one

    readable = "a\\u000bb\\u0000c\\ufffed\ufffde"
    attributes = {k: v["StringValue"] for k, v in received(dead)["MessageAttributes"].items()}
    assert (attributes["failure_reason"], attributes["cause_key"], attributes["fix"]) == (
        f"Name: {readable}",
        readable,
        readable,
    )
    assert WorkMessage.model_validate_json(received(work)["Body"]).snapshot == {"name": "a\x0bb\x00c\ufffed\ufffde"}
    assert json.loads(received(back)["Body"]) == {"name": "a\ufffeb"}


def test_a_dead_letters_attributes_are_cut_to_whole_characters_within_their_bytes():
    sqs = FakeSQS()
    failure = Failure(sync="projects", source_id="101", kind="BAD_INPUT", reason="é" * 1200, cause_key="名" * 300)
    DeadLetterQueue(sqs, URL).send("{}", failure, receive_count=1)
    attributes = {k: v["StringValue"] for k, v in sqs.singles[0]["MessageAttributes"].items()}
    assert attributes["failure_reason"] == "é" * 500  # 1000 bytes
    assert attributes["cause_key"] == "名" * 83  # 249 bytes: a third of the 84th character does not fit
