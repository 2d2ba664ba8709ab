"""The functions' own output on a `ctns run`: a log per run (never overwritten), what CloudWatch would get, and
nothing of it on the console."""

from __future__ import annotations

import json

import pytest

from ctns.cli import main
from ctsync.sync.registry import AVAILABLE

pytestmark = pytest.mark.e2e


def lines_of(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def test_each_run_keeps_its_own_log_and_an_explicit_log_is_appended_to(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("CTNS_LOCAL", str(tmp_path / "none.json"))
    monkeypatch.setenv("CTNS_LOG_DIR", str(tmp_path / "logs"))

    assert main(["run", "projects"]) == 0
    assert main(["run", "projects"]) == 0
    given = tmp_path / "mine.log"
    assert main(["run", "projects", "--logs", str(given)]) == 0
    assert main(["run", "projects", "--logs", str(given)]) == 0

    files = sorted((tmp_path / "logs").glob("run-*.log"))
    assert len(files) == 2 and all("Run opened" in f.read_text() for f in files)
    assert [line.get("message") for line in lines_of(given)].count("Run opened") == 2
    console = capfd.readouterr()
    assert "Simulated run" in console.out  # said on every simulated run
    assert (console.out + console.err).count("Simulated run") == 4  # once each (was twice: stdout and stderr)
    assert "No application metrics to publish" not in console.out + console.err
    assert "Warning" not in console.err and '"level"' not in console.out


def test_a_run_logs_every_metric_with_its_sync_and_every_client_it_creates(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("CTNS_LOCAL", str(tmp_path / "none.json"))
    log = tmp_path / "run.log"

    assert main(["run", "--logs", str(log)]) == 0

    entries = lines_of(log)
    blobs = [e for e in entries if "_aws" in e]
    assert blobs and {e["sync"] for e in blobs} == set(AVAILABLE)
    for blob in blobs:
        for dimensions in blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"]:
            assert "sync" in dimensions, blob
    clients = [e for e in entries if e.get("message", "").startswith("ClickTime client ")]
    assert clients and all(e["netsuite_id"] and e["clicktime_id"] and e["kind"] == "customer" for e in clients)
    assert all("created for NetSuite customer" in e["message"] for e in clients)
    console = capfd.readouterr()
    assert "No application metrics to publish" not in console.out + console.err
