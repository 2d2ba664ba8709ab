"""`ctns run --logs FILE` whose FILE cannot take the functions' lines once the run is under way (a full disk): the
run happens (records are written to both systems, dead letters queued), then the command ends in one line about
the log, exit 2 (documented as "a usage or configuration mistake", and README says a bad `--logs` file is "refused
before the command starts"). The run's results table and its failures are never printed: the person believes
nothing ran, and does not learn what the run wrote or which records failed. The demo was fixed for exactly this
("prints its results before it writes its report"); `ctns run` was not (review-cli, 2026-12-04).

Cause: `ctns/commands/common.py:function_output` raises the log's OSError as its `with` block ends, and
`ctns/commands/run.py:_run_local_stack` (and `_run_simulated`, `_run_configured`) call `_report` only after it.

The same held for every command that runs the functions inside `function_output`: `ctns run` in its three modes
(local stack, simulated, `--config/--secrets`), `ctns backfill` (the watermark moved back, the run done), `ctns redrive`
(causes resolved, dead letters moved, the worker run) and `ctns demo` (its minute's results). Each now prints what it
did, then the line about the log, and exits with its own code, or 1 when that was 0 (never 2: the command ran).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ctsync.observability import logger
from tests.e2e.cli_support import ctns, start_local_stack
from tests.e2e.test_cli_local_stack import files_for

FULL = "ctns: /dev/full: No space left on device (the functions' log)"
needs_dev_full = pytest.mark.skipif(
    not Path("/dev/full").exists(), reason="needs /dev/full (a device that is always full)"
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(stack_with_failures: Any) -> Any:
    return stack_with_failures


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device that is always full)")
def test_a_run_whose_log_fills_the_disk_still_prints_what_it_did(served, capsys):
    result = ctns(capsys, "run", "projects", "--logs", "/dev/full")

    assert result.problems[-1:] == ["ctns: /dev/full: No space left on device (the functions' log)"], result.err
    # The run did happen: the seeded project without a customer is now a dead letter on the local stack.
    assert "pass  sync" in result.out, f"the run's results were not printed; stdout was {result.out!r}"
    assert "project-without-customer" in result.out or "has no customer" in result.out, result.out


@pytest.fixture
def clean(tmp_path: Any, monkeypatch: Any) -> Any:
    """A local stack without the seeded failures: a command's own exit code there is 0."""
    stack = start_local_stack(tmp_path, monkeypatch, with_failures=False)
    try:
        yield stack
    finally:
        stack.stop()


@needs_dev_full
def test_the_run_says_in_its_results_that_its_log_is_incomplete_and_in_its_json(served, capsys):
    result = ctns(capsys, "run", "projects", "--logs", "/dev/full", "--json")

    assert result.code == 1, result.err
    assert result.problems[-1:] == [FULL], result.err
    assert result.json["passes"] and result.json["function_logs_error"] == FULL.removeprefix("ctns: ")

    text = ctns(capsys, "run", "projects", "--logs", "/dev/full")
    assert "Function logs (as CloudWatch would show them): /dev/full is incomplete" in text.out, text.out
    assert "free space there, or give --logs a file on another disk" in text.out, text.out


@needs_dev_full
def test_a_backfill_whose_log_fills_the_disk_prints_what_it_did_and_exits_1(clean, capsys):
    assert ctns(capsys, "run", "projects").code == 0
    since = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()

    result = ctns(capsys, "backfill", "projects", "--since", since, "--logs", "/dev/full")

    assert result.problems[-1:] == [FULL], result.err
    assert "watermark set to" in result.out and "pass  sync" in result.out, result.out
    assert "No failures." in result.out and "/dev/full is incomplete" in result.out, result.out
    assert result.code == 1, "a backfill that ran is not a usage mistake (2), and its log is lost (not 0)"


@needs_dev_full
def test_a_redrive_whose_log_fills_the_disk_prints_what_it_moved(served, capsys):
    first = ctns(capsys, "run", "projects")
    assert first.code == 1 and "has no customer" in first.out, first.out

    result = ctns(capsys, "redrive", "projects", "--logs", "/dev/full")

    assert result.problems[-1:] == [FULL], result.err
    assert "Moved 1 dead letter(s) back to the projects work queue" in result.out, result.out
    assert "The local worker ran 1 message(s) (function log: /dev/full is incomplete" in result.out, result.out
    assert "in the dead-letter queue again" in result.out, result.out
    assert result.code == 1, result.err


