"""The commands against a deployed stack, found by its name through CloudFormation.

Here the "deployed" stack is a CloudFormation stack on a moto server whose outputs and parameters name the
local stack's resources (as a real deployment's outputs name its own). Lambda is the only thing moto cannot
run: the poller is invoked in this process when `ctns` calls lambda.invoke, and a thread plays the part of the
queues' event source mappings, taking each work queue to the worker as Lambda would.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import threading
from typing import Any

import boto3
import pytest

from ctns.runner import SyncRun
from ctns.target import Target, _local_outputs
from ctsync.observability import logger
from tests.e2e.cli_support import Result, start_local_stack, victim_of
from tests.e2e.cli_support import ctns as run_ctns

pytestmark = pytest.mark.e2e
STACK = "acme-sync"


_lambda = threading.local()


class FunctionOutput(io.TextIOBase):
    """What the functions print (their logs, their EMF) goes to the function log, as Lambda's goes to
    CloudWatch; what ctns prints stays on stdout, where the test reads it."""

    def __init__(self, terminal: Any, functions: set[str], log: Any) -> None:
        self.terminal = terminal
        self.functions = tuple(functions) + ("event-source-mappings",)
        self.log = log

    def _in_a_function(self) -> bool:
        return getattr(_lambda, "running", False) or threading.current_thread().name.startswith(self.functions)

    def write(self, text: str) -> int:
        (self.log if self._in_a_function() else self.terminal).write(text)
        return len(text)

    def flush(self) -> None:
        self.terminal.flush()


def ctns(capsys: Any, *argv: str) -> Result:
    """A command, with what the functions print (here, in this process) kept apart from what ctns prints."""
    stack = _current["stack"]
    routed = FunctionOutput(sys.stdout, set(stack.session.stack.functions), stack.function_log)
    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    previous, sys.stdout = sys.stdout, routed
    streams = [h.setStream(routed) for h in handlers]
    try:
        return run_ctns(capsys, *argv)
    finally:
        sys.stdout = previous
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)


_current: dict[str, Any] = {}


class FakeLambda:
    """lambda.invoke of a poller, run in this process with the function's environment."""

    def __init__(self, session: Any, fail_with: str | None = None) -> None:
        self.session = session
        self.fail_with = fail_with
        self.invocations: list[tuple[str, dict[str, Any]]] = []

    def invoke(self, FunctionName: str, InvocationType: str, Payload: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        event = json.loads(Payload)
        self.invocations.append((FunctionName, event))
        if self.fail_with:
            body = {"errorMessage": self.fail_with, "errorType": "ConfigurationError"}
            return {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": io.BytesIO(json.dumps(body).encode())}
        host = self.session.runner.host
        logical = next(lid for lid, spec in self.session.stack.functions.items() if spec.name == FunctionName)
        _lambda.running = True
        try:
            with host.activated(logical):
                result = host.invoke(logical, event)
        finally:
            _lambda.running = False
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(result).encode())}


