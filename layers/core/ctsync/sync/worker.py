"""The worker: applies one work message, counts what happened, and routes failures.

Failure routing, the part operators live with:
- `NeedsAttention` (bad input, a missing mapping, a validation error): retrying cannot help, so the message
  goes to the dead-letter queue at once with its reason and cause key, the cause records it, and the rest of
  the batch goes on;
- a **systemic** failure (credentials, a permission, the configuration; or the other system down, seen as a
  record that used up its client retries) would meet every record: the sync's breaker opens, the failure is
  one cause, one ERROR line and one `SystemicFailure` metric, and the rest of the batch (and of the sync's
  batches while the breaker is open) is not tried: dead-lettered with that cause when a person must act (one
  redrive brings it all back), put back on the queue for later during an outage;
- anything else (throttling, timeouts, 5xx, contention, a bug) returns the message to the queue, until it has
  really run `MaxReceiveCount` times, when it is dead-lettered with the last error as the reason;
- a message not started (no time left in the invocation, or the breaker open during an outage) is put back
  on the queue as a new message carrying how often it really ran, so waiting never uses up its attempts; so
  is one whose requests were refused for load until the client's retries ran out (`TransientError.throttled`):
  the other system never ran them, and a sheet of many bills under a full NetSuite concurrency limit would
  otherwise use up its attempts on other integrations' load. A 5xx outage still uses the attempt, since a
  record can cause one (a script failing on it), and it must end in the dead-letter queue, not pause the sync
  day after day.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aws_lambda_powertools.utilities.parser import parse
from pydantic import ValidationError

from ctsync.errors import BadInput, NeedsAttention, cause_part
from ctsync.observability import count, logger
from ctsync.state import Breaker, Failure, Mapping, MappingStore, ProgressStore, RunLog
from ctsync.state.runlog import RECORDED
from ctsync.sync import record_ids
from ctsync.sync.definition import SyncDefinition
from ctsync.sync.messages import Change, Outcome, WorkMessage, first_error
from ctsync.sync.queues import Carried, DeadLetterQueue, WorkQueue, whole_characters
from ctsync.timeutil import utc_now

GAVE_UP = "GAVE_UP"
SYSTEMIC = "SYSTEMIC"
BREAKER_SECONDS = 300  # how long a systemic cause pauses the sync before one record tries again (default)
MAX_DEFERRALS = 300  # about a day of five-minute pauses: then the record is dead-lettered with the cause
BREAKER_READ_SECONDS = 10.0


@dataclass(frozen=True)
class Delivery:
    """One SQS record as the worker needs it."""

    body: str
    message_id: str
    receive_count: int
    carried: Carried = field(default_factory=Carried)

    @property
    def runs_before(self) -> int:
        """How often this message really ran before this delivery (every earlier receive of this copy did)."""
        return self.carried.attempts + max(0, self.receive_count - 1)


@dataclass
class Batch:
    """What one invocation's batch shares: the breaker as it stood, and the counts to add to the run log. The
    records of a batch may be in progress at once (`SyncDefinition.records_at_once`, each in a thread): the counts
    change under a lock."""

    breaker: Breaker | None
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    applied: int = 0
    went_through: set[str] = field(default_factory=set)  # source IDs the applier created, updated or found held
    reported: set[tuple[str, str]] = field(default_factory=set)  # (source ID, cause key) of its failures and flags
    # The mappings of the batch's records as they stood when it began (one read for the whole batch).
    mappings: dict[str, Mapping] = field(default_factory=dict)
    runs: frozenset[str] = frozenset()  # the runs its well-formed messages belong to
    # Run ID -> whether a later run may have read the source since (`ProgressStore.read_since`), read once a batch
    read_since: dict[str, bool] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, run_id: str, outcome: str, *, applied: bool = False, source_id: str = "") -> None:
        with self._lock:
            self.counts.setdefault(run_id, Counter())[outcome] += 1
            self.applied += applied
            if source_id and outcome in WENT_THROUGH:
                self.went_through.add(source_id)


_batch: ContextVar[Batch | None] = ContextVar("ctns_worker_batch", default=None)
WENT_THROUGH = ("created", "updated", "unchanged")  # an applier's outcomes after which no cause holds the record


class Worker:
    def __init__(
        self,
        definition: SyncDefinition,
        runlog: RunLog,
        mappings: MappingStore,
        progress: ProgressStore,
        work_queue: WorkQueue,
        dead_letters: DeadLetterQueue,
        max_receive_count: int,
        *,
        pause_seconds: int = BREAKER_SECONDS,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._definition = definition
        self._runlog = runlog
        self._mappings = mappings
        self._progress = progress
        self._work_queue = work_queue
        self._dead_letters = dead_letters
        self._max_runs = max_receive_count
        self._pause = pause_seconds
        self._clock = clock
        self._breaker_read: tuple[float, Breaker | None] | None = None

    @property
    def sync(self) -> str:
        return self._definition.name

    @property
    def records_at_once(self) -> int:
        """Records of a batch this sync's worker may have in progress at once (see `SyncDefinition`)."""
        return max(1, self._definition.records_at_once)

    # -- a batch ----------------------------------------------------------------------------------
    def begin(self, bodies: Iterable[str] = ()) -> Batch:
        """A batch starts with the sync's breaker as it stands, and the mappings of the records its message
        `bodies` carry (one BatchGetItem), so a record whose target already holds it costs nothing more.
        While no pause is in force the breaker is read at most every few seconds per execution environment
        (reading it for every batch of ten would cost a read per batch)."""
        now = time.monotonic()
        cached = self._breaker_read
        # Only "no pause" is taken from the cache: a pause is read again, since an operator may have lifted it
        # (`ctns redrive` after a fix) and its records must not be held back on a stale copy.
        if cached is None or cached[1] is not None or now - cached[0] > BREAKER_READ_SECONDS:
            self._breaker_read = (now, self._progress.breaker(self.sync))
        messages = [m for m in map(_message_of, bodies) if m is not None]
        judged = [m.source_id for m in messages if m.op == "upsert" and m.fingerprint]
        held = self._mappings.get_many(self._definition.mapping_kind, judged) if judged else {}
        return Batch(breaker=self._breaker_read[1], mappings=held, runs=frozenset(m.run_id for m in messages))

    def finish(self, batch: Batch) -> None:
        """Add the batch's counts to their runs (one update per run), let the records that went through leave
        their causes, and close a breaker the batch got past."""
        for run_id, counts in batch.counts.items():
            self._runlog.add_counts(run_id, counts)
        if batch.went_through:
            self._leave_causes(batch.went_through, batch.reported)
        if batch.breaker and batch.applied and batch.breaker.until <= self._clock():
            self._progress.close_breaker(self.sync)
            self._breaker_read = (time.monotonic(), None)
            logger.info(f"{self.sync}: records go through again; the pause for {batch.breaker.cause_key} is over")

    def _leave_causes(self, went_through: set[str], reported: set[tuple[str, str]]) -> None:
        """Records that went through (a fix in the source, a retry that passed) leave the open causes that kept them
        from going through (dead-lettered them), and a cause left naming none is closed (`RunLog.unblock`): one
        read of the sync's open causes per batch. A flag stays: a cause that named the record while it went through
        (an amount rounded, a receipt refused, a bill NetSuite must not change) still holds, and so does one the
        batch reported the record under again."""
        for cause in self._runlog.causes(self.sync):
            for source_id in sorted(went_through & set(cause.held)):
                if (source_id, cause.key) in reported:
                    continue
                self._runlog.unblock(self.sync, cause.key, source_id)
                logger.info(
                    f"{self.sync} {source_id}: went through; no longer held by cause {cause.key}",
                    extra={**self._definition.ids(source_id, None), "cause_key": cause.key},
                )

    # -- one message --------------------------------------------------------------------------------
    def apply(self, message: WorkMessage) -> Outcome:
        """The work itself. Counted only once it has succeeded, so a replay of a finished message adds nothing."""
        if message.sync != self.sync:
            raise BadInput(
                f"message for sync {message.sync!r} reached the {self.sync!r} worker", field="sync", value=message.sync
            )
        recheck = self._definition.recheck
        if message.op == "check" and recheck is None:
            raise BadInput(f"the {self.sync!r} sync looks at no target again", field="op", value=message.op)
        outcome = recheck(message) if message.op == "check" and recheck else self._definition.applier.apply(message)
        batch = _batch.get()
        if batch is not None:
            # A look at a record listed after a write of unknown outcome went through only when it applied the
            # record whole (`Outcome.whole`: soak 45005, a timesheet given up on and exported by a look stayed held)
            through = message.op != "check" or outcome.whole
            batch.add(message.run_id, outcome.action, applied=True, source_id=message.source_id if through else "")
        count(outcome.action.capitalize())
        logger.info(
            f"{self.sync} {message.source_id}: {outcome.action}",
            extra={**self._definition.ids(message.source_id, outcome.target_id), "detail": outcome.detail},
        )
        return outcome

    def handle(
        self,
        delivery: Delivery,
        batch: Batch,
        run: Callable[[WorkMessage], Outcome],
        time_left: Callable[[], bool] = lambda: True,
    ) -> Outcome | None:
        """Parse, run (through the caller's idempotency guard) and route any failure.

        Returns normally when the message is done with (applied, dead-lettered with a reason, or put back as a
        new message); raises when it should go back to the queue for another attempt, or when its dead letter
        could not be sent (the failure recorded and logged all the same). The failures and flags recorded
        meanwhile are the batch's (`Batch.reported`), whatever else runs beside it.
        """
        token = RECORDED.set(batch.reported)
        try:
            with record_ids.noting():  # the IDs its applier comes to know, named on each line about the record
                return self._handle(delivery, batch, run, time_left)
        finally:
            RECORDED.reset(token)

    def _handle(
        self,
        delivery: Delivery,
        batch: Batch,
        run: Callable[[WorkMessage], Outcome],
        time_left: Callable[[], bool],
    ) -> Outcome | None:
        try:
            message = parse(event=delivery.body, model=WorkMessage)
        except ValidationError as error:
            self._dead_letter(delivery, None, BadInput(f"malformed work message: {first_error(error)}"), batch)
            return None
        logger.thread_safe_append_keys(run_id=message.run_id, source_id=message.source_id)
        try:
            if message.op == "upsert" and self._definition.holds(
                _change(message), batch.mappings.get(message.source_id)
            ):
                # Already applied (a redelivery, or queued by two runs): nothing to do, nothing to lock, unless
                # what holds it back is a cause still open (redriven before the fix): reported with it again.
                held = batch.mappings[message.source_id]
                waiting = self._definition.waits(held) if self._definition.waits else None
                if waiting is not None:
                    raise waiting
                return self._unchanged(message, held, batch)
            paused = batch.breaker if batch.breaker and batch.breaker.until > self._clock() else None
            if paused and paused.kind == "needs_attention":
                self._dead_letter(delivery, message, _not_tried(paused), batch, systemic=True)
                return None
            if paused:
                self._put_back(delivery, message, batch, paused.reason, (paused.until - self._clock()).total_seconds())
                return None
            if not time_left():
                self._put_back(delivery, message, batch, "not enough time left in this invocation", 0)
                return None
            superseded = self._superseded(message, batch)
            if superseded is not None:
                return self._skipped(message, batch, superseded)
            token = _batch.set(batch)
            try:
                return run(message)
            finally:
                _batch.reset(token)
        except NeedsAttention as error:
            try:
                self._dead_letter(delivery, message, error, batch, systemic=error.systemic)
            finally:  # a dead letter SQS refused returns this record to the queue; the rest still wait
                if error.systemic:
                    self._open_breaker(batch, error, "needs_attention")
            return None
        except Exception as error:
            if getattr(error, "systemic", False) and getattr(error, "throttled", False):
                self._open_breaker(batch, error, "outage")
                why = getattr(error, "message", None) or str(error)
                self._put_back(delivery, message, batch, f"refused for load: {why}", self._pause, started=True)
                return None
            runs = delivery.runs_before + 1
            if runs >= self._max_runs:
                self._dead_letter(delivery, message, error, batch, gave_up=runs)
                return None
            batch.add(message.run_id, "retried")
            count("Retried")
            self._note_parts(message.source_id)
            logger.warning(
                f"{self.sync} {message.source_id}: will be retried ({type(error).__name__}: {error})",
                extra={
                    **self._definition.ids(message.source_id, self._target_of(message)),
                    "attempt": runs,
                    "max_attempts": self._max_runs,
                    "cause_key": getattr(error, "cause_key", ""),
                },
            )
            if getattr(error, "systemic", False):
                self._open_breaker(batch, error, "outage")
            raise
        finally:
            logger.thread_safe_remove_keys(["source_id"])

    def _unchanged(self, message: WorkMessage, mapping: Mapping, batch: Batch) -> Outcome:
        outcome = Outcome("unchanged", mapping.target_id or None, "the target already holds this snapshot")
        batch.add(message.run_id, outcome.action)
        count("Unchanged")
        self._note_parts(message.source_id)
        logger.info(
            f"{self.sync} {message.source_id}: {outcome.action}",
            extra={**self._definition.ids(message.source_id, outcome.target_id), "detail": outcome.detail},
        )
        return outcome

    def _superseded(self, message: WorkMessage, batch: Batch) -> str | None:
        """Why a message that would change what its target holds (or what a skip marker judged) is no longer the
        source's record, or None. Asked only where a later run may have read the record since the message's run
        (`ProgressStore.read_since`, one read a batch): finding the target holding the record's newer state, that
        run queued nothing (a record brought back to an earlier value: P-A, P-B, P-A; a task made inactive before
        its first message came), and the version fence, still at the first P-A's, would let the late P-B through
        for good. The source is read then (`SyncDefinition.current`); the message is applied when the source still
        holds its snapshot, or nothing newer."""
        current_of = self._definition.current
        if current_of is None or message.op != "upsert" or not message.fingerprint or message.judged_by_worker:
            return None
        known = batch.mappings.get(message.source_id)
        if known is None or known.fingerprint == message.fingerprint:
            return None  # never judged (its first message), or the snapshot the target holds: nothing to undo
        with batch._lock:
            later = batch.read_since.get(message.run_id)
        if later is None:
            later = self._progress.read_since(self.sync, self._definition.source.phases, message.run_id)
            with batch._lock:
                batch.read_since[message.run_id] = later
        if not later:
            return None
        current = current_of(message.source_id)
        if current is None or current.fingerprint == message.fingerprint or current.version <= message.version:
            return None
        return (
            f"stale: a later run read the record at {current.version.isoformat()} holding another snapshot than this "
            f"message's of {message.version.isoformat()}"
        )

    def _skipped(self, message: WorkMessage, batch: Batch, detail: str) -> Outcome:
        outcome = Outcome("skipped", None, detail)
        batch.add(message.run_id, outcome.action, applied=True)
        count("Skipped")
        logger.info(
            f"{self.sync} {message.source_id}: {outcome.action}",
            extra={**self._definition.ids(message.source_id, None), "detail": detail},
        )
        return outcome

    # -- routing ------------------------------------------------------------------------------------
    def _put_back(
        self, delivery: Delivery, message: WorkMessage, batch: Batch, why: str, delay: float, *, started: bool = False
    ) -> None:
        carried = Carried(attempts=delivery.runs_before, deferrals=delivery.carried.deferrals + 1)
        if carried.deferrals > MAX_DEFERRALS:
            error = NeedsAttention(
                f"put back {MAX_DEFERRALS} times without a run counted: {why}",
                code="DEFERRED_TOO_LONG",
                cause="deferred-too-long",
            )
            self._dead_letter(delivery, message, error, batch)
            return
        # SQS delays are whole seconds: rounded down, a pause ending within one would hand the record straight back
        delay_seconds = math.ceil(max(0.0, delay))
        self._work_queue.put_back(delivery.body, carried, delay_seconds=delay_seconds)
        batch.add(message.run_id, "deferred")
        count("Deferred")
        logger.info(
            f"{self.sync} {message.source_id}: put back on the queue "
            f"{'without counting the run' if started else 'without running'} ({why})",
            extra={
                **self._definition.ids(message.source_id, None),
                "delay_s": delay_seconds,
                "runs_before": carried.attempts,
            },
        )

    def _open_breaker(self, batch: Batch, error: Exception, kind: str) -> None:
        now = self._clock()
        breaker = Breaker(
            cause_key=getattr(error, "cause_key", "") or cause_part(type(error).__name__),
            kind=kind,  # type: ignore[arg-type]
            reason=getattr(error, "message", None) or str(error),
            until=now + timedelta(seconds=self._pause),
            opened_at=now,
            fix=getattr(error, "fix", "") or "",
        )
        batch.breaker = breaker
        self._breaker_read = (time.monotonic(), breaker)
        if self._progress.open_breaker(self.sync, breaker):
            count("SystemicFailure")
            logger.error(
                f"{self.sync}: paused for {self._pause} s, every record would fail: {breaker.reason}",
                extra={"failure_kind": SYSTEMIC, "cause_key": breaker.cause_key, "pause_kind": kind},
            )

    def _dead_letter(
        self,
        delivery: Delivery,
        message: WorkMessage | None,
        error: Exception,
        batch: Batch,
        *,
        gave_up: int = 0,
        systemic: bool = False,
    ) -> None:
        # Half an emoji in a message the other system echoed would cost the ERROR line and the run log's record.
        reason = whole_characters(getattr(error, "message", None) or str(error) or type(error).__name__)
        cause = getattr(error, "cause_key", "") or cause_part(type(error).__name__)
        if gave_up:
            reason = f"gave up after {gave_up} attempts: {type(error).__name__}: {reason}"
            cause = f"gave-up:{cause}"
        failure = Failure(
            sync=self.sync,
            source_id=message.source_id if message else "unknown",
            target_id=self._target_of(message),
            kind=GAVE_UP if gave_up else (SYSTEMIC if systemic else getattr(error, "code", "ERROR")),
            reason=reason,
            cause_key=cause,
            fix=getattr(error, "fix", ""),
            dead_lettered=True,
            not_tried=isinstance(error, NotTried),
        )
        try:
            self._dead_letters.send(delivery.body, failure, receive_count=delivery.receive_count)
            unsent = None
        except Exception as refused:  # noqa: BLE001 - raised below, once the failure is recorded and logged
            unsent = refused
        if message is not None:
            self._note_parts(message.source_id)
        ids = self._definition.ids(failure.source_id, failure.target_id)
        extra = {**ids, "failure_kind": failure.kind, "cause_key": cause, "failure_reason": reason}
        try:
            if message is not None and not self._runlog.dead_lettered_in(message.run_id, failure.source_id):
                batch.add(message.run_id, "failed")
            self._runlog.record_failure(message.run_id if message else None, failure)
            # A record blocked by several causes (an unmapped employee and a closed period) is listed under each.
            for key, text, fix in list(getattr(error, "causes", lambda: [])())[1:]:
                update = {"cause_key": key, "reason": text, "fix": fix}
                self._runlog.record_failure(None, failure.model_copy(update=update))
            count("Failed")
        finally:  # the ERROR line names the failure even when the run log or the dead-letter queue is out of reach
            if unsent is not None:
                # Returned to the queue: SQS delivers it again, and redrives it (without a reason) in the end.
                logger.error(
                    f"{self.sync} {failure.source_id}: not dead-lettered ({type(unsent).__name__}: {unsent}), "
                    f"left on the queue: {reason}",
                    extra=extra,
                )
            elif systemic:
                # The breaker's one ERROR line speaks for a systemic cause; each record it holds back is still
                # findable by its IDs at WARNING.
                logger.warning(f"{self.sync} {failure.source_id}: dead-lettered: {reason}", extra=extra)
            else:
                logger.error(f"{self.sync} {failure.source_id}: dead-lettered: {reason}", extra=extra)
        if unsent is not None:
            raise unsent

    def _target_of(self, message: WorkMessage | None) -> str | None:
        """The other system's ID, when the record was synced before: failures name both IDs. None when its
        mapping names no record there (a placeholder, or a `kind:id` form such as a timesheet's employee)."""
        if message is None:
            return None
        try:
            mapping = self._mappings.get(self._definition.mapping_kind, message.source_id)
        except Exception:  # noqa: BLE001 - reporting a failure must not fail on a lookup
            return None
        if mapping is None or not mapping.names_a_target or not record_ids.is_record_id(mapping.target_id):
            return None
        return mapping.target_id

    def _note_parts(self, source_id: str) -> None:
        """For a sync whose records have parts (a timesheet's entries and bills), the parts' IDs from their
        mappings, when the applier noted none (the record was not run, or failed before it knew them): a line
        about the record names them all the same."""
        noted = record_ids.current()
        if not self._definition.parts or noted is None or noted:
            return
        try:
            record_ids.note_mappings(self._mappings.children(self._definition.mapping_kind, source_id))
        except Exception:  # noqa: BLE001 - naming IDs on a log line must not fail the record
            return


class NotTried(NeedsAttention):
    """A record dead-lettered without being tried, under a pause a systemic failure opened: reported under its cause
    (with its fix) without taking the place of the failure that opened it as the cause's reason."""


def _not_tried(breaker: Breaker) -> NeedsAttention:
    return NotTried(
        f"not tried: the sync is paused until {breaker.until.isoformat()} because {breaker.reason}",
        code=SYSTEMIC,
        cause=breaker.cause_key,
        systemic=True,
        fix=breaker.fix or None,
    )


def _message_of(body: str) -> WorkMessage | None:
    """The message a body carries, or None (a body `handle` will dead-letter as malformed)."""
    try:
        return WorkMessage.model_validate_json(body)
    except ValidationError:
        return None


def _change(message: WorkMessage) -> Change:
    return Change(
        source_id=message.source_id,
        version=message.version,
        op=message.op,
        snapshot=message.snapshot,
        fingerprint=message.fingerprint,
        judged_by_worker=message.judged_by_worker,
    )
