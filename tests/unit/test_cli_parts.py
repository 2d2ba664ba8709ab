"""The parts of `ctns` that need no stack: masking, describing validation errors, secrets shapes, read-only
clients and tables, dates, and the outputs the local stack has in place of a deployment's."""

from __future__ import annotations

import argparse
import io
import json
import re
from typing import Any

import pytest
import requests
from pydantic import SecretStr, ValidationError
from samtranslator.yaml_helper import yaml_parse

from ctns.commands.common import output_file, parse_instant
from ctns.connections import ReadOnlySession, WriteRefused
from ctns.inputs import parse_secrets
from ctns.output import MASK, CliError, RedactingStream, describe_validation, redact, remember_secret, table
from ctns.plan import EmptyTable, ReadOnlyTable
from ctns.stack import TEMPLATE, expand
from ctns.target import SYNC_OUTPUTS, check_sync, prefix
from ctsync.config import SyncConfig
from ctsync.netsuite.auth import TbaCredentials
from ctsync.netsuite.client import NetSuiteClient
from ctsync.sync.registry import SYNC_NAMES


def test_a_remembered_secret_is_masked_everywhere_ctns_prints():
    remember_secret(SecretStr("tok-unit-4242-abcdef"))
    remember_secret("ab")  # too short to mask without garbling text

    assert redact("Authorization: Token tok-unit-4242-abcdef!") == f"Authorization: Token {MASK}!"
    stream = io.StringIO()
    RedactingStream(stream).write('{"token": "tok-unit-4242-abcdef", "ab": 1}')
    assert "tok-unit-4242-abcdef" not in stream.getvalue() and '"ab"' in stream.getvalue()


def test_validation_errors_are_described_without_the_value_given():
    with pytest.raises(ValidationError) as caught:
        SyncConfig.model_validate({"netsuite": {"account_id": "1234567", "token_secret": "s3cr3t-value"}, "x": 1})

    lines = describe_validation(caught.value)

    assert "netsuite.token_secret: is not a setting here (misspelt, or in the wrong section)" in lines
    assert "x: is not a setting here (misspelt, or in the wrong section)" in lines
    assert "s3cr3t-value" not in str(lines) and "s3cr3t-value" in str(caught.value)  # pydantic's own text leaks


def test_a_quoted_value_says_to_unquote_it():
    with pytest.raises(ValidationError) as caught:
        SyncConfig.model_validate(
            {"netsuite": {"account_id": "1234567"}, "expenses": {"receipts": {"enabled": "yes"}, "lookback_days": "30"}}
        )

    assert sorted(describe_validation(caught.value)) == [
        "expenses.lookback_days: must be a whole number (JSON, unquoted)",
        "expenses.receipts.enabled: must be true or false (JSON, unquoted)",
    ]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"netsuite_tba": {}, "clicktime": {}}, "has no 'netsuite' section (found: clicktime, netsuite_tba)"),
        ({"consumer_key": "a", "token_id": "b"}, "holds the keys of one secret at its top level"),
        ({"api_token": "abcd"}, "holds the keys of one secret at its top level"),
        ({"netsuite": {}, "clicktime": {"api_token": "abcd"}}, "netsuite.consumer_key: is missing"),
        ({"netsuite": [], "clicktime": {"api_token": "abcd"}}, "netsuite: must be a JSON object"),
    ],
)
def test_secrets_shapes_are_named(document: dict[str, Any], expected: str):
    with pytest.raises(CliError) as caught:
        parse_secrets(document, "secrets.json")
    assert expected in caught.value.message and caught.value.exit_code == 2


def test_good_secrets_are_remembered_as_secrets():
    secrets = parse_secrets(
        {
            "netsuite": {
                "consumer_key": "ck-unit-1",
                "consumer_secret": "cs-unit-2",
                "token_id": "tk-unit-3",
                "token_secret": "ts-unit-4",
            },
            "clicktime": {"api_token": "ct-unit-5"},
        },
        "secrets.json",
    )
    assert secrets.netsuite.credentials().token_secret.get_secret_value() == "ts-unit-4"
    assert redact("ck-unit-1 cs-unit-2 tk-unit-3 ts-unit-4 ct-unit-5") == " ".join([MASK] * 5)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", "https://x.suitetalk.api.netsuite.com/services/rest/record/v1/job"),
        ("PATCH", "https://x.suitetalk.api.netsuite.com/services/rest/record/v1/job/1"),
        ("PUT", "https://x.suitetalk.api.netsuite.com/services/rest/record/v1/timeBill/eid:ct-1"),
        ("DELETE", "https://api.clicktime.com/v2/Jobs/1"),
        ("POST", "https://api.clicktime.com/v2/Jobs"),
    ],
)
def test_a_read_only_session_refuses_every_write_before_it_is_sent(method: str, url: str):
    with pytest.raises(WriteRefused, match="writes nothing"):
        ReadOnlySession().request(method, url)


