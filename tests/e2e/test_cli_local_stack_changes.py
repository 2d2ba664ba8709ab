"""Operator commands that change the local stack (redrive, backfill, reset-watermark), each on a local stack of
its own. They live apart from the read-only tests of test_cli_local_stack.py because moto keeps its state per
process: a second local stack started while that module's shared one runs would reset it (LocalStack refuses)."""

from __future__ import annotations

from typing import Any

import pytest

from ctns.cli import main
from ctns.commands.failures import records_blocked
from ctns.local import FAILURE_FIELD, aws_endpoint
from ctns.target import open_target
from ctsync.state import Cursor
from ctsync.timeutil import utc_now
from tests.e2e.cli_support import ctns, start_local_stack, victim_of

pytestmark = pytest.mark.e2e
TASK_CAUSE = f"field-not-kept:projecttask.{FAILURE_FIELD}"


@pytest.fixture
def fresh(tmp_path: Any, monkeypatch: Any, request: Any) -> Any:
    """A local stack of this test's own (for commands that change it), after one run of the syncs the test
    names with `@pytest.mark.parametrize("fresh", [[...]], indirect=True)` (default: every sync)."""
    stack = start_local_stack(tmp_path, monkeypatch)
    assert main(["run", *getattr(request, "param", [])]) == 1
    yield stack
    stack.stop()


def test_redrive_one_cause_then_the_rest_after_the_fixes(fresh, capsys):
    sims = fresh.session.simulators
    # The field fix first: NetSuite keeps the task field again; only that cause's records go back.
    sims.netsuite.unkept_fields = {}
    one = ctns(capsys, "redrive", "tasks", "--cause", TASK_CAUSE, "--json")

    assert one.json["resolved_causes"] == [TASK_CAUSE] and one.json["moved"] == one.json["dead_letters_before"] > 1
    assert one.code == 1  # the tasks of the project without a customer still wait
    left = ctns(capsys, "errors", "tasks", "--json").json["causes"]
    assert [c["cause_key"] for c in left] == ["project-without-customer"]
    unknown = ctns(capsys, "redrive", "tasks", "--cause", "no-such-cause")
    assert unknown.code == 2 and "has no open cause 'no-such-cause'" in unknown.problems[0]

    # The data fix: the project gets its customer in NetSuite, and the next run picks the project up.
    victim = victim_of(fresh)
    assert went_through(capsys, victim) == [None]  # failed, and nothing applied since
    sims.netsuite.records.update("job", victim, {"parent": {"id": sims.company.customers[0].id}})
    picked_up = ctns(capsys, "run", "projects")
    assert went_through(capsys, victim) != [None]  # its dead letter still waits, and `errors` says it is left over
    assert "went through since" in ctns(capsys, "errors", "projects").out
    projects = ctns(capsys, "redrive", "projects", "--json")  # its old dead letter is older than what was applied
    tasks = ctns(capsys, "redrive", "tasks", "--json")

    assert picked_up.code == 1  # the old dead letter still waited while it ran
    assert projects.code == 0 and projects.json["moved"] == 1 and projects.json["dead_letters_after"] == 0
    assert tasks.code == 0 and tasks.json["resolved_causes"] == ["project-without-customer"]
    victim_tasks = [t for t in sims.company.tasks if t.project_id == victim]
    assert tasks.json["moved"] == len(victim_tasks) and tasks.json["dead_letters_after"] == 0
    after = ctns(capsys, "errors")
    assert after.code == 0 and "No open failures" in after.out
    assert ctns(capsys, "status").code == 0
    written = {t["id"]: t.get(FAILURE_FIELD) for t in sims.netsuite.records.all("projectTask")}
    mapped = {m["source_id"]: m["target_id"] for m in _task_mappings()}
    assert mapped and all(written[task] == target for task, target in mapped.items())


def went_through(capsys: Any, project: str) -> list[str | None]:
    """What `ctns errors projects` says of a project's dead letter: the version applied since, or None."""
    causes = ctns(capsys, "errors", "projects", "--json").json["causes"]
    return [r["went_through"] for c in causes for r in c["records"] if r["source_id"] == project]


def _task_mappings() -> list[dict[str, Any]]:
    with open_target(None) as target:
        return [m.model_dump() for m in target.mappings.all_of_kind("task")]


