"""Deploy/operate review (2026-12-04; failed before the fix: the redrive closed the cause, moved 0 and said the queue
was empty, exit 0, and the records were never synced). a dead-letter queue keeps a message 14 days (`MessageRetentionPeriod:
1209600`, SQS's most), while the cause that names the record lives `RunLogRetentionDays` (30 by default) in the
state table. A record whose fix is outside its source record (a form, a permission, a setting: the runbook's "fix,
then `ctns redrive SYNC`") and whose fix came more than 14 days after it failed has no dead letter left to redrive:
`ctns errors` still lists it under its cause, and the redrive it says to run must bring it back, or say it cannot.
On a local stack of its own (see test_cli_local_stack_changes.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import pytest

from ctns.cli import main
from ctns.local import FAILURE_FIELD, aws_endpoint
from ctsync.timeutil import utc_now
from simulators.netsuite.records import iso_instant
from tests.e2e.cli_support import ctns, start_local_stack

pytestmark = pytest.mark.e2e
TASK_CAUSE = f"field-not-kept:projecttask.{FAILURE_FIELD}"


@pytest.fixture
def fresh(tmp_path: Any, monkeypatch: Any) -> Any:
    stack = start_local_stack(tmp_path, monkeypatch)
    assert main(["run", "projects", "tasks"]) == 1
    yield stack
    stack.stop()


def _dead_letters_expire(stack: Any, sync_prefix: str) -> None:
    """What SQS does to a dead letter 14 days after it was sent (moto keeps no clock of its own to wait for)."""
    with aws_endpoint(stack.state.aws_endpoint):
        boto3.client("sqs").purge_queue(QueueUrl=stack.session.stack.physical[f"{sync_prefix}DeadLetterQueue"]["Ref"])


def _last_modified_days_ago(netsuite: Any, days: int) -> None:
    stamp = iso_instant(utc_now() - timedelta(days=days))
    with netsuite.records._lock:
        for rtype in ("job", "projectTask", "customer"):
            for record in netsuite.records._records[rtype].values():
                record["lastModifiedDate"] = stamp


def test_a_redrive_after_the_dead_letters_expired_still_brings_the_blocked_records_back_or_says_it_cannot(
    fresh, capsys
):
    sims = fresh.session.simulators
    before = ctns(capsys, "errors", "tasks", "--json").json["causes"]
    cause = next(c for c in before if c["cause_key"] == TASK_CAUSE)
    blocked = {r["source_id"] for r in cause["records"]}
    assert blocked and cause["dead_letters"] > 0

    # The form is fixed 16 days after the tasks failed: their records were last modified then (NetSuite keeps real
    # time, so their stamps are moved back instead), and SQS has deleted their dead letters.
    _last_modified_days_ago(sims.netsuite, 16)
    _dead_letters_expire(fresh, "Tasks")
    after = next(c for c in ctns(capsys, "errors", "tasks", "--json").json["causes"] if c["cause_key"] == TASK_CAUSE)
    assert {r["source_id"] for r in after["records"]} == blocked  # the cause still names every record

    sims.netsuite.unkept_fields = {}  # the fix: NetSuite keeps the field again
    redrive = ctns(capsys, "redrive", "tasks", "--cause", TASK_CAUSE)  # what `ctns errors` says to run
    ctns(capsys, "run", "tasks")  # and the next night's run

    written = {t["id"]: t.get(FAILURE_FIELD) for t in sims.netsuite.records.all("projectTask")}
    missing = sorted(task for task in blocked if not written.get(task))
    # The redrive cannot send back what SQS deleted: it says so and names the records, exit 1.
    assert missing and redrive.code == 1, (redrive.code, redrive.out)
    said = next(line for line in redrive.out.splitlines() if line.startswith("NOT SENT BACK"))
    assert f"{len(blocked)} record(s) of {TASK_CAUSE}" in said and all(task in said for task in sorted(blocked)[:10])
    assert "`ctns reset-watermark tasks --forget`, then `ctns run tasks`" in said, said
    assert "The tasks dead-letter queue is empty." in redrive.out  # true, and no longer the last word


def test_records_whose_dead_letters_expired_are_read_again_after_the_watermark_is_forgotten(fresh, capsys):
    """What the NOT SENT BACK line says brings them back does: their cause resolved by the redrive, a run that reads
    every record again (`reset-watermark --forget`) sends them, and their write-backs land. (Their records are left
    as they are: the test above moves their last change back 16 days, out of every later window, which also puts it
    behind the version the sync recorded for them, so a message of theirs would be skipped as stale.)"""
    sims = fresh.session.simulators
    cause = next(c for c in ctns(capsys, "errors", "tasks", "--json").json["causes"] if c["cause_key"] == TASK_CAUSE)
    blocked = {r["source_id"] for r in cause["records"]}
    _dead_letters_expire(fresh, "Tasks")
    sims.netsuite.unkept_fields = {}  # the fix
    redrive = ctns(capsys, "redrive", "tasks", "--cause", TASK_CAUSE)
    assert redrive.code == 1 and "NOT SENT BACK" in redrive.out

    assert ctns(capsys, "reset-watermark", "tasks", "--forget").code == 0
    ctns(capsys, "run", "tasks")

    written = {t["id"]: t.get(FAILURE_FIELD) for t in sims.netsuite.records.all("projectTask")}
    assert sorted(task for task in blocked if not written.get(task)) == []
    assert TASK_CAUSE not in [c["cause_key"] for c in ctns(capsys, "errors", "tasks", "--json").json["causes"]]
