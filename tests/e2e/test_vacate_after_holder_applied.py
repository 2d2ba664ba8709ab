"""Review of 2026-12-04's `records.targets._vacated` (two projects swapping numbers).

Numbers shifted in a chain (B P-2 -> P-3, A P-1 -> P-2) with two workers (WorkerMaxConcurrency >= 2): A's update is
refused because B's job still holds P-2, A looks up the holder (B), and B's own worker then applies B's message
(its job now holds P-3, B's mapping records it). A's worker then takes B's lock and, since B's NetSuite record no
longer has P-2, renames B's job -- which no longer holds P-2 at all -- to 'P-2 (moving)' and clears B's hash.
B's message has already been applied and B does not change again: no message ever writes P-3 back, and B's job
keeps the placeholder number for good (time reported and priced on a job numbered 'P-2 (moving)').

`_vacated` checks only that the holder's mapping names the same target, not that it is still the mapping that was
read when the refusal was met (or that the target still holds the value).

Deterministic: B's message is applied from inside A's attempt, right after A looked the holder up.
"""

from __future__ import annotations

import pytest

from ctsync.records import projects as project_records
from ctsync.sync.messages import WorkMessage
from ctsync.sync.registry import build
from tests.e2e.support import jobs_by_project, run

pytestmark = pytest.mark.e2e


def _message(sync, project_id: str) -> WorkMessage:
    change = sync.current_change(project_id)
    return WorkMessage(
        sync="projects",
        run_id="run-review45",
        source_id=project_id,
        version=change.version,
        snapshot=change.snapshot,
        fingerprint=change.fingerprint,
    )


def test_a_holder_whose_own_message_applied_meanwhile_is_not_moved_onto_a_placeholder(session, monkeypatch):
    ns = session.simulators.netsuite.records
    assert not run(session, "projects").failures
    jobs = jobs_by_project(session)
    a, b = sorted((p for p in jobs if jobs[p][0]["IsActive"]), key=int)[:2]
    b_number = ns.get("job", b)["entityId"]
    ns.update("job", b, {"entityId": "P-REVIEW45-NEW"})  # B P-2 -> P-3
    ns.update("job", a, {"entityId": b_number})  # A P-1 -> P-2

    worker_a = build("projects", session.runtime("ProjectsWorker")).applier
    worker_b = build("projects", session.runtime("ProjectsWorker")).applier
    message_a, message_b = _message(worker_a, a), _message(worker_b, b)

    original = project_records.described_holder
    interleaved: list[object] = []

    def holder_then_b_applies(*args, **kwargs):
        found = original(*args, **kwargs)
        if not interleaved:  # B's worker finishes B's message while A's worker is between lookup and move
            interleaved.append(worker_b.apply(message_b))
        return found

    monkeypatch.setattr(project_records, "described_holder", holder_then_b_applies)
    outcome_a = worker_a.apply(message_a)

    assert interleaved and interleaved[0].action == "updated", interleaved
    assert outcome_a.action == "updated", outcome_a
    monkeypatch.undo()
    run(session, "projects")  # the next night: neither project changed again
    jobs = jobs_by_project(session)
    assert jobs[a][0]["JobNumber"] == b_number
    # B's message was applied and B did not change again: its job must hold B's number, not the placeholder.
    assert jobs[b][0]["JobNumber"] == "P-REVIEW45-NEW", jobs[b][0]
