"""A phase that cannot be read is a phase, not a record; a record is counted once however many dead letters it has.

Found by a review on the local stack (2026-12-03): `ctns run` counted the dead letters of one record as that many
records (and listed it once per letter), and listed a phase failure (source ID `phase:adopt`) as a NetSuite
record waiting in a dead-letter queue that held nothing; `ctns errors` counted it among the blocked records;
`ctns redrive` said "68 record(s) … again" of 68 dead letters of 33 records; `ctns plan` said "1 record(s) would
fail" of a phase it could not read. Each test failed before the fix (ctsync.state.runlog.failed_phase).
"""

from __future__ import annotations

import json
import re
from typing import Any

import boto3
import pytest

from ctns.local import aws_endpoint
from ctns.target import open_target
from tests.e2e.cli_support import ctns, start_local_stack, victim_of

pytestmark = pytest.mark.e2e


@pytest.fixture
def seeded(tmp_path: Any, monkeypatch: Any) -> Any:
    """`ctns serve --with-failures` on the small company."""
    stack = start_local_stack(tmp_path, monkeypatch, with_failures=True)
    yield stack
    stack.stop()


def _config(stack: Any) -> tuple[str, dict[str, Any]]:
    with aws_endpoint(stack.state.aws_endpoint), open_target(None) as target:
        name = target.parameters["ConfigParameterName"]
        return name, json.loads(target.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])


def _push(capsys: Any, tmp_path: Any, document: dict[str, Any]) -> None:
    path = tmp_path / "pushed.json"
    path.write_text(json.dumps(document))
    assert ctns(capsys, "config", "push", str(path)).code == 0


def _waiting(text: str) -> int:
    found = re.search(r"(\d+) record\(s\) wait in", text)
    assert found, text
    return int(found.group(1))


def test_a_records_dead_letters_of_earlier_runs_are_one_record_in_the_run_summary(seeded, capsys, tmp_path):
    victim = victim_of(seeded)
    ctns(capsys, "run", "projects")
    ctns(capsys, "backfill", "projects", "--since", "2020-01-01")
    _, document = _config(seeded)
    document.setdefault("netsuite", {})["timezone"] = "America/New_York"
    _push(capsys, tmp_path, document)

    ran = ctns(capsys, "run", "projects")

    errors = ctns(capsys, "errors", "projects", "--json")
    blocked = {r["source_id"] for group in errors.json["causes"] for r in group["records"]}
    assert _waiting(ran.out) == len(blocked) == 1, ran.out
    assert sum(1 for line in ran.out.splitlines() if f"NetSuite project {victim}," in line) == 1, ran.out


def test_a_phase_that_cannot_be_read_is_told_as_a_phase_not_a_record_in_the_dead_letter_queue(seeded, capsys):
    with aws_endpoint(seeded.state.aws_endpoint), open_target(None) as target:
        name = target.parameters.get("ClickTimeSecretName", "ctns/clicktime")
        boto3.client("secretsmanager").put_secret_value(SecretId=name, SecretString='{"api_token": "wrong"}')

    ran = ctns(capsys, "run", "tasks")

    assert ran.code == 1
    assert "phase:adopt" not in ran.out and "record(s) wait in" not in ran.out, ran.out
    assert "the adopt phase of the tasks sync could not be read" in ran.out, ran.out
    errors = ctns(capsys, "errors", "tasks")
    assert "phase:adopt" not in errors.out, errors.out
    assert "0 record(s) blocked" in errors.out and "the adopt phase" in errors.out, errors.out
    listed = ctns(capsys, "errors", "tasks", "--json").json["causes"]
    assert all(not group["records"] for group in listed) and any("adopt" in group["phases"] for group in listed)


def test_redrive_counts_records_apart_from_their_dead_letters(seeded, capsys):
    ctns(capsys, "run", "tasks")
    ctns(capsys, "backfill", "tasks", "--since", "2020-01-01")

    redriven = ctns(capsys, "redrive", "tasks", "--json")

    letters = redriven.json["dead_letters_after"]
    records = redriven.json["records_after"]
    errors = ctns(capsys, "errors", "tasks", "--json").json["causes"]
    assert records == len({r["source_id"] for group in errors for r in group["records"]}) < letters
    text = ctns(capsys, "redrive", "tasks")
    assert f"{records} record(s)" in text.out and "record(s) of tasks are in the dead-letter queue" not in text.out


def test_plan_names_a_phase_it_cannot_read_as_a_phase_not_a_record_that_would_fail(seeded, capsys, tmp_path):
    _, document = _config(seeded)
    document.setdefault("projects", {})["scope"] = "j.nosuchcol = 'F'"
    _push(capsys, tmp_path, document)

    planned = ctns(capsys, "plan", "projects")

    assert planned.code == 1
    assert "record(s) would fail" not in planned.out, planned.out
    assert "the changes phase of projects cannot be read" in planned.out, planned.out
    assert "1 phase(s) cannot be read (the changes phase of projects)" in planned.out, planned.out
    document = ctns(capsys, "plan", "projects", "--json").json
    plan = document["plans"][0]
    assert plan["counts"]["fail"] == 0 and plan["unreadable_phases"] == ["changes"]
    # A phase is not a record: `steps` lists records only, and the phase's reason sits beside its name.
    assert [step for step in plan["steps"] if step["action"] == "fail"] == [], plan["steps"]
    assert "nosuchcol" in plan["unreadable_reasons"]["changes"], plan["unreadable_reasons"]
