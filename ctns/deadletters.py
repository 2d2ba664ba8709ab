"""Reading and moving a sync's dead letters, on any stack (deployed or local)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

READ_VISIBILITY_SECONDS = 30


@dataclass
class Letter:
    sync: str
    message_id: str
    source_id: str
    target_id: str | None
    kind: str
    reason: str
    cause_key: str
    fix: str
    receive_count: str
    version: str = ""  # the source version the message carried (ISO 8601), "" when its body does not say

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _field(body: str, name: str, default: str) -> str:
    try:
        return str(json.loads(body).get(name) or default)
    except (ValueError, AttributeError):
        return default


def read(sqs: Any, url: str, sync: str, *, limit: int = 5000) -> list[Letter]:
    """What waits in a dead-letter queue, each with the reason the worker gave (or SQS's redrive). Each message
    is read once and made visible again at once: reading never hides a dead letter from anyone else."""
    letters: list[Letter] = []
    handles: list[str] = []
    try:
        while len(letters) < limit:
            messages = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
                VisibilityTimeout=READ_VISIBILITY_SECONDS,
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                handles.append(message["ReceiptHandle"])
                attributes = {k: v.get("StringValue", "") for k, v in message.get("MessageAttributes", {}).items()}
                receives = message.get("Attributes", {}).get("ApproximateReceiveCount", "?")
                letters.append(
                    Letter(
                        sync=attributes.get("sync", sync),
                        message_id=message["MessageId"],
                        source_id=attributes.get("source_id") or _field(message["Body"], "source_id", "unknown"),
                        target_id=attributes.get("target_id") or None,
                        kind=attributes.get("failure_kind", "REDRIVEN"),
                        reason=attributes.get("failure_reason")
                        or "moved here by SQS after its last receive without a recorded reason (the worker crashed "
                        "or timed out): see the worker's log group",
                        cause_key=attributes.get("cause_key", ""),
                        fix=attributes.get("fix", ""),
                        receive_count=attributes.get("receive_count") or receives,
                        version=_field(message["Body"], "version", ""),
                    )
                )
    finally:
        for handle in handles:
            sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=handle, VisibilityTimeout=0)
    return letters


def move(
    sqs: Any,
    source_url: str,
    destination_url: str,
    *,
    keep: Callable[[dict[str, Any]], bool] = lambda _message: True,
    progress: Callable[[int], None] = lambda _moved: None,
    limit: int | None = None,
) -> int:
    """Move dead letters back to the work queue by hand (where SQS's redrive task cannot: moto, one cause only).

    Each message is sent to the work queue before it is deleted here, so a crash in between doubles a message
    (harmless: the worker's idempotency and version fence) and never loses one. Messages `keep` refuses are
    left where they are. `limit` bounds the move to what waited when it started: while the workers run, a record
    that fails again comes back here, and is not sent round again.
    """
    moved = 0
    skipped: list[str] = []
    try:
        while limit is None or moved < limit:
            messages = sqs.receive_message(
                QueueUrl=source_url,
                MaxNumberOfMessages=min(10, limit - moved) if limit is not None else 10,
                MessageAttributeNames=["All"],
                VisibilityTimeout=READ_VISIBILITY_SECONDS,
            ).get("Messages", [])
            if not messages:
                break
            for message in messages:
                if not keep(message):
                    skipped.append(message["ReceiptHandle"])
                    continue
                sqs.send_message(QueueUrl=destination_url, MessageBody=message["Body"])
                sqs.delete_message(QueueUrl=source_url, ReceiptHandle=message["ReceiptHandle"])
                moved += 1
            progress(moved)
        return moved
    finally:
        for handle in skipped:
            sqs.change_message_visibility(QueueUrl=source_url, ReceiptHandle=handle, VisibilityTimeout=0)


def cause_of(message: dict[str, Any]) -> str:
    return (message.get("MessageAttributes", {}).get("cause_key") or {}).get("StringValue", "")
