"""The refusing definition (`registry.refusing`: a worker whose config document or secret cannot build its sync)
judges nothing: every message is dead-lettered with the configuration's reason, so one `ctns redrive` after the
fix brings them all back (review of the day's changes, 2026-12-04; each failed before). It kept SyncDefinition's
defaults (`same_fingerprint`, no recheck), so a receipts follow-up the worker queued itself or a task whose ClickTime
ID was still to be written back was consumed as "unchanged", and a check of a write of unknown outcome was
dead-lettered as BAD_INPUT under a cause of its own."""

from __future__ import annotations

from ctsync.errors import ConfigurationError
from ctsync.records.expense_receipts import RECEIPTS_ONLY
from ctsync.state import Mapping
from ctsync.sync import registry
from ctsync.sync.messages import WorkMessage
from ctsync.sync.queues import Carried
from ctsync.sync.worker import BREAKER_SECONDS, Delivery, Worker
from tests.unit.test_worker_routing import (
    MAX_RECEIVES,
    NOW,
    VERSION,
    FakeDeadLetters,
    FakeMappings,
    FakeProgress,
    FakeRunLog,
    FakeWorkQueue,
)


class Mappings(FakeMappings):
    def get_many(self, kind, ids):
        return {i: self.mappings[(kind, i)] for i in ids if (kind, i) in self.mappings}


def _worker(sync: str, kind: str, mapping: Mapping):
    dead = FakeDeadLetters()
    definition = registry.refusing(sync, ConfigurationError("config document /x is invalid: time.write_concurrency"))
    worker = Worker(
        definition,
        FakeRunLog(),
        Mappings({(kind, mapping.source_id): mapping}),
        FakeProgress(),  # type: ignore[arg-type]
        FakeWorkQueue(),
        dead,
        MAX_RECEIVES,
        clock=lambda: NOW,
        pause_seconds=BREAKER_SECONDS,  # type: ignore[arg-type]
    )
    return worker, dead


def _handle(worker: Worker, message: WorkMessage):
    body = message.model_dump_json()
    batch = worker.begin([body])
    delivery = Delivery(body=body, message_id="m-1", receive_count=1, carried=Carried())
    return worker.handle(delivery, batch, run=worker.apply, time_left=lambda: True)


def test_receipts_follow_up_is_dead_lettered_not_dropped_as_unchanged() -> None:
    mapping = Mapping(kind="expensesheet", source_id="S1", target_id="ER-1", fingerprint="fp", source_version=VERSION)
    worker, dead = _worker("expenses", "expensesheet", mapping)
    follow_up = WorkMessage(
        sync="expenses",
        run_id="r",
        source_id="S1",
        version=VERSION,
        fingerprint="fp",
        snapshot={"ID": "S1", RECEIPTS_ONLY: True},
    )
    outcome = _handle(worker, follow_up)
    # the real expenses definition (`_unless_follow_up`) never judges a follow-up unchanged
    assert outcome is None and len(dead.sent) == 1, f"dropped as {outcome}"


def test_task_with_write_back_due_is_dead_lettered_not_dropped_as_unchanged() -> None:
    # the target holds this snapshot but the NetSuite task does not hold the ClickTime ID yet (never stamped):
    # the real `write_back.unchanged` says not unchanged (the write-back is due)
    mapping = Mapping(kind="task", source_id="T1", target_id="CT-9", fingerprint="fp", source_version=VERSION)
    worker, dead = _worker("tasks", "task", mapping)
    message = WorkMessage(
        sync="tasks",
        run_id="r",
        source_id="T1",
        version=VERSION,
        fingerprint="fp",
        snapshot={"id": "T1", "clicktime_id": None},
    )
    outcome = _handle(worker, message)
    assert outcome is None and len(dead.sent) == 1, f"dropped as {outcome}"


def test_check_message_is_dead_lettered_with_the_config_reason_not_as_bad_input() -> None:
    """A look again at a write of unknown outcome (`op="check"`, queued at the end of each tasks/projects/expenses
    run) reaching the refusing worker: the refusing definition has no `recheck`, so Worker.apply raises BadInput
    "looks at no target again" (worker.py:184) instead of the configuration error."""
    mapping = Mapping(kind="task", source_id="T9", target_id="CT-1", source_version=VERSION)
    worker, dead = _worker("tasks", "task", mapping)
    check = WorkMessage(
        sync="tasks",
        run_id="r",
        source_id="T9",
        version=VERSION,
        op="check",
        snapshot={"kind": "task"},
    )
    assert _handle(worker, check) is None
    ((_, failure, _),) = dead.sent
    assert "config document /x is invalid" in failure.reason, failure.reason


def test_a_skip_marker_of_this_very_snapshot_is_not_judged_either() -> None:
    mapping = Mapping(kind="project", source_id="P1", target_id="", fingerprint="fp", source_version=VERSION)
    worker, dead = _worker("projects", "project", mapping)
    message = WorkMessage(sync="projects", run_id="r", source_id="P1", version=VERSION, fingerprint="fp")
    assert _handle(worker, message) is None and len(dead.sent) == 1


def test_the_real_rules_would_not_call_these_unchanged() -> None:
    """Control: the rules the real definitions use (registry.py:47 `write_back.unchanged`, :141 `_unless_follow_up`)."""
    from ctsync.records.writeback import WriteBack
    from ctsync.sync.messages import Change
    from ctsync.sync.registry import _unless_follow_up

    task = Mapping(kind="task", source_id="T1", target_id="CT-9", fingerprint="fp", source_version=VERSION)
    wb = WriteBack(None, record_type="projectTask", field="custentity_ct", cause_open=lambda _k: False, timezone="UTC")  # type: ignore[arg-type]
    assert wb.unchanged(Change("T1", VERSION, snapshot={"clicktime_id": None}, fingerprint="fp"), task) is False
    sheet = Mapping(kind="expensesheet", source_id="S1", target_id="ER-1", fingerprint="fp", source_version=VERSION)
    assert _unless_follow_up(Change("S1", VERSION, snapshot={RECEIPTS_ONLY: True}, fingerprint="fp"), sheet) is False
