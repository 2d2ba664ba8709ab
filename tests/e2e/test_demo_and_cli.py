"""`make demo` and the `ctns` command line, as an implementation engineer uses them."""

from __future__ import annotations

import json

import pytest

from ctns.cli import main
from ctns.demo import demo, render

pytestmark = pytest.mark.e2e


def test_the_demo_shows_three_nights_the_seeded_failures_and_reconciles(tmp_path):
    report_path = tmp_path / "demo-report.json"

    report = demo(report_path=report_path)

    written = json.loads(report_path.read_text())
    assert written["passes"] == json.loads(json.dumps(report["passes"], default=str))
    first, second, quiet = written["passes"]
    for sync in ("projects", "tasks", "time", "expenses"):
        assert first["syncs"][sync]["created"] > 0
        assert quiet["writes"][sync] == {"netsuite": 0, "clicktime": 0}
        assert quiet["syncs"][sync]["created"] == quiet["syncs"][sync]["updated"] == 0
    for sync in ("projects", "tasks"):
        assert second["writes"][sync] == {"netsuite": 0, "clicktime": 0}
    # The night after the changes: one timesheet corrected and approved again, one un-approved; one expense sheet
    # corrected and approved again (its report written once, its lines replaced)
    assert second["syncs"]["time"]["updated"] == 2 and second["writes"]["time"]["netsuite"] > 0
    assert second["syncs"]["expenses"]["updated"] == 1 and second["writes"]["expenses"]["netsuite"] == 1
    # The only failures are the seeded ones: the contractor with no NetSuite employee (time and expenses), the
    # expense type with no NetSuite category, and the receipt ClickTime fails to serve (its report landed)
    assert {f["sync"] for f in written["failures"]} == {"time", "expenses"}
    assert [c["key"] for c in written["causes"]["time"]] == [
        next(c["key"] for c in written["causes"]["time"] if c["key"].startswith("employee-unmapped:sam.freelance"))
    ]
    expense_causes = {c["key"]: c for c in written["causes"]["expenses"]}
    assert sorted(k.split(":")[0] for k in expense_causes) == [
        "employee-unmapped",
        "expense-type-unmapped",
        "receipt-download",
    ]
    gifts = expense_causes["expense-type-unmapped:client-gifts"]
    assert gifts["count"] == 1 and len(gifts["blocked"]) == 1  # one cause, its one sheet
    (failing_sheet,) = expense_causes["receipt-download"]["blocked"]
    assert all(result["matches"] for result in written["reconciliation"].values())
    assert (
        written["reconciliation"]["time"]["totals"]["clicktime_in_minutes"]
        == written["reconciliation"]["time"]["totals"]["netsuite"]
    )
    expenses = written["reconciliation"]["expenses"]
    assert expenses["matches"] is True
    assert expenses["totals"]["clicktime_approved"] == expenses["totals"]["netsuite"]
    assert "EUR" in expenses["totals"]["netsuite"] and "USD" in expenses["totals"]["netsuite"]
    assert any(failing_sheet in note and "receipt-download" in note for note in expenses["notes"])
    assert (
        written["receipts"] == expenses["totals"]["receipts"] and "failed 1 (receipt-download 1)" in written["receipts"]
    )
    text = render(report)
    assert "Night 3 (nothing changed) writes to NetSuite and ClickTime: 0 (expected 0)" in text
    assert "time: OK" in text and "projects: OK" in text and "employee-unmapped" in text
    assert "expenses: OK" in text and "expense-type-unmapped:client-gifts" in text
    assert f"Receipts (expenses): {written['receipts']}" in text


def test_ctns_run_prints_a_summary_and_keeps_function_logs_apart(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("CTNS_LOCAL", str(tmp_path / "no-local-stack.json"))  # a simulated run, whatever runs here
    logs = tmp_path / "functions.log"

    code = main(["run", "projects", "--logs", str(logs)])

    out = capsys.readouterr().out
    assert code == 0
    assert "projects" in out and "No failures." in out
    assert '"level"' not in out  # the functions' JSON logs went to the file
    assert '"function_name":"ctns-local-projects-worker"' in logs.read_text()


def test_ctns_config_validate_accepts_a_good_document_and_explains_a_bad_one(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"netsuite": {"account_id": "1234567_SB1"}}))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"netsuite": {"account_id": "1234567_sb1"}, "tasks": {"name_template": "{nope}"}}))

    assert main(["config", "validate", str(good)]) == 0
    assert main(["config", "validate", str(bad)]) == 2  # a configuration to fix
    err = capsys.readouterr().err
    assert "sandbox realm is upper case" in err or "does not look like a NetSuite account ID" in err
    assert "name_template" in err


def test_ctns_run_needs_both_config_and_secrets(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text("{}")
    assert main(["run", "--config", str(config)]) == 2
    assert "go together" in capsys.readouterr().err
