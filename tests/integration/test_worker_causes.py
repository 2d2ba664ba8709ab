"""A record that went through leaves the causes that kept it from going through (found by `make soak`, seed 777001:
an expense sheet fixed in ClickTime and exported stayed under its cause until someone redrove it); a flag it went
through with stays (an amount rounded, a receipt refused), as does a cause the same batch reported it under again.
The run log is the real one on moto; the applier is recorded."""

from __future__ import annotations

from ctsync.state import RunLog
from ctsync.state.runlog import Failure
from ctsync.sync.messages import Outcome, WorkMessage
from ctsync.sync.worker import Delivery
from tests.integration.conftest import dynamodb_calls
from tests.integration.test_worker_unchanged import body, worker_on
from tests.unit.test_worker_routing import FakeApplier


def fail(runlog: RunLog, source_id: str, cause: str, *, dead_lettered: bool = True) -> None:
    failure = Failure(
        sync="projects", source_id=source_id, kind="BLOCKED", reason="r", cause_key=cause, dead_lettered=dead_lettered
    )
    runlog.record_failure("run-0", failure)


class FlaggingApplier(FakeApplier):
    """Reports record 2 under `flagged` while applying it (a change that went through with a flag)."""

    def __init__(self, runlog: RunLog, outcomes: dict[str, str]) -> None:
        super().__init__(Outcome("updated"))
        self.runlog, self.outcomes = runlog, outcomes

    def apply(self, message: WorkMessage) -> Outcome:
        self.applied.append(message)
        if message.source_id == "2":
            fail(self.runlog, "2", "flagged", dead_lettered=False)
        if message.source_id == "1":
            fail(self.runlog, "1", "twice", dead_lettered=False)
        return Outcome(self.outcomes.get(message.source_id, "updated"))  # type: ignore[arg-type]


def test_records_that_went_through_leave_their_causes_but_one_reported_again(table, clock):
    runlog = RunLog(table)
    for source_id in ("1", "2", "3", "4"):
        fail(runlog, source_id, "unmapped")
    fail(runlog, "2", "flagged")  # dead-lettered once, and flagged again by the message that goes through
    fail(runlog, "1", "rounded", dead_lettered=False)  # a flag of an earlier pass that went through: it stays
    fail(runlog, "1", "twice")  # held, and reported again for 1 (first in order), not for 2
    fail(runlog, "2", "twice")
    fail(runlog, "9", "elsewhere")  # a record not in the batch
    worker = worker_on(table, FlaggingApplier(runlog, {"3": "skipped"}))
    worker._runlog = runlog  # the applier's flags and the worker's reads go through one run log, as in Lambda
    runlog.start("projects", "run-1", clock.now)
    bodies = [body(n, "") for n in ("1", "2", "3")]

    batch = worker.begin(bodies)
    for i, b in enumerate(bodies):
        worker.handle(Delivery(b, f"m-{i}", 1), batch, run=worker.apply)
    calls = dynamodb_calls(table)
    worker.finish(batch)
    finished = [name for name, _ in calls]

    causes = {c.key: set(c.blocked) for c in runlog.causes("projects")}
    # 1 and 2 went through: no longer held as unmapped; 3 was skipped and 4 not in the batch: still held
    assert causes["unmapped"] == {"3", "4"}
    assert causes["flagged"] == {"2"}  # reported again by the very message that went through
    assert causes["rounded"] == {"1"}
    assert causes["twice"] == {"1"}
    held = {c.key: set(c.held) for c in runlog.causes("projects")}
    assert held == {"unmapped": {"3", "4"}, "flagged": {"2"}, "twice": {"1"}, "rounded": set(), "elsewhere": {"9"}}
    assert batch.went_through == {"1", "2"}
    assert causes["elsewhere"] == {"9"}
    # one read of the open causes for the batch, one update per record that leaves a cause
    assert (
        finished.count("Query") == 1 and finished.count("UpdateItem") == 1 + 3
    )  # the counts; unmapped: 1, 2; twice: 2


def test_a_cause_left_naming_nobody_is_closed(table, clock):
    runlog = RunLog(table)
    fail(runlog, "1", "unmapped")
    worker = worker_on(table, FakeApplier(Outcome("created")))
    worker._runlog = runlog
    runlog.start("projects", "run-1", clock.now)

    batch = worker.begin([body("1", "")])
    worker.handle(Delivery(body("1", ""), "m-0", 1), batch, run=worker.apply)
    worker.finish(batch)

    assert runlog.causes("projects") == []
    closed = runlog.cause("projects", "unmapped")
    assert closed.blocked == [] and closed.held == []  # kept, closed: the next failure opens it again


def test_a_look_that_finds_its_record_in_step_leaves_the_causes_as_they_are(table, clock):
    # A look (`op="check"`, after a write of unknown outcome) says nothing about what kept the record back.
    runlog = RunLog(table)
    fail(runlog, "1", "unmapped")
    applier = FakeApplier(Outcome("created"))
    worker = worker_on(table, applier, recheck=lambda message: Outcome("unchanged"))
    worker._runlog = runlog
    runlog.start("projects", "run-1", clock.now)
    look = body("1", "", op="check")

    batch = worker.begin([look])
    outcome = worker.handle(Delivery(look, "m-0", 1), batch, run=worker.apply)
    worker.finish(batch)

    assert outcome is not None and outcome.action == "unchanged" and applier.applied == []
    assert batch.went_through == set() and runlog.cause("projects", "unmapped").held == ["1"]


def test_a_record_held_back_by_an_open_cause_fails_with_it_when_it_reaches_the_worker(table, clock):
    # Redriven before its fix: judged unchanged it would leave the dead-letter queue and its cause for good.
    from ctsync.errors import NeedsAttention
    from ctsync.state import Mapping, MappingStore

    MappingStore(table).put(
        Mapping(kind="project", source_id="1", target_id="job-1", fingerprint="fp", details={"waits": "yes"})
    )
    MappingStore(table).put(Mapping(kind="project", source_id="2", target_id="job-2", fingerprint="fp"))
    applier = FakeApplier(Outcome("updated"))

    def waits(mapping: Mapping) -> NeedsAttention | None:
        return NeedsAttention(f"{mapping.source_id} waits", cause="field-not-kept:job.x") if mapping.details else None

    worker = worker_on(table, applier, unchanged=lambda change, mapping: True, waits=waits)
    runlog = RunLog(table)
    worker._runlog = runlog
    runlog.start("projects", "run-1", clock.now)
    bodies = [body("1", "fp"), body("2", "fp")]

    batch = worker.begin(bodies)
    outcomes = [worker.handle(Delivery(b, f"m-{i}", 1), batch, run=worker.apply) for i, b in enumerate(bodies)]
    worker.finish(batch)

    assert outcomes[0] is None and outcomes[1] is not None and outcomes[1].action == "unchanged"
    assert applier.applied == []  # neither is applied: 1 fails with its cause, 2 is held
    ((_, failure, _),) = worker._dead_letters.sent
    assert (failure.source_id, failure.cause_key, failure.dead_lettered) == ("1", "field-not-kept:job.x", True)
    assert runlog.cause("projects", "field-not-kept:job.x").held == ["1"]