@pytest.mark.parametrize(
    "write",
    [
        lambda client: client.delete_record("timeBill", "7"),
        lambda client: client.create_record("expenseReport", {"memo": "x"}),
        lambda client: client.upsert_record("timeBill", "ct-1", {"hours": "1:00"}),
        lambda client: client.attach_file("expenseReport", "3", "9"),
    ],
    ids=["delete", "create", "upsert", "attach"],
)
def test_the_netsuite_client_on_a_read_only_session_sends_no_write(monkeypatch, write):
    """The NetSuite client signs each attempt itself and sends it with `Session.send`, not `Session.request`: the
    refusal must sit where every request passes. A DELETE from `ctns plan` went out before. Found by review 13's
    helper; failed before the fix."""
    sent: list[str] = []
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", lambda self, request, **_: sent.append(request.method))
    credentials = TbaCredentials(
        consumer_key=SecretStr("ck"),
        consumer_secret=SecretStr("cs"),
        token_id=SecretStr("tk"),
        token_secret=SecretStr("ts"),
    )
    client = NetSuiteClient(account_id="1234567_SB1", credentials=credentials, session=ReadOnlySession())
    with pytest.raises(WriteRefused, match="writes nothing"):
        write(client)
    assert sent == []


def test_a_read_only_session_lets_suiteql_through(monkeypatch):
    sent: list[str] = []
    answer = requests.Response()
    monkeypatch.setattr(
        requests.adapters.HTTPAdapter, "send", lambda self, request, **_: sent.append(request.method) or answer
    )
    session = ReadOnlySession()
    assert session.request("POST", "https://x/services/rest/query/v1/suiteql?limit=1") is answer
    assert session.request("GET", "https://api.clicktime.com/v2/Jobs") is answer
    assert sent == ["POST", "GET"]


def test_the_plan_reads_the_state_table_and_cannot_write_it():
    class Table:
        name = "state"

        def get_item(self, **_: Any) -> dict[str, Any]:
            return {"Item": {"pk": "x"}}

    table = ReadOnlyTable(Table())
    assert table.get_item(Key={})["Item"]["pk"] == "x" and table.name == "state"
    for write in ("put_item", "update_item", "delete_item", "batch_writer"):
        with pytest.raises(PermissionError, match="writes nothing"):
            getattr(table, write)
    assert EmptyTable().meta.client.batch_get_item(RequestItems={}) == {"Responses": {}}


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2025-03-01", "2025-03-01T00:00:00+00:00"),
        ("2025-03-01T06:30:00Z", "2025-03-01T06:30:00+00:00"),
        ("2025-03-01T06:30:00+02:00", "2025-03-01T06:30:00+02:00"),
        ("2025-03-01T06:30:00", "2025-03-01T06:30:00+00:00"),
    ],
)
def test_dates_for_backfill_and_watermarks(text: str, iso: str):
    assert parse_instant(text, "--since").isoformat() == iso


@pytest.mark.parametrize("text", ["yesterday", "2025-13-01", "01/03/2025", ""])
def test_dates_that_are_not(text: str):
    with pytest.raises(CliError, match="is not a date"):
        parse_instant(text, "--since")


def test_every_sync_of_the_registry_is_a_command_argument_and_nothing_else():
    assert [check_sync(name) for name in SYNC_NAMES] == list(SYNC_NAMES)
    with pytest.raises(CliError, match="the syncs are projects, tasks, time, expenses"):
        check_sync("Projects")


def test_the_outputs_the_cli_reads_are_the_templates_outputs():
    raw = yaml_parse(TEMPLATE.read_text())
    defaults = {name: str(spec.get("Default", "")) for name, spec in raw["Parameters"].items()}
    template = expand(raw, defaults)
    outputs = set(template["Outputs"])
    wanted = {"StateTableName", "PollerFailureQueueUrl"} | {f"{prefix(s)}{o}" for s in SYNC_NAMES for o in SYNC_OUTPUTS}
    assert wanted <= outputs


