"""The one mapping store: which source record became which target record, at which version and content.

The content hash of what was last written lets a worker skip a write that would change nothing (so the
write-back of an ID into NetSuite does not bounce back as a change); the source version fences off messages
older than what was already applied.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from ctsync.errors import TransientError
from ctsync.state.table import BY_KIND, BY_TARGET, PK, SK, TTL_ATTRIBUTE, epoch
from ctsync.timeutil import format_instant, parse_instant, utc_now


class Mapping(BaseModel):
    kind: str  # record kind: "project", "customer", "task", …
    source_id: str
    target_id: str
    source_version: datetime | None = None
    content_hash: str = ""
    details: dict[str, str] = Field(default_factory=dict)  # kind-specific facts, e.g. the job a task is linked to
    deleted: bool = False
    updated_at: datetime = Field(default_factory=utc_now)


class CreationContended(TransientError):
    """Another worker is creating the same target right now; try again once it has recorded the mapping."""

    code = "CREATION_CONTENDED"


class MappingStore:
    def __init__(self, table: Any) -> None:
        self._table = table

    @staticmethod
    def _pk(kind: str, source_id: str) -> str:
        return f"MAP#{kind}#{source_id}"

    def get(self, kind: str, source_id: str) -> Mapping | None:
        item = self._table.get_item(Key={PK: self._pk(kind, source_id), SK: "MAP"}, ConsistentRead=True).get("Item")
        return _to_mapping(item) if item else None

    def put(self, mapping: Mapping) -> None:
        mapping.updated_at = utc_now()
        item: dict[str, Any] = {
            PK: self._pk(mapping.kind, mapping.source_id),
            SK: "MAP",
            "gsi1pk": f"TGT#{mapping.kind}#{mapping.target_id}",
            "gsi1sk": "MAP",
            "gsi2pk": f"KIND#{mapping.kind}",
            "gsi2sk": mapping.source_id,
            "kind": mapping.kind,
            "source_id": mapping.source_id,
            "target_id": mapping.target_id,
            "content_hash": mapping.content_hash,
            "details": mapping.details,
            "deleted": mapping.deleted,
            "updated_at": format_instant(mapping.updated_at),
        }
        if mapping.source_version:
            item["source_version"] = format_instant(mapping.source_version)
        self._table.put_item(Item=item)

    def wait_for(self, kind: str, source_id: str, seconds: float, interval: float = 0.25) -> Mapping | None:
        """The mapping once another worker has recorded it, or None after `seconds`."""
        deadline = time.monotonic() + seconds
        while True:
            mapping = self.get(kind, source_id)
            if mapping or time.monotonic() >= deadline:
                return mapping
            time.sleep(interval)

    def by_target(self, kind: str, target_id: str) -> Mapping | None:
        response = self._table.query(
            IndexName=BY_TARGET, KeyConditionExpression=Key("gsi1pk").eq(f"TGT#{kind}#{target_id}")
        )
        items = response.get("Items", [])
        return _to_mapping(items[0]) if items else None

    def all_of_kind(self, kind: str) -> Iterator[Mapping]:
        kwargs: dict[str, Any] = {"IndexName": BY_KIND, "KeyConditionExpression": Key("gsi2pk").eq(f"KIND#{kind}")}
        while True:
            response = self._table.query(**kwargs)
            for item in response.get("Items", []):
                yield _to_mapping(item)
            if "LastEvaluatedKey" not in response:
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    @contextmanager
    def creation_claim(self, kind: str, source_id: str, owner: str, ttl_seconds: int = 300) -> Iterator[None]:
        """Hold the right to create the target of one source record.

        Two messages about the same new record (a duplicate delivery, an overlap window, two projects of one
        new customer) must not both create it. The claim expires, so a crashed holder blocks no one for long.
        """
        now = utc_now()
        key = {PK: self._pk(kind, source_id), SK: "CLAIM"}
        try:
            self._table.put_item(
                Item={**key, "owner": owner, TTL_ATTRIBUTE: epoch(now + timedelta(seconds=ttl_seconds))},
                ConditionExpression=Attr(PK).not_exists()
                | Attr(TTL_ATTRIBUTE).lt(epoch(now))
                | Attr("owner").eq(owner),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            raise CreationContended(f"another worker is creating the {kind} for {source_id}") from error
        try:
            yield
        finally:
            try:
                self._table.delete_item(Key=key, ConditionExpression=Attr("owner").eq(owner))
            except ClientError as error:
                # Expired and taken over by another worker: theirs to release now.
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise


def _to_mapping(item: dict[str, Any]) -> Mapping:
    version = item.get("source_version")
    return Mapping(
        kind=item["kind"],
        source_id=item["source_id"],
        target_id=item["target_id"],
        source_version=parse_instant(version) if version else None,
        content_hash=item.get("content_hash", ""),
        details=dict(item.get("details") or {}),
        deleted=bool(item.get("deleted", False)),
        updated_at=parse_instant(item["updated_at"]),
    )