@pytest.mark.parametrize("fresh", [["projects"]], indirect=True)
def test_backfill_and_reset_watermark(fresh, capsys):
    sims = fresh.session.simulators
    writes = (len(sims.netsuite.writes()), len(sims.clicktime.writes()))

    backfill = ctns(capsys, "backfill", "projects", "--since", "2020-01-01", "--json")

    # The window is read again from the date; what ClickTime already holds is not written again.
    assert set(backfill.json["after"].values()) == {"2020-01-01T00:00:00+00:00"}
    (report,) = backfill.json["passes"]
    assert report["syncs"]["projects"]["unchanged"] > 0 and report["syncs"]["projects"]["created"] == 0
    assert (len(sims.netsuite.writes()), len(sims.clicktime.writes())) == writes
    assert backfill.code == 1  # the project without a customer still fails
    status = {row["sync"]: row for row in ctns(capsys, "status", "--json").json["syncs"]}
    assert status["projects"]["watermark"] > "2020-01-01T00:00:00+00:00"  # the run moved it on

    moved = ctns(capsys, "reset-watermark", "tasks", "--to", "2024-05-01T06:00:00Z", "--json")
    assert moved.code == 0 and set(moved.json["after"].values()) == {"2024-05-01T06:00:00+00:00"}
    forgotten = ctns(capsys, "reset-watermark", "tasks", "--forget", "--json")
    assert forgotten.code == 0 and forgotten.json["after"] == {}
    never_ran = ctns(capsys, "reset-watermark", "time", "--to", "2024-05-01", "--json")
    assert never_ran.json["after"] == {"*": "2024-05-01T00:00:00+00:00"}  # one watermark serves every phase
    future = ctns(capsys, "reset-watermark", "projects", "--to", "2999-01-01")
    assert future.code == 2 and "in the future" in future.problems[0]
    # found by a new user: year 999 was accepted, stored as "999-06-01T…" and no command could read it again
    for typo in ("0999-06-01", "0001-01-01"):
        ancient = ctns(capsys, "reset-watermark", "tasks", "--to", typo)
        assert ancient.code == 2 and "before 1970" in ancient.problems[0] and "--forget" in ancient.problems[0]
    # found by a new user: backfill's refusal said "--forget", which backfill does not take
    ancient = ctns(capsys, "backfill", "tasks", "--since", "1900-01-01")
    assert ancient.code == 2 and "`ctns reset-watermark tasks --forget`, then `ctns run tasks`" in ancient.problems[0]
    assert ctns(capsys, "status", "--json").code in (0, 1)

    with aws_endpoint(fresh.state.aws_endpoint), open_target(None) as target:
        target.progress.save_cursor("projects", Cursor(run_id="projects-busy", window_end=utc_now(), phase="changes"))
    busy = ctns(capsys, "backfill", "projects", "--since", "2024-01-01")
    assert busy.code == 2 and "a run of projects is in progress (run projects-busy)" in busy.problems[0]


@pytest.mark.parametrize("fresh", [["projects"]], indirect=True)
def test_config_push_without_a_region_goes_to_the_local_stack_as_written(fresh, capsys, tmp_path, monkeypatch):
    # Found by a new user: `config push` asked for a region and AWS credentials with `ctns serve` running, and
    # pushed every default filled in (a default changed later never reached the deployment)
    import json

    monkeypatch.delenv("AWS_REGION", raising=False)
    with aws_endpoint(fresh.state.aws_endpoint), open_target(None) as target:
        name = target.parameters["ConfigParameterName"]
        document = json.loads(target.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
    document.setdefault("time", {})["write_concurrency"] = 1
    document["time"].pop("sheets_at_once", None)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(document))

    pushed = ctns(capsys, "config", "push", str(path), "--json")

    assert pushed.code == 0 and pushed.json["region"] == "the local stack (ctns serve)"
    with aws_endpoint(fresh.state.aws_endpoint), open_target(None) as target:
        stored = json.loads(target.client("ssm").get_parameter(Name=name)["Parameter"]["Value"])
        assert stored == document and "sheets_at_once" not in stored["time"]
        assert target.config().time.write_concurrency == 1


@pytest.mark.parametrize("fresh", [["projects"]], indirect=True)
def test_status_shows_a_poller_failing_before_its_run_until_a_run_ends(fresh, capsys):
    # Found by a new user: with the stored config made invalid, every poll failed before starting a run, and
    # `ctns status` showed the last good run and nothing else
    import json

    with aws_endpoint(fresh.state.aws_endpoint), open_target(None) as target:
        name = target.parameters["ConfigParameterName"]
        good = target.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
        broken = json.loads(good)
        broken.setdefault("projects", {})["closed_status_ids"] = "1"  # edited in the console: not a list
        target.client("ssm").put_parameter(Name=name, Value=json.dumps(broken), Type="String", Overwrite=True)

    refused = ctns(capsys, "run", "projects")  # `ctns run` refuses it up front (since 2026-12-04) ...
    assert refused.code == 2 and "projects.closed_status_ids" in refused.problems[0]
    with aws_endpoint(fresh.state.aws_endpoint):
        fresh.session.runner.run(["projects"])  # ... the schedule starts the poller all the same
    status = ctns(capsys, "status", "--json")
    projects = {row["sync"]: row for row in status.json["syncs"]}["projects"]
    assert status.code == 1 and projects["last_run"] is not None  # the good run is still the last one
    failed = projects["poll_failure"]
    assert "projects.closed_status_ids" in failed["reason"] and failed["at"] > projects["last_run"]["started_at"]
    text = ctns(capsys, "status")
    (line,) = [line for line in text.out.splitlines() if "poller FAILED" in line]
    assert line.lstrip().startswith("projects:") and "projects.closed_status_ids" in line

    with aws_endpoint(fresh.state.aws_endpoint), open_target(None) as target:
        target.client("ssm").put_parameter(Name=name, Value=good, Type="String", Overwrite=True)
    ctns(capsys, "run", "projects")
    after = {row["sync"]: row for row in ctns(capsys, "status", "--json").json["syncs"]}["projects"]
    assert after["poll_failure"] is None  # a run ended: the failure is over


