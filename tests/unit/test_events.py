"""The sample events in events/ are what the functions accept (and the malformed one is refused)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from ctns.stack import load
from ctsync.records.projects import ProjectSnapshot
from ctsync.records.tasks import TaskSnapshot
from ctsync.sync.messages import PollRequest, WorkMessage

EVENTS = Path(__file__).resolve().parents[2] / "events"
SNAPSHOTS = {"projects": ProjectSnapshot, "tasks": TaskSnapshot}


@pytest.mark.parametrize(
    "path", sorted(EVENTS.glob("schedule-*.json")) + sorted(EVENTS.glob("poller-*.json")), ids=lambda p: p.name
)
def test_poller_events_parse(path):
    request = PollRequest.model_validate_json(path.read_text())
    assert request.sync in {"projects", "tasks", "time", "expenses"}


def test_schedule_events_match_the_template_inputs():
    inputs = {json.dumps(s.input, sort_keys=True) for s in load().schedules}
    samples = {json.dumps(json.loads(p.read_text()), sort_keys=True) for p in EVENTS.glob("schedule-*.json")}
    assert samples == inputs


@pytest.mark.parametrize(
    "path", [EVENTS / "sqs-projects-batch.json", EVENTS / "sqs-tasks-batch.json"], ids=lambda p: p.name
)
def test_queue_events_carry_valid_work_messages(path):
    for record in json.loads(path.read_text())["Records"]:
        message = WorkMessage.model_validate_json(record["body"])
        assert int(record["attributes"]["ApproximateReceiveCount"]) >= 1
        if message.op == "upsert":
            SNAPSHOTS[message.sync].model_validate(message.snapshot)


def test_the_malformed_sample_is_refused():
    (record,) = json.loads((EVENTS / "sqs-malformed-message.json").read_text())["Records"]
    with pytest.raises(ValidationError):
        WorkMessage.model_validate_json(record["body"])
