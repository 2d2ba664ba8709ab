"""SQS: the work queue the poller fills (and workers put deferred work back on), and the dead-letter queue
where failures wait with their reason."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ctsync.digits import is_number
from ctsync.errors import BadInput, TransientError
from ctsync.state.runlog import Failure
from ctsync.sync.messages import WorkMessage

SQS_BATCH = 10  # SQS's maximum entries per SendMessageBatch
# SQS caps a message, and a batch's total payload, at 256 KiB; attributes count too, so leave room for them.
SQS_BATCH_BYTES = 256 * 1024 - 8 * 1024
SEND_ATTEMPTS = 3
SEND_THREADS = 8  # batches in flight at once (boto3 clients are thread-safe)
MAX_DELAY_SECONDS = 900  # SQS's longest DelaySeconds

# Message attributes the worker reads back (names are the contract with the dead-letter queue's readers).
ATTEMPTS = "ctns_attempts"  # times the message really ran before it was put back on the queue
DEFERRALS = "ctns_deferrals"  # times it was put back without running (a paused sync, no time left)


@dataclass(frozen=True)
class Carried:
    """What a message carries across re-sends: the queue's receive count restarts with each new message."""

    attempts: int = 0
    deferrals: int = 0

    @classmethod
    def from_attributes(cls, attributes: dict[str, Any]) -> Carried:
        def number(name: str) -> int:
            value = attributes.get(name) or {}
            text = value.get("stringValue") or value.get("StringValue") or "0"
            return int(text) if is_number(text) else 0

        return cls(attempts=number(ATTEMPTS), deferrals=number(DEFERRALS))


class WorkQueue:
    def __init__(self, sqs: Any, url: str) -> None:
        self._sqs = sqs
        self._url = url

    def send(self, messages: Iterable[WorkMessage]) -> int:
        """Send in batches of at most ten messages and 248 KiB, several batches at once; refused entries are
        resent, and a batch that keeps failing raises. A message too large for SQS on its own is a bug in its
        source: BadInput."""
        batches: list[list[str]] = []
        batch: list[str] = []
        size = 0
        for message in messages:
            body = message.model_dump_json()
            length = len(body.encode("utf-8"))
            if length > SQS_BATCH_BYTES:
                raise BadInput(
                    f"work message for {message.sync} {message.source_id} is {length} bytes; SQS takes {SQS_BATCH_BYTES}",
                    field="snapshot",
                    value=f"{length} bytes",
                )
            if batch and (len(batch) == SQS_BATCH or size + length > SQS_BATCH_BYTES):
                batches.append(batch)
                batch, size = [], 0
            batch.append(body)
            size += length
        if batch:
            batches.append(batch)
        if len(batches) <= 1:
            return sum(self._send_batch(b) for b in batches)
        with ThreadPoolExecutor(max_workers=min(SEND_THREADS, len(batches))) as pool:
            return sum(pool.map(self._send_batch, batches))

    def _send_batch(self, bodies: list[str]) -> int:
        pending = {str(index): body for index, body in enumerate(bodies)}
        for _ in range(SEND_ATTEMPTS):
            response = self._sqs.send_message_batch(
                QueueUrl=self._url, Entries=[{"Id": key, "MessageBody": body} for key, body in pending.items()]
            )
            for failed in response.get("Failed", []):
                if failed.get("SenderFault"):
                    raise ValueError(f"SQS refused message: {failed.get('Message')}")
            refused = {f["Id"] for f in response.get("Failed", [])}
            pending = {key: body for key, body in pending.items() if key in refused}
            if not pending:
                return len(bodies)
        raise TransientError(f"SQS kept refusing {len(pending)} messages", code="SQS_SEND")

    def put_back(self, body: str, carried: Carried, *, delay_seconds: int) -> None:
        """Queue a message again as a new message (its receive count starts over), carrying its history."""
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=body,
            DelaySeconds=max(0, min(MAX_DELAY_SECONDS, int(delay_seconds))),
            MessageAttributes={
                ATTEMPTS: {"DataType": "Number", "StringValue": str(carried.attempts)},
                DEFERRALS: {"DataType": "Number", "StringValue": str(carried.deferrals)},
            },
        )


class DeadLetterQueue:
    """Failures are put here by the worker itself, with the reason as message attributes.

    SQS's own redrive (after maxReceiveCount) stays in place as the safety net for crashes and timeouts,
    but it cannot say why; a message the worker dead-letters explains itself to whoever opens the queue.
    """

    def __init__(self, sqs: Any, url: str) -> None:
        self._sqs = sqs
        self._url = url

    def send(self, body: str, failure: Failure, *, receive_count: int) -> None:
        attributes = {
            "sync": failure.sync,
            "source_id": failure.source_id,
            "failure_kind": failure.kind,
            "failure_reason": failure.reason[:1000],
            "cause_key": failure.cause_key[:250],
            "receive_count": str(receive_count),
        }
        if failure.target_id:
            attributes["target_id"] = failure.target_id
        if failure.fix:
            attributes["fix"] = failure.fix[:500]
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=body,
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items() if v},
        )
