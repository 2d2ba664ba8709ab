"""`ctns redrive` (review, 2026-12-03): with an invalid stored config document it is refused up front as `plan` and
`check` are, and a cause that only failed a phase (no record in the dead-letter queue) is followed by a run, not a
redrive that moves nothing. Each on a local stack of its own (see test_cli_local_stack_changes.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ctns.cli import main
from ctns.local import aws_endpoint
from ctns.target import open_target
from tests.e2e.cli_support import ctns, queue_depths, start_local_stack

pytestmark = pytest.mark.e2e
PHASE_CAUSE = "netsuite-permission:deletedrecord"


@pytest.fixture
def projects_run(tmp_path: Any, monkeypatch: Any) -> Any:
    """A local stack after one run of projects: the project without a customer is dead-lettered."""
    stack = start_local_stack(tmp_path, monkeypatch)
    assert main(["run", "projects"]) == 1
    yield stack
    stack.stop()


def test_redrive_backfill_and_run_refuse_an_invalid_stored_config_before_moving_anything(projects_run, capsys):
    with aws_endpoint(projects_run.state.aws_endpoint), open_target(None) as target:
        name = target.parameters["ConfigParameterName"]
        document = json.loads(target.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
        document.setdefault("time", {})["write_concurrency"] = "two"  # a console edit
        document.setdefault("projects", {})["scop"] = "x"
        target.client("ssm").put_parameter(Name=name, Value=json.dumps(document), Type="String", Overwrite=True)
        watermarks = target.progress.watermarks("projects")
    causes = ctns(capsys, "errors", "projects", "--json").json["causes"]
    depths = queue_depths(projects_run)
    assert [c["cause_key"] for c in causes] == ["project-without-customer"] and causes[0]["dead_letters"] == 1

    plan = ctns(capsys, "plan", "projects")
    redrive = ctns(capsys, "redrive", "projects")
    one_cause = ctns(capsys, "redrive", "projects", "--cause", "project-without-customer")
    backfill = ctns(capsys, "backfill", "projects", "--since", "2024-01-01", "--yes")
    # before 2026-12-04 `ctns run` ran anyway: each poller failed naming the setting, a run log per sync opened
    run = ctns(capsys, "run", "projects")

    assert plan.code == 2 and f"the config parameter {name} is not a valid config document: " in plan.problems[0]
    assert "Run on" not in run.out
    for refused in (redrive, one_cause, backfill, run):
        assert refused.code == 2 and refused.problems == plan.problems  # the same one line
        assert "Resolved" not in refused.out and "Moved" not in refused.out
    assert ctns(capsys, "errors", "projects", "--json").json["causes"] == causes  # still open, still waiting
    assert queue_depths(projects_run) == depths
    with aws_endpoint(projects_run.state.aws_endpoint), open_target(None) as target:
        assert target.progress.watermarks("projects") == watermarks != {}


def test_a_cause_that_only_failed_a_phase_is_followed_by_a_run(projects_run, capsys):
    netsuite = projects_run.session.simulators.netsuite
    netsuite.denied_tables = {"deletedrecord"}  # the role lost Lists > Deleted Records: the deletions phase fails
    assert ctns(capsys, "run", "projects").code == 1
    errors = ctns(capsys, "errors", "projects")
    phase = next(
        c for c in ctns(capsys, "errors", "projects", "--json").json["causes"] if c["cause_key"] == PHASE_CAUSE
    )
    assert phase["dead_letters"] == 0

    hints = [line.strip() for line in errors.out.splitlines() if line.strip().startswith("then:")]
    assert (
        f"then:    ctns redrive projects --cause {PHASE_CAUSE} (closes the cause), then ctns run projects: the "
        "deletions phase is read again by a run, not a redrive" in hints
    )
    assert "then:    ctns redrive projects --cause project-without-customer" in hints

    netsuite.denied_tables = set()  # the permission granted again; the hint followed
    redrive = ctns(capsys, "redrive", "projects", "--cause", PHASE_CAUSE)
    assert redrive.code == 1 and "Moved 0 dead letter(s)" in redrive.out  # 1: the other cause's letter waits
    assert (
        "The deletions phase of projects failed on this cause: the next run reads it again "
        "(`ctns run projects` starts one now)" in redrive.out
    )
    as_json = ctns(capsys, "redrive", "projects", "--cause", "project-without-customer", "--json").json
    assert as_json["phases_to_read"] == []
    assert ctns(capsys, "run", "projects").code == 1  # the project without a customer still fails
    left = [c["cause_key"] for c in ctns(capsys, "errors", "projects", "--json").json["causes"]]
    assert left == ["project-without-customer"]
    assert "partial" not in ctns(capsys, "status").out
