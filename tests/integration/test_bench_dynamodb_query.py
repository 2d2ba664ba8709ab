"""The benchmark's partition `Query` (`ctns.bench.dynamodb_query`) answers exactly what moto's own does, on the
table and on each index, after any mix of puts, updates, deletes, batch writes and transactions (rolled back
too), for every partition, in both orders and page by page."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from ctns.bench import dynamodb_query

PARTITIONS = ["a", "b", "c"]
VALUES = ["x", "y", "z"]

put = st.tuples(
    st.just("put"),
    st.sampled_from(PARTITIONS),
    st.integers(0, 5),
    st.none() | st.sampled_from(VALUES),
    st.none() | st.sampled_from(VALUES),
)
update = st.tuples(
    st.just("update"), st.sampled_from(PARTITIONS), st.integers(0, 5), st.none() | st.sampled_from(VALUES)
)
delete = st.tuples(st.just("delete"), st.sampled_from(PARTITIONS), st.integers(0, 5))
batch = st.tuples(st.just("batch"), st.lists(st.tuples(st.sampled_from(PARTITIONS), st.integers(0, 5)), max_size=4))
transaction = st.tuples(
    st.just("transact"), st.sampled_from(PARTITIONS), st.integers(0, 5), st.sampled_from(VALUES), st.booleans()
)
operations = st.lists(st.one_of(put, update, delete, batch, transaction), max_size=25)


@contextlib.contextmanager
def table() -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        yield dynamodb.create_table(
            TableName="state",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "gsi1pk", "gsi1sk")],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "ByValue",
                    "KeySchema": [
                        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
        )


def apply(state: Any, operation: tuple[Any, ...]) -> None:
    client = state.meta.client
    kind = operation[0]
    if kind == "put":
        _, pk, n, value, sort = operation
        item: dict[str, Any] = {"pk": pk, "sk": f"s{n}"}
        if value is not None:
            item["gsi1pk"] = value
        if sort is not None:
            item["gsi1sk"] = sort
        state.put_item(Item=item)
    elif kind == "update":
        _, pk, n, value = operation
        if value is None:
            state.update_item(Key={"pk": pk, "sk": f"s{n}"}, UpdateExpression="REMOVE gsi1pk")
        else:
            state.update_item(
                Key={"pk": pk, "sk": f"s{n}"},
                UpdateExpression="SET gsi1pk = :v, gsi1sk = if_not_exists(gsi1sk, :s)",
                ExpressionAttributeValues={":v": value, ":s": f"u{n}"},
            )
    elif kind == "delete":
        _, pk, n = operation
        state.delete_item(Key={"pk": pk, "sk": f"s{n}"})
    elif kind == "batch":
        with state.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as writer:
            for pk, n in operation[1]:
                writer.put_item(Item={"pk": pk, "sk": f"s{n}", "gsi1pk": "x", "gsi1sk": f"b{n}"})
    else:
        _, pk, n, value, fails = operation
        # the second write's condition fails when asked to: the whole transaction is rolled back
        with contextlib.suppress(client.exceptions.TransactionCanceledException):
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": "state",
                            "Item": {
                                "pk": {"S": pk},
                                "sk": {"S": f"s{n}"},
                                "gsi1pk": {"S": value},
                                "gsi1sk": {"S": "t"},
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": "state",
                            "Key": {"pk": {"S": pk}, "sk": {"S": "fence"}},
                            "UpdateExpression": "SET gsi1pk = :v, gsi1sk = :s",
                            "ConditionExpression": "attribute_not_exists(pk)"
                            if fails
                            else "attribute_exists(pk) OR attribute_not_exists(pk)",
                            "ExpressionAttributeValues": {":v": {"S": value}, ":s": {"S": "f"}},
                        }
                    },
                ]
            )
            if fails:
                client.transact_write_items(
                    TransactItems=[
                        {"Delete": {"TableName": "state", "Key": {"pk": {"S": pk}, "sk": {"S": f"s{n}"}}}},
                        {
                            "ConditionCheck": {
                                "TableName": "state",
                                "Key": {"pk": {"S": pk}, "sk": {"S": "fence"}},
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                    ]
                )


def every_answer(state: Any) -> list[Any]:
    """Each partition of the table and of the index, forwards and backwards, a page of 2 at a time."""
    from boto3.dynamodb.conditions import Key

    answers = []
    asks = [{"KeyConditionExpression": Key("pk").eq(p)} for p in PARTITIONS]
    asks += [{"IndexName": "ByValue", "KeyConditionExpression": Key("gsi1pk").eq(v)} for v in VALUES]
    asks += [{"KeyConditionExpression": Key("pk").eq("a") & Key("sk").between("s1", "s4")}]
    for ask in asks:
        for forward in (True, False):
            pages, kwargs = [], {**ask, "ScanIndexForward": forward, "Limit": 2}
            while True:
                page = state.query(**kwargs)
                pages.append(page["Items"])
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            answers.append(pages)
    return answers


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_a_partition_query_answers_what_moto_answers(ops: list[tuple[Any, ...]]) -> None:
    with table() as state:
        uninstall = dynamodb_query.install()
        try:
            every_answer(state)  # the index is built here, before the writes: then kept up to date by them
            for operation in ops:
                apply(state, operation)
            ours = every_answer(state)
        finally:
            uninstall()
        assert ours == every_answer(state)  # moto's own query, over every item of the table


def test_a_partition_query_reads_only_its_partition() -> None:
    """The point of it: moto's own query touches every item of the table; this one, the partition's."""
    from moto.dynamodb.models.table import Table

    with table() as state:
        with state.batch_writer() as writer:
            for n in range(200):
                writer.put_item(Item={"pk": f"p{n % 20}", "sk": f"s{n}", "gsi1pk": f"v{n % 10}", "gsi1sk": "s"})
        seen: list[int] = []
        every_item = Table.all_items

        def counted(self: Any) -> Any:
            items = every_item(self)
            seen.append(len(items))
            return items

        uninstall = dynamodb_query.install()
        Table.all_items = counted  # type: ignore[method-assign]
        try:
            from boto3.dynamodb.conditions import Key

            assert len(state.query(KeyConditionExpression=Key("pk").eq("p3"))["Items"]) == 10
            assert len(state.query(IndexName="ByValue", KeyConditionExpression=Key("gsi1pk").eq("v3"))["Items"]) == 20
        finally:
            Table.all_items = every_item  # type: ignore[method-assign]
            uninstall()
        assert seen == []  # moto's scan of the whole table never ran
        assert len(state.query(KeyConditionExpression=Key("pk").eq("p3"))["Items"]) == 10


@pytest.fixture(autouse=True)
def _moto_as_it_was() -> Iterator[None]:
    from moto.dynamodb.models.table import Table

    before = Table.query
    yield
    assert Table.query is before  # every test put moto's own query back
