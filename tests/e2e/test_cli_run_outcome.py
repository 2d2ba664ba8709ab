"""`ctns backfill SYNC --since DATE` on the local stack whose poller fails (a garbled secret, a `netsuite.timezone`
NetSuite does not write in: the poller refuses the run) moves the watermark back, reads nothing, and ends "No
failures." with exit 0. `ctns run SYNC` in the same state says "The projects poller failed: …" and exits 1
(README: exit 1 "failures found"; "a run whose functions find the stored config document invalid is a failed run
(1)"). A person backfilling a window after a fix is told the window was re-read when nothing was read at all.

Cause: `ctns/commands/watermark.py:cmd_backfill` (local stack) judges the run by `passes[-1]["failures"]` alone; a
poller whose status is "failed" is only a note in the table (`ctns/commands/run.py:_report` counts it).

One judgement of a run now serves `ctns run` (its three modes on this machine, and a deployed stack), `ctns backfill`
(local and deployed) and the demo's nights (`ctns/outcome.py`): a poller that failed, or that did not run because
another run held the sync (a skipped poll: the local `ctns run` said nothing of it and exited 0, the deployed one
exited 1), is a failed run, told in one line, and "No failures." is not said beside it. A backfill whose poller failed
also says where the watermark is: moved back and left there, so the next run reads the window once the cause is fixed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from ctns.local import aws_endpoint
from ctns.target import open_target
from tests.e2e.cli_support import ctns

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(small_stack: Any) -> Any:
    return small_stack


def _garble_clicktime_secret(stack: Any) -> None:
    with aws_endpoint(stack.state.aws_endpoint), open_target(None) as target:
        name = target.parameters.get("ClickTimeSecretName", "ctns/clicktime")
        boto3.client("secretsmanager").put_secret_value(SecretId=name, SecretString="not json at all")


def test_a_backfill_whose_poller_fails_is_not_reported_as_a_clean_run(served, capsys):
    first = ctns(capsys, "run", "projects")
    assert first.code == 0, first.out + first.err
    _garble_clicktime_secret(served)

    run = ctns(capsys, "run", "projects")
    assert run.code == 1 and "The projects poller failed" in run.out, run.out  # how `run` tells it

    since = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    backfill = ctns(capsys, "backfill", "projects", "--since", since)

    assert "No failures." not in backfill.out, backfill.out
    assert backfill.code == 1, f"exit {backfill.code} for a backfill whose poller failed:\n{backfill.out}"


def _watermarks(stack: Any, sync: str) -> dict[str, datetime]:
    with aws_endpoint(stack.state.aws_endpoint), open_target(None) as target:
        return target.progress.phase_watermarks(sync)


def test_a_backfill_whose_poller_fails_says_the_watermark_stays_moved_back(served, capsys):
    assert ctns(capsys, "run", "projects").code == 0
    _garble_clicktime_secret(served)
    since = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)

    backfill = ctns(capsys, "backfill", "projects", "--since", since.isoformat())

    assert backfill.code == 1, backfill.out
    assert "The projects poller failed: secret ctns/clicktime is not JSON" in backfill.out, backfill.out
    assert (
        f"projects: nothing was read; the watermark stays at {since.isoformat()}, where this backfill set it"
        in backfill.out
    ), backfill.out
    assert "no need to backfill again" in backfill.out, backfill.out
    assert set(_watermarks(served, "projects").values()) == {since}


def test_a_run_whose_poller_fails_does_not_also_say_no_failures(served, capsys):
    assert ctns(capsys, "run", "projects").code == 0
    _garble_clicktime_secret(served)

    run = ctns(capsys, "run", "projects")

    assert run.code == 1 and "The projects poller failed" in run.out, run.out
    assert "No failures." not in run.out, run.out


def test_a_run_whose_poller_finds_another_run_holding_the_sync_is_not_a_clean_run(served, capsys):
    """The poller skips a sync whose lease another invocation holds: that run read nothing. On a deployed stack
    `ctns run` said so with exit 1; on the local stack it was a note under the table and exit 0."""
    with aws_endpoint(served.state.aws_endpoint), open_target(None) as target:
        assert target.progress.acquire_lease("projects", "someone-else", 600)

    run = ctns(capsys, "run", "projects")

    assert "The projects poller did not run: another run of this sync is in progress" in run.out, run.out
    assert "No failures." not in run.out, run.out
    assert run.code == 1, run.out
