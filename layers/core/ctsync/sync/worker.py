"""The worker: applies one work message, counts what happened, and routes failures.

Failure routing, the part operators live with:
- `NeedsAttention` (bad input, a missing mapping, a permission, a validation error): retrying cannot help,
  so the message goes to the dead-letter queue at once with its reason, the run log records it, and the
  rest of the batch goes on;
- anything else (throttling, timeouts, 5xx, contention, a bug): the message is returned to the queue to be
  tried again, until its last allowed receive, when it is dead-lettered with the last error as the reason.
"""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.utilities.parser import parse
from pydantic import ValidationError

from ctsync.errors import BadInput, NeedsAttention
from ctsync.observability import count, logger
from ctsync.state import Failure, MappingStore, RunLog
from ctsync.sync.definition import SyncDefinition
from ctsync.sync.messages import Outcome, WorkMessage
from ctsync.sync.queues import DeadLetterQueue

GAVE_UP = "GAVE_UP"


class Worker:
    def __init__(
        self,
        definition: SyncDefinition,
        runlog: RunLog,
        mappings: MappingStore,
        dead_letters: DeadLetterQueue,
        max_receive_count: int,
    ) -> None:
        self._definition = definition
        self._runlog = runlog
        self._mappings = mappings
        self._dead_letters = dead_letters
        self._max_receives = max_receive_count

    @property
    def sync(self) -> str:
        return self._definition.name

    def apply(self, message: WorkMessage) -> Outcome:
        """The work itself. Counted only once it has succeeded, so a replay of a finished message adds nothing."""
        if message.sync != self.sync:
            raise BadInput(
                f"message for sync {message.sync!r} reached the {self.sync!r} worker", field="sync", value=message.sync
            )
        outcome = self._definition.applier.apply(message)
        self._runlog.count(message.run_id, outcome.action)
        count(outcome.action.capitalize())
        logger.info(
            f"{self.sync} {message.source_id}: {outcome.action}",
            extra={**self._definition.ids(message.source_id, outcome.target_id), "detail": outcome.detail},
        )
        return outcome

    def handle(self, body: str, receive_count: int, run: Callable[[WorkMessage], Outcome]) -> Outcome | None:
        """Parse, run (through the caller's idempotency guard) and route any failure.

        Returns normally when the message is done with (applied, or dead-lettered with a reason); raises when it
        should go back to the queue for another attempt.
        """
        try:
            message = parse(event=body, model=WorkMessage)
        except ValidationError as error:
            self._dead_letter(body, None, BadInput(f"malformed work message: {_first_error(error)}"), receive_count)
            return None
        logger.thread_safe_append_keys(run_id=message.run_id, source_id=message.source_id)
        try:
            return run(message)
        except NeedsAttention as error:
            self._dead_letter(body, message, error, receive_count)
            return None
        except Exception as error:
            if receive_count >= self._max_receives:
                self._dead_letter(body, message, error, receive_count, gave_up=True)
                return None
            self._runlog.count(message.run_id, "retried")
            count("Retried")
            logger.warning(
                f"{self.sync} {message.source_id}: will be retried ({type(error).__name__}: {error})",
                extra={
                    **self._definition.ids(message.source_id, self._target_of(message)),
                    "receive_count": receive_count,
                    "max_receive_count": self._max_receives,
                },
            )
            raise
        finally:
            logger.thread_safe_remove_keys(["source_id"])

    def _dead_letter(
        self,
        body: str,
        message: WorkMessage | None,
        error: Exception,
        receive_count: int,
        *,
        gave_up: bool = False,
    ) -> None:
        reason = getattr(error, "message", None) or str(error) or type(error).__name__
        if gave_up:
            reason = f"gave up after {receive_count} attempts: {type(error).__name__}: {reason}"
        failure = Failure(
            sync=self.sync,
            source_id=message.source_id if message else "unknown",
            target_id=self._target_of(message),
            kind=GAVE_UP if gave_up else getattr(error, "code", "ERROR"),
            reason=reason,
        )
        self._dead_letters.send(body, failure, receive_count=receive_count)
        if message is not None:
            self._runlog.count(message.run_id, "failed")
            self._runlog.record_failure(message.run_id, failure)
        count("Failed")
        logger.error(
            f"{self.sync} {failure.source_id}: dead-lettered: {reason}",
            extra={**self._definition.ids(failure.source_id, failure.target_id), "failure_kind": failure.kind},
        )

    def _target_of(self, message: WorkMessage | None) -> str | None:
        """The other system's ID, when the record was synced before: failures name both IDs."""
        if message is None:
            return None
        try:
            mapping = self._mappings.get(self._definition.mapping_kind, message.source_id)
        except Exception:  # noqa: BLE001 - reporting a failure must not fail on a lookup
            return None
        return mapping.target_id if mapping else None


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    return f"{where}: {first.get('msg')}" if where else str(first.get("msg"))
