"""A record that reaches a worker although its target already holds it (a redelivery, or a record queued by two
runs before either was applied) costs the worker its share of one batch read: the worker reads the mappings of
a whole batch at once (one BatchGetItem) and leaves out, before any lock, idempotency record or API call, the
records the sync definition judges unchanged — the same judgement the poller makes.

The stores are the real ones on moto; the queues and the applier are recorded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ctsync.state import Mapping, MappingStore, ProgressStore, RunLog
from ctsync.sync import worker as worker_module
from ctsync.sync.definition import SyncDefinition
from ctsync.sync.messages import Change, Outcome, WorkMessage
from ctsync.sync.worker import Delivery, Worker
from tests.integration.conftest import dynamodb_calls
from tests.unit.test_worker_routing import FakeApplier, FakeDeadLetters, FakeWorkQueue

VERSION = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)


def body(source_id: str, fingerprint: str, op: str = "upsert", **snapshot: Any) -> str:
    message = WorkMessage(
        sync="projects",
        run_id="run-1",
        source_id=source_id,
        version=VERSION,
        op=op,
        snapshot=snapshot,
        fingerprint=fingerprint,
    )
    return message.model_dump_json()  # type: ignore[arg-type]


def worker_on(table: Any, applier: FakeApplier, **rules: Any) -> Worker:
    definition = SyncDefinition(name="projects", mapping_kind="project", source=None, applier=applier, **rules)  # type: ignore[arg-type]
    return Worker(
        definition,
        RunLog(table),
        MappingStore(table),
        ProgressStore(table),
        FakeWorkQueue(),  # type: ignore[arg-type]
        FakeDeadLetters(),  # type: ignore[arg-type]
        max_receive_count=5,
    )


def test_a_batch_of_records_the_target_already_holds_costs_three_calls_in_all(table, clock):
    mappings = MappingStore(table)
    for n in range(10):
        mappings.put(Mapping(kind="project", source_id=str(n), target_id=f"job-{n}", fingerprint=f"fp-{n}"))
    applier = FakeApplier(Outcome("created"))
    worker = worker_on(table, applier)
    bodies = [body(str(n), f"fp-{n}") for n in range(10)]
    RunLog(table).start("projects", "run-1", clock.now)
    calls = dynamodb_calls(table)
    ran: list[str] = []

    batch = worker.begin(bodies)
    outcomes = [
        worker.handle(Delivery(b, f"m-{i}", 1), batch, run=lambda m: ran.append(m.source_id) or Outcome("created"))
        for i, b in enumerate(bodies)
    ]
    worker.finish(batch)

    assert ran == [] and applier.applied == []  # no lock, no idempotency record, no API call
    assert [o.action for o in outcomes] == ["unchanged"] * 10
    assert [o.target_id for o in outcomes] == [f"job-{n}" for n in range(10)]
    # the breaker, the batch's mappings, the run's counts: 0.3 calls per record
    assert [name for name, _ in calls] == ["GetItem", "BatchGetItem", "UpdateItem"]
    assert RunLog(table).summary("run-1").counts["unchanged"] == 10


def test_only_what_the_target_already_holds_is_left_out(table, clock):
    mappings = MappingStore(table)
    mappings.put(Mapping(kind="project", source_id="same", target_id="job-1", fingerprint="fp-same"))
    mappings.put(Mapping(kind="project", source_id="changed", target_id="job-2", fingerprint="fp-old"))
    mappings.note_skipped("project", "marked", "fp-marked")  # judged to need no target at this very snapshot
    mappings.put(Mapping(kind="project", source_id="gone", target_id="job-3", fingerprint="fp-gone"))
    worker = worker_on(table, FakeApplier(Outcome("created")))
    RunLog(table).start("projects", "run-1", clock.now)
    bodies = [
        body("same", "fp-same"),
        body("changed", "fp-new"),
        body("marked", "fp-marked"),
        body("new", "fp-new"),
        body("gone", "fp-gone", op="delete"),  # a delete is always the applier's to judge
        body("no-fingerprint", ""),
        "not a message",
    ]
    ran: list[str] = []

    batch = worker.begin(bodies)
    for i, b in enumerate(bodies):
        worker.handle(Delivery(b, f"m-{i}", 1), batch, run=lambda m: ran.append(m.source_id) or Outcome("created"))
    worker.finish(batch)

    assert ran == ["changed", "new", "gone", "no-fingerprint"]
    assert set(batch.mappings) == {"same", "changed", "marked"}  # the upserts with a fingerprint, as they stood
    assert batch.runs == {"run-1"}  # the references kept per run (accounting periods) are read again for a new one
    assert RunLog(table).summary("run-1").counts["unchanged"] == 2  # the others are counted where they are applied


def test_a_message_the_source_could_not_tell_apart_is_applied_though_its_target_holds_its_fingerprint(table, clock):
    """`judged_by_worker` (an approval stamped with a date alone): the applier reads the record and judges it."""
    MappingStore(table).put(Mapping(kind="project", source_id="same-day", target_id="job-1", fingerprint="fp-same"))
    worker = worker_on(table, FakeApplier(Outcome("created")))
    RunLog(table).start("projects", "run-1", clock.now)
    judged = WorkMessage.model_validate_json(body("same-day", "fp-same")).model_copy(update={"judged_by_worker": True})
    bodies = [judged.model_dump_json(), body("same-day", "fp-same")]
    ran: list[str] = []

    batch = worker.begin(bodies)
    outcomes = [
        worker.handle(Delivery(b, f"m-{i}", 1), batch, run=lambda m: ran.append(m.source_id) or Outcome("updated"))
        for i, b in enumerate(bodies)
    ]
    worker.finish(batch)

    assert ran == ["same-day"] and [o.action for o in outcomes] == ["updated", "unchanged"]


def test_a_batch_knows_the_runs_of_its_messages_deletes_included(table):
    worker = worker_on(table, FakeApplier(Outcome("created")))
    other = WorkMessage.model_validate_json(body("gone", "", op="delete")).model_copy(update={"run_id": "run-2"})
    batch = worker.begin([body("a", "fp"), other.model_dump_json(), "not a message"])
    assert batch.runs == {"run-1", "run-2"}


def test_the_definitions_own_rule_judges_the_change_the_message_carries(table, clock, monkeypatch):
    """The worker hands the sync's `unchanged` rule the change as the poller read it (ID, version, operation,
    snapshot, fingerprint), and answers a record it holds already as unchanged, with its metric."""
    metrics: list[str] = []
    monkeypatch.setattr(worker_module, "count", lambda name, value=1: metrics.append(name))
    MappingStore(table).put(Mapping(kind="project", source_id="7", target_id="job-7", fingerprint="fp-old"))
    judged: list[Change] = []
    worker = worker_on(table, FakeApplier(Outcome("created")), unchanged=lambda c, m: judged.append(c) or True)
    RunLog(table).start("projects", "run-1", clock.now)
    message = body("7", "fp-7", id="7", name="Seven")

    batch = worker.begin([message])
    outcome = worker.handle(Delivery(message, "m-1", 1), batch, run=worker.apply)

    assert judged == [
        Change(source_id="7", version=VERSION, op="upsert", snapshot={"id": "7", "name": "Seven"}, fingerprint="fp-7")
    ]
    assert outcome == Outcome("unchanged", "job-7", "the target already holds this snapshot")
    assert metrics == ["Unchanged"]
