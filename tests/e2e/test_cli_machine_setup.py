"""A broken set-up on the operator's machine (found by a new user's trial, 2026-12-02), for a deployed stack. Before: an AWS_PROFILE
that does not exist, or an AWS config file that does not parse, made every command exit 3 ("This is a bug in
ctns"), `--help` included (the X-Ray SDK makes a client when Powertools' Tracer is imported); and AWS_REGION, which
the CLI's own messages told users to set, was ignored (botocore reads AWS_DEFAULT_REGION). Each is run as a user
runs it: a fresh `ctns` process with that environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def ctns(tmp_path: Path, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "CTNS_LOCAL"}
    clean.update(
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        CTNS_LOCAL=str(tmp_path / "serve.json"),
        CTNS_LOG_DIR=str(tmp_path / "logs"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "layers" / "core"), str(ROOT)]),
    )
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "ctns.cli", *argv], capture_output=True, text=True, env=clean, cwd=ROOT, timeout=120
    )


@pytest.mark.parametrize("argv", [["status", "--stack", "ctns"], ["errors", "--stack", "ctns"]])
def test_an_aws_profile_that_does_not_exist_is_one_line_naming_it(tmp_path, argv):
    """On a deployed stack (`--stack`): the local stack uses no AWS profile (test_cli_local_stack_gone.py)."""
    done = ctns(tmp_path, *argv, AWS_PROFILE="nosuch")

    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "ctns: the AWS profile 'nosuch' (AWS_PROFILE or --profile) is not in your AWS config files: unset "
        "AWS_PROFILE, or add the profile (aws configure --profile NAME)"
    ]


def test_an_aws_config_file_that_does_not_parse_is_one_line_naming_it(tmp_path):
    broken = tmp_path / "config"
    broken.write_text("[default\nregion = eu-west-1\n")

    done = ctns(tmp_path, "status", "--stack", "ctns", AWS_CONFIG_FILE=str(broken))

    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert str(broken) in done.stderr and "cannot be read" in done.stderr


def test_help_needs_no_aws_set_up(tmp_path):
    """Before (review, 2026-12-04): `AWS_PROFILE=nosuch ctns --help` said the profile was missing; help reads none."""
    done = ctns(tmp_path, "--help", AWS_PROFILE="nosuch", AWS_CONFIG_FILE=str(tmp_path / "no-config"))

    assert done.returncode == 0 and "ctns serve" in done.stdout and done.stderr == "", done.stderr


def test_aws_region_names_the_stacks_region(tmp_path):
    done = ctns(tmp_path, "status", "--stack", "ctns", AWS_REGION="eu-west-1")

    assert done.returncode == 2 and "no AWS region" not in done.stderr, done.stderr
    assert "no AWS credentials" in done.stderr  # the next thing it needs, with the region taken


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device that is always full)")
def test_a_full_disk_under_the_functions_log_is_one_line_naming_the_file(tmp_path):
    """Before: some 490 '--- Logging error ---' tracebacks, then "unexpected error: OSError … This is a bug". Then
    (review-cli, 2026-12-04): that one line alone, exit 2, the simulated run's results never printed; they are
    printed first now, and the exit code is 1 (the run happened: `tests/e2e/test_cli_function_log_full.py`)."""
    done = ctns(tmp_path, "run", "projects", "--logs", "/dev/full")

    assert done.returncode == 1 and "Traceback" not in done.stderr and "Logging error" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "ctns: /dev/full: No space left on device (the functions' log)"
    assert "Simulated run" in done.stdout and "pass  sync" in done.stdout, done.stdout
