"""The benchmark's partition `Query` (`ctns.bench.dynamodb_cost`) answers exactly what moto's own does, on the
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

from ctns.bench import dynamodb_cost

PARTITIONS = ["a", "b", "c"]
VALUES = ["x", "y", "z", "changed"]

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
    client = state.meta.client  # the resource's: it serialises plain values itself
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
                                "pk": pk,
                                "sk": f"s{n}",
                                "gsi1pk": value,
                                "gsi1sk": "t",
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": "state",
                            "Key": {"pk": pk, "sk": "fence"},
                            "UpdateExpression": "SET gsi1pk = :v, gsi1sk = :s",
                            "ConditionExpression": "attribute_not_exists(pk)"
                            if fails
                            else "attribute_exists(pk) OR attribute_not_exists(pk)",
                            "ExpressionAttributeValues": {":v": value, ":s": "f"},
                        }
                    },
                ]
            )
        with contextlib.suppress(client.exceptions.TransactionCanceledException):
            if fails:  # an item changed in place, then the transaction refused: the change must not stay
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": "state",
                                "Key": {"pk": pk, "sk": f"s{n}"},
                                "UpdateExpression": "SET gsi1pk = :v, gsi1sk = :s",
                                "ExpressionAttributeValues": {":v": "changed", ":s": "c"},
                            }
                        },
                        {
                            "ConditionCheck": {
                                "TableName": "state",
                                "Key": {"pk": pk, "sk": "fence"},
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                    ]
                )
        with contextlib.suppress(client.exceptions.TransactionCanceledException):
            if fails:
                client.transact_write_items(
                    TransactItems=[
                        {"Delete": {"TableName": "state", "Key": {"pk": pk, "sk": f"s{n}"}}},
                        {
                            "ConditionCheck": {
                                "TableName": "state",
                                "Key": {"pk": pk, "sk": "fence"},
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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_a_partition_query_answers_what_moto_answers(ops: list[tuple[Any, ...]]) -> None:
    with table() as state:
        uninstall = dynamodb_cost.install()
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

        uninstall = dynamodb_cost.install()
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


def everything(state: Any) -> list[dict[str, Any]]:
    items = state.scan(ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: (item["pk"], item["sk"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_writes_and_transactions_leave_the_table_as_moto_leaves_it(ops: list[tuple[Any, ...]]) -> None:
    """Committed or rolled back (a transaction's copy shares the items it does not write), the table ends as moto's
    own would leave it; and the partition queries over it still answer what moto's do."""
    with table() as state:
        for operation in ops:
            apply(state, operation)
        theirs = everything(state)
    with table() as state:
        uninstall = dynamodb_cost.install()
        try:
            every_answer(state)
            for operation in ops:
                apply(state, operation)
            ours, answers = everything(state), every_answer(state)
        finally:
            uninstall()
        assert ours == theirs
        assert answers == every_answer(state)


def test_a_refused_transaction_takes_back_the_change_it_made_in_place() -> None:
    """The second transaction fences the partition; the third changes s1 in place, then is refused by the fence."""
    ops = [("put", "a", 1, "x", "s"), ("transact", "a", 1, "y", True), ("transact", "a", 1, "y", True)]
    with table() as state:
        uninstall = dynamodb_cost.install()
        try:
            for operation in ops:
                apply(state, operation)
            left = everything(state)
        finally:
            uninstall()
    assert left == [
        {"pk": "a", "sk": "fence", "gsi1pk": "y", "gsi1sk": "f"},
        {"pk": "a", "sk": "s1", "gsi1pk": "y", "gsi1sk": "t"},  # not "changed": taken back
    ]


def _every_item_operation(client: Any) -> list[Any]:
    """What a client reads of each DynamoDB operation the functions make, on a fresh table: items of each kind of
    value (binary too), return values, consumed capacity, paging, an index, counts and refusals."""
    item = {
        "pk": {"S": "a"},
        "sk": {"S": "s1"},
        "gsi1pk": {"S": "x"},
        "gsi1sk": {"S": "s"},
        "n": {"N": "12.50"},
        "flag": {"BOOL": True},
        "none": {"NULL": True},
        "tags": {"SS": ["b", "a"]},
        "details": {"M": {"job_id": {"S": "ct-job-3"}, "hours": {"L": [{"N": "1.25"}, {"S": "é"}]}}},
    }
    key = {"pk": {"S": "a"}, "sk": {"S": "s1"}}
    answers: list[Any] = []

    def ask(operation: str, **kwargs: Any) -> None:
        try:
            answer = getattr(client, operation)(TableName="state", **kwargs) if "Items" not in operation else None
        except client.exceptions.ClientError as error:
            answer = {"error": error.response["Error"], "item": error.response.get("Item")}
        if isinstance(answer, dict):
            answer.pop("ResponseMetadata", None)
        answers.append((operation, answer))

    ask("put_item", Item=item, ReturnConsumedCapacity="TOTAL")
    ask("put_item", Item={**item, "n": {"N": "3"}}, ReturnValues="ALL_OLD")
    ask("put_item", Item={**key, "blob": {"B": b"\x00receipt"}, "gsi1pk": {"S": "y"}, "gsi1sk": {"S": "t"}})
    ask("put_item", Item={**item, "sk": {"S": "s2"}})
    ask("put_item", Item={**item, "sk": {"S": "s3"}})
    ask("get_item", Key=key, ConsistentRead=True)
    ask("get_item", Key={"pk": {"S": "nobody"}, "sk": {"S": "s"}})
    ask(
        "put_item",
        Item=item,
        ConditionExpression="attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure="ALL_OLD",
    )
    ask(
        "update_item",
        Key={"pk": {"S": "a"}, "sk": {"S": "s2"}},
        UpdateExpression="SET #n = :n ADD tags :t",
        ExpressionAttributeNames={"#n": "n"},
        ExpressionAttributeValues={":n": {"N": "7.125"}, ":t": {"SS": ["c"]}},
        ReturnValues="ALL_NEW",
        ReturnConsumedCapacity="TOTAL",
    )
    ask("query", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}}, Limit=2)
    ask(
        "query",
        IndexName="ByValue",
        KeyConditionExpression="gsi1pk = :v",
        ExpressionAttributeValues={":v": {"S": "x"}},
        ProjectionExpression="pk, details, #f",
        ExpressionAttributeNames={"#f": "flag"},
    )
    ask("query", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "a"}}, Select="COUNT")
    ask("delete_item", Key={"pk": {"S": "a"}, "sk": {"S": "s3"}}, ReturnValues="ALL_OLD")
    answers.append(
        (
            "batch_get_item",
            client.batch_get_item(RequestItems={"state": {"Keys": [key, {"pk": {"S": "a"}, "sk": {"S": "s2"}}]}}),
        )
    )
    answers.append(
        (
            "batch_write_item",
            client.batch_write_item(
                RequestItems={
                    "state": [{"PutRequest": {"Item": {**item, "sk": {"S": "s4"}}}}, {"DeleteRequest": {"Key": key}}]
                }
            ),
        )
    )
    answers.append(
        (
            "transact_write_items",
            client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": "state",
                            "Key": key,
                            "UpdateExpression": "SET v = :v",
                            "ExpressionAttributeValues": {":v": {"S": "w"}},
                        }
                    }
                ]
            ),
        )
    )
    try:
        client.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": "state",
                        "Key": key,
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                }
            ]
        )
    except client.exceptions.TransactionCanceledException as refused:
        answers.append(
            ("refused transaction", [refused.response["Error"], refused.response.get("CancellationReasons")])
        )
    for _operation, answer in answers:
        if isinstance(answer, dict):
            answer.pop("ResponseMetadata", None)
    return answers


def test_the_answers_written_in_one_json_dumps_read_as_moto_s_own() -> None:
    from moto.core.responses import ActionResult

    from ctns.bench import dynamodb_answers

    with table():
        theirs = _every_item_operation(boto3.client("dynamodb", region_name="us-east-1"))
    serializer = ActionResult.execute_result
    dynamodb_answers.answered.clear()
    uninstall = dynamodb_answers.install()
    try:
        with table():
            ours = _every_item_operation(boto3.client("dynamodb", region_name="us-east-1"))
    finally:
        uninstall()

    assert ActionResult.execute_result is serializer
    assert ours == theirs
    # Most answers took the short way (puts, an update, queries, a batch and a transaction written); those holding
    # the binary item, or a key DynamoDB's model does not have (moto's DeleteItem), moto's serializer
    assert dynamodb_answers.answered["json"] >= 10
    assert dynamodb_answers.answered["moto"] >= 3
