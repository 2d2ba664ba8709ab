"""The state table's shape, shared by the stores (and by the template, which must declare the same)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

PK, SK = "pk", "sk"
BY_TARGET = "by_target"  # GSI: reverse lookup of a mapping by its target ID
BY_KIND = "by_kind"  # GSI: every mapping of one kind (reconciliation, operator listings)
BY_PARENT = "by_parent"  # GSI: the mappings that belong to one parent record (a timesheet's time bills)
TTL_ATTRIBUTE = "expires_at"


def epoch(value: datetime) -> int:
    return int(value.timestamp())


def without_keys(item: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in item.items() if k not in {PK, SK, "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk"}
    }


def write_together(table: Any, writes: list[dict[str, Any]]) -> bool:
    """`writes` (TransactWriteItems items, at most 100, on `table`'s client) in one transaction: all or none.
    False when DynamoDB refused it as a whole (a condition not met, or another write to one of its items in
    flight); any other error is raised."""
    try:
        table.meta.client.transact_write_items(TransactItems=writes)
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        return False
    return True
