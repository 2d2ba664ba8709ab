"""The local stack (`ctns serve`) as a person at the CLI meets it (review, 2026-12-04): stopped (Ctrl-C in its
terminal) while a command works against it, and run from a shell whose AWS settings are for their AWS account.

Before: `ctns run` against a `ctns serve` stopped mid-run said "unexpected error: EndpointConnectionError … This is
a bug in ctns" (exit 3); and `AWS_PROFILE=ghost ctns status` refused the local stack, which uses no AWS profile, for
a profile missing from the AWS config files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from ctns.local import aws_endpoint
from ctns.runner import LocalRunner
from ctns.target import Target
from tests.e2e.cli_support import ctns

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
STOPPED = "ctns: the local stack stopped answering (was `ctns serve` stopped?): start it again with `ctns serve`"


@pytest.fixture
def served(small_stack: Any) -> Any:
    return small_stack


def _stopped_before(monkeypatch: Any, owner: Any, method: str, stack: Any) -> None:
    """`ctns serve` stops (Ctrl-C) just before the command's next step talks to it."""
    original = getattr(owner, method)

    def stop_then(*args: Any, **kwargs: Any) -> Any:
        stack.stop()
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, method, stop_then)


def test_the_local_stack_stopped_during_a_run_is_one_line_to_start_it_again(served, monkeypatch, capsys):
    _stopped_before(monkeypatch, LocalRunner, "drain", served)

    result = ctns(capsys, "run", "projects")

    assert result.code == 2, result.err
    assert result.problems == [STOPPED]
    assert "bug" not in result.err and "Traceback" not in result.err


def test_the_local_stack_stopped_during_status_is_the_same_line(served, monkeypatch, capsys):
    _stopped_before(monkeypatch, Target, "depth", served)

    result = ctns(capsys, "status", "--json")

    assert result.code == 2, result.err
    assert result.problems == [STOPPED]
    assert result.json == {"error": STOPPED.removeprefix("ctns: "), "exit_code": 2}


def _fresh_ctns(tmp_path: Path, state: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`ctns` as a user runs it: a new process (the AWS SDK reads the profile when ctns is imported)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    clean.update(
        CTNS_LOCAL=str(state),
        CTNS_LOG_DIR=str(tmp_path / "logs"),
        AWS_EC2_METADATA_DISABLED="true",
        PYTHONPATH=os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)]),
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "ctns.cli", *argv], capture_output=True, text=True, env=clean, cwd=ROOT, timeout=300
    )


def test_the_local_stack_ignores_the_aws_settings_of_the_shell(served, tmp_path):
    """AWS_PROFILE (a profile no AWS config file has), a config file that does not parse, an endpoint for SSM: all for
    the person's AWS account, none for the local stack."""
    with aws_endpoint(served.state.aws_endpoint):
        name = served.session.stack.parameters["ConfigParameterName"]
        document = boto3.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    config = tmp_path / "config.json"
    config.write_text(document)
    broken = tmp_path / "aws-config"
    broken.write_text("[default\nregion = eu-west-1\n")
    shell = {
        "AWS_PROFILE": "ghost",
        "AWS_CONFIG_FILE": str(broken),
        "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:9",
        "AWS_REGION": "eu-west-1",
    }

    for argv, said in [
        (["status"], "projects"),
        (["run", "projects"], "Run on the local stack"),
        (["config", "push", str(config)], "pushed"),
    ]:
        done = _fresh_ctns(tmp_path, served.path, *argv, **shell)
        assert done.returncode in (0, 1), (argv, done.stderr)
        assert said in done.stdout and "AWS profile" not in done.stderr and "Traceback" not in done.stderr


def test_an_in_memory_run_ignores_the_aws_profile_too(tmp_path):
    done = _fresh_ctns(tmp_path, tmp_path / "serve.json", "run", "projects", AWS_PROFILE="ghost")

    assert done.returncode in (0, 1), done.stderr
    assert "Simulated run" in done.stdout + done.stderr and "AWS profile" not in done.stderr
