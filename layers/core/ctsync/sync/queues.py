"""SQS: the work queue the poller fills (and workers put deferred work back on), and the dead-letter queue
where failures wait with their reason."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pydantic_core import PydanticSerializationError

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

# A character SQS refuses in a message body or a String attribute value (InvalidParameterValue for the whole request):
# any outside #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF. A lone surrogate is one of them.
REFUSED_BY_SQS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # half a surrogate pair: no character, and no UTF-8 at all
# Dead-letter attributes are cut to these many bytes of UTF-8: with them, a body the work queue took still fits.
REASON_BYTES = 1000
CAUSE_BYTES = 250
FIX_BYTES = 500

# Message attributes the worker reads back (names are the contract with the dead-letter queue's readers).
ATTEMPTS = "ctns_attempts"  # times the message really ran before it was put back on the queue
DEFERRALS = "ctns_deferrals"  # times it was put back without running (a paused sync, no time left)


def sqs_text(text: str, max_bytes: int | None = None) -> str:
    """`text` as SQS takes it, for a body or an attribute value; cut to at most `max_bytes` of UTF-8 (whole
    characters) when given.

    A character SQS refuses (a vertical tab or a NUL a ClickTime validation message echoed, U+FFFE) is written as
    its escape, `\\u000b`: readable in an attribute, and in a JSON body (where such a character can only stand
    inside a string) the same character again. Half a surrogate pair (a server cutting an emoji in two) stands for
    no character, and JSON parsers refuse its escape: it becomes U+FFFD."""
    readable = REFUSED_BY_SQS.sub(_escaped, text)
    if max_bytes is None:
        return readable
    return readable.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")


def whole_characters(text: str) -> str:
    """`text` with each lone half of a surrogate pair (a server cutting an emoji in two, read from a JSON escape) as
    U+FFFD: nothing that writes UTF-8 takes it (the log, DynamoDB, SQS)."""
    return LONE_SURROGATE.sub("\ufffd", text)


def _escaped(refused: re.Match[str]) -> str:
    character = refused.group()
    return whole_characters(character) if LONE_SURROGATE.match(character) else f"\\u{ord(character):04x}"


def _body(message: WorkMessage) -> str:
    try:
        body = message.model_dump_json()
    except PydanticSerializationError:
        # Half a surrogate pair in the snapshot does not encode as UTF-8, and pydantic stops there; the standard
        # library writes it as it is, for `sqs_text` to replace.
        body = json.dumps(message.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))
    return sqs_text(body)


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
        source: BadInput. A character SQS refuses is escaped (`sqs_text`)."""
        batches: list[list[str]] = []
        batch: list[str] = []
        size = 0
        for message in messages:
            body = _body(message)
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
            MessageBody=sqs_text(body),
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
        """Raises what the SQS client raises (the worker still records and logs the failure)."""
        attributes = {
            "sync": failure.sync,
            "source_id": failure.source_id,
            "failure_kind": failure.kind,
            "failure_reason": sqs_text(failure.reason, REASON_BYTES),
            "cause_key": sqs_text(failure.cause_key, CAUSE_BYTES),
            "receive_count": str(receive_count),
        }
        if failure.target_id:
            attributes["target_id"] = failure.target_id
        if failure.fix:
            attributes["fix"] = sqs_text(failure.fix, FIX_BYTES)
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=sqs_text(body),
            MessageAttributes={
                k: {"DataType": "String", "StringValue": sqs_text(v)} for k, v in attributes.items() if v
            },
        )
