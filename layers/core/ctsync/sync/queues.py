"""SQS: the work queue the poller fills, and the dead-letter queue where failures wait with their reason."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ctsync.errors import TransientError
from ctsync.state.runlog import Failure
from ctsync.sync.messages import WorkMessage

SQS_BATCH = 10  # SQS's maximum per SendMessageBatch
SEND_ATTEMPTS = 3


class WorkQueue:
    def __init__(self, sqs: Any, url: str) -> None:
        self._sqs = sqs
        self._url = url

    def send(self, messages: Iterable[WorkMessage]) -> int:
        """Send in batches of ten; entries SQS refuses are resent, and a batch that keeps failing raises."""
        sent = 0
        batch: list[WorkMessage] = []
        for message in messages:
            batch.append(message)
            if len(batch) == SQS_BATCH:
                sent += self._send_batch(batch)
                batch = []
        if batch:
            sent += self._send_batch(batch)
        return sent

    def _send_batch(self, batch: list[WorkMessage]) -> int:
        pending = {str(index): message for index, message in enumerate(batch)}
        for _ in range(SEND_ATTEMPTS):
            response = self._sqs.send_message_batch(
                QueueUrl=self._url,
                Entries=[{"Id": key, "MessageBody": message.model_dump_json()} for key, message in pending.items()],
            )
            for failed in response.get("Failed", []):
                if failed.get("SenderFault"):
                    raise ValueError(f"SQS refused message: {failed.get('Message')}")
            refused = {f["Id"] for f in response.get("Failed", [])}
            pending = {key: message for key, message in pending.items() if key in refused}
            if not pending:
                return len(batch)
        raise TransientError(f"SQS kept refusing {len(pending)} messages", code="SQS_SEND")


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
            "receive_count": str(receive_count),
        }
        if failure.target_id:
            attributes["target_id"] = failure.target_id
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=body,
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )
