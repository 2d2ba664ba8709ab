"""The poller: reads what changed since the watermark and enqueues one message per record.

Rules that keep it from losing or doubling work:
- one invocation at a time per sync (a lease; a continuation is handed the lease explicitly);
- the window starts at the last watermark minus an overlap, so a record changed while the previous run was
  reading is read again (the worker makes the repeat harmless);
- the watermark is the source's server time at the *start* of the run, and it is advanced only once the
  whole window is enqueued;
- the cursor is saved after every batch; near the time limit the run hands over to a fresh invocation, and a
  run that died is resumed from its cursor by the next one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ctsync.config import WindowSettings
from ctsync.observability import count, logger
from ctsync.state import Cursor, ProgressStore, RunLog
from ctsync.sync.definition import SyncDefinition
from ctsync.sync.messages import PollRequest, PollResult, WorkMessage
from ctsync.sync.queues import WorkQueue
from ctsync.timeutil import utc_now

# With no watermark yet, the first run reads everything.
BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)

Continuation = Callable[[PollRequest], None]


class Poller:
    def __init__(
        self,
        definition: SyncDefinition,
        progress: ProgressStore,
        runlog: RunLog,
        queue: WorkQueue,
        windows: WindowSettings,
        continuation: Continuation,
    ) -> None:
        self._sync = definition.name
        self._source = definition.source
        self._progress = progress
        self._runlog = runlog
        self._queue = queue
        self._windows = windows
        self._continue = continuation

    def run(self, request: PollRequest, remaining_ms: Callable[[], int]) -> PollResult:
        token = uuid.uuid4().hex
        if not self._progress.acquire_lease(
            self._sync, token, self._windows.lease_seconds, handed_over_by=request.lease_token
        ):
            holder = self._progress.lease_holder(self._sync)
            logger.warning("Another invocation holds the lease; this run is skipped", extra={"lease_holder": holder})
            return PollResult(sync=self._sync, status="skipped", reason="another run of this sync is in progress")
        try:
            cursor = self._progress.cursor(self._sync) or self._open_window()
            logger.append_keys(run_id=cursor.run_id)
            return self._drain(cursor, token, remaining_ms)
        except BaseException:
            # The cursor stays, so the next invocation resumes; the lease goes, so it is not blocked.
            self._progress.release_lease(self._sync, token)
            raise

    def _open_window(self) -> Cursor:
        run_id = f"{self._sync}-{utc_now().strftime('%Y%m%dT%H%M%SZ')}-{uuid.uuid4().hex[:6]}"
        server_time = self._source.server_time()
        watermark = self._progress.watermark(self._sync)
        start = watermark - timedelta(minutes=self._windows.overlap_minutes) if watermark else BEGINNING
        cursor = Cursor(run_id=run_id, window_start=start, window_end=server_time, phase=self._source.phases[0])
        self._runlog.start(self._sync, run_id, utc_now())
        self._progress.save_cursor(self._sync, cursor)
        logger.info(
            "Run opened",
            extra={"run_id": run_id, "window_start": start.isoformat(), "window_end": server_time.isoformat()},
        )
        return cursor

    def _drain(self, cursor: Cursor, token: str, remaining_ms: Callable[[], int]) -> PollResult:
        phases = self._source.phases
        for phase in phases[phases.index(cursor.phase) :]:
            if phase != cursor.phase:
                cursor = cursor.model_copy(update={"phase": phase, "after": None})
                self._progress.save_cursor(self._sync, cursor)
            for batch in self._source.read(phase, cursor.window_start, cursor.after):
                messages = [
                    WorkMessage(
                        sync=self._sync,
                        run_id=cursor.run_id,
                        source_id=change.source_id,
                        version=change.version,
                        op=change.op,
                        snapshot=change.snapshot,
                    )
                    for change in batch.changes
                ]
                self._queue.send(messages)
                count("Enqueued", len(messages))
                cursor = cursor.model_copy(
                    update={"after": batch.last_key, "enqueued": cursor.enqueued + len(messages)}
                )
                self._progress.save_cursor(self._sync, cursor)
                if remaining_ms() < self._windows.stop_margin_seconds * 1000:
                    return self._hand_over(cursor, token)
        self._progress.advance_watermark(self._sync, cursor.window_end, cursor.run_id)
        self._progress.clear_cursor(self._sync)
        self._runlog.set_status(cursor.run_id, "enqueued", enqueued=cursor.enqueued, finished=True)
        self._progress.release_lease(self._sync, token)
        logger.info("Run enqueued its whole window", extra={"enqueued": cursor.enqueued})
        return PollResult(sync=self._sync, run_id=cursor.run_id, status="enqueued", enqueued=cursor.enqueued)

    def _hand_over(self, cursor: Cursor, token: str) -> PollResult:
        logger.info("Near the time limit: handing the run over to a fresh invocation", extra={"cursor": cursor.after})
        self._runlog.set_status(cursor.run_id, "continued", enqueued=cursor.enqueued)
        self._continue(PollRequest(sync=self._sync, lease_token=token))
        return PollResult(sync=self._sync, run_id=cursor.run_id, status="continued", enqueued=cursor.enqueued)