def test_tables_align_numbers_right():
    lines = table(["sync", "count"], [["projects", 3], ["tasks", 120]], right=[1])
    assert lines == ["sync      count", "--------  -----", "projects      3", "tasks       120"]


def test_failures_of_an_in_memory_run_are_not_said_to_wait_anywhere():
    from ctns.report import render_failures

    failure = {"sync": "projects", "source_id": "109", "target_id": None, "kind": "BAD_INPUT", "reason": "no customer"}

    in_memory = render_failures([failure])
    kept = render_failures([failure], kept_in="the local stack's dead-letter queues")

    assert "in memory and are gone" in in_memory and "wait in" not in in_memory
    assert kept.startswith(
        "1 record(s) wait in the local stack's dead-letter queues (failed in this run or an earlier one):"
    )
    assert "NetSuite project 109, no ClickTime job yet [BAD_INPUT]: no customer" in in_memory


def test_a_phase_failure_is_told_as_a_phase_and_counted_as_no_record():
    # Found by a review (2026-12-03): `phase:adopt` was listed as a NetSuite record waiting in a dead-letter queue
    from ctns.report import records_in, render_failures
    from ctsync.state.runlog import failed_phase, phase_source_id

    assert failed_phase(phase_source_id("adopt")) == "adopt" and failed_phase("109") is None
    phase = {"sync": "tasks", "source_id": "phase:adopt", "target_id": None, "kind": "CONFIGURATION"}
    phase["reason"] = "the adopt phase of the tasks sync could not be read: ClickTime 401"
    record = {"sync": "projects", "source_id": "109", "target_id": None, "kind": "BAD_INPUT", "reason": "no customer"}

    text = render_failures([phase, record], kept_in="the local stack's dead-letter queues")

    assert records_in([phase, record]) == 1 and "phase:adopt" not in text
    assert text.startswith("1 phase(s) could not be read") and "- tasks: the adopt phase of the tasks sync" in text
    assert "1 record(s) wait in the local stack's dead-letter queues" in text
    assert "record(s)" not in render_failures([phase], kept_in="the local stack's dead-letter queues")


# -- files ctns writes: checked before the command does anything ----------------------------------------------
OUTPUT_OPTIONS = {"logs", "report"}  # every option naming a file ctns writes (a function log, a report)


def _commands_with_output_options() -> list[tuple[str, argparse.Action]]:
    from ctns.cli import parser

    found = []
    for action in parser()._subparsers._group_actions:  # type: ignore[union-attr]
        for name, command in action.choices.items():
            found += [(name, a) for a in command._actions if a.dest in OUTPUT_OPTIONS]
    return found


def test_every_option_naming_a_file_ctns_writes_is_checked_when_the_command_line_is_read():
    """`ctns redrive projects --logs build` moved every dead letter back, then failed on its log file: a mistake
    in where to write must be found before anything runs (a fresh user's try found it for --logs and --report)."""
    found = _commands_with_output_options()
    assert {name for name, _ in found} >= {"demo", "run", "redrive", "backfill"}
    assert [(name, a.dest) for name, a in found if a.type is not output_file] == []


@pytest.mark.parametrize(
    "argv",
    [
        ["demo", "--report", "{dir}"],
        ["demo", "--logs", "{dir}"],
        ["run", "--logs", "{dir}"],
        ["redrive", "projects", "--logs", "{dir}"],
        ["backfill", "projects", "--since", "2026-11-30", "--logs", "{dir}"],
        ["run", "--logs", "{file}/run.log"],
        ["run", "--logs", ""],
        ["demo", "--report", " "],
    ],
)
def test_a_file_ctns_cannot_write_is_one_line_before_anything_runs(tmp_path, argv):
    from ctns.cli import parser

    (tmp_path / "taken").write_text("a file")
    given = [a.format(dir=tmp_path, file=tmp_path / "taken") for a in argv]
    with pytest.raises(CliError) as refused:
        parser().parse_args(given)
    message = str(refused.value)
    assert "\n" not in message and message.startswith(f"{argv[0]}: argument --")
    if "{dir}" in argv:
        assert f"{tmp_path} is a directory: give the path of a file" in message
    elif not argv[-1].strip():  # said as what it is, not as "is a directory" (the working folder): review of the CLI
        assert "no file named (an empty value): give the path of a file (created if missing)" in message
    else:
        assert f"{tmp_path / 'taken'} is a file, not a directory" in message


