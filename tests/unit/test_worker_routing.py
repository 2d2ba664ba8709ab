"""The worker's failure routing (ctsync.sync.worker.Worker.handle): what is dead-lettered with which reason,
what goes back to the queue, and what is counted."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from botocore.exceptions import ClientError

from ctsync.entrypoints import process_batch
from ctsync.errors import BadInput, ConfigurationError, NeedsAttention, TransientError
from ctsync.netsuite.errors import NetSuiteAuthError
from ctsync.observability import logger
from ctsync.state import Breaker, Failure, Mapping
from ctsync.sync.definition import SyncDefinition
from ctsync.sync.messages import Outcome, WorkMessage
from ctsync.sync.queues import Carried, DeadLetterQueue
from ctsync.sync.worker import BREAKER_SECONDS, GAVE_UP, MAX_DEFERRALS, SYSTEMIC, Delivery, Worker
from tests.unit.test_overlapping_records import sqs_event

MAX_RECEIVES = 5
VERSION = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


class FakeApplier:
    """Answers each message with the next result (the last one repeats)."""

    def __init__(self, result: Outcome | Exception | list[Outcome | Exception]) -> None:
        self.results = list(result) if isinstance(result, list) else [result]
        self.applied: list[WorkMessage] = []

    def apply(self, message: WorkMessage) -> Outcome:
        self.applied.append(message)
        result = self.results[min(len(self.applied), len(self.results)) - 1]
        if isinstance(result, Exception):
            raise result
        return result


class FakeRunLog:
    def __init__(self) -> None:
        self.counts: list[tuple[str, str, int]] = []
        self.failures: list[tuple[str | None, Failure]] = []
        self.open_causes: set[str] = set()

    def add_counts(self, run_id: str, counts: dict[str, int]) -> None:
        self.counts.extend((run_id, outcome, amount) for outcome, amount in counts.items() if amount)

    def record_failure(self, run_id: str | None, failure: Failure) -> bool:
        self.failures.append((run_id, failure))
        new = failure.cause_key not in self.open_causes
        self.open_causes.add(failure.cause_key)
        return new

    def dead_lettered_in(self, run_id: str, source_id: str) -> bool:
        return any(r == run_id and f.source_id == source_id and f.dead_lettered for r, f in self.failures)

    def note(self, run_id: str, key: str, text: str) -> None:  # pragma: no cover - not used by the worker
        pass

    def causes(self, sync: str) -> list[Any]:
        return []  # no cause names a record here: the real run log's are tested on moto

    def outcomes(self) -> list[str]:
        return sorted(outcome for _, outcome, amount in self.counts for _ in range(amount))


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
        self.refusal: Exception | None = None  # raised by every send when set (SQS refusing, or unreachable)

    def send(self, body: str, failure: Failure, *, receive_count: int) -> None:
        if self.refusal is not None:
            raise self.refusal
        self.sent.append((body, failure, receive_count))


class FakeWorkQueue:
    def __init__(self) -> None:
        self.put_back_calls: list[tuple[str, Carried, int]] = []

    def put_back(self, body: str, carried: Carried, *, delay_seconds: int) -> None:
        self.put_back_calls.append((body, carried, delay_seconds))


class FakeProgress:
    def __init__(self, breaker: Breaker | None = None) -> None:
        self.stored = breaker
        self.opened: list[Breaker] = []
        self.closed = 0
        self.reads = 0
        self.syncs: list[str] = []  # the sync named by every call

    def breaker(self, sync: str) -> Breaker | None:
        self.reads += 1
        self.syncs.append(sync)
        return self.stored

    def open_breaker(self, sync: str, breaker: Breaker) -> bool:
        self.syncs.append(sync)
        first = (
            self.stored is None or self.stored.cause_key != breaker.cause_key or self.stored.until < breaker.opened_at
        )
        self.stored = breaker
        self.opened.append(breaker)
        return first

    def close_breaker(self, sync: str) -> None:
        self.syncs.append(sync)
        self.closed += 1
        self.stored = None


class Harness:
    def __init__(
        self,
        result: Outcome | Exception | list[Outcome | Exception],
        *,
        mappings: FakeMappings | None = None,
        sync: str = "projects",
        breaker: Breaker | None = None,
        dead_letters: Any = None,
    ) -> None:
        self.applier = FakeApplier(result)
        self.runlog = FakeRunLog()
        self.mappings = mappings or FakeMappings()
        self.dead_letters = dead_letters or FakeDeadLetters()
        self.queue = FakeWorkQueue()
        self.progress = FakeProgress(breaker)
        definition = SyncDefinition(name=sync, mapping_kind="project", source=None, applier=self.applier)  # type: ignore[arg-type]
        self.worker = Worker(
            definition,
            self.runlog,  # type: ignore[arg-type]
            self.mappings,  # type: ignore[arg-type]
            self.progress,  # type: ignore[arg-type]
            self.queue,  # type: ignore[arg-type]
            self.dead_letters,  # type: ignore[arg-type]
            MAX_RECEIVES,
            clock=lambda: NOW,
        )
        self.batch = self.worker.begin()

    def handle(
        self, body: str, receive_count: int = 1, *, carried: Carried | None = None, time_left: bool = True
    ) -> Outcome | None:
        delivery = Delivery(body=body, message_id="m-1", receive_count=receive_count, carried=carried or Carried())
        return self.worker.handle(delivery, self.batch, run=self.worker.apply, time_left=lambda: time_left)

    def finish(self) -> None:
        self.worker.finish(self.batch)


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
    h.finish()
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
    assert failure.cause_key == "bad-input:parent"  # grouped by what to fix, not by the text naming the record
    h.finish()
    assert h.runlog.outcomes() == ["failed"]
    assert h.runlog.failures == [("run-1", failure)]


def test_a_record_the_run_dead_lettered_already_is_not_counted_failed_again() -> None:
    """A redrive that fails the record again (nothing fixed yet) sends it back to the dead-letter queue with the
    reason, but the run it belongs to failed it once: its count stays (review, 2026-12-03)."""
    h = Harness(BadInput("project P-1042 has no customer", field="parent", value=None))
    for _ in range(3):
        assert h.handle(body(), 1) is None
    h.finish()
    assert len(h.dead_letters.sent) == 3 and len(h.runlog.failures) == 3
    assert h.runlog.outcomes() == ["failed"]


def test_needs_attention_subclass_keeps_its_own_code() -> None:
    h = Harness(NeedsAttention("no service item for task 5001", code="NO_ITEM", cause="item-missing:5001"))
    h.handle(body())
    failure = h.dead_letters.sent[0][1]
    assert failure.kind == "NO_ITEM"
    assert failure.reason == "no service item for task 5001"
    assert failure.cause_key == "item-missing:5001"


def test_message_for_another_sync_is_dead_lettered() -> None:
    h = Harness(Outcome("created"))
    assert h.handle(body(sync="tasks")) is None
    assert h.applier.applied == []
    failure = h.dead_letters.sent[0][1]
    assert failure.kind == "BAD_INPUT"
    assert "'tasks'" in failure.reason


def test_a_check_goes_to_the_syncs_recheck_not_its_applier() -> None:
    h = Harness(Outcome("created"))
    looked: list[WorkMessage] = []
    h.worker._definition = replace(
        h.worker._definition, recheck=lambda m: looked.append(m) or Outcome("updated", "job-1", "written again")
    )
    outcome = h.handle(body(op="check", snapshot={"kind": "project"}))
    assert outcome == Outcome("updated", "job-1", "written again")
    assert [m.snapshot for m in looked] == [{"kind": "project"}] and h.applier.applied == []
    h.finish()
    assert h.runlog.outcomes() == ["updated"]


def test_a_sync_that_looks_again_still_applies_its_other_messages() -> None:
    h = Harness(Outcome("created", "job-1"))
    looked: list[WorkMessage] = []
    h.worker._definition = replace(h.worker._definition, recheck=lambda m: looked.append(m) or Outcome("unchanged"))
    assert h.handle(body()) == Outcome("created", "job-1")
    assert looked == [] and len(h.applier.applied) == 1


def test_a_check_for_a_sync_that_looks_at_nothing_again_is_dead_lettered_with_the_reason() -> None:
    h = Harness(Outcome("created"))
    assert h.handle(body(op="check", snapshot={"kind": "project"}, sync="projects")) is None
    assert h.applier.applied == []
    failure = h.dead_letters.sent[0][1]
    assert (failure.kind, failure.reason) == (
        "BAD_INPUT",
        "the 'projects' sync looks at no target again (field op='check')",
    )


# -- transient ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("receive_count", [1, 2, MAX_RECEIVES - 1])
def test_transient_error_before_the_last_receive_is_re_raised_and_counted_as_retried(receive_count: int) -> None:
    error = TransientError("NetSuite 429 CONCURRENCY_LIMIT_EXCEEDED", retry_after=3)
    h = Harness(error)
    with pytest.raises(TransientError) as raised:
        h.handle(body(), receive_count)
    assert raised.value is error
    assert h.dead_letters.sent == []
    h.finish()
    assert h.runlog.outcomes() == ["retried"]
    assert h.runlog.failures == []


def test_unexpected_exception_is_retried_too() -> None:
    h = Harness(KeyError("a bug"))
    with pytest.raises(KeyError):
        h.handle(body(), 1)
    h.finish()
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
    assert failure.cause_key == "gave-up:transient"
    h.finish()
    assert h.runlog.outcomes() == ["failed"]


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
    h.finish()
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
    delivery = Delivery(body=body(), message_id="m-1", receive_count=2)
    assert h.worker.handle(delivery, h.batch, run=lambda message: stored) is stored
    h.finish()
    assert h.runlog.counts == []
    assert h.applier.applied == []


# -- target ids in failures ------------------------------------------------------------------------------------


def test_failure_names_the_mapped_target_id() -> None:
    mappings = FakeMappings({("project", "101"): Mapping(kind="project", source_id="101", target_id="job-77")})
    h = Harness(NeedsAttention("a validation error"), mappings=mappings)
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
    h = Harness(NeedsAttention("a validation error"))
    h.handle(body())
    assert h.dead_letters.sent[0][1].target_id is None


def test_a_broken_mapping_lookup_does_not_stop_the_dead_lettering() -> None:
    h = Harness(NeedsAttention("a validation error"), mappings=FakeMappings(broken=True))
    assert h.handle(body()) is None
    failure = h.dead_letters.sent[0][1]
    assert failure.target_id is None
    assert failure.reason == "a validation error"


# -- a failure SQS will not take (review, 2026-12-03) ----------------------------------------------------------


def test_a_reason_with_characters_sqs_refuses_is_dead_lettered_readable_and_recorded(strict_sqs, caplog) -> None:
    """A ClickTime validation message echoing a vertical tab or a NUL, a non-character, half an emoji: SQS refused
    the dead letter (InvalidParameterValue), and the reason, the run log's failure and the ERROR line were lost.
    The half emoji is U+FFFD everywhere: no UTF-8 writer takes it (the log line was dropped for it)."""
    url = strict_sqs.create_queue(QueueName="dlq")["QueueUrl"]
    error = NeedsAttention(
        "Job name 'Acme\x0bWidgets\x00' is invalid: \ufffe \ud83d", code="CLICKTIME_400", cause="clicktime-400:name"
    )
    h = Harness(error, dead_letters=DeadLetterQueue(strict_sqs, url))

    with caplog.at_level("ERROR"):
        assert h.handle(body()) is None

    (sent,) = strict_sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])["Messages"]
    assert sent["Body"] == body()
    reason = sent["MessageAttributes"]["failure_reason"]["StringValue"]
    assert reason == "Job name 'Acme\\u000bWidgets\\u0000' is invalid: \\ufffe \ufffd"
    ((run_id, failure),) = h.runlog.failures
    assert (run_id, failure.reason) == ("run-1", "Job name 'Acme\x0bWidgets\x00' is invalid: \ufffe \ufffd")
    (line,) = [r for r in caplog.records if r.levelname == "ERROR"]
    written = logger.registered_formatter.format(line).encode("utf-8")  # as the function's UTF-8 stdout takes it
    assert json.loads(written)["failure_reason"] == failure.reason


@pytest.mark.parametrize(
    ("error", "receive_count"),
    [(NeedsAttention("a validation error", code="CLICKTIME_400"), 1), (TransientError("a timeout"), MAX_RECEIVES)],
)
def test_a_dead_letter_sqs_refuses_is_still_recorded_and_logged_and_the_record_returned(
    error: Exception, receive_count: int, caplog
) -> None:
    """Whatever the dead-letter send raises, the failure is in the run log and the ERROR line names both IDs and
    the reason; the record is a batch item failure, so SQS delivers it again (and redrives it in the end)."""
    mappings = FakeMappings({("project", "101"): Mapping(kind="project", source_id="101", target_id="job-77")})
    h = Harness(error, mappings=mappings)
    h.dead_letters.refusal = ClientError({"Error": {"Code": "InvalidParameterValue", "Message": "no"}}, "SendMessage")
    event = sqs_event(1)
    event["Records"][0].update(body=body(), attributes={"ApproximateReceiveCount": str(receive_count)})

    def handler(record: Any) -> Outcome | None:
        return h.handle(record.body, int(record.attributes.approximate_receive_count))

    with caplog.at_level("ERROR"):
        # (a batch that failed whole raises by default: SQS then delivers all of it again, this one record too)
        processor = BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False)
        response = process_batch(event, None, processor, handler)  # type: ignore[arg-type]

    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    ((run_id, failure),) = h.runlog.failures
    assert (run_id, failure.source_id, failure.target_id) == ("run-1", "101", "job-77")
    assert error.message in failure.reason  # type: ignore[attr-defined]
    (line,) = [r for r in caplog.records if r.levelname == "ERROR" and getattr(r, "failure_reason", None)]
    assert (line.netsuite_id, line.clicktime_id, line.failure_reason) == ("101", "job-77", failure.reason)
    assert "InvalidParameterValue" in line.message
    h.finish()
    assert h.runlog.outcomes() == ["failed"]


def test_a_systemic_failure_whose_dead_letter_is_refused_still_pauses_the_sync() -> None:
    h = Harness(NetSuiteAuthError(401, "INVALID_LOGIN", "Invalid login attempt."))
    h.dead_letters.refusal = ConnectionError("SQS unreachable")
    with pytest.raises(ConnectionError):
        h.handle(body())
    assert [b.cause_key for b in h.progress.opened] == ["netsuite-login"]
    assert [f.cause_key for _, f in h.runlog.failures] == ["netsuite-login"]


# -- records not started: deferred, not counted as attempts (defect 5) ------------------------------------------


def test_a_record_not_started_for_lack_of_time_goes_back_without_using_an_attempt(caplog) -> None:
    h = Harness(Outcome("created"))
    with caplog.at_level("INFO"):
        assert h.handle(body(), receive_count=MAX_RECEIVES, time_left=False) is None
    assert any("put back on the queue without running (not enough time" in r.message for r in caplog.records)
    assert h.applier.applied == [] and h.dead_letters.sent == []
    ((sent_body, carried, delay),) = h.queue.put_back_calls
    # It had really run MAX_RECEIVES - 1 times; the re-sent copy carries that, not the receives of waiting
    assert sent_body == body() and carried == Carried(attempts=MAX_RECEIVES - 1, deferrals=1) and delay == 0
    h.finish()
    assert h.runlog.outcomes() == ["deferred"]


def test_a_deferred_record_is_dead_lettered_only_after_it_really_ran_max_times() -> None:
    # A copy that was deferred before, after two real runs, and is now on its first receive
    h = Harness(TransientError("NetSuite 503"))
    with pytest.raises(TransientError):
        h.handle(body(), receive_count=1, carried=Carried(attempts=2, deferrals=3))  # run 3
    with pytest.raises(TransientError):
        h.handle(body(), receive_count=2, carried=Carried(attempts=2, deferrals=3))  # run 4
    assert h.dead_letters.sent == []
    h.handle(body(), receive_count=3, carried=Carried(attempts=2, deferrals=3))  # run 5: the last
    ((_, failure, _),) = h.dead_letters.sent
    assert failure.kind == GAVE_UP and failure.reason.startswith(f"gave up after {MAX_RECEIVES} attempts")


def test_deferred_for_ever_ends_in_the_dead_letter_queue_with_the_reason() -> None:
    h = Harness(Outcome("created"))
    h.handle(body(), carried=Carried(attempts=0, deferrals=MAX_DEFERRALS), time_left=False)
    assert h.queue.put_back_calls == []
    ((_, failure, _),) = h.dead_letters.sent
    assert failure.cause_key == "deferred-too-long" and "not enough time" in failure.reason


# -- systemic failures: one cause, the batch stops early (defect 6) ---------------------------------------------


def test_a_wrong_token_dead_letters_the_batch_with_one_cause_without_trying_the_rest(caplog) -> None:
    auth = NetSuiteAuthError(401, "INVALID_LOGIN", "Invalid login attempt.")
    h = Harness([auth, Outcome("created")])
    bodies = [body(source_id=str(n)) for n in range(10)]
    with caplog.at_level("WARNING"):
        for each in bodies:
            assert h.handle(each) is None
    # Only the first record met NetSuite; the other nine were not tried
    assert len(h.applier.applied) == 1
    assert [failure.source_id for _, failure, _ in h.dead_letters.sent] == [str(n) for n in range(10)]
    assert {failure.cause_key for _, failure, _ in h.dead_letters.sent} == {"netsuite-login"}
    assert all(failure.kind == SYSTEMIC for _, failure, _ in h.dead_letters.sent)
    assert "not tried" in h.dead_letters.sent[5][1].reason
    # One breaker, one ERROR line naming the cause; every record still logged with its IDs at WARNING
    (opened,) = h.progress.opened
    assert opened.kind == "needs_attention" and opened.until == NOW + timedelta(seconds=BREAKER_SECONDS)
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "netsuite-login" in errors[0].cause_key
    assert len([r for r in caplog.records if r.levelname == "WARNING" and "dead-lettered" in r.message]) == 10
    # One cause record with every blocked record
    assert {failure.cause_key for _, failure in h.runlog.failures} == {"netsuite-login"}


def test_records_not_tried_under_a_login_pause_carry_its_fix_and_leave_its_reason_alone() -> None:
    # Given a wrong token (the error knows the secret and the fix), met by the first record of a batch
    auth = NetSuiteAuthError(401, "INVALID_LOGIN", "Invalid login attempt.", secret_name="ctsync/netsuite")
    h = Harness([auth, Outcome("created")])
    for n in range(3):
        h.handle(body(source_id=str(n)))
    # Then the pause carries the fix, and so does every dead letter, those not tried under the pause included
    (opened,) = h.progress.opened
    assert opened.fix == auth.fix and "ctsync/netsuite" in opened.fix
    letters = [failure for _, failure, _ in h.dead_letters.sent]
    assert [f.fix for f in letters] == [auth.fix] * 3
    assert all("ctsync/netsuite" in f.reason for f in letters)  # "not tried ... because <the reason>"
    # And only the failure that opened the pause sets the cause's reason: the others are marked not tried, so the
    # run log counts them under the cause without putting "not tried: the sync is paused" in its place
    recorded = [failure for _, failure in h.runlog.failures]
    assert [f.not_tried for f in recorded] == [False, True, True]
    assert recorded[0].reason.startswith("NetSuite 401 INVALID_LOGIN")


def test_a_later_batch_while_the_breaker_is_open_is_not_tried() -> None:
    paused = Breaker(
        cause_key="clicktime-login",
        kind="needs_attention",
        reason="bad token",
        until=NOW + timedelta(minutes=3),
        opened_at=NOW,
    )
    h = Harness(Outcome("created"), breaker=paused)
    h.handle(body())
    assert h.applier.applied == []
    assert h.dead_letters.sent[0][1].cause_key == "clicktime-login"


def test_an_outage_puts_the_rest_of_the_batch_back_without_using_their_attempts() -> None:
    outage = TransientError("ClickTime 503", cause="clicktime-unavailable:503", outage=True)
    h = Harness([outage, Outcome("created")])
    with pytest.raises(TransientError):
        h.handle(body(source_id="1"))  # the record that met the outage goes back to the queue (one attempt)
    for n in range(2, 5):
        assert h.handle(body(source_id=str(n))) is None
    assert len(h.applier.applied) == 1 and h.dead_letters.sent == []
    assert [c.attempts for _, c, _ in h.queue.put_back_calls] == [0, 0, 0]
    assert all(0 < delay <= BREAKER_SECONDS for _, _, delay in h.queue.put_back_calls)
    assert h.progress.opened[0].kind == "outage"


@pytest.mark.parametrize("receive_count", [1, MAX_RECEIVES])
def test_a_record_refused_for_load_until_its_retries_ran_out_goes_back_without_using_an_attempt(
    receive_count: int, caplog
) -> None:
    # A timesheet of many bills under a full NetSuite concurrency limit: one bill's requests were refused (429, or
    # 401 INVALID_LOGIN under load) until the client's retries ran out. NetSuite never ran that request, so the
    # record must not use up its attempts on it (five such nights used to dead-letter a whole sheet).
    refused = TransientError("NetSuite 429", cause="netsuite-concurrency", outage=True, throttled=True)
    h = Harness([refused, Outcome("created")])
    with caplog.at_level("INFO"):
        assert h.handle(body(source_id="1"), receive_count=receive_count) is None
    assert h.dead_letters.sent == []
    assert any(
        "put back on the queue without counting the run (refused for load: NetSuite 429)" in r.message
        for r in caplog.records
    )
    ((_, carried, delay),) = h.queue.put_back_calls
    assert carried == Carried(attempts=receive_count - 1, deferrals=1)
    # back after the pause the sync now keeps, not before it
    assert delay == BREAKER_SECONDS
    (opened,) = h.progress.opened
    assert opened.kind == "outage" and opened.cause_key == "netsuite-concurrency"
    h.finish()
    assert h.runlog.outcomes() == ["deferred"]


def test_refused_for_load_night_after_night_ends_in_the_dead_letter_queue_naming_the_refusal() -> None:
    refused = TransientError("NetSuite 429 CONCURRENCY_LIMIT_EXCEEDED", outage=True, throttled=True)
    h = Harness(refused)
    h.handle(body(), carried=Carried(attempts=1, deferrals=MAX_DEFERRALS))
    assert h.queue.put_back_calls == []
    ((_, failure, _),) = h.dead_letters.sent
    assert failure.cause_key == "deferred-too-long"
    assert (
        failure.reason == f"put back {MAX_DEFERRALS} times without a run counted: refused for load: {refused.message}"
    )


def test_a_server_error_outage_still_uses_the_attempt_of_the_record_that_met_it() -> None:
    # A 5xx until the retries ran out may be this record's own doing (a script failing on it): it counts, so such
    # a record ends in the dead-letter queue after MaxReceiveCount runs instead of pausing the sync for a day
    outage = TransientError("NetSuite 500", cause="netsuite-unavailable:500", outage=True)
    h = Harness(outage)
    h.handle(body(), receive_count=MAX_RECEIVES)
    ((_, failure, _),) = h.dead_letters.sent
    assert failure.kind == GAVE_UP and h.queue.put_back_calls == []


def test_a_pause_ending_within_a_second_puts_records_back_for_a_whole_second_not_none(caplog) -> None:
    # SQS delays are whole seconds: 0.4 s rounded down to 0 would hand the record straight back, again and again
    paused = Breaker(cause_key="k", kind="outage", reason="503", until=NOW + timedelta(seconds=0.4), opened_at=NOW)
    h = Harness(Outcome("created"), breaker=paused)
    with caplog.at_level("INFO"):
        assert h.handle(body()) is None
    ((_, _, delay),) = h.queue.put_back_calls
    assert delay == 1
    # and the log line says the delay the record was given
    assert [r.delay_s for r in caplog.records if "put back" in r.message] == [1]


def test_after_the_pause_one_record_tries_and_success_closes_the_breaker() -> None:
    over = Breaker(cause_key="k", kind="outage", reason="503", until=NOW - timedelta(seconds=1), opened_at=NOW)
    h = Harness(Outcome("updated", "job-1"), breaker=over)
    assert h.handle(body()) == Outcome("updated", "job-1")
    h.finish()
    assert h.progress.closed == 1


def test_a_configuration_error_is_systemic() -> None:
    h = Harness(ConfigurationError("ClickTime secret must hold api_token"))
    h.handle(body())
    failure = h.dead_letters.sent[0][1]
    assert failure.kind == SYSTEMIC and failure.reason == "ClickTime secret must hold api_token"
    assert h.progress.opened and h.progress.opened[0].cause_key == "configuration"
