"""Mistakes a person can fix, given to `ctns`: each ends in one line saying what to fix and a non-zero exit code
(2: usage or configuration), never in a Python traceback. The table in the issue's note is this list.

Connections go to the simulators started here (a wrong token, the token of another system) or to a port nobody
listens on (an unreachable host).
"""

from __future__ import annotations

import builtins
import io
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from simulators.clicktime import ClickTimeSimulator
from simulators.common.server import SimulatorServer
from simulators.generator import generate_company
from simulators.netsuite import NetSuiteSimulator
from simulators.netsuite.app import DEFAULT_CREDENTIALS
from tests.e2e.cli_support import ctns

pytestmark = pytest.mark.e2e

GOOD_TBA = {
    "consumer_key": DEFAULT_CREDENTIALS.consumer_key,
    "consumer_secret": DEFAULT_CREDENTIALS.consumer_secret,
    "token_id": DEFAULT_CREDENTIALS.token_id,
    "token_secret": DEFAULT_CREDENTIALS.token_secret,
}
CLICKTIME_TOKEN = "ct-bad-inputs-token-7f3a"


@pytest.fixture(scope="module")
def systems() -> Any:
    company = generate_company(seed=3, size=1)
    netsuite = NetSuiteSimulator()
    netsuite.load(company)
    clicktime = ClickTimeSimulator(settings=company.clicktime_settings, seed=3, token=CLICKTIME_TOKEN)
    clicktime.load(company)
    with SimulatorServer(netsuite) as ns, SimulatorServer(clicktime) as ct:
        yield {"netsuite": ns.url, "clicktime": ct.url}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Case:
    name: str
    argv: list[str]  # {config}, {secrets}, {tmp} are filled in
    expect: str  # in the one problem line (or, for `check`, in its failed row)
    code: int = 2
    config: dict[str, Any] | None = None  # written to {config}; None: a good config for the simulators
    secrets: Any = None  # written to {secrets}; None: good secrets
    files: dict[str, bytes] = field(default_factory=dict)  # more files under {tmp}
    env: dict[str, str | None] = field(default_factory=dict)
    in_table: bool = False  # the line is a failed row of `check`'s table (stdout), not a problem line
    setup: Callable[[Path], None] | None = None


def good_config(urls: dict[str, str], **sections: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "netsuite": {
            "account_id": DEFAULT_CREDENTIALS.account_id,
            "rest_base_url": f"{urls['netsuite']}/services/rest",
            "timezone": "America/Los_Angeles",
        },
        "clicktime": {"base_url": f"{urls['clicktime']}/v2"},
    }
    for name, value in sections.items():
        document[name] = {**document.get(name, {}), **value}
    return document


def good_secrets(**sections: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"netsuite": dict(GOOD_TBA), "clicktime": {"api_token": CLICKTIME_TOKEN}}
    for name, value in sections.items():
        document[name] = {**document[name], **value}
    return document