def test_a_file_path_in_a_folder_that_exists_is_accepted_and_not_created_yet(tmp_path):
    """A folder that does not exist is refused (tests/unit/test_cli_one_line_problems.py); the file may be new."""
    assert output_file(str(tmp_path / "run.log")) == str(tmp_path / "run.log")
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_fails_while_a_command_writes_it_is_one_line_naming_it_not_a_bug(monkeypatch, capsys):
    """What no check beforehand can see (a full disk, a folder made read-only meanwhile) is still the operator's to
    fix: one line naming the file and the reason, exit 2, no 'bug in ctns'."""
    from ctns import cli
    from ctns.commands import local_stack

    def full_disk(args: Any, out: Any) -> int:
        raise OSError(28, "No space left on device", "build/demo-report.json")

    monkeypatch.setattr(local_stack, "cmd_demo", full_disk)
    assert cli.main(["demo"]) == 2
    printed = capsys.readouterr()
    assert printed.err.strip().splitlines() == ["ctns: build/demo-report.json: No space left on device"]
    assert "bug" not in printed.out + printed.err


@pytest.mark.parametrize("fails_at", ["write", "replace"])
def test_a_file_ctns_writes_is_whole_or_as_it_was_when_the_disk_fills(tmp_path, monkeypatch, fails_at):
    """A report or the local stack's state file cut short by a full disk is worse than none: a script (or the next
    `ctns` command) reads half a JSON document. The text is written beside the file and moved over it."""
    from ctns import output

    report = tmp_path / "demo-report.json"
    report.write_text('{"nights": 3}\n')
    full = OSError(28, "No space left on device", str(report))
    if fails_at == "replace":
        monkeypatch.setattr(output.os, "replace", lambda *a: (_ for _ in ()).throw(full))
    else:
        opened = output.os.fdopen

        def half_written(fd: int, mode: str = "r") -> Any:
            file = opened(fd, mode)
            file.write('{"nights": ')
            file.flush()
            file.write = lambda text: (_ for _ in ()).throw(full)
            return file

        monkeypatch.setattr(output.os, "fdopen", half_written)

    with pytest.raises(OSError, match="No space left"):
        output.write_whole(report, '{"nights": 4, "passes": []}\n')

    assert report.read_text() == '{"nights": 3}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["demo-report.json"]  # nothing half-written left beside it


def test_a_file_ctns_writes_replaces_the_last_one_whole(tmp_path):
    from ctns import output

    report = tmp_path / "new" / "demo-report.json"
    output.write_whole(report, "one\n")
    output.write_whole(report, "two\n")
    assert report.read_text() == "two\n" and [p.name for p in report.parent.iterdir()] == ["demo-report.json"]


def test_an_os_error_about_no_file_is_still_reported_as_a_bug(monkeypatch, capsys):
    from ctns import cli
    from ctns.commands import local_stack

    def broken(args: Any, out: Any) -> int:
        raise OSError("something else")

    monkeypatch.setattr(local_stack, "cmd_demo", broken)
    assert cli.main(["demo"]) == 3
    assert "This is a bug in ctns" in capsys.readouterr().err


def test_the_readme_lists_every_exit_code_ctns_gives():
    """130 (interrupted) was said by `ctns --help` but missing from the README's list."""
    from ctns import cli
    from ctns.stack import ROOT

    said = set(re.findall(r"(\d+) [a-z]", cli.__doc__.split("Exit codes:")[1]))
    readme = (ROOT / "README.md").read_text().split("Exit codes:")[1].split("\n\n")[0]
    listed = set(re.findall(r"\*\*(\d+)\*\*", readme))
    assert said == {"0", "1", "2", "3", "130", "141"} and listed == said


def test_a_secret_with_a_quote_is_masked_in_the_json_document_of_a_problem():
    from ctns.output import Output

    remember_secret('tok"with\\quote-9911')
    stdout, stderr = io.StringIO(), io.StringIO()
    Output(json_mode=True, stdout=stdout, stderr=stderr).failed('the token tok"with\\quote-9911 was refused', 2)
    assert "9911" not in stdout.getvalue() + stderr.getvalue()
    assert json.loads(stdout.getvalue()) == {"error": f"the token {MASK} was refused", "exit_code": 2}