@needs_dev_full
def test_a_run_from_files_whose_log_fills_the_disk_prints_what_it_did(clean, capsys, tmp_path):
    config, secrets = files_for(clean, tmp_path)

    result = ctns(capsys, "run", "projects", "--config", config, "--secrets", secrets, "--yes", "--logs", "/dev/full")

    assert result.problems[-1:] == [FULL], result.err
    assert "Run against the real NetSuite" in result.out and "pass  sync" in result.out, result.out
    assert result.code == 1, result.err


def _a_night(sync: str) -> dict[str, Any]:
    row = {"status": "enqueued", "enqueued": 1, "created": 1, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 0}
    return {"syncs": {sync: row}, "failures": [], "writes": {sync: {"netsuite": 0, "clicktime": 0}}}


def _demo_whose_functions_log(**_: Any) -> dict[str, Any]:
    """`ctns.demo.demo` cut to what `ctns demo` prints: its functions log a line (to the full disk) as they run."""
    logger.warning("a line of the functions' log")
    return {
        "seed": 7,
        "size": 1,
        "company": {"name": "Tiny Co", "projects": 1, "tasks": 0, "customers": 1, "activity": {}},
        "between_nights": {},
        "passes": [_a_night("projects")],
        "failures": [],
        "causes": {"projects": []},
        "reconciliation": {"projects": {"ok": True, "sync": "projects"}},
    }


@needs_dev_full
def test_a_demo_whose_log_fills_the_disk_prints_its_results_and_writes_its_report(tmp_path, capsys, monkeypatch):
    from ctns import demo

    monkeypatch.setattr(demo, "demo", _demo_whose_functions_log)
    monkeypatch.setattr(demo, "render_reconciliation", lambda _results: "projects: OK")
    report = tmp_path / "report.json"

    result = ctns(capsys, "demo", "--logs", "/dev/full", "--report", str(report))

    assert result.problems[-1:] == [FULL], result.err
    assert "Seeded company 'Tiny Co'" in result.out and "/dev/full is incomplete" in result.out, result.out
    assert report.exists() and f"Report written to {report}" in result.out
    assert result.code == 1, result.err


# What each read-only command calls inside its functions' log, made to log a line there first (as a client's retry
# line would: a clean local stack logs nothing, and a log never written to never fills).
LOGGING_STEP = {
    "reconcile": ("ctns.commands.reconcile", "runtime_for"),
    "plan": ("ctns.commands.plan", "runtime_for"),
    "check": ("ctns.commands.check", "run_checks"),
}


@needs_dev_full
@pytest.mark.parametrize("command", sorted(LOGGING_STEP))
def test_a_read_only_command_whose_log_fills_the_disk_says_so_in_its_json_and_text(clean, capsys, monkeypatch, command):
    """`ctns reconcile`, `plan` and `check` exited 1 for the lost log (its line on stderr) but their `--json` had
    no `function_logs_error` and their text no word of the log, unlike `run` and `backfill`: a script reading the
    document saw a clean result and no reason for the exit code."""
    import importlib

    assert ctns(capsys, "run", "projects").code == 0
    module_name, name = LOGGING_STEP[command]
    module = importlib.import_module(module_name)
    step = getattr(module, name)

    def logging_step(*args: Any, **kwargs: Any) -> Any:
        logger.warning("a retry line of the clients")
        return step(*args, **kwargs)

    monkeypatch.setattr(module, name, logging_step)
    argv = [command] if command == "check" else [command, "projects"]

    result = ctns(capsys, *argv, "--logs", "/dev/full", "--json")

    assert result.problems[-1:] == [FULL], result.err
    assert result.code == 1, result.err
    assert result.json["function_logs_error"] == FULL.removeprefix("ctns: "), result.out

    text = ctns(capsys, *argv, "--logs", "/dev/full")
    assert text.code == 1 and "/dev/full is incomplete" in text.out, text.out


@needs_dev_full
def test_a_redrive_whose_log_fills_the_disk_says_so_in_its_json(served, capsys):
    """The same gap as reconcile's, plan's and check's in `ctns redrive --json`: exit 1 for the lost log, its document
    without `function_logs_error` (month-end reconcile review, 2026-12-04; failed before)."""
    assert ctns(capsys, "run", "projects").code == 1

    result = ctns(capsys, "redrive", "projects", "--logs", "/dev/full", "--json")

    assert result.problems[-1:] == [FULL], result.err
    assert result.code == 1, result.err
    assert result.json["moved"] == 1 and result.json["function_logs_error"] == FULL.removeprefix("ctns: ")