CHECK = ["check", "--config", "{config}", "--secrets", "{secrets}"]
RUN = ["run", "projects", "--config", "{config}", "--secrets", "{secrets}", "--yes"]
VALIDATE = ["config", "validate", "{config}"]
NO_AWS = {
    "AWS_ACCESS_KEY_ID": None,
    "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SESSION_TOKEN": None,
    "AWS_PROFILE": None,
    "AWS_ENDPOINT_URL": None,
    "AWS_REGION": None,
    "AWS_DEFAULT_REGION": None,
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/credentials",
    "AWS_CONFIG_FILE": "/nonexistent/config",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def cases(urls: dict[str, str]) -> list[Case]:
    dead = f"http://127.0.0.1:{closed_port()}"
    return [
        # -- files that are not there or not readable ----------------------------------------------------
        Case(
            "config file missing",
            ["check", "--config", "{tmp}/nope.json", "--secrets", "{secrets}"],
            "config file {tmp}/nope.json does not exist",
        ),
        Case(
            "config file is a folder",
            ["check", "--config", "{tmp}", "--secrets", "{secrets}"],
            "is a directory, not a file",
        ),
        Case("config file empty", CHECK, "is empty", files={"config.json": b""}),
        Case(
            "config file not JSON",
            CHECK,
            "is not valid JSON: Expecting value (line 1, column 1)",
            files={"config.json": b"account_id = 1234567\n"},
        ),
        Case(
            "config file truncated JSON",
            VALIDATE,
            "is not valid JSON",
            files={"config.json": b'{"netsuite": {"account_id": "1'},
        ),
        Case("config file a JSON list", VALIDATE, "must hold a JSON object", files={"config.json": b"[]"}),
        Case(  # found by a review: JSON keeps the last of the two, and the first was silently dropped
            "config file with a section twice",
            VALIDATE,
            "config file {config} has the key 'netsuite' twice",
            files={"config.json": b'{"netsuite": {"account_id": "1234567"}, "netsuite": {"account_id": "7654321"}}'},
        ),
        Case(
            "secrets file with a key twice",
            CHECK,
            "secrets file {secrets} has the key 'api_token' twice",
            files={
                "secrets.json": json.dumps({"netsuite": GOOD_TBA})[:-1].encode()
                + b', "clicktime": {"api_token": "ct-first-0000", "api_token": "ct-wrong-0000"}}'
            },
        ),
        Case(  # found by a new user: a RecursionError reported as "a bug in ctns"
            "config file nested too deeply",
            VALIDATE,
            "is nested too deeply to be read",
            files={"config.json": b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"},
        ),
        Case(  # found by a new user: an OverflowError from bind() reported as "a bug in ctns"
            "serve on a port out of range", ["serve", "--port", "80000"], "a port is 0 to 65535 (got 80000"
        ),
        Case("config file not UTF-8", VALIDATE, "is not UTF-8 text", files={"config.json": b"\xff\xfe\x00{\x00"}),
        Case(
            "secrets file missing",
            ["check", "--config", "{config}", "--secrets", "{tmp}/none.json"],
            "secrets file {tmp}/none.json does not exist",
        ),
        Case(
            "secrets file not JSON",
            CHECK,
            "secrets file {secrets} is not valid JSON",
            files={"secrets.json": b"consumer_key: abc\n"},
        ),
        Case("secrets file empty", CHECK, "secrets file {secrets} is empty", files={"secrets.json": b"  \n"}),
        # -- a config document that would break the first run -----------------------------------------------
        Case("config without netsuite section", VALIDATE, "netsuite: is missing", config={"projects": {}}),
        Case(
            "account id lower-case sandbox",
            VALIDATE,
            "a sandbox realm is upper case",
            config={"netsuite": {"account_id": "1234567_sb1"}},
        ),
        Case(
            "empty project scope",
            VALIDATE,
            "projects.scope: the project scope is empty",
            config=good_config(urls, projects={"scope": ""}),
        ),
        Case(
            "scope with a comment",
            VALIDATE,
            "no ';' and no comments",
            config=good_config(urls, projects={"scope": "j.isinactive = 'F' -- all"}),
        ),
        Case(
            "scope that widens the query",
            VALIDATE,
            "unmatched quote",
            config=good_config(urls, projects={"scope": "') OR (1=1"}),
        ),
        Case(
            "scope closing a parenthesis",
            VALIDATE,
            "closes a parenthesis it did not open",
            config=good_config(urls, projects={"scope": "j.isinactive = 'F') OR (1=1"}),
        ),
        Case(
            "scope not about the project",
            VALIDATE,
            "names no column of the project",
            config=good_config(urls, projects={"scope": "1 = 1"}),
        ),
        Case(
            "scope with another alias",
            VALIDATE,
            "uses alias 'job'",
            config=good_config(urls, projects={"scope": "job.isinactive = 'F'"}),
        ),
        Case(
            "NetSuite URL not https",
            VALIDATE,
            "is not https",
            config=good_config(
                urls, netsuite={"rest_base_url": "http://1234567-sb1.suitetalk.api.netsuite.com/services/rest"}
            ),
        ),
        Case(
            "NetSuite URL malformed",
            VALIDATE,
            "is not an absolute URL",
            config=good_config(
                urls, netsuite={"rest_base_url": "1234567-sb1.suitetalk.api.netsuite.com/services/rest"}
            ),
        ),
        Case(
            "NetSuite URL without the REST path",
            VALIDATE,
            "does not end with /services/rest",
            config=good_config(urls, netsuite={"rest_base_url": "https://1234567-sb1.suitetalk.api.netsuite.com"}),
        ),
        Case(
            "ClickTime URL without /v2",
            VALIDATE,
            "does not end with /v2",
            config=good_config(urls, clicktime={"base_url": "https://api.clicktime.com"}),
        ),
        Case(
            "URL with a password",
            VALIDATE,
            "carries no user name or password",
            config=good_config(urls, clicktime={"base_url": "https://me:pw@api.clicktime.com/v2"}),
        ),
        Case(
            "task field in the project field's place",
            VALIDATE,
            "'custevent_ct_task_id' is a custevent field",
            config=good_config(urls, projects={"clicktime_id_field": "custevent_ct_task_id"}),
        ),
        Case(
            "project field in the task field's place",
            VALIDATE,
            "'custentity_ct_job_id' is a custentity field",
            config=good_config(urls, tasks={"clicktime_id_field": "custentity_ct_job_id"}),
        ),
        Case(
            "a secret pasted into the config",
            VALIDATE,
            "clicktime.token: is not a setting here",
            config=good_config(urls, clicktime={"token": "pasted-secret-9d1c"}),
        ),
        Case(
            "misspelt setting",
            VALIDATE,
            "projects.scop: is not a setting here",
            config=good_config(urls, projects={"scop": "j.id > 0"}),
        ),
        Case(
            "unknown time zone",
            VALIDATE,
            "unknown time zone 'Pacific Time'",
            config=good_config(urls, netsuite={"timezone": "Pacific Time"}),
        ),
        Case(  # found by a review: the zone of whichever machine reads the config
            "time zone of the machine",
            VALIDATE,
            "netsuite.timezone: 'localtime' names whichever zone the machine reading the config is set to",
            config=good_config(urls, netsuite={"timezone": "localtime"}),
        ),
        Case(
            "closed status by name",
            VALIDATE,
            "'Closed' is not a project status internal id",
            config=good_config(urls, projects={"closed_status_ids": ["Closed"]}),
        ),
        Case(
            "task code without the task id",
            VALIDATE,
            "has no {task_id}",
            config=good_config(urls, tasks={"task_code_template": "NS-TASK"}),
        ),
        Case(
            "task name with an unknown field",
            VALIDATE,
            "uses 'nope'",
            config=good_config(urls, tasks={"name_template": "{nope}"}),
        ),
        Case(
            "malformed config given to check",
            CHECK,
            "is not a valid config document: projects.scope",
            config=good_config(urls, projects={"scope": "--"}),
        ),
        Case(
            "malformed config given to run",
            RUN,
            "is not a valid config document: netsuite.account_id",
            config={"netsuite": {"account_id": "12/34"}},
        ),
        # -- a secrets file with the wrong shape ---------------------------------------------------------------
        Case(
            "secrets with a misnamed section",
            CHECK,
            "has no 'netsuite' section (found: clicktime, netsuite_tba)",
            secrets={"netsuite_tba": GOOD_TBA, "clicktime": {"api_token": CLICKTIME_TOKEN}},
        ),
        Case(
            "secrets without the clicktime section", CHECK, "has no 'clicktime' section", secrets={"netsuite": GOOD_TBA}
        ),
        Case("secrets as one flat secret", CHECK, "holds the keys of one secret at its top level", secrets=GOOD_TBA),
        Case(
            "secrets missing a TBA value",
            CHECK,
            "netsuite.token_secret: is missing",
            secrets={
                "netsuite": {k: v for k, v in GOOD_TBA.items() if k != "token_secret"},
                "clicktime": {"api_token": CLICKTIME_TOKEN},
            },
        ),
        Case(
            "secrets with a number for a value",
            CHECK,
            "netsuite.consumer_secret: must be a string",
            secrets=good_secrets(netsuite={"consumer_secret": 5}),
        ),
        Case(
            "secrets with an empty token",
            CHECK,
            "clicktime.api_token: is empty",
            secrets=good_secrets(clicktime={"api_token": ""}),
        ),
        Case(
            "secrets with a trailing newline",
            CHECK,
            "clicktime.api_token: has spaces or a line break",
            secrets=good_secrets(clicktime={"api_token": CLICKTIME_TOKEN + "\n"}),
        ),
        Case(
            "secrets with a misspelt key",
            RUN,
            "netsuite.tokenid: is not a setting here",
            secrets=good_secrets(netsuite={"tokenid": "x"}),
        ),
        Case(
            "secrets section not an object",
            RUN,
            "netsuite: must be a JSON object",
            secrets={"netsuite": "ck,cs,tk,ts", "clicktime": {"api_token": CLICKTIME_TOKEN}},
        ),
        Case(
            "secrets file a JSON string", RUN, "must hold a JSON object", files={"secrets.json": b'"just-a-token-1234"'}
        ),
        # -- wrong tokens and unreachable hosts -------------------------------------------------------------------
        Case(
            "wrong NetSuite token (run)",
            RUN,
            "NetSuite refused the credentials (INVALID_LOGIN)",
            secrets=good_secrets(netsuite={"token_secret": "ts-wrong-0000"}),
        ),
        Case(
            "wrong NetSuite token (check)",
            CHECK,
            "NetSuite refused the credentials (INVALID_LOGIN)",
            secrets=good_secrets(netsuite={"token_secret": "ts-wrong-0000"}),
            in_table=True,
        ),
        Case(
            "wrong ClickTime token (run)",
            RUN,
            "ClickTime refused the API token (401)",
            secrets=good_secrets(clicktime={"api_token": "ct-wrong-0000"}),
        ),
        Case(
            "wrong ClickTime token (check)",
            CHECK,
            "ClickTime refused the API token (401)",
            secrets=good_secrets(clicktime={"api_token": "ct-wrong-0000"}),
            in_table=True,
        ),
        Case(
            "sandbox token on another account",
            RUN,
            "NetSuite refused the credentials",
            config=good_config(urls, netsuite={"account_id": "7654321"}),
        ),
        Case(
            "unreachable NetSuite (run)",
            RUN,
            f"NetSuite did not answer at {dead}/services/rest",
            config=good_config(urls, netsuite={"rest_base_url": f"{dead}/services/rest"}),
        ),
        Case(
            "unreachable NetSuite (check)",
            CHECK,
            "NetSuite did not answer",
            config=good_config(urls, netsuite={"rest_base_url": f"{dead}/services/rest"}),
            in_table=True,
        ),
        Case(
            "unreachable ClickTime (run)",
            RUN,
            f"ClickTime did not answer at {dead}/v2",
            config=good_config(urls, clicktime={"base_url": f"{dead}/v2"}),
        ),
        # -- usage -----------------------------------------------------------------------------------------------
        Case(
            "unknown sync", ["run", "projcts"], "unknown sync 'projcts'; the syncs are projects, tasks, time, expenses"
        ),
        Case(  # found by a review: ran once without a word (and on a deployed stack, its poller twice)
            "a sync named twice",
            ["run", "projects", "tasks", "projects"],
            "projects is named twice: name each sync once",
        ),
        Case("unknown sync for errors", ["errors", "timesheets"], "unknown sync 'timesheets'"),
        Case(
            "unknown sync for plan",
            ["plan", "job", "--config", "{config}", "--secrets", "{secrets}"],
            "unknown sync 'job'",
        ),
        Case("--passes 0", ["run", "--passes", "0"], "argument --passes: must be at least 1 (got 0)"),
        Case("--passes not a number", ["run", "--passes", "two"], "argument --passes: 'two' is not a whole number"),
        Case("--size 0 for the demo", ["demo", "--size", "0"], "argument --size: must be at least 1"),
        # found by a review: a negative pause between polls was taken (time.sleep then raised: exit 3, "a bug")
        Case(
            "--interval negative for run",
            ["run", "projects", "--interval", "-1"],
            "argument --interval: must be more than 0 seconds (got -1)",
        ),
        Case(
            "--interval NaN for backfill",
            ["backfill", "time", "--since", "2026-11-01", "--interval", "nan"],
            "argument --interval: must be more than 0 seconds (got nan)",
        ),
        # found by a review: a negative time to wait was taken
        Case(
            "--timeout negative for redrive",
            ["redrive", "projects", "--timeout", "-5"],
            "argument --timeout: must be at least 1 (got -5)",
        ),
        Case(
            "--timeout negative for backfill",
            ["backfill", "projects", "--since", "2026-11-30", "--timeout", "-5"],
            "argument --timeout: must be at least 1 (got -5)",
        ),
        # found by a new user: the demo ran its three nights, then failed writing the report (exit 3)
        Case(
            "--report a file no one can write", ["demo", "--report", "/proc/version"], "/proc/version cannot be written"
        ),
        Case("--config without --secrets", ["run", "--config", "{config}"], "--config and --secrets go together"),
        Case(
            "--secrets without --config for check",
            ["check", "--secrets", "{secrets}"],
            "--config and --secrets go together",
        ),
        Case(
            "--stack with --config",
            ["run", "--stack", "acme", "--config", "{config}", "--secrets", "{secrets}"],
            "leave out --config/--secrets",
        ),
        Case(
            "--stack with --passes",
            ["run", "projects", "--stack", "acme", "--passes", "2"],
            "--passes is for local runs",
        ),
        Case(
            "a real run without confirmation",
            ["run", "projects", "--config", "{config}", "--secrets", "{secrets}"],
            "Not asked (no terminal): add --yes to confirm",
        ),
        Case(
            "config push without a region",
            ["config", "push", "{config}"],
            "config push needs a region: pass --region",
            env=NO_AWS,
        ),
        Case(
            "config push to a name without /", ["config", "push", "{config}", "--name", "ctns/config"], "starts with /"
        ),
        Case("unknown command", ["sync-now"], "invalid choice: 'sync-now'"),
        Case("redrive without a sync", ["redrive"], "the following arguments are required: SYNC"),
        Case("backfill without --since", ["backfill", "projects"], "the following arguments are required: --since"),
        Case(
            "backfill since a word",
            ["backfill", "projects", "--since", "yesterday"],
            "--since 'yesterday' is not a date",
        ),
        Case(
            "reset-watermark without a date",
            ["reset-watermark", "tasks"],
            "one of the arguments --to --forget is required",
        ),
        Case("trace without an ID", ["trace", " "], "trace needs an ID"),
        # found by a new user: any whole number was taken (a startTime before 1970 sent to AWS, or in the future, or
        # 0 searching nothing)
        Case(
            "trace --search-logs too many days",
            ["trace", "5011", "--search-logs", "100000"],
            "argument --search-logs: days back to search are 1 to 3653, the longest log retention (got 100000)",
        ),
        Case(
            "trace --search-logs negative",
            ["trace", "5011", "--search-logs", "-3"],
            "argument --search-logs: days back to search are 1 to 3653",
        ),
        Case("trace --search-logs zero", ["trace", "5011", "--search-logs", "0"], "(got 0)"),
        Case("trace --search-logs a word", ["trace", "5011", "--search-logs", "week"], "'week' is not a whole number"),
        # -- the stack the command should work on -----------------------------------------------------------------
        Case(
            "status with no local stack running", ["status"], "no local stack is running: start one with `ctns serve`"
        ),
        Case(
            "errors with a stopped local stack",
            ["errors"],
            "does not answer",
            setup=lambda tmp: (tmp / "serve.json").write_text(
                json.dumps(
                    {
                        "aws_endpoint": f"{dead}",
                        "netsuite_url": dead,
                        "clicktime_url": dead,
                        "seed": 7,
                        "size": 1,
                        "pid": 1,
                        "started_at": "",
                        "seeded_failures": [],
                    }
                )
            ),
        ),
        Case(
            "trace with a broken state file",
            ["trace", "42"],
            "is not a ctns serve state file",
            setup=lambda tmp: (tmp / "serve.json").write_text("{oops"),
        ),
        Case(
            "stack without AWS credentials",
            ["status", "--stack", "acme-sync", "--region", "us-east-1"],
            "no AWS credentials",
            env=NO_AWS,
        ),
        Case(
            "stack with an unknown AWS profile",
            ["errors", "--stack", "acme-sync", "--profile", "no-such-profile"],
            "AWS profile 'no-such-profile'",
            env=NO_AWS,
        ),
        # Found by a new user's trial (2026-12-02): both ran on a simulated (or the local) stack and exited 0.
        Case(
            "an empty stack name (an unset shell variable)",
            ["run", "projects", "--stack", "", "--yes"],
            "--stack: is empty (an unset shell variable?)",
        ),
        Case(
            "a region without a stack",
            ["run", "projects", "--region", "eu-west-1", "--yes"],
            "--region without --stack: give --stack NAME",
        ),
    ]


CASES = [case.name for case in cases({"netsuite": "http://x", "clicktime": "http://y"})]


@pytest.mark.parametrize("name", CASES)
def test_a_mistake_is_one_line_saying_what_to_fix(name, systems, tmp_path, monkeypatch, capsys):
    case = next(c for c in cases(systems) if c.name == name)
    monkeypatch.setenv("CTNS_LOCAL", str(tmp_path / "serve.json"))
    monkeypatch.setenv("CTNS_LOG_DIR", str(tmp_path / "logs"))
    for variable, value in case.env.items():
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, value)
    config_path, secrets_path = tmp_path / "config.json", tmp_path / "secrets.json"
    config_path.write_text(json.dumps(case.config if case.config is not None else good_config(systems)))
    secrets_path.write_text(json.dumps(case.secrets if case.secrets is not None else good_secrets()))
    for relative, content in case.files.items():
        (tmp_path / relative).write_bytes(content)
    if case.setup:
        case.setup(tmp_path)
    fill = {"{config}": str(config_path), "{secrets}": str(secrets_path), "{tmp}": str(tmp_path)}

    def filled(text: str) -> str:
        for placeholder, value in fill.items():
            text = text.replace(placeholder, value)
        return text

    argv = [filled(part) for part in case.argv]

    result = ctns(capsys, *argv)

    expected = filled(case.expect)
    everything = result.out + result.err
    assert result.code == case.code, everything
    assert "Traceback" not in everything
    if case.in_table:
        failed = [line for line in result.out.splitlines() if line.startswith("FAIL")]
        assert any(expected in line for line in failed), result.out
    else:
        assert len(result.problems) == 1, result.err
        assert expected in result.problems[0], result.problems[0]
    for secret in (*GOOD_TBA.values(), CLICKTIME_TOKEN, "ts-wrong-0000", "ct-wrong-0000", "pasted-secret-9d1c"):
        assert secret not in everything


def test_with_debug_the_traceback_is_shown_for_the_same_mistake(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CTNS_LOCAL", str(tmp_path / "serve.json"))
    result = ctns(capsys, "--debug", "status")
    assert result.code == 2 and "Traceback" in result.err and len(result.problems) == 1


def test_the_table_has_the_issues_cases_and_more_than_fifty(systems):
    assert len(CASES) == len(set(CASES)) >= 50
    argvs = [" ".join(c.argv) for c in cases(systems)]
    assert any(a.startswith("config push") for a in argvs) and any("--passes 0" in a for a in argvs)


def test_an_unreadable_config_file(systems, tmp_path, monkeypatch, capsys):
    config = tmp_path / "config.json"
    config.write_text("{}")
    config.chmod(0)
    if os.geteuid() == 0:  # root reads any file: deny it the way the kernel would deny anyone else
        opener = io.open

        def denying_open(file, *args, **kwargs):
            if os.fspath(file) == str(config):
                raise PermissionError(13, "Permission denied", str(config))
            return opener(file, *args, **kwargs)

        monkeypatch.setattr(io, "open", denying_open)
        monkeypatch.setattr(builtins, "open", denying_open)
    result = ctns(capsys, "config", "validate", str(config))
    assert result.code == 2 and "cannot be read: permission denied" in result.problems[0]


def _commands_taking_json() -> list[list[str]]:
    from ctns.cli import parser

    def commands(command: Any, path: list[str]) -> list[list[str]]:
        found = [path] if any("--json" in action.option_strings for action in command._actions) else []
        for action in command._actions:
            for name, sub in getattr(action, "choices", None).items() if action.dest in ("command", "action") else ():
                found += commands(sub, [*path, name])
        return found

    return commands(parser(), [])


JSON_COMMANDS = _commands_taking_json()


def _the_error_document(result: Any, code: int) -> None:
    """With --json, a mistake is also a document on stdout (a script reads stdout), beside the line on stderr."""
    assert result.code == code, result.out + result.err
    assert len(result.problems) == 1, result.err
    assert result.json == {"error": result.problems[0].removeprefix("ctns: "), "exit_code": code}


def test_every_command_taking_json_is_known():
    assert len(JSON_COMMANDS) >= 11 and ["config", "validate"] in JSON_COMMANDS and ["status"] in JSON_COMMANDS


@pytest.mark.parametrize("command", JSON_COMMANDS, ids=" ".join)
def test_with_json_a_usage_mistake_is_a_json_document_on_stdout(command, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CTNS_LOCAL", str(tmp_path / "serve.json"))
    _the_error_document(ctns(capsys, *command, "--json", "--no-such-option"), 2)


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "--json"],  # no local stack running
        ["errors", "projcts", "--json"],
        ["config", "validate", "{tmp}/nope.json", "--json"],
        ["run", "projects", "--config", "{config}", "--secrets", "{secrets}", "--json"],  # not confirmed, no terminal
        ["redrive", "projects", "--timeout", "-1", "--json"],
    ],
    ids=" ".join,
)
def test_with_json_a_mistake_in_a_command_is_a_json_document_on_stdout(argv, systems, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CTNS_LOCAL", str(tmp_path / "serve.json"))
    monkeypatch.setenv("CTNS_LOG_DIR", str(tmp_path / "logs"))
    (tmp_path / "config.json").write_text(json.dumps(good_config(systems)))
    (tmp_path / "secrets.json").write_text(json.dumps(good_secrets()))
    filled = [part.replace("{tmp}", str(tmp_path)).replace("{config}", str(tmp_path / "config.json")) for part in argv]
    filled = [part.replace("{secrets}", str(tmp_path / "secrets.json")) for part in filled]
    _the_error_document(ctns(capsys, *filled), 2)


@pytest.mark.parametrize(
    ("raised", "code"), [(KeyboardInterrupt(), 130), (RuntimeError("boom"), 3)], ids=["interrupted", "a bug"]
)
def test_with_json_an_interruption_or_a_bug_is_a_json_document_too(raised, code, monkeypatch, capsys):
    from ctns.commands import status

    def failing(args: Any, out: Any) -> int:
        raise raised

    monkeypatch.setattr(status, "cmd_status", failing)
    _the_error_document(ctns(capsys, "status", "--json"), code)


def test_with_json_a_command_that_printed_its_document_prints_no_second_one(systems, tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps(good_config(systems, projects={"scope": ""})))
    result = ctns(capsys, "config", "validate", str(config), "--json")
    assert result.code == 2 and result.json["valid"] is False and "error" not in result.json