@pytest.mark.parametrize("fresh", [["projects", "tasks"]], indirect=True)
def test_redrive_and_backfill_with_an_unwritable_log_folder_change_nothing(fresh, capsys, monkeypatch):
    """Found by a new user's trial (2026-12-02): with the log folder unwritable, `redrive` resolved the causes and
    moved every dead letter back, then failed on the log, and `ctns errors` said "No open failures" while the
    messages sat unprocessed; `backfill` moved the watermark first. Now the log file is made before anything."""
    causes = [c["cause_key"] for c in ctns(capsys, "errors", "tasks", "--json").json["causes"]]

    def watermarks() -> dict[str, Any]:
        with open_target(None) as target:
            return target.progress.watermarks("tasks")

    marks = watermarks()
    monkeypatch.setenv("CTNS_LOG_DIR", "/dev/null/logs")  # a folder that cannot be made (root may write anywhere)

    redrive = ctns(capsys, "redrive", "tasks")
    backfill = ctns(capsys, "backfill", "tasks", "--since", "2026-01-01", "--yes")

    for refused in (redrive, backfill):
        assert refused.code == 2 and refused.problems == [refused.problems[0]] and "CTNS_LOG_DIR" in refused.problems[0]
    assert [c["cause_key"] for c in ctns(capsys, "errors", "tasks", "--json").json["causes"]] == causes != []
    assert watermarks() == marks != {}


@pytest.mark.parametrize("fresh", [["projects"]], indirect=True)
def test_status_shows_a_lease_a_dead_run_left_and_until_when(fresh, capsys):
    """Found by a new user's trial (2026-12-02): a `ctns run` killed during its poll (what a Lambda timeout looks
    like) left the lease; `status` showed nothing in progress while backfill and the next run refused."""
    with aws_endpoint(fresh.state.aws_endpoint), open_target(None) as target:
        assert target.progress.acquire_lease("projects", "projects-poller:dead-invocation", 900)

    text = ctns(capsys, "status")
    row = {r["sync"]: r for r in ctns(capsys, "status", "--json").json["syncs"]}["projects"]

    (line,) = [line for line in text.out.splitlines() if "held by" in line]
    assert line.lstrip().startswith("projects: held by projects-poller:dead-invocation until ")
    assert row["lease_holder"] == "projects-poller:dead-invocation" and row["lease_until"] > utc_now().isoformat()


def test_errors_counts_each_record_once_and_a_redrive_of_one_cause_tells_its_letters_from_the_others(fresh, capsys):
    """Found by a new user (2026-12-03): `ctns errors` counted a record two causes hold twice, and a redrive of one
    cause said the other causes' letters, never moved, were "in the dead-letter queue again"."""
    causes = ctns(capsys, "errors", "tasks", "--json").json["causes"]
    records = {r["source_id"] for c in causes for r in c["records"]}
    assert f"{len(causes)} cause(s), {len(records)} record(s) blocked" in ctns(capsys, "errors", "tasks").out
    held_twice = [dict(c, records=[*c["records"], causes[0]["records"][0]]) for c in causes]
    assert records_blocked(held_twice) == len(records)  # a record two causes hold counts once

    fresh.session.simulators.netsuite.unkept_fields = {}  # the field fix: that cause's records go through
    one = ctns(capsys, "redrive", "tasks", "--cause", TASK_CAUSE)

    moved = next(len(c["records"]) for c in causes if c["cause_key"] == TASK_CAUSE)
    assert one.code == 1 and f"Moved {moved} dead letter(s)" in one.out, one.out
    assert f"None of the {moved} dead letter(s) moved came back" in one.out, one.out
    assert "in the dead-letter queue again" not in one.out, one.out


@pytest.mark.parametrize("fresh", [["tasks"]], indirect=True)
def test_a_redrive_that_fails_again_adds_no_failures_to_the_run(fresh, capsys):
    """Found by a new user (2026-12-03): each redrive before the fix added its records' failures to their run's
    counts again (a run of 5 tasks showed 5, then 10, then 15 failed)."""

    def last_run() -> dict[str, Any]:
        (tasks,) = [s for s in ctns(capsys, "status", "--json").json["syncs"] if s["sync"] == "tasks"]
        return tasks["last_run"]

    before = last_run()
    assert before["counts"].get("failed", 0) > 0
    for _ in range(2):  # nothing fixed: every record fails again
        assert ctns(capsys, "redrive", "tasks").code == 1

    after = last_run()
    assert after["run_id"] == before["run_id"] and after["counts"]["failed"] == before["counts"]["failed"], after
