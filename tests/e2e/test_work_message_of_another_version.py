"""Work messages in flight over a deploy: a body an earlier or later version queued whose snapshot (or version) this
version cannot read is dead-lettered at its first delivery with the field named (review of upgrades, 2026-12-04).

Before, the snapshot was read inside the applier and its ValidationError taken for a passing failure: the message was
applied MaxReceiveCount times (5 x the 1800 s visibility timeout in production, 2.5 hours) and dead-lettered as "gave
up" with pydantic's whole text, the snapshot's values included; a version without an offset failed on "can't compare
offset-naive and offset-aware datetimes" the same way. Nothing was lost, and the rest of the batch went on."""

from __future__ import annotations

import json

import pytest

from ctns import deadletters
from ctns.runner import SyncRun
from ctsync.records.projects import ProjectSync
from ctsync.sync.queues import WorkQueue
from tests.e2e.support import run

pytestmark = pytest.mark.e2e


def _queued_bodies(monkeypatch) -> list[str]:
    bodies: list[str] = []
    send = WorkQueue._send_batch

    def spy(self, batch):
        bodies.extend(batch)
        return send(self, batch)

    monkeypatch.setattr(WorkQueue, "_send_batch", spy)
    return bodies


def _without(snapshot: dict, key: str) -> dict:
    return {k: v for k, v in snapshot.items() if k != key}


@pytest.mark.parametrize(
    ("mutate", "named"),
    [
        pytest.param(
            lambda b: {**b, "snapshot": _without(b["snapshot"], "number")},
            "has a snapshot this version cannot read: number: Field required",
            id="snapshot-missing-field",
        ),
        pytest.param(
            lambda b: {**b, "snapshot": {**b["snapshot"], "status_id": {"nested": 1}}},
            "has a snapshot this version cannot read: status_id: ",
            id="snapshot-wrong-type",
        ),
        pytest.param(
            lambda b: {**b, "version": b["version"].replace("Z", "").replace("+00:00", "")},
            "malformed work message: version: ",
            id="version-without-offset",
        ),
    ],
)
def test_a_body_of_another_version_is_dead_lettered_at_once_naming_the_field(session, monkeypatch, mutate, named):
    bodies = _queued_bodies(monkeypatch)
    run(session, "projects")
    body = mutate(json.loads(bodies[0]))
    body["run_id"], body["fingerprint"] = "old-run", "changed-since"
    applied: list[str] = []
    apply = ProjectSync.apply

    def counting(self, message):
        applied.append(message.source_id)
        return apply(self, message)

    monkeypatch.setattr(ProjectSync, "apply", counting)
    session.aws.sqs.send_message(QueueUrl=session.aws.queue_url("ProjectsQueue"), MessageBody=json.dumps(body))
    mapping = next(m for m in session.stack.queue_mappings if m.queue == "ProjectsQueue")
    drained = SyncRun("projects")
    session.runner.drain(mapping, drained)

    (letter,) = deadletters.read(session.aws.sqs, session.runner._dead_letter_queue("projects")[1], "projects")
    assert drained.delivered == 1 and len(applied) <= 1
    assert named in letter.reason and "gave up" not in letter.reason, letter
    assert letter.source_id == body["source_id"] or letter.source_id == "unknown"
    values = [str(v) for v in json.loads(bodies[0])["snapshot"].values() if isinstance(v, str) and len(v) > 3]
    assert not any(value in letter.reason for value in values if value != body["source_id"]), letter.reason
