"""`ctns trace` on the local stack reads the function logs under build/logs, where `make demo` and simulated runs
(their own in-memory stacks, seeded alike, so the same IDs) write too: a fresh user's trace of project 109 showed
the demo's "created" beside the local stack's "dead-lettered", and a ClickTime ID matched another record's lines.
Only the lines of runs the traced stack knows are its record's."""

from __future__ import annotations

import json
from pathlib import Path

from ctns.commands.trace import local_log_lines


def write_log(path: Path, *entries: dict[str, str]) -> None:
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries), encoding="utf-8")


def test_only_the_lines_of_the_stacks_own_runs_are_the_records(tmp_path: Path) -> None:
    write_log(
        tmp_path / "demo-1.log",
        {"level": "INFO", "run_id": "projects-demo", "sync": "projects", "netsuite_id": "109", "message": "created"},
    )
    write_log(
        tmp_path / "run-2.log",
        {"level": "ERROR", "run_id": "projects-ours", "sync": "projects", "netsuite_id": "109", "message": "dead"},
        {"level": "INFO", "run_id": "tasks-ours", "sync": "tasks", "netsuite_id": "109", "message": "a task 109"},
        {"level": "INFO", "netsuite_id": "109", "message": "no run"},
    )

    every = local_log_lines("109", tmp_path)
    ours = local_log_lines("109", tmp_path, runs={"projects-ours"})

    assert [line["message"] for line in every] == ["created", "dead", "a task 109", "no run"]
    assert [(line["run_id"], line["message"]) for line in ours] == [("projects-ours", "dead")]
