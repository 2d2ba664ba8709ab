"""Crashes, end to end through the runner, for every sync, in one session; then the shared invariants.

- a worker process dies after the target write and before the mapping write (once per kind of mapping: a
  job, a task, a timesheet's time bills, an expense report), and SQS hands the batch out again after the
  invocation's timeout;
- every message of a night is delivered twice;
- a batch partly fails (one record of it raises, the others go through; only that one comes back);
- a poller dies mid-window (after its first batch) and, in a run that hands over to fresh invocations, mid-
  continuation: the next run resumes from the saved cursor;
- two pollers of one sync start together: one holds the lease, the other is skipped.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest

from ctns.runner import SyncRun
from ctsync.state import MappingStore, ProgressStore
from ctsync.sync.queues import WorkQueue
from tests.e2e import faultplay, invariants
from tests.e2e.support import run

pytestmark = pytest.mark.e2e
REPORT = Path("build/fault-report.json")
CRASH_KINDS = ("project", "task", "timeentry", "expensesheet")


class ProcessDied(BaseException):
    """Not an Exception: the process dies, nothing in the handler gets to clean up (as with a timeout)."""


def test_crashes_duplicates_partial_batches_and_racing_pollers_leave_every_record_exactly_once(
    open_session, monkeypatch
):
    # Pages of four records; a poller hands over to a fresh invocation when within 60 s of its timeout (only the
    # tasks poller is given a timeout that short, below)
    session = open_session({"netsuite": {"page_size": 4}, "windows": {"stop_margin_seconds": 60}})
    host, runner = session.runner.host, session.runner
    for function in ("ProjectsWorker", "TasksWorker", "TimeWorker", "ExpensesWorker"):
        host.timeout_override[function] = 1  # a crashed invocation's idempotency record expires quickly
    runner.retry_delay = 1.2
    events: dict[str, object] = {}

    # -- a worker dies between the target write and the mapping write, once per kind ----------------------------
    crashed: dict[str, str] = {}
    commit, put_many = MappingStore.commit, MappingStore.put_many

    def crash_once(kind: str, source: str) -> None:
        if kind in CRASH_KINDS and kind not in crashed:
            crashed[kind] = source
            raise ProcessDied(f"worker died after writing {kind} {source}")

    def commit_or_die(self, lock, mapping, **kwargs):
        crash_once(mapping.kind, mapping.source_id)
        return commit(self, lock, mapping, **kwargs)

    def put_many_or_die(self, mappings):
        mappings = list(mappings)
        if mappings:
            crash_once(mappings[0].kind, mappings[0].parent or mappings[0].source_id)
        return put_many(self, mappings)

    monkeypatch.setattr(MappingStore, "commit", commit_or_die)
    monkeypatch.setattr(MappingStore, "put_many", put_many_or_die)

    # -- every message delivered twice ---------------------------------------------------------------------------
    send = WorkQueue.send
    doubled = [0]

    def send_twice(self, messages):
        messages = list(messages)
        doubled[0] += len(messages)
        return send(self, [*messages, *messages])

    monkeypatch.setattr(WorkQueue, "send", send_twice)

    # -- one record of a batch fails (an Exception inside its apply), the rest go through ------------------------
    # (At the record's lock, which every applied task takes: a worker leaves a record its target already holds
    # before any other store call but its batch's one mapping read.)
    partly: list[str] = []
    lock = MappingStore.lock

    def lock_failing_once(self, kind, source_id, owner, **kwargs):
        if kind == "task" and not partly and threading.current_thread().name.startswith("TasksWorker"):
            partly.append(source_id)
            raise ConnectionError("DynamoDB dropped the connection for this one record")
        return lock(self, kind, source_id, owner, **kwargs)

    monkeypatch.setattr(MappingStore, "lock", lock_failing_once)

    # -- the projects poller dies after its first batch (mid-window); the tasks poller, handing over at every
    # batch, dies in its second continuation (mid-continuation). Each next run resumes from the saved cursor.
    doubled_send = WorkQueue.send
    queues = {sync: session.aws.queue_url(f"{sync.capitalize()}Queue") for sync in ("projects", "tasks")}
    sends = {"projects": 0}
    poller_invocations = {"TasksPoller": 0}
    original_invoke = host.invoke

    def counting_invoke(logical_id, event, *, environment=0):
        if logical_id in poller_invocations:
            poller_invocations[logical_id] += 1
        return original_invoke(logical_id, event, environment=environment)

    def pollers_die(self, messages):
        messages = list(messages)
        if threading.current_thread() is threading.main_thread():
            if self._url == queues["projects"] and messages and "poller_died" not in events:
                # the second batch that queues work: the first one's cursor is saved
                sends["projects"] += 1
                if sends["projects"] == 2:
                    events["poller_died"] = True
                    raise ProcessDied("the projects poller died mid-window")
            if (
                self._url == queues["tasks"]
                and poller_invocations["TasksPoller"] == 3
                and "continuation_died" not in events
            ):
                events["continuation_died"] = True
                raise ProcessDied("the tasks poller died in its second continuation")
        return doubled_send(self, messages)

    monkeypatch.setattr(WorkQueue, "send", pollers_die)
    monkeypatch.setattr(host, "invoke", counting_invoke)
    with pytest.raises(ProcessDied):
        runner.run(["projects"])
    cursor = session.runtime().progress.cursor("projects")
    assert cursor is not None and cursor.after  # the cursor stayed where the poller died
    resumed = run(session, "projects")
    assert resumed.syncs["projects"]["run_id"] == cursor.run_id  # the same run, resumed from its cursor

    host.timeout_override["TasksPoller"] = 30  # always within the stop margin after a batch: hand over
    with pytest.raises(ProcessDied):
        runner.run(["tasks"])
    host.async_invocations.clear()
    cursor = session.runtime().progress.cursor("tasks")
    assert cursor is not None and cursor.after
    tasks_run = run(session, "tasks")
    assert tasks_run.syncs["tasks"]["run_id"] == cursor.run_id
    del host.timeout_override["TasksPoller"]

    # -- the exports, with the crashes and duplicate deliveries still armed -------------------------------------
    session.log_activity()
    run(session, "time")
    run(session, "expenses")

    # -- two pollers of one sync start together: one runs, one is skipped ---------------------------------------
    session.simulators.clicktime.clock.advance(timedelta(days=1))
    changes = faultplay.people_change_things(session, seed=5)
    barrier = threading.Barrier(2, timeout=30)
    acquire = ProgressStore.acquire_lease

    def acquire_together(self, sync, owner, seconds, **kwargs):
        if sync == "time":
            barrier.wait()
        return acquire(self, sync, owner, seconds, **kwargs)

    monkeypatch.setattr(ProgressStore, "acquire_lease", acquire_together)
    schedule = next(s for s in session.stack.schedules if s.input["sync"] == "time")
    results: list[dict] = []

    def poll(environment: int) -> None:
        results.append(original_invoke(schedule.function, dict(schedule.input), environment=environment))

    with host.activated(schedule.function):
        threads = [threading.Thread(target=poll, args=(n,)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    monkeypatch.setattr(ProgressStore, "acquire_lease", acquire)
    assert sorted(r["status"] for r in results) == ["enqueued", "skipped"], results
    mapping = next(m for m in session.stack.queue_mappings if m.queue == "TimeQueue")
    runner.drain(mapping, SyncRun("time"))
    for sync in ("projects", "tasks", "expenses"):
        run(session, sync)

    # -- then a night without anything armed; the invariants ---------------------------------------------------
    monkeypatch.undo()
    session.simulators.clicktime.clock.advance(timedelta(hours=1))
    faultplay.night(session)
    quiet = {sync: run(session, sync) for sync in faultplay.SYNCS}

    checked, summary = faultplay.figures(session)
    summary.update(
        crashed_after_target_write=crashed,
        batch_partly_failed=partly,
        poller_died_mid_window=bool(events.get("poller_died")),
        poller_died_mid_continuation=bool(events.get("continuation_died")),
        racing_pollers=[r["status"] for r in results],
        changes=changes,
        quiet_writes={s: len(p.netsuite_writes) + len(p.clicktime_writes) for s, p in quiet.items()},
    )
    summary["crashes_and_races"] = {
        "worker_died_after_target_write": len(crashed),
        "message_delivered_twice": doubled[0],
        "batch_partly_failed": len(partly),
        "poller_died": int(bool(events.get("poller_died"))) + int(bool(events.get("continuation_died"))),
        "pollers_started_together": 1,
    }
    faultplay.write_report(REPORT, "crashes", summary)
    invariants.assert_holds(checked)
    assert set(crashed) == set(CRASH_KINDS), crashed
    assert partly and events.get("poller_died") and events.get("continuation_died")
    assert summary["lost"] == 0 and summary["duplicated"] == 0
    assert summary["quiet_writes"] == {sync: 0 for sync in faultplay.SYNCS}