def test_a_reader_gone_before_the_command_finished_is_not_reported_as_success(tmp_path, monkeypatch) -> None:
    """`ctns … | head`: the command stopped half way, its outcome unknown; 0 told `pipefail` scripts all was well
    (review, 2026-12-03). 141 is what a shell reports for a program SIGPIPE stopped."""
    from ctns.cli import main

    class GoneReader:
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self) -> None:
            raise BrokenPipeError(32, "Broken pipe")

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"netsuite": {"account_id": "1234567_SB1"}}))
    monkeypatch.setattr("sys.stdout", GoneReader())

    assert main(["config", "validate", str(config)]) == 141


# -- the demo's and `ctns run`'s list of causes: failures told apart from the records they hold (2026-12-04; before,
# one receipt retried three times read "4 failure(s), ClickTime expense sheets X" and a cause of six failures of one
# record ended its one ID with "…")
def _cause(count: int, blocked: list[str]) -> dict[str, Any]:
    return {"key": "receipt-download", "count": count, "blocked": blocked, "reason": "download failed", "fix": ""}


def test_a_cause_retried_on_one_record_says_one_record_and_how_many_failures() -> None:
    from ctns.report import render_causes

    line = render_causes({"expenses": [_cause(4, ["sheet-1"])]}).splitlines()[1]

    assert line == "  - expenses [receipt-download] 1 ClickTime expense sheet (4 failures): sheet-1"


def test_a_cause_of_one_failure_per_record_lists_them_and_marks_only_records_not_shown() -> None:
    from ctns.report import render_causes

    three = render_causes({"time": [_cause(3, ["a", "b", "c"])]}).splitlines()[1]
    seven = render_causes({"time": [_cause(7, list("abcdefg"))]}).splitlines()[1]

    assert three == "  - time [receipt-download] 3 ClickTime timesheets: a, b, c"
    assert seven == "  - time [receipt-download] 7 ClickTime timesheets: a, b, c, d, e and 2 more"


def test_a_cause_whose_sample_is_full_says_at_least() -> None:
    from ctns.report import render_causes
    from ctsync.state.runlog import BLOCKED_SAMPLE

    sample = [f"r{n}" for n in range(BLOCKED_SAMPLE)]
    line = render_causes({"time": [_cause(120, sample)]}).splitlines()[1]

    assert line == (
        f"  - time [receipt-download] {BLOCKED_SAMPLE} or more ClickTime timesheets (120 failures): "
        f"r0, r1, r2, r3, r4 and {BLOCKED_SAMPLE - 5} more listed"
    )


def test_a_cause_whose_sample_overflowed_then_lost_a_record_still_says_or_more() -> None:
    """`RunLog.unblock` takes a record that went through out of a full sample and keeps the cause open (it may
    hold records nobody listed): the count of failures beyond the sample's size says so (review, 2026-12-04)."""
    from ctns.report import render_causes
    from ctsync.state.runlog import BLOCKED_SAMPLE

    blocked = [str(1000 + n) for n in range(BLOCKED_SAMPLE - 1)]
    line = render_causes({"tasks": [_cause(300, blocked)]}).splitlines()[1]

    assert line.startswith(f"  - tasks [receipt-download] {BLOCKED_SAMPLE - 1} or more NetSuite project tasks (300")


@pytest.mark.parametrize(
    ("local", "command"), [(True, "`ctns run tasks` for now"), (False, "`ctns run tasks --stack acme` for now")]
)
def test_the_fix_for_bad_input_names_the_run_of_its_own_sync_on_its_own_stack(local: bool, command: str):
    from types import SimpleNamespace

    from ctns.commands.failures import fix_hint

    target = SimpleNamespace(is_local=local, name="acme")
    group = {"kind": "BAD_INPUT", "cause_key": "bad-input", "sync": "tasks", "phases": [], "dead_letters": 2}

    assert command in fix_hint(target, group)  # type: ignore[arg-type]


def test_a_base_url_without_a_scheme_is_refused_without_a_made_up_url():
    with pytest.raises(ValidationError) as refused:
        SyncConfig.model_validate(
            {"netsuite": {"account_id": "1234567", "rest_base_url": "not a url"}, "clicktime": {}}
        )
    assert "must start with https://" in str(refused.value) and "://not" not in str(refused.value)
