"""The poller: reads what changed since each phase's watermark and enqueues one message per record.

Rules that keep it from losing or doubling work:
- one invocation at a time per sync (a lease; a continuation is handed the lease explicitly);
- each phase's window starts at its last watermark minus the sync's overlap (or, on a first run, the sync's
  first-run start), so a record changed while the previous run was reading is read again (the worker makes
  the repeat harmless);
- the window ends at the source's own "now" when the run starts (`ChangeSource.window_end`), and a phase's
  watermark moves there only once the phase has been read in full: a phase that fails (a missing
  permission, say) keeps its watermark and is one cause, while the other phases' work goes on; such a run is
  "partial" and is not counted as completed (`RunCompleted`, what the overdue alarm watches);
- the cursor is saved after every batch that queued work (and at a hand-over): near the time limit the run
  hands over to a fresh invocation, and a run that died is resumed from its cursor by the next one (batches
  that queued nothing are read again, harmlessly);
- a run is written to the run log before its first message is queued; a run that queues nothing (a quiet
  night) costs three DynamoDB calls beyond its mapping reads: the lease, one read of its cursor and
  watermarks (and the lists of records to look at again, `SyncDefinition.checked_kinds`), and one transaction
  that moves the watermarks, logs the run, and clears cursor and lease;
- at its end a run queues a second look (`op="check"`) at each record a write of unknown outcome left
  unsettled, so a late request that undid a newer write is written over by the next run;
- a change whose target already holds it (the mapping's fingerprint) is not queued at all, and a target
  that already carries the source's ID is adopted before any change could create a twin.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from ctsync.config import WindowSettings
from ctsync.errors import NeedsAttention
from ctsync.observability import count, logger
from ctsync.state import Cursor, Failure, MappingStore, ProgressStore, RunEnd, RunLog
from ctsync.state.runlog import phase_source_id
from ctsync.sync.definition import ADOPT, SyncDefinition, Window, start_margin
from ctsync.sync.messages import Change, PollRequest, PollResult, WorkMessage
from ctsync.sync.queues import WorkQueue
from ctsync.timeutil import utc_now

Continuation = Callable[[PollRequest], None]


class Poller:
    def __init__(
        self,
        definition: SyncDefinition,
        progress: ProgressStore,
        runlog: RunLog,
        mappings: MappingStore,
        queue: WorkQueue,
        windows: WindowSettings,
        continuation: Continuation,
    ) -> None:
        self._definition = definition
        self._sync = definition.name
        self._source = definition.source
        self._progress = progress
        self._runlog = runlog
        self._mappings = mappings
        self._queue = queue
        self._windows = windows
        self._continue = continuation
        self._unsettled: dict[str, list[str]] = {}  # kind -> records listed for a second look, read with the run

    def run(self, request: PollRequest, remaining_ms: Callable[[], int]) -> PollResult:
        token = uuid.uuid4().hex
        if not self._progress.acquire_lease(
            self._sync, token, self._windows.lease_seconds, handed_over_by=request.lease_token
        ):
            logger.warning(
                "Another invocation holds the lease; this run is skipped",
                extra={"lease_holder": self._progress.lease_holder(self._sync)},
            )
            return PollResult(sync=self._sync, status="skipped", reason="another run of this sync is in progress")
        try:
            listings = [self._mappings.unsettled_key(kind) for kind in self._definition.checked_kinds]
            cursor, marks, listed, reset = self._progress.run_state(self._sync, self._source.phases, also=listings)
            self._unsettled = self._mappings.unsettled_in(listed)
            cursor = cursor or self._open_window(marks, reset)
            logger.append_keys(run_id=cursor.run_id)
            return self._drain(cursor, token, remaining_ms)
        except BaseException:
            # The cursor stays, so the next invocation resumes; the lease goes, so it is not blocked.
            self._progress.release_lease(self._sync, token)
            raise

    def _open_window(self, marks: dict[str, datetime], reset: set[str]) -> Cursor:
        """A new run's cursor, written nowhere yet: a run that finds nothing to queue is logged, and its cursor
        and lease cleared, in the one transaction that moves its watermarks (`_finish`). A phase whose watermark a
        person set back (`reset`: `ctns backfill`) is a re-read (`Cursor.reread`)."""
        opened_at = utc_now()
        run_id = f"{self._sync}-{opened_at.strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:6]}"
        end = self._source.window_end()
        starts, first, reread = {}, {}, []
        for phase in self._source.phases:
            mark = marks.get(phase) or marks.get("*")
            first[phase] = mark is None
            if (phase if phase in marks else "*") in reset and mark is not None:
                reread.append(phase)
            start = (
                end - timedelta(days=self._windows.first_run_days)
                if mark is None
                else mark - timedelta(minutes=self._windows.overlap_minutes)
            )
            # In the cursor, so a run resumed in another invocation reads its phases from the same start.
            starts[phase] = start - start_margin(self._source, start)
        cursor = Cursor(
            run_id=run_id,
            window_end=end,
            starts=starts,
            first_run=first,
            reread=reread,
            phase=self._source.phases[0],
            opened_at=opened_at,
            logged=False,
        )
        logger.info(
            "Run opened",
            extra={
                "run_id": run_id,
                "window_end": end.isoformat(),
                "window_starts": {p: s.isoformat() for p, s in starts.items()},
            },
        )
        return cursor

    def _drain(self, cursor: Cursor, token: str, remaining_ms: Callable[[], int]) -> PollResult:
        phases = self._source.phases
        saved = cursor
        for phase in phases[phases.index(cursor.phase) :]:
            if phase != cursor.phase:
                cursor = cursor.model_copy(update={"phase": phase, "after": None})
            window = Window(
                start=cursor.starts[phase], end=cursor.window_end, first_run=cursor.first_run.get(phase, False)
            )
            try:
                for batch in self._source.read(phase, window, cursor.after):
                    cursor = self._enqueue(cursor, batch.changes).model_copy(update={"after": batch.last_key})
                    if cursor.enqueued != saved.enqueued:
                        # Saved once it has queued work: resuming from an older cursor reads again only batches
                        # that queued nothing (unchanged or skipped records stay so), so saving those is waste.
                        self._progress.save_cursor(self._sync, cursor)
                        saved = cursor
                    if remaining_ms() < self._windows.stop_margin_seconds * 1000:
                        return self._hand_over(self._logged(cursor), token)
            except NeedsAttention as error:
                cursor = self._phase_failed(cursor, phase, error)
                if phase == ADOPT:
                    # Changes read without adoption could create twins of records ClickTime already holds: the
                    # rest of the run waits for the next one (no watermark moves).
                    later = {p: error.cause_key for p in phases[phases.index(phase) + 1 :]}
                    cursor = cursor.model_copy(update={"failed_phases": {**cursor.failed_phases, **later}})
                    break
        return self._finish(cursor, token)

    def _enqueue(self, cursor: Cursor, changes: list[Change]) -> Cursor:
        adopted = self._adopt([c for c in changes if c.op == "adopt"])
        work = [c for c in changes if c.op != "adopt"]
        if cursor.phase in cursor.reread and self._definition.replans_on_reread:
            # A backfill of a sync whose target also depends on the other system (a time bill's billable flag on
            # the NetSuite task's): the source's fingerprint cannot say the target holds what a plan now gives,
            # so the worker plans each record again. A nightly run keeps the fingerprint's judgement (no read more).
            work = [replace(c, judged_by_worker=True) if c.op == "upsert" else c for c in work]
        kind = self._definition.mapping_kind
        known = self._mappings.get_many(kind, [c.source_id for c in work if c.op == "upsert"])
        queued: list[Change] = []
        needless: dict[str, tuple[Change, str]] = {}
        for change in work:
            mapping = known.get(change.source_id) if change.op == "upsert" else None
            if change.op != "upsert":
                queued.append(change)
            elif self._definition.holds(change, mapping):
                continue
            elif mapping is None and (reason := self._needs_no_target(change)):
                needless[change.source_id] = (change, reason)
            else:
                queued.append(change)
        skipped = self._mappings.note_skipped_many(kind, [(c.source_id, c.fingerprint) for c, _ in needless.values()])
        # One that got a mapping or a lock meanwhile goes to the worker, which judges it under the lock.
        queued += [c for c, _ in needless.values() if c.source_id not in skipped]
        for source_id in sorted(skipped):
            # The line the worker would have written, so a search for the record's ID says why it has no target.
            logger.info(
                f"{self._sync} {source_id}: skipped",
                extra={**self._definition.ids(source_id, None), "detail": needless[source_id][1]},
            )
        count("Skipped", len(skipped))
        if queued:
            cursor = self._logged(cursor)  # before a worker can count into the run's summary
        self._queue.send(
            WorkMessage(
                sync=self._sync,
                run_id=cursor.run_id,
                source_id=change.source_id,
                version=change.version,
                op=change.op,  # type: ignore[arg-type]
                snapshot=change.snapshot,
                fingerprint=change.fingerprint,
                judged_by_worker=change.judged_by_worker,
            )
            for change in queued
        )
        count("Enqueued", len(queued))
        return cursor.model_copy(
            update={
                "enqueued": cursor.enqueued + len(queued),
                "unchanged": cursor.unchanged + len(work) - len(queued) - len(skipped),
                "skipped": cursor.skipped + len(skipped),
                "adopted": cursor.adopted + adopted,
            }
        )

    def _logged(self, cursor: Cursor) -> Cursor:
        """The run in the run log, and its cursor saved, before anything refers to the run (a queued message a
        worker counts into its summary, a failure, a hand-over)."""
        if cursor.logged:
            return cursor
        cursor = cursor.model_copy(update={"logged": True})
        self._runlog.start(self._sync, cursor.run_id, cursor.opened_at or utc_now())
        self._progress.save_cursor(self._sync, cursor)
        return cursor

    def _needs_no_target(self, change: Change) -> str | None:
        judge = self._definition.needs_no_target
        # Without a fingerprint a skip marker could never match the record again: the worker judges it.
        return judge(change) if judge is not None and change.fingerprint else None

    def _adopt(self, changes: list[Change]) -> int:
        adopted = 0
        for change in changes:
            kind = str(change.snapshot.get("kind") or self._definition.mapping_kind)
            if self._mappings.adopt(kind, change.source_id, str(change.snapshot["target_id"])):
                adopted += 1
                logger.info(
                    f"{self._sync}: adopted the existing {kind} target of {change.source_id}",
                    extra=self._definition.ids(change.source_id, str(change.snapshot["target_id"])),
                )
        return adopted

    def _phase_failed(self, cursor: Cursor, phase: str, error: NeedsAttention) -> Cursor:
        """A phase that cannot be read (a missing permission, a refused query) is one cause; the others go on."""
        failure = Failure(
            sync=self._sync,
            source_id=phase_source_id(phase),
            kind=error.code,
            reason=f"the {phase} phase of the {self._sync} sync could not be read: {error.message}",
            cause_key=error.cause_key,
            fix=error.fix,
        )
        cursor = self._logged(cursor)
        self._runlog.record_failure(cursor.run_id, failure)
        count("SystemicFailure")
        logger.error(
            failure.reason,
            extra={
                "run_id": cursor.run_id,
                "phase": phase,
                "failure_kind": failure.kind,
                "cause_key": failure.cause_key,
            },
        )
        failed = {**cursor.failed_phases, phase: error.cause_key}
        cursor = cursor.model_copy(update={"failed_phases": failed, "after": None})
        self._progress.save_cursor(self._sync, cursor)
        return cursor

    def _queue_checks(self, cursor: Cursor) -> Cursor:
        """One `check` message per record a write of unknown outcome left unsettled (`records.targets.recheck`):
        queued after the run's changes, so the look comes after this run's own writes of the record."""
        listed = [(kind, source_id) for kind, ids in sorted(self._unsettled.items()) for source_id in ids]
        if not listed:
            return cursor
        cursor = self._logged(cursor)
        now = utc_now()
        self._queue.send(
            WorkMessage(
                sync=self._sync,
                run_id=cursor.run_id,
                source_id=source_id,
                version=now,
                op="check",
                snapshot={"kind": kind},
            )
            for kind, source_id in listed
        )
        count("Enqueued", len(listed))
        logger.info(f"{self._sync}: {len(listed)} records queued for a second look after a write of unknown outcome")
        return cursor.model_copy(update={"enqueued": cursor.enqueued + len(listed)})

    def _finish(self, cursor: Cursor, token: str) -> PollResult:
        cursor = self._queue_checks(cursor)
        status = "partial" if cursor.failed_phases else "enqueued"
        end = RunEnd(
            sync=self._sync,
            run_id=cursor.run_id,
            started_at=cursor.opened_at or utc_now(),
            status=status,
            enqueued=cursor.enqueued,
            counts={"unchanged": cursor.unchanged, "skipped": cursor.skipped},
            logged=cursor.logged,
        )
        moved = [phase for phase in self._source.phases if phase not in cursor.failed_phases]
        log = self._runlog.finish_writes(end)
        window = {"phases": moved, "window_end": cursor.window_end, "run_id": cursor.run_id}
        if not self._progress.end_run(self._sync, token, **window, also=log):
            # Refused as a whole: a watermark already at or past this end (a reset, a run whose lease expired),
            # the lease taken over, or a worker counting into the summary at that moment. Each on its own.
            for phase in moved:
                self._progress.advance_watermark(self._sync, phase, cursor.window_end, cursor.run_id)
            self._progress.clear_cursor(self._sync)
            self._progress.clear_poll_failure(self._sync)
            self._runlog.finish(end)
            self._progress.release_lease(self._sync, token)
        if not cursor.failed_phases:
            # What <Sync>RunOverdueAlarm watches: only a run that read and enqueued its whole window counts, so a
            # phase that keeps failing (counted as SystemicFailure) leaves the sync overdue.
            count("RunCompleted")
        logger.info(
            "Run enqueued its window" if not cursor.failed_phases else "Run enqueued its window but for failed phases",
            extra={
                "enqueued": cursor.enqueued,
                "unchanged": cursor.unchanged,
                "skipped": cursor.skipped,
                "adopted": cursor.adopted,
                "status": status,
            },
        )
        reason = "; ".join(f"{phase} phase failed ({key})" for phase, key in cursor.failed_phases.items())
        return PollResult(
            sync=self._sync,
            run_id=cursor.run_id,
            status=status,
            enqueued=cursor.enqueued,
            unchanged=cursor.unchanged,
            skipped=cursor.skipped,
            adopted=cursor.adopted,
            reason=reason,
        )

    def _hand_over(self, cursor: Cursor, token: str) -> PollResult:
        self._progress.save_cursor(self._sync, cursor)
        logger.info("Near the time limit: handing the run over to a fresh invocation", extra={"cursor": cursor.after})
        self._runlog.set_status(cursor.run_id, "continued", enqueued=cursor.enqueued)
        self._continue(PollRequest(sync=self._sync, lease_token=token))
        return PollResult(sync=self._sync, run_id=cursor.run_id, status="continued", enqueued=cursor.enqueued)
