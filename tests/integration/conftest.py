"""Fixtures shared by the integration tests: the state table on moto, created from template.yaml itself
(read through `ctns.stack.load()`), so the stores meet the key schema and indexes that really deploy; and a
fake clock for expiry behaviour."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ctns import stack as ctns_stack
from ctns.local_aws import atomic_moto
from ctsync.state import mappings as mappings_module
from ctsync.state import progress as progress_module
from ctsync.state import runlog as runlog_module

TABLE = "ctns-state-test"
T0 = datetime(2026, 11, 25, 17, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def table_properties() -> dict[str, Any]:
    return ctns_stack.load().resources["StateTable"]["Properties"]


@pytest.fixture
def aws(fake_aws_credentials) -> Iterator[None]:
    # Requests one at a time, as DynamoDB applies each atomically (moto's backends are not thread-safe).
    with mock_aws(), atomic_moto():
        yield


@pytest.fixture
def table(aws, table_properties) -> Any:
    wanted = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
    client = boto3.client("dynamodb")
    client.create_table(TableName=TABLE, **{k: table_properties[k] for k in wanted})
    client.update_time_to_live(TableName=TABLE, TimeToLiveSpecification=table_properties["TimeToLiveSpecification"])
    return boto3.resource("dynamodb").Table(TABLE)


def own_table() -> Any:
    """A Table object for another thread (boto3 resources are not shared between threads)."""
    return boto3.session.Session().resource("dynamodb").Table(TABLE)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def epoch(self) -> float:
        return self.now.timestamp()


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    for module in (mappings_module, progress_module, runlog_module):
        monkeypatch.setattr(module, "utc_now", fake)
    return fake


def dynamodb_calls(table: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every DynamoDB call made through `table` from now on: (operation, request body)."""
    calls: list[tuple[str, dict[str, Any]]] = []
    table.meta.client.meta.events.register(
        "before-call.dynamodb.*", lambda model, params, **_: calls.append((model.name, json.loads(params["body"])))
    )
    return calls
