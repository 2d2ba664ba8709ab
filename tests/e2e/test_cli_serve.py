"""`ctns serve` in a process of its own, and the other commands in another, as a new user runs them: what one
command writes, the next one reads; Ctrl-C (or SIGTERM) stops it and removes its state file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ctns.local import answers
from tests.e2e.cli_support import ctns

pytestmark = pytest.mark.e2e
START_SECONDS = 120  # imports, moto, both simulators and the stack's resources, on a loaded machine


@pytest.fixture
def served(tmp_path, monkeypatch):
    state = tmp_path / "serve.json"
    monkeypatch.setenv("CTNS_LOCAL", str(state))
    monkeypatch.setenv("CTNS_LOG_DIR", str(tmp_path / "logs"))
    output = (tmp_path / "serve.out").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "ctns.cli", "serve", "--with-failures"],
        stdout=output,
        stderr=subprocess.STDOUT,
        env={**os.environ, "CTNS_LOCAL": str(state)},
    )
    deadline = time.monotonic() + START_SECONDS
    while not (state.exists() and answers(json.loads(state.read_text())["aws_endpoint"])):
        assert process.poll() is None, (tmp_path / "serve.out").read_text()
        assert time.monotonic() < deadline, "ctns serve did not start"
        time.sleep(0.2)
    yield process, state, tmp_path / "serve.out"
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)
    output.close()


def test_the_commands_of_one_process_see_the_local_stack_another_keeps(served, capsys):
    process, state, out = served

    run = ctns(capsys, "run", "projects")
    status = ctns(capsys, "status", "--json")
    errors = ctns(capsys, "errors", "projects", "--json")

    assert run.code == 1 and "Run on the local stack" in run.out
    projects = next(row for row in status.json["syncs"] if row["sync"] == "projects")
    assert projects["last_run"]["run_id"] and projects["dead_letters"] == 1
    assert [c["cause_key"] for c in errors.json["causes"]] == ["project-without-customer"]

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert not state.exists()
    said = out.read_text()
    assert "Local stack running" in said and "seeded failure" in said and "Local stack stopped." in said
    assert "POST / HTTP/1.1" not in said  # no line per AWS request
    gone = ctns(capsys, "status")
    assert gone.code == 2 and "no local stack is running" in gone.problems[0]
