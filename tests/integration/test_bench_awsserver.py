"""The benchmark's moto server (`ctns.bench.awsserver`): SQS as moto serves it (counts, FIFO deduplication)
although sends and receives no longer count the queue, and every call counted by who made it."""

from __future__ import annotations

import boto3
import pytest
from botocore.config import Config

from ctns.bench.awsserver import AwsServer


@pytest.fixture(scope="module")
def server():
    with AwsServer() as running:
        yield running


def _sqs(server, tag=None):
    return boto3.client(
        "sqs",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(user_agent_extra=f"ctns-bench/{tag}") if tag else None,
    )


def test_a_standard_queue_counts_what_was_sent(server):
    sqs = _sqs(server)
    url = sqs.create_queue(QueueName="bench-standard")["QueueUrl"]
    for batch in range(3):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"{batch}-{i}"} for i in range(10)])
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "30"
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(received) == 10
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "10"
    # a receive (which no longer counts the queue) hands out the next ones, and the counts follow
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert len(again) == 10 and {m["Body"] for m in again}.isdisjoint(m["Body"] for m in received)
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (attributes["ApproximateNumberOfMessages"], attributes["ApproximateNumberOfMessagesNotVisible"]) == (
        "10",
        "20",
    )


def test_a_fifo_queue_still_deduplicates_by_content(server):
    sqs = _sqs(server)
    url = sqs.create_queue(
        QueueName="bench.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    for _ in range(2):
        sqs.send_message(QueueUrl=url, MessageBody="same", MessageGroupId="g")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1"
    assert attributes["ContentBasedDeduplication"] == "true"


def test_calls_are_counted_by_who_made_them(server):
    before = server.counts()
    url = _sqs(server).create_queue(QueueName="bench-counted")["QueueUrl"]
    _sqs(server, "esm").receive_message(QueueUrl=url)
    delta = server.counts() - before
    assert delta.by_operation(service="sqs") == {"sqs:CreateQueue": 1}
    assert delta.by_operation(who="esm", service="sqs") == {"sqs:ReceiveMessage": 1}


def test_the_time_it_spends_answering_is_counted_apart_from_the_functions_calls(server):
    before = server.counts()
    sqs = _sqs(server)
    url = sqs.create_queue(QueueName="bench-busy")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="x")
    spent = server.counts() - before

    assert spent.busy_seconds() > 0
    assert spent.total() == 2  # CreateQueue, SendMessage: the busy time is not a call
    assert spent.by_operation() == {"sqs:CreateQueue": 1, "sqs:SendMessage": 1}
    # and told per operation
    per_operation = spent.busy_seconds_by_operation()
    assert set(per_operation) == {"sqs:CreateQueue", "sqs:SendMessage"}
    assert sum(per_operation.values()) == pytest.approx(spent.busy_seconds(), abs=0.002)
    assert server.cpu_seconds() > 0  # the server process's own CPU time, from /proc
