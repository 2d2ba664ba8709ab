"""The local runner: the template's wiring, run on this machine.

For each sync asked for, it fires the schedule's input into the poller (and any continuation the poller
hands over), then delivers the queue to the worker as the event source mapping would: batches of the
template's size, as many concurrent invocations as its maximum concurrency, partial batch failures
honoured, failed messages returned to the queue and moved to the dead-letter queue by SQS's own redrive
after maxReceiveCount. It stops when every queue it fed is drained.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ctns import deadletters
from ctns.lambdas import FunctionHost
from ctns.local_aws import LocalAws
from ctns.stack import REGION, QueueMapping, Stack

Progress = Callable[[str], None]


@dataclass
class SyncRun:
    sync: str
    poll_results: list[dict[str, Any]] = field(default_factory=list)
    invocations: int = 0
    delivered: int = 0
    batch_item_failures: int = 0

    @property
    def run_id(self) -> str | None:
        ids = [r.get("run_id") for r in self.poll_results if r.get("run_id")]
        return ids[-1] if ids else None


class LocalRunner:
    def __init__(self, aws: LocalAws, *, retry_delay_seconds: float = 0.05, progress: Progress | None = None) -> None:
        self.aws = aws
        self.stack: Stack = aws.stack
        self.host = FunctionHost(self.stack)
        self.retry_delay = retry_delay_seconds
        self._progress = progress or (lambda _: None)

    # -- what can be run ----------------------------------------------------------------------------
    def syncs(self) -> list[str]:
        """Sync names in the template's order, from the schedules' inputs."""
        return [schedule.input["sync"] for schedule in self.stack.schedules]

    def run(self, syncs: list[str] | None = None) -> list[SyncRun]:
        chosen = syncs or self.syncs()
        unknown = sorted(set(chosen) - set(self.syncs()))
        if unknown:
            raise ValueError(f"no schedule in template.yaml for {', '.join(unknown)}; known: {', '.join(self.syncs())}")
        return [self.run_sync(name) for name in chosen]

    def run_sync(self, sync: str) -> SyncRun:
        schedule = next(s for s in self.stack.schedules if s.input["sync"] == sync)
        result = SyncRun(sync)
        self._progress(f"{sync}: poller")
        with self.host.activated(schedule.function):
            result.poll_results.append(self._poll(schedule.function, dict(schedule.input)))
            while self.host.async_invocations:
                function, event = self.host.async_invocations.popleft()
                self._progress(f"{sync}: poller continues the run in a fresh invocation")
                result.poll_results.append(self._poll(function, event))
        mapping = self._mapping_of_poller(schedule.function)
        if mapping is not None:
            self._progress(f"{sync}: worker drains the queue")
            self.drain(mapping, result)
            self._progress(f"{sync}: queue drained ({result.delivered} deliveries in {result.invocations} invocations)")
        return result

    def _poll(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        """One poller invocation. A failed one is what the scheduler would see: retried later, then sent to the
        poller failure queue; here it is reported in the result (its ERROR line is in the function log)."""
        try:
            return self.host.invoke(function, event)
        except Exception as error:  # noqa: BLE001 - a failed invocation, not a runner failure
            return {"status": "failed", "reason": getattr(error, "message", None) or str(error) or type(error).__name__}

    def queue_mapping(self, sync: str) -> QueueMapping | None:
        """The event source mapping of a sync's work queue (its worker, batch size, concurrency)."""
        return self._mapping_of_poller(next(s.function for s in self.stack.schedules if s.input["sync"] == sync))

    def _mapping_of_poller(self, poller: str) -> QueueMapping | None:
        queue_url_value = self.stack.functions[poller].environment.get("WORK_QUEUE_URL")
        queue = queue_url_value.get("Ref") if isinstance(queue_url_value, dict) else None
        return next((m for m in self.stack.queue_mappings if m.queue == queue), None)

    # -- the event source mapping -------------------------------------------------------------------
    def drain(self, mapping: QueueMapping, result: SyncRun) -> None:
        url = self.aws.queue_url(mapping.queue)
        arn = self.stack.physical[mapping.queue]["Arn"]
        concurrency = max(1, int(self.stack.resolve(mapping.max_concurrency)))
        lock = threading.Lock()
        busy = [0]
        last_report = [time.monotonic()]

        def report_progress() -> None:
            with lock:
                if time.monotonic() - last_report[0] < 2.0:
                    return
                last_report[0] = time.monotonic()
                delivered, returned = result.delivered, result.batch_item_failures
            self._progress(f"{result.sync}: {delivered} messages delivered to the worker, {returned} returned to retry")

        def poll_loop(environment: int) -> None:
            idle_rounds = 0
            while True:
                response = self.aws.sqs.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=mapping.batch_size,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
                messages = response.get("Messages", [])
                if not messages:
                    with lock:
                        others_busy = busy[0] > 0
                    if not others_busy and self._queue_empty(url):
                        idle_rounds += 1
                        if idle_rounds >= 2:
                            return
                    time.sleep(0.02)
                    continue
                idle_rounds = 0
                with lock:
                    busy[0] += 1
                try:
                    self._deliver(mapping, url, arn, messages, result, lock, environment)
                finally:
                    with lock:
                        busy[0] -= 1
                report_progress()

        with self.host.activated(mapping.function):
            with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix=mapping.function) as pool:
                futures = [pool.submit(poll_loop, environment) for environment in range(concurrency)]
                for future in futures:
                    future.result()

    def _queue_empty(self, url: str) -> bool:
        """Nothing visible, in flight or delayed (a message put back for later counts as work left)."""
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        attributes = self.aws.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return all(int(attributes.get(name, 0)) == 0 for name in names)

    def _deliver(
        self,
        mapping: QueueMapping,
        url: str,
        arn: str,
        messages: list[dict[str, Any]],
        result: SyncRun,
        lock: threading.Lock,
        environment: int,
    ) -> None:
        event = {"Records": [_sqs_record(message, arn) for message in messages]}
        try:
            response = self.host.invoke(mapping.function, event, environment=environment)
            failed_ids = {f["itemIdentifier"] for f in (response or {}).get("batchItemFailures", [])}
            if not mapping.report_batch_item_failures and failed_ids:
                failed_ids = {m["MessageId"] for m in messages}  # without the setting Lambda retries the whole batch
        except KeyboardInterrupt:
            raise
        except BaseException:  # noqa: BLE001 - a failed or crashed invocation returns the whole batch, as in Lambda
            failed_ids = {m["MessageId"] for m in messages}
        with lock:
            result.invocations += 1
            result.delivered += len(messages)
            result.batch_item_failures += len(failed_ids)
        for message in messages:
            if message["MessageId"] in failed_ids:
                # Back on the queue after a (shortened) visibility timeout; SQS counts the next receive.
                self.aws.sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                self.aws.sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if failed_ids and self.retry_delay:
            time.sleep(self.retry_delay)

    # -- dead letters -------------------------------------------------------------------------------
    def _dead_letter_queue(self, sync: str) -> tuple[str, str] | None:
        """(work queue URL, dead-letter queue URL) of a sync."""
        mapping = self.queue_mapping(sync)
        if mapping is None:
            return None
        redrive = self.stack.resources[mapping.queue]["Properties"]["RedrivePolicy"]
        dlq = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
        return self.aws.queue_url(mapping.queue), self.aws.queue_url(dlq)

    def redrive(self, sync: str) -> int:
        """Move every dead letter of a sync back to its work queue (after a fix), as SQS's DLQ redrive does."""
        queues = self._dead_letter_queue(sync)
        if queues is None:
            return 0
        work, dead = queues
        moved = 0
        while True:
            messages = self.aws.sqs.receive_message(QueueUrl=dead, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                return moved
            for message in messages:
                self.aws.sqs.send_message(QueueUrl=work, MessageBody=message["Body"])
                self.aws.sqs.delete_message(QueueUrl=dead, ReceiptHandle=message["ReceiptHandle"])
                moved += 1

    def dead_letters(self, sync: str) -> list[deadletters.Letter]:
        """What waits in a sync's dead-letter queue, with the reason the worker gave (or SQS's redrive)."""
        queues = self._dead_letter_queue(sync)
        return [] if queues is None else deadletters.read(self.aws.sqs, queues[1], sync)


def _sqs_record(message: dict[str, Any], arn: str) -> dict[str, Any]:
    attributes = message.get("Attributes", {})
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": {
            "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
            "SentTimestamp": attributes.get("SentTimestamp", "0"),
            "SenderId": attributes.get("SenderId", "local"),
            "ApproximateFirstReceiveTimestamp": attributes.get("ApproximateFirstReceiveTimestamp", "0"),
        },
        "messageAttributes": {
            name: {"stringValue": value.get("StringValue"), "dataType": value.get("DataType", "String")}
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": REGION,
    }
