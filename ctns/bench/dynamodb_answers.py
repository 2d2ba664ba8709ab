"""DynamoDB's answers written as DynamoDB writes them, for the benchmark's moto server: one `json.dumps`.

Moto 5 writes every answer through a serializer that walks botocore's model of the operation's output, value
by value (`moto.core.serialize`): 200 ms of the one-request-at-a-time server for a `Query` returning 124
mappings, 85 % of it in that walk. DynamoDB's answers are plain JSON, and moto's DynamoDB handler already hands
over plain data (`DynamoResult` turns its types into dicts; the batch and transaction writes build dicts). So for the item operations the functions make,
an answer made only of dicts, lists, strings, numbers and booleans, whose top-level keys are the output's
members, is written with `json.dumps`; anything else (a timestamp, bytes, a key the model would rename, an
error) still goes through moto's serializer. botocore reads both the same way (members by name, nulls left
out): `tests/integration/test_bench_dynamodb_cost.py` compares what a client reads of each operation both ways.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

OPERATIONS = frozenset(
    {
        "Query",
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TransactGetItems",
    }
)


answered: Counter[str] = Counter()  # answers written each way ("json", "moto"), for the tests


def _plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(key, str) and _plain(item) for key, item in value.items())
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    return value is None or isinstance(value, (str, bool, int, float))


def install() -> Callable[[], None]:
    """Patch moto's DynamoDB answers in this process; returns what puts moto's serializer back."""
    from moto.core.responses import ActionResult

    original = ActionResult.execute_result
    if getattr(original, "_ctns", False):
        return lambda: None

    def execute_result(self: Any, context: Any) -> Any:
        operation = context.operation_model
        result = self.result
        shape = operation.output_shape
        if (
            operation.service_model.service_name != "dynamodb"
            or operation.name not in OPERATIONS
            or shape is None
            or not isinstance(result, dict)
            or not set(result) <= set(shape.members)
            or not _plain(result)
        ):
            answered["moto"] += 1
            return original(self, context)
        answered["json"] += 1
        serializer = context.serializer_class(operation_model=operation, pretty_print=False, value_picker=None)
        response = serializer._create_default_response()
        response["body"] = json.dumps(result, separators=(",", ":"))
        response["headers"]["Content-Type"] = serializer._get_protocol_specific_content_type()
        return response["status_code"], response["headers"], response["body"]

    execute_result._ctns = True  # type: ignore[attr-defined]
    ActionResult.execute_result = execute_result  # type: ignore[method-assign]

    def uninstall() -> None:
        ActionResult.execute_result = original  # type: ignore[method-assign]

    return uninstall
