"""A late work message whose record a later run may have read since (`Worker._superseded`): the worker asks the
progress store once a batch per run (`ProgressStore.read_since`), and only then the source (`SyncDefinition.current`);
the message is skipped when the source holds a newer, other snapshot, and applied otherwise.

The stores are the real ones on moto; the source, the queues and the applier are fakes (the end-to-end story is
`tests/e2e/test_work_message_superseded.py`)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from ctsync.state import Mapping, MappingStore, ProgressStore, RunLog
from ctsync.state.progress import Breaker
from ctsync.sync import worker as worker_module
from ctsync.sync.definition import SyncDefinition
from ctsync.sync.messages import Change, Outcome, WorkMessage
from ctsync.sync.worker import Delivery, Worker
from tests.integration.conftest import T0, TABLE, dynamodb_calls
from tests.unit.test_worker_routing import FakeApplier, FakeDeadLetters, FakeWorkQueue

FIRST = "projects-20261124T100000Z-aaaaaa"  # the late message's run
LATER = "projects-20261125T100000Z-bbbbbb"  # a run opened after it
VERSION = T0 - timedelta(days=1)  # the late message's snapshot (P-B)
NEWER = T0 - timedelta(hours=2)  # the source's record now (back at P-A)
PHASES = ("changes", "deletions")


class Source:
    """The record as the source holds it now (`SyncDefinition.current`), and every ID it was asked about."""

    def __init__(self, held: dict[str, Change | None]) -> None:
        self.held = held
        self.asked: list[str] = []

    def __call__(self, source_id: str) -> Change | None:
        self.asked.append(source_id)
        return self.held.get(source_id)


def body(source_id: str, fingerprint: str = "fp-B", run_id: str = FIRST, **update: Any) -> str:
    message = WorkMessage(
        sync="projects",
        run_id=run_id,
        source_id=source_id,
        version=VERSION,
        snapshot={"id": source_id},
        fingerprint=fingerprint,
    )
    return message.model_copy(update=update).model_dump_json()


def worker_on(table: Any, clock: Any, applier: FakeApplier, current: Any, **rules: Any) -> Worker:
    definition = SyncDefinition(
        name="projects",
        mapping_kind="project",
        source=SimpleNamespace(phases=PHASES),  # type: ignore[arg-type]
        applier=applier,
        current=current,
        **rules,
    )
    return Worker(
        definition,
        RunLog(table),
        MappingStore(table),
        ProgressStore(table),
        FakeWorkQueue(),  # type: ignore[arg-type]
        FakeDeadLetters(),  # type: ignore[arg-type]
        max_receive_count=5,
        clock=clock,
    )


def held_at_a(table: Any, *source_ids: str) -> None:
    """Targets holding P-A (the state the later run found, so it queued nothing)."""
    for source_id in source_ids:
        MappingStore(table).put(
            Mapping(kind="project", source_id=source_id, target_id=f"job-{source_id}", fingerprint="fp-A")
        )


def later_run_read(table: Any, phase: str = "changes") -> None:
    ProgressStore(table).advance_watermark("projects", phase, T0, LATER)


def at_a(source_id: str, version: Any = NEWER, fingerprint: str = "fp-A") -> Change:
    return Change(source_id=source_id, version=version, snapshot={"id": source_id}, fingerprint=fingerprint)


def handle_all(worker: Worker, bodies: list[str]) -> tuple[list[Outcome | None], list[str]]:
    ran: list[str] = []
    batch = worker.begin(bodies)
    outcomes = [
        worker.handle(Delivery(b, f"m-{i}", 1), batch, run=lambda m: ran.append(m.source_id) or Outcome("updated"))
        for i, b in enumerate(bodies)
    ]
    worker.finish(batch)
    return outcomes, ran


@pytest.fixture
def runs(table: Any, clock: Any) -> RunLog:
    log = RunLog(table)
    log.start("projects", FIRST, clock.now)
    log.start("projects", LATER, clock.now)
    return log


def test_a_late_message_of_a_record_a_later_run_found_back_at_the_targets_state_is_skipped(
    table, clock, runs, monkeypatch
):
    metrics: list[str] = []
    monkeypatch.setattr(worker_module, "count", lambda name, value=1: metrics.append(name))
    held_at_a(table, "7")
    later_run_read(table)  # one phase's watermark is enough
    source = Source({"7": at_a("7")})
    worker = worker_on(table, clock, FakeApplier(Outcome("updated")), source)

    outcomes, ran = handle_all(worker, [body("7")])

    assert ran == [] and source.asked == ["7"]
    assert outcomes == [
        Outcome(
            "skipped",
            None,
            "stale: a later run read the record at 2026-11-25T15:00:00+00:00 holding another snapshot than this "
            "message's of 2026-11-24T17:00:00+00:00",
        )
    ]
    assert metrics == ["Skipped"]
    assert runs.summary(FIRST).counts["skipped"] == 1
    assert MappingStore(table).get("project", "7").fingerprint == "fp-A"  # the target keeps P-A


def test_a_skipped_late_message_counts_as_getting_past_an_expired_pause(table, clock, runs):
    """A skip is the record done with, as an applied one is: the batch closes a pause that is over."""
    ProgressStore(table).open_breaker(
        "projects",
        Breaker(cause_key="outage", kind="outage", reason="down", until=T0 - timedelta(minutes=1), opened_at=T0),
    )
    held_at_a(table, "7")
    later_run_read(table)
    worker = worker_on(table, clock, FakeApplier(Outcome("updated")), Source({"7": at_a("7")}))

    outcomes, ran = handle_all(worker, [body("7")])

    assert ran == [] and [o.action for o in outcomes if o] == ["skipped"]
    assert ProgressStore(table).breaker("projects") is None


def test_the_progress_store_is_asked_once_a_batch_for_each_run_and_only_for_a_record_a_target_holds_otherwise(
    table, clock, runs
):
    held_at_a(table, "1", "2", "3")
    later_run_read(table)
    source = Source({"1": at_a("1"), "2": at_a("2"), "3": at_a("3")})
    worker = worker_on(table, clock, FakeApplier(Outcome("updated")), source)
    bodies = [body("1"), body("2"), body("3", run_id=LATER), body("new")]
    calls = dynamodb_calls(table)

    outcomes, ran = handle_all(worker, bodies)

    # The message of the later run itself is not superseded by its own run; the record never judged is applied
    assert [o.action for o in outcomes if o] == ["skipped", "skipped", "updated", "updated"]
    assert ran == ["3", "new"] and source.asked == ["1", "2"]
    reads = [body for name, body in calls if name == "BatchGetItem"]
    # the batch's mappings, then the watermarks and the lease once for each run the batch's candidates belong to
    assert len(reads) == 3
    asked = [[k["sk"]["S"] for k in r["RequestItems"][TABLE]["Keys"]] for r in reads[1:]]
    assert asked == [["WATERMARK", "WATERMARK#changes", "WATERMARK#deletions", "LEASE"]] * 2
    assert [r["RequestItems"][TABLE]["Keys"][0]["pk"]["S"] for r in reads[1:]] == ["SYNC#projects"] * 2


def test_without_a_later_run_the_message_is_applied_without_reading_the_source(table, clock, runs):
    held_at_a(table, "7")
    ProgressStore(table).advance_watermark("projects", "changes", T0, FIRST)  # only its own run ended
    source = Source({"7": at_a("7")})
    worker = worker_on(table, clock, FakeApplier(Outcome("updated")), source)

    outcomes, ran = handle_all(worker, [body("7")])

    assert ran == ["7"] and source.asked == [] and outcomes[0] == Outcome("updated")


@pytest.mark.parametrize(
    "now",
    [
        None,  # no longer in the source: its deletion is the later run's to queue
        at_a("7", fingerprint="fp-B"),  # the source still holds this message's snapshot
        at_a("7", version=VERSION),  # nothing newer than the message (another snapshot at the same version)
        at_a("7", version=VERSION - timedelta(seconds=1)),  # older
    ],
    ids=["gone", "same-snapshot", "same-version", "older"],
)
def test_a_late_message_is_applied_when_the_source_holds_nothing_newer_and_other(table, clock, runs, now):
    held_at_a(table, "7")
    later_run_read(table)
    source = Source({"7": now})
    worker = worker_on(table, clock, FakeApplier(Outcome("updated")), source)

    outcomes, ran = handle_all(worker, [body("7")])

    assert source.asked == ["7"]
    assert ran == ["7"] and outcomes[0] == Outcome("updated")


@pytest.mark.parametrize(
    "message",
    [
        body("7", op="delete"),
        body("7", fingerprint=""),
        body("7", judged_by_worker=True),
    ],
    ids=["delete", "no-fingerprint", "judged-by-worker"],
)
def test_only_an_upsert_the_source_fingerprinted_is_checked(table, clock, runs, message):
    held_at_a(table, "7")
    later_run_read(table)
    source = Source({"7": at_a("7")})
    worker = worker_on(table, clock, FakeApplier(Outcome("updated")), source)

    outcomes, ran = handle_all(worker, [message])

    assert ran == ["7"] and source.asked == [] and outcomes[0] == Outcome("updated")


def test_a_delete_is_the_appliers_to_judge_even_where_the_batch_read_its_records_mapping(table, clock, runs):
    """The batch reads the mapping of each upsert with a fingerprint; a delete of the same record beside it (with a
    fingerprint, as the model allows) is still applied, never checked against the source."""
    held_at_a(table, "7")
    later_run_read(table)
    source = Source({"7": at_a("7")})
    worker = worker_on(table, clock, FakeApplier(Outcome("updated")), source)

    outcomes, ran = handle_all(worker, [body("7"), body("7", op="delete")])

    assert [o.action for o in outcomes if o] == ["skipped", "updated"]
    assert ran == ["7"] and source.asked == ["7"]


def test_a_message_of_the_snapshot_the_mapping_holds_is_not_checked(table, clock, runs):
    """Reached only where the sync's own rule says the target does not hold it (a deleted mapping, here)."""
    MappingStore(table).put(Mapping(kind="project", source_id="7", target_id="job-7", fingerprint="fp-B"))
    later_run_read(table)
    source = Source({"7": at_a("7")})
    worker = worker_on(table, clock, FakeApplier(Outcome("updated")), source, unchanged=lambda change, mapping: False)

    outcomes, ran = handle_all(worker, [body("7")])

    assert ran == ["7"] and source.asked == [] and outcomes[0] == Outcome("updated")


def test_a_sync_without_a_way_to_read_the_source_applies_every_late_message(table, clock, runs):
    held_at_a(table, "7")
    later_run_read(table)
    worker = worker_on(table, clock, FakeApplier(Outcome("updated")), None)

    outcomes, ran = handle_all(worker, [body("7")])

    assert ran == ["7"] and outcomes[0] == Outcome("updated")
