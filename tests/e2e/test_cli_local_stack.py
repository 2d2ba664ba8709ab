"""Every operator command against the local default (`ctns serve`, here started in this process: a moto server
answering one request at a time) after a run with seeded failures: a project without a customer (an unmapped record) and a
task form that drops the ClickTime ID field (a wrong field)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from datetime import timedelta
from typing import Any

import pytest

from ctns.cli import main
from ctns.local import FAILURE_FIELD, LocalStack
from ctns.output import CliError
from ctsync.sync.registry import PLANNED
from simulators.generator import UNMAPPED_EXPENSE_TYPE
from simulators.netsuite.app import DEFAULT_CREDENTIALS
from tests.e2e.cli_support import Result, ctns, queue_depths, start_local_stack, state_items, victim_of

pytestmark = pytest.mark.e2e
TASK_CAUSE = f"field-not-kept:projecttask.{FAILURE_FIELD}"


@pytest.fixture(scope="module")
def ran(tmp_path_factory: Any) -> Any:
    """One local stack with the seeded failures, after one `ctns run` of every sync (read-only tests share it)."""
    tmp_path = tmp_path_factory.mktemp("local")
    with pytest.MonkeyPatch.context() as monkeypatch:
        stack = start_local_stack(tmp_path, monkeypatch)
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["run"])
        stack.first_run = Result(code, out.getvalue(), err.getvalue())
        try:
            yield stack
        finally:
            stack.stop()


@pytest.fixture
def local(ran: Any, monkeypatch: Any) -> Any:
    monkeypatch.setenv("CTNS_LOCAL", str(ran.path))
    monkeypatch.setenv("CTNS_LOG_DIR", str(ran.path.parent / "logs"))
    return ran


def test_run_says_it_ran_on_the_local_stack_and_where_the_failures_wait(local):
    first = local.first_run
    assert first.code == 1
    assert "Run on the local stack" in first.out and "no real system was touched" in first.out
    assert "wait in the local stack's dead-letter queues" in first.out
    assert "Simulated run" not in first.out
    assert "Traceback" not in first.out + first.err


def test_status_shows_each_sync_last_run_watermark_queues_and_open_causes(local, capsys):
    result = ctns(capsys, "status", "--json")

    assert result.code == 1  # dead letters and open causes wait for a person
    rows = {row["sync"]: row for row in result.json["syncs"]}
    assert list(rows) == ["projects", "tasks", "time", "expenses"]
    projects, tasks = rows["projects"], rows["tasks"]
    assert projects["last_run"]["status"] == "enqueued" and projects["last_run"]["counts"]["failed"] == 1
    assert projects["dead_letters"] == 1 and tasks["dead_letters"] == tasks["last_run"]["counts"]["failed"] > 1
    assert [c["key"] for c in projects["open_causes"]] == ["project-without-customer"]
    assert {c["key"] for c in tasks["open_causes"]} == {TASK_CAUSE, "project-without-customer"}
    assert projects["watermark"] and set(projects["watermarks"]) == {"adopt", "changes", "deletions"}
    assert projects["queue"]["total"] == 0
    for sync, row in rows.items():
        assert row["implemented"] == (sync not in PLANNED)

    text = ctns(capsys, "status")
    assert text.code == 1
    assert "projects" in text.out and "Waiting for a person: projects, tasks" in text.out
    assert ("not implemented in this version" in text.out) == bool(PLANNED)


def test_errors_groups_failures_by_cause_with_both_ids_and_the_fix(local, capsys):
    result = ctns(capsys, "errors", "--json")

    assert result.code == 1
    causes = {(c["sync"], c["cause_key"]): c for c in result.json["causes"]}
    unmapped = causes[("projects", "project-without-customer")]
    assert [r["source_id"] for r in unmapped["records"]] == [victim_of(local)]
    assert unmapped["dead_letters"] == 1 and "no customer" in unmapped["reason"]
    field = causes[("tasks", TASK_CAUSE)]
    assert field["failures"] == field["dead_letters"] == len(field["records"]) > 1
    assert all(r["target_id"] for r in field["records"])  # the tasks exist in ClickTime: both IDs named
    assert FAILURE_FIELD in field["fix"]
    # Found by a new user's trial (2026-12-02): each said "went through since (version …)" though NetSuite had not
    # kept its ClickTime ID
    assert all(r["went_through"] is None and "did not keep the ClickTime ID" in r["text"] for r in field["records"])

    text = ctns(capsys, "errors", "tasks")
    assert f"tasks · {TASK_CAUSE}" in text.out and "projects ·" not in text.out
    assert f"ctns redrive tasks --cause {TASK_CAUSE}" in text.out
    assert len(field["records"]) <= 10 and "… and" not in text.out  # every record shown (ten at most, else --all)


def test_trace_finds_a_record_by_either_systems_id(local, capsys):
    errors = ctns(capsys, "errors", "tasks", "--json").json["causes"]
    record = next(c for c in errors if c["cause_key"] == TASK_CAUSE)["records"][0]

    by_netsuite = ctns(capsys, "trace", record["source_id"], "--json")
    by_clicktime = ctns(capsys, "trace", record["target_id"], "--json")

    assert by_netsuite.code == by_clicktime.code == 1  # it has an open failure
    for result, matched in ((by_netsuite, "NetSuite project task"), (by_clicktime, "ClickTime task")):
        match = next(m for m in result.json["matches"] if m["sync"] == "tasks")
        assert (match["source_id"], match["target_id"]) == (record["source_id"], record["target_id"])
        assert match["matched_as"] == matched and match["source_version"]
        assert match["failures"][0]["cause_key"] == TASK_CAUSE and match["failures"][0]["cause_open"]
        assert match["written_during_run"] == match["failures"][0]["run_id"]
        assert result.json["runs_in_logs"] == [match["failures"][0]["run_id"]]
    query = by_netsuite.json["logs_insights"]["query"]
    assert f'netsuite_id = "{record["source_id"]}"' in query and f'clicktime_id = "{record["source_id"]}"' in query

    text = ctns(capsys, "trace", record["source_id"])
    assert "⇄" in text.out and "Logs Insights" in text.out and "filter" in text.out


def test_trace_of_a_record_that_never_got_a_target_and_of_an_unknown_id(local, capsys):
    victim = victim_of(local)
    result = ctns(capsys, "trace", victim, "--sync", "projects", "--json")
    assert result.code == 1
    (match,) = result.json["matches"]
    assert match["target_id"] is None and match["failures"][0]["cause_key"] == "project-without-customer"
    # Only the projects sync's runs: a task with the same NetSuite ID is another record
    assert result.json["log_lines"] and {line["sync"] for line in result.json["log_lines"]} == {"projects"}

    unknown = ctns(capsys, "trace", "987654321")
    assert unknown.code == 1 and "Nothing about ID 987654321" in unknown.out


def test_plan_names_what_would_fail_and_writes_nothing(local, capsys):
    sims = local.session.simulators
    writes = (len(sims.netsuite.writes()), len(sims.clicktime.writes()))
    state, queues = state_items(local), queue_depths(local)

    result = ctns(capsys, "plan", "--json")

    assert result.code == 1
    plans = {p["sync"]: p for p in result.json["plans"]}
    projects = plans["projects"]
    assert projects["counts"]["fail"] == 1 and projects["counts"]["unchanged"] > 0
    (failing,) = [s for s in projects["steps"] if s["action"] == "fail"]
    assert failing["source_id"] == victim_of(local) and "no customer" in failing["detail"]
    for sync in PLANNED:
        assert plans[sync]["skipped_reason"].endswith("not implemented in this version")
    assert (len(sims.netsuite.writes()), len(sims.clicktime.writes())) == writes
    assert state_items(local) == state and queue_depths(local) == queues


def test_plan_of_one_sync_after_a_change_in_netsuite(local, capsys):
    sims = local.session.simulators
    project = next(p for p in sims.netsuite.records.all("job") if p.get("custentity_ct_job_id"))  # it has a job
    sims.netsuite.records.update("job", project["id"], {"companyName": "Renamed For The Plan"})
    try:
        result = ctns(capsys, "plan", "projects")
        assert "projects: update" in result.out and "Renamed For The Plan" in result.out
        assert "time" not in result.out.split("\n\n")[1]  # only the sync asked for
    finally:
        sims.netsuite.records.update("job", project["id"], {"companyName": project["companyName"]})


def test_check_passes_on_the_local_stack_and_compares_concurrency_with_the_limit(local, capsys):
    result = ctns(capsys, "check", "--json")
    assert result.code == 0
    checks = {c["name"]: c for c in result.json["checks"]}
    assert checks["NetSuite login (TBA)"]["status"] == "ok"
    assert checks["NetSuite role"]["status"] == "ok" and "ClickTime Integration" in checks["NetSuite role"]["detail"]
    assert checks["projects.clicktime_id_field on job"]["status"] == "ok"
    assert checks["tasks.clicktime_id_field on projectTask"]["status"] == "ok"
    assert checks["ClickTime administrator"]["status"] == "ok"
    assert checks["NetSuite concurrency"]["status"] == "warn"  # no limit given

    # NetSuite's default limit: each sync alone fits (time 2 x 2 = 4), all four at once (12 with the projects and tasks
    # pollers) would not.
    default = ctns(capsys, "check", "--netsuite-concurrency-limit", "5", "--json")
    assert default.code == 0
    concurrency = next(c for c in default.json["checks"] if c["name"] == "NetSuite concurrency")
    assert concurrency["status"] == "warn" and "12 if every sync ran at once" in concurrency["detail"]

    over = ctns(capsys, "check", "--netsuite-concurrency-limit", "3", "--json")
    assert over.code == 2
    concurrency = next(c for c in over.json["checks"] if c["name"] == "NetSuite concurrency")
    assert concurrency["status"] == "FAIL" and "the time sync alone may send 4" in concurrency["detail"]
    assert "limit of 3" in concurrency["detail"]


def files_for(local: Any, tmp_path: Any, **sections: Any) -> tuple[str, str]:
    """A config and secrets file pointing at the local stack's simulators (as an engineer's would at a sandbox)."""
    state = local.state
    config: dict[str, Any] = {
        "netsuite": {
            "account_id": DEFAULT_CREDENTIALS.account_id,
            "rest_base_url": f"{state.netsuite_url}/services/rest",
            "timezone": "America/Los_Angeles",
        },
        "clicktime": {"base_url": f"{state.clicktime_url}/v2"},
    }
    for name, value in sections.items():
        config[name] = {**config.get(name, {}), **value}
    secrets = {
        "netsuite": {
            "consumer_key": DEFAULT_CREDENTIALS.consumer_key,
            "consumer_secret": DEFAULT_CREDENTIALS.consumer_secret,
            "token_id": DEFAULT_CREDENTIALS.token_id,
            "token_secret": DEFAULT_CREDENTIALS.token_secret,
        },
        "clicktime": {"api_token": local.session.simulators.clicktime.token},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "secrets.json").write_text(json.dumps(secrets))
    return str(tmp_path / "config.json"), str(tmp_path / "secrets.json")


def test_check_names_the_setting_netsuite_refuses_and_the_missing_field(local, capsys, tmp_path):
    config, secrets = files_for(
        local,
        tmp_path,
        projects={"scope": "j.isinactive = 'F' AND j.nosuchcolumn = 'T'"},
        tasks={"clicktime_id_field": "custevent_not_on_tasks"},
    )

    result = ctns(capsys, "check", "--config", config, "--secrets", secrets)

    assert result.code == 2
    assert "FAIL  projects.scope" in result.out and "NetSuite refuses the setting projects.scope" in result.out
    assert "FAIL  tasks.clicktime_id_field on projectTask" in result.out
    assert "NetSuite has no field custevent_not_on_tasks on projectTask" in result.out
    assert "ok    projects.clicktime_id_field on job" in result.out


def test_plan_from_files_judges_every_record_as_a_first_run(local, capsys, tmp_path):
    config, secrets = files_for(local, tmp_path)

    result = ctns(capsys, "plan", "projects", "--config", config, "--secrets", secrets, "--json")

    (plan,) = result.json["plans"]
    assert plan["first_run"] and plan["counts"]["unchanged"] == 0
    assert plan["counts"]["adopt"] > 0  # the jobs the local run made carry their project's ID: adopted, not twinned
    assert result.code == 1 and plan["counts"]["fail"] == 1


def test_a_syncs_preflight_and_check_hooks_are_called(local, capsys, monkeypatch):
    from ctsync.records.projects import ProjectSync

    calls: list[str] = []

    def preflight(self: Any, message: Any) -> list[str]:
        calls.append(message.source_id)
        return ["accounting period Mar 2025 is closed"] if message.source_id == project["id"] else []

    def check(self: Any) -> list[str]:
        return ["service item 'Consulting Hours' does not exist in NetSuite"]

    monkeypatch.setattr(ProjectSync, "preflight", preflight, raising=False)
    monkeypatch.setattr(ProjectSync, "check", check, raising=False)
    sims = local.session.simulators
    project = next(p for p in sims.netsuite.records.all("job") if p.get("custentity_ct_job_id"))
    sims.netsuite.records.update("job", project["id"], {"companyName": "Pending For The Preflight"})
    try:
        planned = ctns(capsys, "plan", "projects", "--json")
        checked = ctns(capsys, "check", "--json")
    finally:
        sims.netsuite.records.update("job", project["id"], {"companyName": project["companyName"]})

    steps = {s["source_id"]: s for s in planned.json["plans"][0]["steps"]}
    assert steps[project["id"]]["action"] == "fail"
    assert steps[project["id"]]["detail"] == "accounting period Mar 2025 is closed"
    assert calls == [project["id"]]  # only messages a run would send: not the unchanged, skipped or failing ones
    hook = next(c for c in checked.json["checks"] if c["name"] == "projects sync")
    assert checked.code == 2 and hook["status"] == "FAIL" and "Consulting Hours" in hook["detail"]


def test_running_a_planned_sync_says_it_is_not_implemented(local, capsys, monkeypatch):
    # Every sync is built now; one is made "planned" again to show what a half-built stack says.
    from ctns.commands import watermark
    from ctsync import entrypoints

    monkeypatch.setattr(entrypoints, "PLANNED", frozenset({"time"}))
    monkeypatch.setattr(watermark, "PLANNED", frozenset({"time"}))
    result = ctns(capsys, "run", "time")
    assert result.code == 0
    assert "not implemented in this version" in result.out
    backfill = ctns(capsys, "backfill", "time", "--since", "2024-01-01")
    assert backfill.code == 2 and "not implemented" in backfill.problems[0]


def test_check_names_expense_types_without_a_category_and_settings_netsuite_does_not_have(local, capsys, tmp_path):
    plain = ctns(capsys, "check", "--json")
    expenses = [c for c in plain.json["checks"] if c["name"] == "expenses sync"]
    # The seeded type with no category blocks only the sheets that carry it: a warning, not a failed check.
    assert [c["status"] for c in expenses] == ["warn", "ok"] and plain.code == 0, expenses
    assert UNMAPPED_EXPENSE_TYPE in expenses[0]["detail"] and "expenses.categories" in expenses[0]["detail"]

    config, secrets = files_for(
        local,
        tmp_path,
        expenses={"categories": {"No Such Type": "5", UNMAPPED_EXPENSE_TYPE: "99999"}},
        people={"overrides": {"ct-user-x": "424242"}},
    )
    result = ctns(capsys, "check", "--config", config, "--secrets", secrets, "--json")

    failed = {(c["name"], c["detail"]) for c in result.json["checks"] if c["status"] == "FAIL"}
    assert result.code == 2
    assert (
        "expenses sync",
        "expenses.categories names ClickTime expense type 'No Such Type', which ClickTime does not have",
    ) in failed
    assert any(
        name == "expenses sync" and "maps it to 99999, which is no NetSuite expense category" in detail
        for name, detail in failed
    )
    overrides = "people.overrides['ct-user-x'] names employee 424242, which NetSuite does not have"
    assert {("time sync", overrides), ("expenses sync", overrides)} <= failed


def test_a_second_local_stack_in_one_process_is_refused_and_the_first_keeps_its_state(local, tmp_path):
    before = state_items(local)
    with pytest.raises(CliError, match="already runs in this process"):
        LocalStack(path=tmp_path / "serve.json").start()
    assert state_items(local) == before and not (tmp_path / "serve.json").exists()


def test_plan_and_check_take_logs_as_the_commands_that_run_functions_do(local, capsys, tmp_path):
    """Found by a new user (2026-12-03): the README says `--logs FILE` appends the functions' output to a file of
    your choice; `plan` and `check`, which write such a log too, refused the option."""
    logs = tmp_path / "mine.log"
    logs.write_text("kept\n")

    assert ctns(capsys, "check", "--logs", str(logs)).code == 0
    assert ctns(capsys, "plan", "projects", "--logs", str(logs)).code in (0, 1)

    assert logs.read_text().startswith("kept\n")  # appended to, not replaced


@pytest.mark.parametrize(
    "argv",
    [
        ("redrive", "projects", "--cause", "no-such-cause"),  # a mistake: ends before anything ran
        ("plan", "projects"),  # its clients retried nothing: they had nothing to log
    ],
)
def test_a_command_whose_functions_logged_nothing_leaves_no_empty_function_log(local, capsys, argv):
    logs = local.path.parent / "logs"
    before = set(logs.glob("*.log")) if logs.exists() else set()

    said = ctns(capsys, *argv)

    assert said.code in (1, 2) and (said.problems or argv[0] == "plan"), said
    made = (set(logs.glob("*.log")) if logs.exists() else set()) - before
    assert [f.name for f in made if f.stat().st_size == 0] == []


def test_reconcile_compares_both_systems_of_the_stack_names_each_difference_and_writes_nothing(local, capsys):
    sims = local.session.simulators
    writes_before = (len(sims.netsuite.writes()), len(sims.clicktime.writes()))
    items_before = state_items(local)

    text = ctns(capsys, "reconcile")
    document = ctns(capsys, "reconcile", "projects", "--json").json

    assert text.code == 1 and "Traceback" not in text.out + text.err
    assert f"project {victim_of(local)} has no active job" in text.out  # the project without a customer
    assert "ClickTime IDs written back to NetSuite tasks: expected 8, found 0" in text.out  # the dropped field
    assert "time: OK" in text.out and "expenses: OK (clicktime_approved none, netsuite none," in text.out
    assert list(document["reconciliation"]) == ["projects"] and not document["reconciliation"]["projects"]["ok"]
    assert (len(sims.netsuite.writes()), len(sims.clicktime.writes())) == writes_before
    assert state_items(local) == items_before


def test_reconcile_of_a_sync_that_does_not_exist_says_which_do(local, capsys):
    said = ctns(capsys, "reconcile", "invoices")
    assert said.code == 2 and said.problems == [
        "ctns: unknown sync 'invoices'; the syncs are projects, tasks, time, expenses"
    ]


def test_a_backfill_or_reset_never_moves_a_watermark_forward_unless_asked(local, capsys):
    """`backfill --since D` with D after the sync's watermark moved the watermark forward with exit 0: the changes
    between were never read (the runbook's backfill of "the last two days" after a week's outage skips five).
    Found by the operate review of 2026-12-03; failed before the fix."""
    from ctns.target import open_target
    from ctsync.timeutil import format_instant, utc_now

    with open_target(None) as target:
        marks = target.progress.watermarks("projects")
    assert marks, "setup: the fixture's run left a watermark"
    mark = min(marks.values())
    later = format_instant(mark + (utc_now() - mark) / 2 + timedelta(seconds=1))

    backfill = ctns(capsys, "backfill", "projects", "--since", later)
    reset = ctns(capsys, "reset-watermark", "projects", "--to", later)

    assert backfill.code == 2 and f"is after the projects sync's watermark {format_instant(mark)}" in backfill.err
    assert reset.code == 2 and "Pass --forward to skip them on purpose" in reset.err
    with open_target(None) as target:
        assert target.progress.watermarks("projects") == marks  # nothing moved
    forward = ctns(capsys, "reset-watermark", "projects", "--to", later, "--forward", "--json")
    back = ctns(capsys, "reset-watermark", "projects", "--to", format_instant(mark))  # back: always allowed
    assert forward.code == 0 and set(forward.json["after"].values()) == {later.replace("Z", "+00:00")}
    assert back.code == 0


def test_status_shows_what_waits_in_the_poller_failure_queue(local, capsys):
    """The poller failure queue (a schedule that could not start its poller) was shown by no command: its alarm
    stays in alarm until the queue is emptied by hand, and `ctns status` said nothing. Found by the operate review of
    2026-12-03; failed before the fix."""
    import boto3

    from ctns.local import aws_endpoint

    url = local.session.stack.physical["PollerFailureQueue"]["Ref"]
    with aws_endpoint(local.state.aws_endpoint):
        sqs = boto3.client("sqs")
        sqs.send_message(
            QueueUrl=url,
            MessageBody='{"sync": "time"}',
            MessageAttributes={
                "ERROR_CODE": {"DataType": "String", "StringValue": "AccessDeniedException"},
                "ERROR_MESSAGE": {"DataType": "String", "StringValue": "not authorized to invoke the time poller"},
            },
        )
        try:
            text = ctns(capsys, "status")
            document = ctns(capsys, "status", "--json").json
        finally:
            sqs.purge_queue(QueueUrl=url)

    assert text.code == 1 and "Poller failure queue: 1 message(s)" in text.out
    assert "ERROR_CODE: AccessDeniedException; ERROR_MESSAGE: not authorized to invoke the time poller" in text.out
    assert f"aws sqs purge-queue --queue-url {url}" in text.out
    assert document["poller_failures"]["depth"] == 1
