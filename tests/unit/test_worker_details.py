"""The worker's smaller promises, each pinned exactly (found by mutation testing, docs/mutation.md): the reason
a malformed message gets, the metrics each route emits, the breaker's cause and reason for errors that are not
the core's own, the edges of the deferral limit and of the pause, and which sync every store call names."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ctsync.errors import NeedsAttention, TransientError
from ctsync.state import Breaker
from ctsync.sync import worker as worker_module
from ctsync.sync.messages import Outcome
from ctsync.sync.queues import Carried
from ctsync.sync.worker import BREAKER_SECONDS, MAX_DEFERRALS, SYSTEMIC, _not_tried
from tests.unit.test_worker_routing import MAX_RECEIVES, NOW, Harness, body


@pytest.fixture
def metrics(monkeypatch) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    monkeypatch.setattr(worker_module, "count", lambda name, value=1: seen.append((name, value)))
    return seen


class SystemicBug(Exception):
    """An error from outside the core that says it is systemic, with no message or cause key of its own."""

    systemic = True


# -- malformed messages ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('{"sync": "projects", "run_id": "r", "source_id": "1"}', "malformed work message: version: Field required"),
        ("[]", "malformed work message: Input should be an object"),
    ],
)
def test_a_malformed_message_is_dead_lettered_with_the_first_error_exactly(raw: str, reason: str) -> None:
    h = Harness(Outcome("created"))
    h.handle(raw)
    assert h.dead_letters.sent[0][1].reason == reason


# -- metrics ----------------------------------------------------------------------------------------------
def test_each_route_emits_its_metric(metrics) -> None:
    h = Harness([Outcome("created", "job-1"), TransientError("503"), NeedsAttention("bad")])
    h.handle(body(source_id="1"))
    with pytest.raises(TransientError):
        h.handle(body(source_id="2"))
    h.handle(body(source_id="3"))
    h.handle(body(source_id="4"), time_left=False)
    assert metrics == [("Created", 1), ("Retried", 1), ("Failed", 1), ("Deferred", 1)]


def test_the_first_worker_to_meet_a_systemic_cause_counts_it_once(metrics) -> None:
    h = Harness([SystemicBug()])
    with pytest.raises(SystemicBug):
        h.handle(body(source_id="1"))
    assert ("SystemicFailure", 1) in metrics
    metrics.clear()
    # The same cause seen again while the pause lasts is not counted again.
    h.worker._open_breaker(h.batch, SystemicBug(), "outage")
    assert ("SystemicFailure", 1) not in metrics


# -- the breaker -------------------------------------------------------------------------------------------
def test_an_error_without_a_cause_key_or_message_opens_the_breaker_under_its_type() -> None:
    h = Harness(SystemicBug("DynamoDB throttled every write"))
    with pytest.raises(SystemicBug):
        h.handle(body())
    (opened,) = h.progress.opened
    assert opened.cause_key == "systemicbug"
    assert opened.reason == "DynamoDB throttled every write"
    assert opened.kind == "outage"
    assert (opened.opened_at, opened.until) == (NOW, NOW + timedelta(seconds=BREAKER_SECONDS))
    assert h.batch.breaker == opened
    assert set(h.progress.syncs) == {"projects"}


def test_the_breaker_takes_the_errors_own_message_and_cause_when_it_has_them() -> None:
    h = Harness(TransientError("ClickTime 503", cause="clicktime-unavailable:503", outage=True))
    with pytest.raises(TransientError):
        h.handle(body())
    (opened,) = h.progress.opened
    assert (opened.cause_key, opened.reason) == ("clicktime-unavailable:503", "ClickTime 503")


def test_not_tried_is_a_systemic_needs_attention_naming_the_pause() -> None:
    paused = Breaker(cause_key="ns-login", kind="needs_attention", reason="bad token", until=NOW, opened_at=NOW)
    error = _not_tried(paused)
    assert isinstance(error, NeedsAttention)
    assert error.code == SYSTEMIC and error.systemic is True and error.cause_key == "ns-login"
    assert error.message == f"not tried: the sync is paused until {NOW.isoformat()} because bad token"


def test_a_pause_ending_exactly_now_is_over_and_success_closes_it() -> None:
    ends_now = Breaker(cause_key="k", kind="outage", reason="503", until=NOW, opened_at=NOW - timedelta(minutes=5))
    h = Harness(Outcome("updated", "job-1"), breaker=ends_now)
    assert h.handle(body()) == Outcome("updated", "job-1")
    h.finish()
    assert h.progress.closed == 1 and h.progress.syncs[-1] == "projects"
    # Closed: the next batch takes "no pause" from the cache instead of reading the store again.
    reads = h.progress.reads
    assert h.worker.begin().breaker is None
    assert h.progress.reads == reads


def test_a_pause_still_running_is_not_closed_by_a_batch_that_applied_nothing() -> None:
    later = Breaker(cause_key="k", kind="outage", reason="503", until=NOW - timedelta(seconds=1), opened_at=NOW)
    h = Harness(Outcome("updated", "job-1"), breaker=later)
    h.finish()  # nothing applied
    assert h.progress.closed == 0


# -- deferrals ----------------------------------------------------------------------------------------------
def test_the_last_allowed_deferral_still_goes_back_on_the_queue() -> None:
    h = Harness(Outcome("created"))
    h.handle(body(), carried=Carried(attempts=1, deferrals=MAX_DEFERRALS - 1), time_left=False)
    ((_, carried, _),) = h.queue.put_back_calls
    assert carried == Carried(attempts=1, deferrals=MAX_DEFERRALS)
    assert h.dead_letters.sent == []
    h.finish()
    assert h.runlog.counts == [("run-1", "deferred", 1)]


def test_one_deferral_too_many_is_dead_lettered_as_such_under_the_records_ids() -> None:
    h = Harness(Outcome("created"))
    h.handle(body(), carried=Carried(attempts=0, deferrals=MAX_DEFERRALS), time_left=False)
    ((_, failure, _),) = h.dead_letters.sent
    assert failure.kind == "DEFERRED_TOO_LONG" and failure.cause_key == "deferred-too-long"
    assert failure.source_id == "101"
    assert (
        failure.reason
        == f"put back {MAX_DEFERRALS} times without a run counted: not enough time left in this invocation"
    )
    h.finish()
    assert h.runlog.counts == [("run-1", "failed", 1)]


# -- what a failure records ----------------------------------------------------------------------------------
def test_a_foreign_error_that_used_up_its_attempts_is_named_by_its_text_and_type() -> None:
    """An error from outside the core (no message, cause key, code or fix of its own)."""
    h = Harness(LookupError("no such field: Job.Notes"))
    h.handle(body(), MAX_RECEIVES)
    ((_, failure, _),) = h.dead_letters.sent
    assert failure.reason == f"gave up after {MAX_RECEIVES} attempts: LookupError: no such field: Job.Notes"
    assert failure.cause_key == "gave-up:lookuperror"
    assert (failure.kind, failure.fix) == ("GAVE_UP", "")
    ((run_id, recorded),) = h.runlog.failures
    assert run_id == "run-1" and recorded == failure


def test_a_failure_carries_the_fix_the_error_knows() -> None:
    h = Harness(NeedsAttention("period Mar 2026 is closed", cause="period-closed:mar-2026", fix="open the period"))
    h.handle(body())
    ((_, failure, _),) = h.dead_letters.sent
    assert (failure.cause_key, failure.fix) == ("period-closed:mar-2026", "open the period")


class SeveralCauses(NeedsAttention):
    """A record blocked by several causes at once (an unmapped employee and a closed period, say)."""

    def causes(self) -> list[tuple[str, str, str]]:
        return [
            ("employee-unmapped:ann", "Ann is not mapped", "map Ann"),
            ("period-closed:mar-2026", "March is closed", "open March"),
            ("task-unmapped:qa", "task QA is not mapped", "map QA"),
        ]


def test_a_record_blocked_by_several_causes_is_listed_under_each() -> None:
    h = Harness(SeveralCauses("Ann is not mapped (and 2 more cause(s))", cause="employee-unmapped:ann", fix="map Ann"))
    h.handle(body())
    (dead,) = h.dead_letters.sent  # one message in the dead-letter queue
    assert dead[1].cause_key == "employee-unmapped:ann"
    recorded = [(run_id, f.cause_key, f.reason, f.fix, f.source_id) for run_id, f in h.runlog.failures]
    assert recorded == [
        ("run-1", "employee-unmapped:ann", "Ann is not mapped (and 2 more cause(s))", "map Ann", "101"),
        (None, "period-closed:mar-2026", "March is closed", "open March", "101"),
        (None, "task-unmapped:qa", "task QA is not mapped", "map QA", "101"),
    ]


# -- counting ------------------------------------------------------------------------------------------------
def test_a_batchs_counts_add_up_per_run_and_outcome() -> None:
    h = Harness([Outcome("created", "a"), Outcome("created", "b"), Outcome("updated", "c"), TransientError("503")])
    for source_id in ("1", "2", "3"):
        h.handle(body(source_id=source_id))
    with pytest.raises(TransientError):
        h.handle(body(source_id="4", run_id="run-2"))
    h.finish()
    assert sorted(h.runlog.counts) == [("run-1", "created", 2), ("run-1", "updated", 1), ("run-2", "retried", 1)]


def test_a_message_for_another_sync_is_bad_input_naming_both_syncs() -> None:
    h = Harness(Outcome("created"))
    h.handle(body(sync="tasks"))
    ((_, failure, _),) = h.dead_letters.sent
    assert failure.reason == "message for sync 'tasks' reached the 'projects' worker (field sync='tasks')"
    assert failure.cause_key == "bad-input:sync"


def test_an_error_that_does_not_say_it_is_systemic_pauses_nothing() -> None:
    h = Harness(RuntimeError("a bug"))
    with pytest.raises(RuntimeError):
        h.handle(body())
    assert h.progress.opened == [] and h.batch.breaker is None


# -- the pause, read again -------------------------------------------------------------------------------------
def test_a_pause_in_force_is_read_again_at_every_batch(monkeypatch) -> None:
    """An operator may lift a pause at any time (`ctns redrive`): a cached pause would hold records back."""
    paused = Breaker(cause_key="k", kind="outage", reason="503", until=NOW + timedelta(minutes=5), opened_at=NOW)
    monotonic = iter([100.0, 100.5, 101.0])
    monkeypatch.setattr(worker_module.time, "monotonic", lambda: next(monotonic))
    h = Harness(Outcome("created"), breaker=paused)  # the first begin(), at 100.0
    assert h.progress.reads == 1
    h.progress.stored = None  # lifted half a second later
    assert h.worker.begin().breaker is None
    assert h.progress.reads == 2


def test_no_pause_is_taken_from_the_cache_for_ten_seconds_then_read_again(monkeypatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(worker_module.time, "monotonic", lambda: clock[0])
    h = Harness(Outcome("created"))
    assert h.progress.reads == 1
    clock[0] = 110.0  # exactly ten seconds on: still the cached "no pause"
    h.worker.begin()
    assert h.progress.reads == 1
    clock[0] = 110.001
    h.worker.begin()
    assert h.progress.reads == 2


def test_a_record_held_back_by_a_pause_too_often_is_dead_lettered_naming_the_pause() -> None:
    outage = Breaker(
        cause_key="ns-503",
        kind="outage",
        reason="NetSuite answers 503",
        until=NOW + timedelta(minutes=5),
        opened_at=NOW,
    )
    h = Harness(Outcome("created"), breaker=outage)
    h.handle(body(), carried=Carried(attempts=2, deferrals=MAX_DEFERRALS))
    ((_, failure, _),) = h.dead_letters.sent
    assert failure.reason == f"put back {MAX_DEFERRALS} times without a run counted: NetSuite answers 503"
