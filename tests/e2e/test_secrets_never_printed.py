"""No secret value reaches a terminal, a log line or a report.

Captured: every byte written to stdout and stderr (at the file-descriptor level), every log record any logger
emitted at INFO and above (with its extra fields), the function log file and the report file, for a full demo
run and for each bad-secrets case (a secrets file with the wrong shape, the wrong types, an unreachable host,
a secret pasted into the config; each with and without --debug).

INFO is the level the functions log at (POWERTOOLS_LOG_LEVEL) and ctns configures no other logging. botocore's
own DEBUG records, off unless someone turns them on, hold request and response bodies: the local runner's
CreateSecret and every GetSecretValue answer among them, as in any program that reads Secrets Manager.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import boto3
import pytest

from ctns.cli import main
from ctns.local import aws_endpoint
from simulators.netsuite.app import DEFAULT_CREDENTIALS
from tests.e2e.cli_support import start_local_stack

pytestmark = pytest.mark.e2e

DEMO_SECRETS = (
    DEFAULT_CREDENTIALS.consumer_key,
    DEFAULT_CREDENTIALS.consumer_secret,
    DEFAULT_CREDENTIALS.token_id,
    DEFAULT_CREDENTIALS.token_secret,
    "ct-demo-token",  # the ClickTime simulator's token in the demo
)


def everything_said(captured: Any, caplog: Any, *files: Path) -> str:
    """`captured`: what `capfd.readouterr()` gave (stdout and stderr at the file-descriptor level)."""
    records = []
    for record in caplog.records:
        records.append(record.getMessage())
        records.append(json.dumps({k: str(v) for k, v in vars(record).items()}))
    texts = [captured.out, captured.err, *records]
    texts += [path.read_text(errors="replace") for path in files if path.exists()]
    return "\n".join(texts)


def test_a_full_demo_run_prints_and_logs_no_secret(tmp_path, capfd, caplog, monkeypatch):
    monkeypatch.setenv("CTNS_LOG_DIR", str(tmp_path / "logs"))
    report, logs = tmp_path / "report.json", tmp_path / "functions.log"
    caplog.set_level(logging.INFO)  # the level the functions log at (POWERTOOLS_LOG_LEVEL); see the module doc

    code = main(["demo", "--report", str(report), "--logs", str(logs)])

    terminal = capfd.readouterr()
    said = everything_said(terminal, caplog, report, logs)
    assert code == 0
    assert "Night 3 (nothing changed) writes to NetSuite and ClickTime: 0" in said and '"level"' in logs.read_text()
    leaked = [secret for secret in DEMO_SECRETS if secret in said]
    assert leaked == []
    # Nor a traceback on the console: not ours, not a simulator's (a client that reset a kept-alive connection)
    assert "Traceback" not in terminal.out + terminal.err


SECRET_VALUES = {
    "consumer_key": "ck-Zq81-secret-key",
    "consumer_secret": "cs-Wd55-secret-value",
    "token_id": "tk-Pp02-secret-token",
    "token_secret": "ts-Rr77-secret-token",
}
API_TOKEN = "ct-Mm31-secret-api-token"
CONFIG = {"netsuite": {"account_id": "1234567_SB1", "rest_base_url": "http://127.0.0.1:9/services/rest"}}

BAD_SECRETS = {
    "misnamed section": {"netsuite_tba": SECRET_VALUES, "clicktime": {"api_token": API_TOKEN}},
    "flat secret": {**SECRET_VALUES, "api_token": API_TOKEN},
    "a number among strings": {
        "netsuite": {**SECRET_VALUES, "consumer_secret": 5},
        "clicktime": {"api_token": API_TOKEN},
    },
    "missing key": {
        "netsuite": {k: v for k, v in SECRET_VALUES.items() if k != "token_secret"},
        "clicktime": {"api_token": API_TOKEN},
    },
    "misspelt key": {
        "netsuite": {**SECRET_VALUES, "tokenid": "tk-Xx11-extra-secret"},
        "clicktime": {"api_token": API_TOKEN},
    },
    "token with a newline": {"netsuite": SECRET_VALUES, "clicktime": {"api_token": API_TOKEN + "\n"}},
    "section as a list": {"netsuite": list(SECRET_VALUES.values()), "clicktime": {"api_token": API_TOKEN}},
    "not even an object": [API_TOKEN, *SECRET_VALUES.values()],
    "unreachable NetSuite": {"netsuite": SECRET_VALUES, "clicktime": {"api_token": API_TOKEN}},
}
ALL_VALUES = (*SECRET_VALUES.values(), API_TOKEN, "tk-Xx11-extra-secret")


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("case", list(BAD_SECRETS))
@pytest.mark.parametrize("command", ["check", "run", "plan"])
def test_a_bad_secrets_file_is_described_without_its_values(case, command, debug, tmp_path, capfd, caplog, monkeypatch):
    monkeypatch.setenv("CTNS_LOCAL", str(tmp_path / "none.json"))
    monkeypatch.setenv("CTNS_LOG_DIR", str(tmp_path / "logs"))
    caplog.set_level(logging.INFO)  # the level the functions log at (POWERTOOLS_LOG_LEVEL); see the module doc
    (tmp_path / "config.json").write_text(json.dumps(CONFIG))
    (tmp_path / "secrets.json").write_text(json.dumps(BAD_SECRETS[case]))
    argv = [command, "--config", str(tmp_path / "config.json"), "--secrets", str(tmp_path / "secrets.json")]
    if command == "run":
        argv += ["projects", "--yes"]
    if debug:
        argv.insert(0, "--debug")

    code = main(argv)

    said = everything_said(capfd.readouterr(), caplog, *sorted((tmp_path / "logs").glob("*.log")))
    assert code == 2
    assert "ctns: " in said or "FAIL" in said  # one problem line, or `check`'s failed row
    assert [value for value in ALL_VALUES if value in said] == []


def test_a_secret_pasted_into_the_config_is_not_echoed(tmp_path, capfd, caplog):
    config = {"netsuite": {"account_id": "1234567_SB1", "token_secret": "ts-Pasted-into-config"}}
    (tmp_path / "config.json").write_text(json.dumps(config))

    for argv in (
        ["config", "validate", str(tmp_path / "config.json")],
        ["--debug", "config", "validate", str(tmp_path / "config.json")],
    ):
        assert main(argv) == 2

    said = everything_said(capfd.readouterr(), caplog)
    assert "netsuite.token_secret: is not a setting here" in said
    assert "ts-Pasted-into-config" not in said


def test_a_secret_in_the_stacks_config_parameter_reaches_no_log_line(tmp_path, capfd, caplog, monkeypatch):
    # The functions validate the config document at cold start: its error names the setting, not the value.
    caplog.set_level(logging.INFO)
    stack = start_local_stack(tmp_path, monkeypatch, with_failures=False)
    try:
        with aws_endpoint(stack.state.aws_endpoint):
            document = json.loads(boto3.client("ssm").get_parameter(Name="/ctns/config")["Parameter"]["Value"])
            document["netsuite"]["token_secret"] = "ts-Inside-the-parameter"
            stack.session.aws.put_config(document)
        code = main(["run", "projects", "--logs", str(tmp_path / "run.log")])  # refused up front: one line
        with aws_endpoint(stack.state.aws_endpoint):
            stack.session.runner.run(["projects"])  # the schedule starts the functions all the same
    finally:
        stack.stop()

    said = everything_said(capfd.readouterr(), caplog)
    assert code == 2
    assert "config parameter /ctns/config is not a valid config document: netsuite.token_secret" in said
    assert "projects poller failed: config document /ctns/config is invalid: netsuite.token_secret" in said
    assert "ts-Inside-the-parameter" not in said
