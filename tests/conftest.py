"""What every test shares.

Hypothesis' per-example deadline (200 ms by default) is a wall-clock limit: on a loaded two-core CI machine an
example of a pure function can take longer without being wrong, and the test then fails for timing alone. The
properties here are about results, never speed (that is `make bench`), so no example has a deadline.

In-process moto answers one request at a time in every test (`ctns.local_aws.atomic_moto`): each real DynamoDB
and SQS request is atomic, while moto's in-memory backends are not thread-safe. Served concurrently, two SQS
receives can take one message both (getmoto/moto#519; seen once in `test_bench_fleet.py`) and two UpdateItem
ADDs can lose an increment: a test would then fail, or pass, by thread timing.

moto takes any character in an SQS message; real SQS refuses a request whose body or String attribute value holds
one outside its set (`strict_sqs` applies that rule to a moto client).
"""

import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import settings
from moto import mock_aws

from ctns.local_aws import atomic_moto

settings.register_profile("ctns", deadline=None)
settings.load_profile("ctns")


@pytest.fixture(autouse=True, scope="session")
def _moto_one_request_at_a_time() -> Iterator[None]:
    with atomic_moto():
        yield


# A character SQS refuses in a message body or a String message attribute value: any outside the set SendMessage's
# documentation gives, #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
REFUSED_BY_SQS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _refuse_like_sqs(params: dict[str, Any], model: Any, **_: Any) -> None:
    for entry in params.get("Entries") or [params]:
        texts = {"body": entry.get("MessageBody", "")}
        for name, value in (entry.get("MessageAttributes") or {}).items():
            texts[f"attribute {name!r}"] = value.get("StringValue", "")
        for where, text in texts.items():
            if REFUSED_BY_SQS.search(text):
                error = {"Code": "InvalidParameterValue", "Message": f"Message {where} contains invalid characters."}
                raise ClientError({"Error": error}, model.name)


@pytest.fixture
def fake_aws_credentials(monkeypatch) -> None:
    """Credentials and a region for moto, so no test can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def strict_sqs(fake_aws_credentials) -> Iterator[Any]:
    """An SQS client on moto that refuses, as SQS does (InvalidParameterValue), a SendMessage or SendMessageBatch
    with a character `REFUSED_BY_SQS` finds in a body or an attribute value."""
    with mock_aws():
        sqs = boto3.client("sqs")
        for operation in ("SendMessage", "SendMessageBatch"):
            sqs.meta.events.register(f"provide-client-params.sqs.{operation}", _refuse_like_sqs)
        yield sqs
