"""Lambda events in, core calls out: what the handlers in `functions/` delegate to.

The handler files keep the Powertools decorators (so what runs in Lambda reads like the Powertools
examples); the adaptation of an event to the core lives here so it is tested without Lambda.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    BatchProcessor,
    async_process_partial_response,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ctsync import runtime as runtime_module
from ctsync.errors import ConfigurationError
from ctsync.observability import bind_sync, logger
from ctsync.records.window import sharing_slots
from ctsync.state import PollFailure
from ctsync.sync.messages import PollRequest, PollResult, WorkMessage
from ctsync.sync.queues import Carried
from ctsync.sync.registry import PLANNED
from ctsync.sync.worker import Delivery
from ctsync.timeutil import utc_now


def poll(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Run (or continue) a sync's poll. Any failure is one ERROR line naming the sync, the run, the kind of
    failure and its reason, then raised, so the scheduler's retries and the poller's dead letters still apply."""
    sync = str(event.get("sync", "?")) if isinstance(event, dict) else "?"
    try:
        request = PollRequest.model_validate(event)
        bind_sync(request.sync)
        runtime = runtime_module.current()
        runtime.references.new_invocation()
        if request.sync != runtime.env.SYNC_NAME:
            raise ConfigurationError(f"schedule sent sync {request.sync!r} to the {runtime.env.SYNC_NAME!r} poller")
        if request.sync in PLANNED:
            logger.warning("This sync is wired but not implemented in this version; nothing to do")
            return PollResult(sync=request.sync, status="skipped", reason="not implemented in this version").model_dump(
                mode="json"
            )
        continuation = runtime_module.lambda_continuation(context.invoked_function_arn)
        result = runtime.poller(continuation).run(request, context.get_remaining_time_in_millis)
        return result.model_dump(mode="json")
    except Exception as error:
        reason, kind, run_id = _log_failure(f"{sync} poller", sync, error)
        _keep_for_status(
            PollFailure(at=utc_now(), reason=f"{sync} poller failed: {reason}", kind=str(kind), run_id=run_id)
        )
        raise


def _log_failure(who: str, sync: str, error: Exception) -> tuple[str, str, str | None]:
    """One ERROR line for a function's invocation failed as a whole (what the runbook's `"level":"ERROR"` search
    and the failures query find; Lambda's own traceback is plain text): (reason, kind, run_id)."""
    reason = getattr(error, "message", None) or str(error) or type(error).__name__
    kind = str(getattr(error, "code", type(error).__name__))
    run_id = logger.get_current_keys().get("run_id")
    logger.error(
        f"{who} failed: {reason}",
        extra={
            "sync": sync,
            "run_id": run_id,
            "failure_kind": kind,
            "cause_key": getattr(error, "cause_key", ""),
            "failure_reason": reason,
        },
    )
    return reason, kind, run_id


def _keep_for_status(failure: PollFailure) -> None:
    """Keep the failure where `ctns status` reads it, under this function's own sync (the event's may be wrong).
    Best effort: what failed may be the environment or DynamoDB itself, and the ERROR line above says it all."""
    try:
        runtime = runtime_module.current()
        runtime.progress.note_poll_failure(runtime.env.SYNC_NAME, failure)
    except Exception as error:  # noqa: BLE001 - the poller's own failure is what is raised
        logger.warning(f"the poller's failure is not kept for ctns status: {type(error).__name__}")


# A record is not started with less than this share of the invocation's time left: one record can take a
# while when the APIs throttle (client retries with backoff), and a timeout would return the whole batch,
# finished records included. With the template's 300 s that is the last minute.
RESERVED_SHARE = 0.2


def work(event: dict[str, Any], context: LambdaContext, processor: BatchProcessor) -> dict[str, Any]:
    """Apply a batch of work messages (`Worker.handle` routes each record's failure). A failure of the invocation
    as a whole (the function's environment, DynamoDB out of reach) is one ERROR line, then raised: the batch
    returns to the queue."""
    try:
        return _work(event, context, processor)
    except Exception as error:
        sync = os.environ.get("SYNC_NAME", "?")  # the runtime itself may be what failed
        _log_failure(f"{sync} worker invocation", sync, error)
        raise


def _work(event: dict[str, Any], context: LambdaContext, processor: BatchProcessor) -> dict[str, Any]:
    runtime = runtime_module.current()
    bind_sync(runtime.env.SYNC_NAME)
    runtime.idempotency.register_lambda_context(context)
    refused: ConfigurationError | None = None
    try:
        worker = runtime.worker
    except ConfigurationError as unusable:
        refused, worker = unusable, runtime.refusing_worker(unusable)
    reserve_ms = context.get_remaining_time_in_millis() * RESERVED_SHARE
    batch = worker.begin(str(record.get("body", "")) for record in event.get("Records", []))
    runtime.references.new_invocation(runs=batch.runs)

    def apply(message_id: str, message: WorkMessage) -> Any:
        if refused is not None:
            return worker.apply(message)  # raises why the sync cannot be built; nothing to keep idempotent
        return runtime.apply_once(work={"message_id": message_id, "message": message.model_dump(mode="json")})

    def record_handler(record: SQSRecord) -> dict[str, Any] | None:
        delivery = Delivery(
            body=record.body,
            message_id=record.message_id,
            receive_count=int(record.attributes.approximate_receive_count or 1),
            carried=Carried.from_attributes(record.raw_event.get("messageAttributes") or {}),
        )
        return worker.handle(
            delivery,
            batch,
            run=lambda message: apply(record.message_id, message),
            time_left=lambda: context.get_remaining_time_in_millis() >= reserve_ms,
        )

    try:
        return process_batch(event, context, processor, record_handler, at_once=worker.records_at_once)
    finally:
        worker.finish(batch)


def process_batch(
    event: dict[str, Any],
    context: LambdaContext,
    processor: BatchProcessor,
    record_handler: Callable[[SQSRecord], Any],
    *,
    at_once: int = 1,
) -> dict[str, Any]:
    """The batch's records through Powertools' partial batch response: one after another, or up to `at_once` in
    progress at once (`SyncDefinition.records_at_once`), so one record's writes overlap the next one's reads.

    At once, it is Powertools' `AsyncBatchProcessor` (the same per-record success or failure, hence the same
    batchItemFailures) with the synchronous handler run in a pool of `at_once` threads, each record in a copy
    of the invocation's context (its log keys, the invocation's shared write slots) started in the batch's order.
    """
    with sharing_slots():
        if at_once <= 1:
            return process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )
        pool = ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="ctns-record")

        async def handle(record: SQSRecord) -> Any:
            call = contextvars.copy_context().run
            return await asyncio.get_running_loop().run_in_executor(pool, call, record_handler, record)

        overlapping = AsyncBatchProcessor(
            event_type=processor.event_type,
            model=processor.model,
            raise_on_entire_batch_failure=processor.raise_on_entire_batch_failure,
            logger=processor.logger,
        )
        try:
            return async_process_partial_response(
                event=event, record_handler=handle, processor=overlapping, context=context
            )
        finally:
            pool.shutdown(wait=True)