class EventSourceMappings:
    """What Lambda's SQS event source mappings do for a deployed stack: every message goes to its worker."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="event-source-mappings", daemon=True)

    def _run(self) -> None:
        runner = self.session.runner
        while not self._stop.is_set():
            for mapping in self.session.stack.queue_mappings:
                if not runner._queue_empty(self.session.aws.queue_url(mapping.queue)):
                    runner.drain(mapping, SyncRun(mapping.function))
            self._stop.wait(0.25)  # Lambda polls a queue a few times a second too

    def __enter__(self) -> EventSourceMappings:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@pytest.fixture
def deployed(tmp_path, monkeypatch, capsys) -> Any:
    stack = start_local_stack(tmp_path, monkeypatch)
    stack.function_log = (tmp_path / "functions.log").open("a")
    endpoint = stack.state.aws_endpoint
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "operator",
        "AWS_SECRET_ACCESS_KEY": "operator",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("CTNS_LOCAL", str(tmp_path / "no-local-stack.json"))  # --stack, never the local default
    outputs = _local_outputs(stack.session)
    parameters = {f"{p}WorkerMaxConcurrency": "5" for p in ("Projects", "Tasks", "Time", "Expenses")}
    parameters["ConfigParameterName"] = stack.session.stack.parameters["ConfigParameterName"]
    template = {
        "Parameters": {name: {"Type": "String"} for name in parameters},
        "Resources": {"Placeholder": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"{STACK}-placeholder"}}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    cloudformation = boto3.client("cloudformation")
    cloudformation.create_stack(
        StackName=STACK,
        TemplateBody=json.dumps(template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )
    cloudformation.create_stack(
        StackName="someone-elses",
        TemplateBody=json.dumps({"Resources": template["Resources"] | {}, "Outputs": {"Url": {"Value": "x"}}}).replace(
            f"{STACK}-placeholder", "other-placeholder"
        ),
    )
    fake = FakeLambda(stack.session)
    original = Target.client
    monkeypatch.setattr(
        Target,
        "client",
        lambda self, service, **config: fake if service == "lambda" else original(self, service, **config),
    )
    stack.fake_lambda = fake
    _current["stack"] = stack
    with EventSourceMappings(stack.session):
        yield stack
    stack.stop()
    stack.function_log.close()


def test_run_invokes_the_poller_with_its_schedule_input_and_follows_the_run(deployed, capsys):
    result = ctns(capsys, "run", "projects", "--stack", STACK, "--yes", "--interval", "0.2", "--json")

    assert result.code == 1  # the seeded project without a customer failed
    assert deployed.fake_lambda.invocations == [("ctns-local-projects-poller", {"sync": "projects"})]
    (run,) = result.json["runs"]
    assert run["finished"] and run["poll"]["status"] == "enqueued"
    open_projects = [p for p in deployed.session.simulators.company.projects if p.allow_time and p.status_id != "1"]
    assert run["summary"]["counts"]["created"] == len(open_projects) - 1  # all but the one without a customer
    assert run["summary"]["counts"]["failed"] == 1
    assert "projects: poll enqueued" in result.err  # progress while it followed the run

    text = ctns(capsys, "status", "--stack", STACK)
    assert text.code == 1 and f"Status of stack {STACK} in us-east-1" in text.out


def test_a_run_on_a_deployed_stack_asks_first(deployed, capsys, monkeypatch):
    refused = ctns(capsys, "run", "projects", "--stack", STACK)
    assert refused.code == 2 and "add --yes to confirm" in refused.problems[0]

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    declined = ctns(capsys, "run", "projects", "--stack", STACK)
    assert declined.code == 1 and "Continue? [y/N] ctns: stopped: not confirmed" in declined.err  # no echo here
    assert "WRITES the customer's NetSuite" in declined.err
    assert deployed.fake_lambda.invocations == []


def test_a_failing_poller_is_one_line_with_its_reason(deployed, capsys):
    deployed.fake_lambda.fail_with = "config document /ctns/config is invalid: projects.scope"
    result = ctns(capsys, "run", "tasks", "--stack", STACK, "--yes", "--interval", "0.2")
    assert result.code == 1
    # told as every command tells a failed poller (`ctns/outcome.py`; before 2026-12-04: "tasks: <reason>")
    assert "The tasks poller failed: config document /ctns/config is invalid: projects.scope" in result.out


def test_errors_redrive_and_trace_on_the_deployed_stack(deployed, capsys):
    # The tasks sync alone: it syncs the projects its tasks need on demand.
    assert ctns(capsys, "run", "tasks", "--stack", STACK, "--yes", "--interval", "0.2").code == 1
    errors = ctns(capsys, "errors", "--stack", STACK, "--json")
    assert errors.code == 1
    keys = {(c["sync"], c["cause_key"]) for c in errors.json["causes"]}
    assert ("tasks", "project-without-customer") in keys and len(keys) == 2
    assert "ctns redrive tasks --cause" in ctns(capsys, "errors", "tasks", "--stack", STACK).out

    deployed.session.simulators.netsuite.unkept_fields = {}  # the field fix
    redriven = ctns(
        capsys, "redrive", "tasks", "--stack", STACK, "--yes", "--interval", "0.2", "--timeout", "60", "--json"
    )

    assert redriven.json["moved_by"] == "one by one"  # moto has no SQS redrive task: the fallback moved them
    assert "SQS redrive task not available here" in redriven.err
    assert redriven.json["moved"] == redriven.json["dead_letters_before"] > 1
    victim_tasks = [t for t in deployed.session.simulators.company.tasks if t.project_id == victim_of(deployed)]
    assert redriven.code == 1 and redriven.json["dead_letters_after"] == len(victim_tasks)  # still without a job

    task = next(c for c in errors.json["causes"] if c["sync"] == "tasks" and c["cause_key"].startswith("field"))
    record = task["records"][0]
    trace = ctns(capsys, "trace", record["target_id"], "--stack", STACK)
    assert trace.code == 0  # its cause is resolved now
    assert (
        "(add --search-logs DAYS to run it from here)" in trace.out
        and "/aws/lambda/ctns-local-tasks-worker" in trace.out
    )


def test_check_compares_the_stacks_concurrency_parameters_with_the_limit(deployed, capsys):
    result = ctns(capsys, "check", "--stack", STACK, "--netsuite-concurrency-limit", "8", "--json")
    assert result.code == 2
    concurrency = next(c for c in result.json["checks"] if c["name"] == "NetSuite concurrency")
    assert concurrency["status"] == "FAIL" and "the time sync alone may send 10" in concurrency["detail"]
    assert "27 if every sync ran at once" in concurrency["detail"] and "the stack's parameters" in concurrency["detail"]
    assert "TimeWorkerMaxConcurrency" in concurrency["fix"]
    others = [c for c in result.json["checks"] if c["name"] != "NetSuite concurrency"]
    assert all(c["status"] in ("ok", "skip", "warn") for c in others), others
    # The seeded company has one ClickTime expense type on purpose without a NetSuite category: a warning only
    assert [c["name"] for c in others if c["status"] == "warn"] in ([], ["expenses sync"])


def test_backfill_on_the_deployed_stack(deployed, capsys):
    result = ctns(
        capsys,
        "backfill",
        "projects",
        "--since",
        "2021-06-01",
        "--stack",
        STACK,
        "--yes",
        "--interval",
        "0.05",
        "--json",
    )
    assert set(result.json["after"].values()) == {"2021-06-01T00:00:00+00:00"}
    assert result.json["poll"]["status"] == "enqueued" and result.json["summary"]["counts"]["failed"] == 1
    assert result.code == 1


def test_a_stack_that_is_not_there_or_not_ours(deployed, capsys):
    missing = ctns(capsys, "status", "--stack", "nope")
    assert missing.code == 2 and missing.problems == [
        "ctns: no stack named nope in us-east-1 (check --region and --profile)"
    ]
    other = ctns(capsys, "errors", "--stack", "someone-elses")
    assert other.code == 2 and "is not a ClickTime-NetSuite sync stack" in other.problems[0]


def test_trace_runs_the_logs_insights_query_over_the_syncs_log_groups(deployed, capsys, monkeypatch):
    class FakeLogs:
        """CloudWatch Logs Insights (moto runs queries without reading the JSON fields)."""

        queries: list[dict[str, Any]] = []

        def start_query(self, **query: Any) -> dict[str, str]:
            self.queries.append(query)
            return {"queryId": "q-1"}

        def get_query_results(self, queryId: str) -> dict[str, Any]:  # noqa: N803 - boto3's name
            cells = {"@timestamp": "2025-03-02 05:00:01.000", "run_id": "projects-r1", "level": "ERROR"}
            cells["message"] = "projects 109: dead-lettered: project P-1040 has no customer"
            return {"status": "Complete", "results": [[{"field": k, "value": v} for k, v in cells.items()]]}

    logs = FakeLogs()
    patched = Target.client
    monkeypatch.setattr(
        Target,
        "client",
        lambda self, service, **config: logs if service == "logs" else patched(self, service, **config),
    )
    assert ctns(capsys, "run", "projects", "--stack", STACK, "--yes", "--interval", "0.2").code == 1
    victim = victim_of(deployed)

    result = ctns(capsys, "trace", victim, "--stack", STACK, "--search-logs", "2", "--json")

    (query,) = logs.queries
    assert query["logGroupNames"] == [
        "/aws/lambda/ctns-local-projects-poller",
        "/aws/lambda/ctns-local-projects-worker",
    ]
    assert query["endTime"] - query["startTime"] == 2 * 86400
    assert f'netsuite_id = "{victim}"' in query["queryString"]
    assert result.json["runs_in_logs"] == ["projects-r1"] and result.code == 1


def test_reconcile_on_the_deployed_stack_reads_its_mappings_and_both_systems(deployed, capsys):
    result = ctns(capsys, "reconcile", "projects", "--stack", STACK, "--json")

    assert result.code == 1 and STACK in result.json["source"]
    projects = result.json["reconciliation"]["projects"]
    assert not projects["ok"]
    missing = next(c for c in projects["checks"] if c["name"] == "open projects with an active ClickTime job")
    assert any(victim_of(_current["stack"]) in line for line in missing["differences"]), missing


def deny(monkeypatch: Any, operation: str) -> None:
    """Every call of `operation` refused, as for an operator role without its permission."""
    import botocore.client
    from botocore.exceptions import ClientError

    original = botocore.client.BaseClient._make_api_call

    def call(self: Any, name: str, params: Any) -> Any:
        if name == operation:
            raise ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": f"not authorized to perform: {name}"}}, name
            )
        return original(self, name, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call)


def test_a_redrive_whose_move_is_refused_leaves_the_causes_open(deployed, capsys, monkeypatch):
    """`redrive` resolved the causes and lifted the pause, then found it may not start the SQS redrive task: the
    records stayed in the dead-letter queue while `ctns status` said "open causes 0". Found by the operate review of
    2026-12-03; failed before the fix."""
    assert ctns(capsys, "run", "tasks", "--stack", STACK, "--yes", "--interval", "0.2").code == 1

    def open_causes() -> list[tuple[str, int, list[str]]]:
        return sorted((c.key, c.count, sorted(c.blocked)) for c in deployed.session.runlog.causes("tasks"))

    before = open_causes()
    assert before, "setup: the run left open causes"
    deny(monkeypatch, "StartMessageMoveTask")

    redriven = ctns(capsys, "redrive", "tasks", "--stack", STACK, "--yes", "--interval", "0.2", "--timeout", "5")

    assert redriven.code == 2 and "starting the SQS redrive task: access denied" in redriven.err
    assert open_causes() == before


def test_a_redrive_of_a_deployed_stack_asks_first_and_moves_nothing_unconfirmed(deployed, capsys, monkeypatch):
    """`run`, `backfill` and `reset-watermark` ask before they act on a deployed stack; `redrive` resolved the
    causes and sent the dead letters to the customer's workers (which write NetSuite and ClickTime) unasked."""
    assert ctns(capsys, "run", "tasks", "--stack", STACK, "--yes", "--interval", "0.2").code == 1
    causes = sorted(c.key for c in deployed.session.runlog.causes("tasks"))

    def dead_letters() -> dict[str, int]:
        return {
            row["sync"]: row["dead_letters"] for row in ctns(capsys, "status", "--stack", STACK, "--json").json["syncs"]
        }

    letters = dead_letters()
    assert letters["tasks"] > 1, letters

    refused = ctns(capsys, "redrive", "tasks", "--stack", STACK, "--interval", "0.2", "--timeout", "5")

    assert refused.code == 2 and "add --yes to confirm" in refused.problems[0], refused.err

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    declined = ctns(capsys, "redrive", "tasks", "--stack", STACK, "--interval", "0.2", "--timeout", "5")

    assert declined.code == 1 and "stopped: not confirmed" in declined.err
    assert "dead letter" in declined.err and "NetSuite" in declined.err, declined.err
    assert sorted(c.key for c in deployed.session.runlog.causes("tasks")) == causes  # nothing resolved
    assert dead_letters() == letters  # nothing moved


@pytest.mark.parametrize("operation", ["Query", "GetItem", "GetQueueAttributes", "ReceiveMessage"])
def test_a_call_the_operator_role_may_not_make_is_one_line_naming_it_not_a_bug(
    deployed, capsys, monkeypatch, operation
):
    """A read-only operator role without DynamoDB Query (or SQS GetQueueAttributes, …) got "unexpected error:
    ClientError … This is a bug in ctns" (exit 3) from `status` and `errors`, the runbook's first steps. Found by the
    operate review of 2026-12-03; failed before the fix."""
    deny(monkeypatch, operation)
    said = [ctns(capsys, command, "--stack", STACK) for command in ("status", "errors")]

    failed = [r for r in said if r.code != 0]
    assert failed, f"setup: {operation} is called by status or errors"
    for result in failed:
        assert result.code == 2 and "bug" not in result.err and "Traceback" not in result.out + result.err
        assert result.problems == [
            f"ctns: calling {operation}: access denied (not authorized to perform: {operation}); the operator role "
            "needs that permission"
        ], result.err
