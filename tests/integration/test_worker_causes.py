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
        return Outcome(self.outcomes.get(message.source_id, "updated"))  # type: ignore[arg-type]


def test_records_that_went_through_leave_their_causes_but_one_reported_again(table, clock):
    runlog = RunLog(table)
    for source_id in ("1", "2", "3", "4"):
        fail(runlog, source_id, "unmapped")
    fail(runlog, "2", "flagged")  # dead-lettered once, and flagged again by the message that goes through
    fail(runlog, "1", "rounded", dead_lettered=False)  # a flag of an earlier pass that went through: it stays
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
    assert causes["elsewhere"] == {"9"}
    # one read of the open causes for the batch, one update per record that leaves a cause
    assert finished.count("Query") == 1 and finished.count("UpdateItem") == 1 + 2  # the run's counts, 1 and 2


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
    assert runlog.cause("projects", "unmapped").blocked == []  # kept, closed: the next failure opens it again
