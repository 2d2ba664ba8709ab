"""The worker's failure routing (ctsync.sync.worker.Worker.handle): what is dead-lettered with which reason,
what goes back to the queue, and what is counted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ctsync.errors import BadInput, ConfigurationError, NeedsAttention, TransientError
from ctsync.state import Failure, Mapping
from ctsync.sync.definition import SyncDefinition
from ctsync.sync.messages import Outcome, WorkMessage
from ctsync.sync.worker import GAVE_UP, Worker

MAX_RECEIVES = 5
VERSION = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class FakeApplier:
    def __init__(self, result: Outcome | Exception) -> None:
        self.result = result
        self.applied: list[WorkMessage] = []

    def apply(self, message: WorkMessage) -> Outcome:
        self.applied.append(message)
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


class FakeRunLog:
    def __init__(self) -> None:
        self.counts: list[tuple[str, str, int]] = []
        self.failures: list[tuple[str, Failure]] = []

    def count(self, run_id: str, outcome: str, amount: int = 1) -> None:
        self.counts.append((run_id, outcome, amount))

    def record_failure(self, run_id: str, failure: Failure) -> None:
        self.failures.append((run_id, failure))

    def note(self, run_id: str, key: str, text: str) -> None:  # pragma: no cover - not used by the worker
        pass

    def outcomes(self) -> list[str]:
        return [outcome for _, outcome, _ in self.counts]


class FakeMappings:
    def __init__(self, mappings: dict[tuple[str, str], Mapping] | None = None, *, broken: bool = False) -> None:
        self.mappings = mappings or {}
        self.broken = broken
        self.lookups: list[tuple[str, str]] = []

    def get(self, kind: str, source_id: str) -> Mapping | None:
        self.lookups.append((kind, source_id))
        if self.broken:
            raise RuntimeError("DynamoDB is down")
        return self.mappings.get((kind, source_id))


class FakeDeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Failure, int]] = []

    def send(self, body: str, failure: Failure, *, receive_count: int) -> None:
        self.sent.append((body, failure, receive_count))


class Harness:
    def __init__(
        self, result: Outcome | Exception, *, mappings: FakeMappings | None = None, sync: str = "projects"
    ) -> None:
        self.applier = FakeApplier(result)
        self.runlog = FakeRunLog()
        self.mappings = mappings or FakeMappings()
        self.dead_letters = FakeDeadLetters()
        definition = SyncDefinition(name=sync, mapping_kind="project", source=None, applier=self.applier)  # type: ignore[arg-type]
        self.worker = Worker(definition, self.runlog, self.mappings, self.dead_letters, MAX_RECEIVES)  # type: ignore[arg-type]

    def handle(self, body: str, receive_count: int = 1) -> Outcome | None:
        return self.worker.handle(body, receive_count, run=self.worker.apply)


def body(**overrides: Any) -> str:
    message = WorkMessage(sync="projects", run_id="run-1", source_id="101", version=VERSION, snapshot={"id": "101"})
    return message.model_copy(update=overrides).model_dump_json()


# -- malformed --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "not json",
        "",
        "[]",
        "{}",
        '{"sync": "projects", "run_id": "r", "source_id": "1"}',  # no version
        '{"sync": "projects", "run_id": "r", "source_id": "1", "version": "yesterday"}',
        '{"sync": "projects", "run_id": "r", "source_id": "1", "version": "2026-03-01T09:00:00Z", "op": "merge"}',
        '{"sync": "projects", "run_id": "r", "source_id": "1", "version": "2026-03-01T09:00:00Z", "surprise": 1}',
    ],
)
def test_malformed_body_is_dead_lettered_and_not_applied(raw: str) -> None:
    h = Harness(Outcome("created", "job-1"))
    assert h.handle(raw, receive_count=1) is None
    assert h.applier.applied == []
    ((sent_body, failure, receive_count),) = h.dead_letters.sent
    assert sent_body == raw  # the original body, for replay
    assert receive_count == 1
    assert "malformed work message" in failure.reason
    assert failure.kind == BadInput.code
    assert failure.source_id == "unknown"
    assert failure.target_id is None
    assert failure.sync == "projects"
    assert h.runlog.counts == []  # no run to count it against


def test_malformed_reason_names_the_field() -> None:
    h = Harness(Outcome("created"))
    h.handle('{"sync": "projects", "run_id": "r", "source_id": "1"}')
    assert "version" in h.dead_letters.sent[0][1].reason


# -- needs attention ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("receive_count", [1, 3, MAX_RECEIVES])
def test_needs_attention_is_dead_lettered_at_once_with_its_reason(receive_count: int) -> None:
    error = BadInput("project P-1042 has no customer", field="parent", value=None)
    h = Harness(error)
    assert h.handle(body(), receive_count) is None
    ((sent_body, failure, count),) = h.dead_letters.sent
    assert sent_body == body()
    assert count == receive_count
    assert failure.reason == error.message
    assert "project P-1042 has no customer" in failure.reason
    assert failure.kind == "BAD_INPUT"
    assert failure.source_id == "101"
    assert failure.sync == "projects"
    assert h.runlog.outcomes() == ["failed"]
    assert h.runlog.failures == [("run-1", failure)]


def test_needs_attention_subclass_keeps_its_own_code() -> None:
    h = Harness(ConfigurationError("ClickTime secret must hold api_token"))
    h.handle(body())
    failure = h.dead_letters.sent[0][1]
    assert failure.kind == "CONFIGURATION"
    assert failure.reason == "ClickTime secret must hold api_token"


def test_message_for_another_sync_is_dead_lettered() -> None:
    h = Harness(Outcome("created"))
    assert h.handle(body(sync="tasks")) is None
    assert h.applier.applied == []
    failure = h.dead_letters.sent[0][1]
    assert failure.kind == "BAD_INPUT"
    assert "'tasks'" in failure.reason


# -- transient ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("receive_count", [1, 2, MAX_RECEIVES - 1])
def test_transient_error_before_the_last_receive_is_re_raised_and_counted_as_retried(receive_count: int) -> None:
    error = TransientError("NetSuite 429 CONCURRENCY_LIMIT_EXCEEDED", retry_after=3)
    h = Harness(error)
    with pytest.raises(TransientError) as raised:
        h.handle(body(), receive_count)
    assert raised.value is error
    assert h.dead_letters.sent == []
    assert h.runlog.outcomes() == ["retried"]
    assert h.runlog.failures == []


def test_unexpected_exception_is_retried_too() -> None:
    h = Harness(KeyError("a bug"))
    with pytest.raises(KeyError):
        h.handle(body(), 1)
    assert h.runlog.outcomes() == ["retried"]
    assert h.dead_letters.sent == []


@pytest.mark.parametrize("receive_count", [MAX_RECEIVES, MAX_RECEIVES + 2])
def test_transient_error_at_the_last_receive_gives_up_into_the_dead_letter_queue(receive_count: int) -> None:
    h = Harness(TransientError("NetSuite 503 : Service Unavailable"))
    assert h.handle(body(), receive_count) is None
    ((_, failure, count),) = h.dead_letters.sent
    assert count == receive_count
    assert failure.kind == GAVE_UP
    assert failure.reason.startswith(f"gave up after {receive_count} attempts: ")
    assert "TransientError" in failure.reason
    assert "Service Unavailable" in failure.reason
    assert h.runlog.outcomes() == ["failed"]
    assert "retried" not in h.runlog.outcomes()


def test_an_exception_without_a_message_still_has_a_reason() -> None:
    h = Harness(RuntimeError())
    h.handle(body(), MAX_RECEIVES)
    assert h.dead_letters.sent[0][1].reason == f"gave up after {MAX_RECEIVES} attempts: RuntimeError: RuntimeError"


# -- success --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["created", "updated", "unchanged", "skipped"])
def test_success_is_counted_by_outcome_action(action: str) -> None:
    outcome = Outcome(action, "job-1", "detail")  # type: ignore[arg-type]
    h = Harness(outcome)
    assert h.handle(body(), 2) == outcome
    assert h.runlog.counts == [("run-1", action, 1)]
    assert h.dead_letters.sent == []
    (message,) = h.applier.applied
    assert message.source_id == "101"
    assert message.version == VERSION
    assert message.snapshot == {"id": "101"}


def test_a_guard_returning_a_stored_outcome_is_passed_through() -> None:
    # the idempotency guard may answer without running apply (a replayed message): nothing is counted again
    h = Harness(Outcome("created", "job-1"))
    stored = Outcome("created", "job-1")
    assert h.worker.handle(body(), 2, run=lambda message: stored) is stored
    assert h.runlog.counts == []
    assert h.applier.applied == []


# -- target ids in failures ------------------------------------------------------------------------------------


def test_failure_names_the_mapped_target_id() -> None:
    mappings = FakeMappings({("project", "101"): Mapping(kind="project", source_id="101", target_id="job-77")})
    h = Harness(NeedsAttention("permission"), mappings=mappings)
    h.handle(body())
    failure = h.dead_letters.sent[0][1]
    assert failure.target_id == "job-77"
    assert ("project", "101") in mappings.lookups  # looked up under the definition's mapping kind


def test_gave_up_failure_names_the_mapped_target_id() -> None:
    mappings = FakeMappings({("project", "101"): Mapping(kind="project", source_id="101", target_id="job-77")})
    h = Harness(TransientError("x"), mappings=mappings)
    h.handle(body(), MAX_RECEIVES)
    assert h.dead_letters.sent[0][1].target_id == "job-77"


def test_failure_without_a_mapping_has_no_target_id() -> None:
    h = Harness(NeedsAttention("permission"))
    h.handle(body())
    assert h.dead_letters.sent[0][1].target_id is None


def test_a_broken_mapping_lookup_does_not_stop_the_dead_lettering() -> None:
    h = Harness(NeedsAttention("permission"), mappings=FakeMappings(broken=True))
    assert h.handle(body()) is None
    failure = h.dead_letters.sent[0][1]
    assert failure.target_id is None
    assert failure.reason == "permission"
