"""The local stack's moto server answers one request at a time, as each real DynamoDB and SQS request is atomic.

moto's in-memory backends are not thread-safe: served concurrently, two UpdateItem ADDs on one item can lose one
increment (the CLI test of the local stack once counted 7 failures of a cause for 8 dead letters). In-process moto
is serialised by `ctns.local_aws.atomic_moto`; the server the local stack and the tests start must be too.
"""

from __future__ import annotations

import threading

import boto3
import pytest
from moto.dynamodb.models import DynamoDBBackend

from ctns.motoserver import MotoServer

HELD_SECONDS = 1.0  # how long the first request waits for a second one to come in beside it


@pytest.fixture
def server():
    with MotoServer() as running:
        yield running


def _dynamodb(url: str):
    return boto3.client(
        "dynamodb", endpoint_url=url, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
    )


def test_a_request_never_runs_beside_another(server, monkeypatch):
    """The first UpdateItem waits (up to HELD_SECONDS) for a second to enter the backend beside it: served one
    at a time, none ever does; served concurrently, the second enters at once."""
    dynamodb = _dynamodb(server.url)
    dynamodb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    original = DynamoDBBackend.update_item
    inside, most_inside, guard = [0], [0], threading.Lock()
    second_came_in = threading.Event()

    def watched(self, *args, **kwargs):
        with guard:
            inside[0] += 1
            most_inside[0] = max(most_inside[0], inside[0])
            first = inside[0] == 1 and not second_came_in.is_set()
            if inside[0] > 1:
                second_came_in.set()
        try:
            if first:
                second_came_in.wait(HELD_SECONDS)
            return original(self, *args, **kwargs)
        finally:
            with guard:
                inside[0] -= 1

    monkeypatch.setattr(DynamoDBBackend, "update_item", watched)

    def add_one() -> None:
        _dynamodb(server.url).update_item(
            TableName="t",
            Key={"pk": {"S": "cause"}},
            UpdateExpression="ADD #count :one",
            ExpressionAttributeNames={"#count": "count"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        )

    threads = [threading.Thread(target=add_one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert most_inside[0] == 1
    item = dynamodb.get_item(TableName="t", Key={"pk": {"S": "cause"}}, ConsistentRead=True)["Item"]
    assert item["count"] == {"N": "2"}


def test_it_serves_the_moto_api_and_stops(server):
    import requests

    assert requests.post(f"{server.url}/moto-api/reset", timeout=10).status_code == 200
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{server.url}/moto-api/reset", timeout=2)


def test_a_server_started_after_another_stopped_holds_nothing_of_it(monkeypatch):
    """moto keeps its state per process, so a MotoServer started after another had stopped served the first one's
    tables (a test's fresh "AWS" held an earlier test's mappings: seen in CI as a run against clients of another
    test's ClickTime). A stopped server's state is gone, as a stopped mock's is. Failed before the fix."""
    import boto3

    from ctns.motoserver import MotoServer

    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "moto-server")
    first = MotoServer().start()
    try:
        boto3.client("dynamodb", endpoint_url=first.url, region_name="us-east-1").create_table(
            TableName="left-behind",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    finally:
        first.stop()
    second = MotoServer().start()
    try:
        tables = boto3.client("dynamodb", endpoint_url=second.url, region_name="us-east-1").list_tables()
    finally:
        second.stop()
    assert tables["TableNames"] == []
