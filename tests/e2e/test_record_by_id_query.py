"""The saved Logs Insights query "A record by its NetSuite or ClickTime ID" (template.yaml `RecordByIdQuery`) finds a
record's log lines by each ID of either system it concerns: a timesheet and its time entries, and its time bills; an
expense sheet and its items, and its expense report; a project and its job. Its filter is read from the template and
applied to the JSON lines the functions wrote in an end-to-end run (what CloudWatch would get). No ID field holds a
placeholder or a `kind:id` form.

Adapted from the observability review of 2026-12-03 (a time bill had no line by its NetSuite ID; a blocked entry was
named only in message text; `netsuite_id` held "employee:123" and "timesheet:<id>")."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ctns.commands.trace import insights_query
from tests.e2e.test_time_export_review import WEEK, unlinked_task

pytestmark = pytest.mark.e2e

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
PLACEHOLDER = "REPLACE_WITH_ID"
ID_FIELDS = ("netsuite_id", "clicktime_id", "source_id", "target_id")


def saved_query_filter() -> str:
    text = TEMPLATE.read_text()
    block = text[text.index("RecordByIdQuery:") : text.index("LastRunFailuresQuery:")]
    return next(ln.strip() for ln in block.splitlines() if ln.strip().startswith("| filter"))


def matcher(filter_line: str, record_id: str) -> Callable[[dict[str, Any]], bool]:
    """The filter as Logs Insights applies it, for its two forms of clause joined by `or`: `field = "text"` (the
    whole value) and `field like "text"` (a substring of the value)."""
    body = filter_line.removeprefix("| filter").strip().replace(PLACEHOLDER, record_id)
    clauses = [c.strip() for c in body.split(" or ")]
    tests: list[Callable[[dict[str, Any]], bool]] = []
    for clause in clauses:
        equal = re.fullmatch(r'(\w+) = "([^"]*)"', clause)
        like = re.fullmatch(r'(\w+) like "([^"]*)"', clause)
        assert equal or like, f"a clause this test cannot evaluate: {clause!r}"
        if equal:
            field, text = equal.groups()
            tests.append(lambda r, f=field, t=text: r.get(f) is not None and str(r.get(f)) == t)
        else:
            field, text = like.groups()  # type: ignore[union-attr]
            tests.append(lambda r, f=field, t=text: r.get(f) is not None and t in str(r.get(f)))
    return lambda line: any(test(line) for test in tests)


def found(lines: list[dict[str, Any]], record_id: str) -> list[dict[str, Any]]:
    return [r for r in lines if matcher(saved_query_filter(), record_id)(r)]


def logged_run(world: Any, tmp_path: Path) -> list[dict[str, Any]]:
    """The run's function output as CloudWatch would get it (the JSON lines `ctns run` writes to build/logs)."""
    from ctns.commands.common import function_output

    path = tmp_path / "fn.log"
    with function_output(path):
        world.run()
    return [json.loads(x) for x in path.read_text().splitlines() if x.startswith("{") and '"_aws"' not in x]


def no_made_up_ids(lines: list[dict[str, Any]]) -> None:
    made_up = [
        (r["message"], {f: r.get(f) for f in ID_FIELDS})
        for r in lines
        if any(":" in str(r.get(f) or "") for f in ID_FIELDS)
    ]
    assert not made_up, f"ID fields holding a placeholder or a kind:id form: {made_up[:5]}"


def about(lines: list[dict[str, Any]], sync: str, record_id: str) -> list[str]:
    return [r["message"] for r in found(lines, record_id) if r.get("sync") == sync]


def test_the_saved_query_and_ctns_trace_filter_alike():
    assert insights_query(PLACEHOLDER).splitlines()[1] == saved_query_filter()


# -- time -----------------------------------------------------------------------------------------------------------
def test_a_time_bill_and_its_time_entry_are_found_by_their_ids(time_world, tmp_path):
    world = time_world
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "2")
    other = world.entry(sheet, WEEK + timedelta(days=1), "3")
    world.approve(sheet)
    lines = logged_run(world, tmp_path)
    bill, other_bill = world.bill(entry), world.bill(other)
    assert bill is not None and other_bill is not None
    said = [(r["message"], r.get("netsuite_id"), r.get("netsuite_ids")) for r in lines if r.get("sync") == "time"]
    for record_id in (str(bill["id"]), str(other_bill["id"]), entry, other, sheet):
        assert any("created" in m for m in about(lines, "time", record_id)), (
            f"no 'created' line of timesheet {sheet} is found by {record_id}; the time lines say: {said}"
        )
    no_made_up_ids(lines)


def test_a_blocked_time_entry_is_found_by_its_clicktime_id(time_world, tmp_path):
    world = time_world
    sheet = world.sheet()
    good = world.entry(sheet, WEEK, "2")
    stray = world.entry(sheet, WEEK + timedelta(days=1), "3", task=unlinked_task(world))
    world.approve(sheet)
    lines = logged_run(world, tmp_path)
    errors = [r for r in lines if r["level"] == "ERROR" and r.get("sync") == "time"]
    assert errors, "the blocked sheet logged no ERROR line"
    said = [(r["message"], r.get("netsuite_id"), r.get("clicktime_id"), r.get("clicktime_ids")) for r in errors]
    for record_id in (stray, good, sheet):
        assert [r for r in found(errors, record_id)], f"entry {record_id}'s ERROR line is not found by it: {said}"
    no_made_up_ids(lines)


def test_a_blocked_sheet_error_line_names_no_made_up_netsuite_id(time_world, tmp_path):
    world = time_world
    sheet = world.sheet()
    world.entry(sheet, WEEK, "3", task=unlinked_task(world))
    world.approve(sheet)
    logged_run(world, tmp_path)  # the first run marks the sheet held; a redrive's line reads that mapping
    world.ct.clock.advance(timedelta(hours=2))
    world.reapprove(sheet)
    lines = logged_run(world, tmp_path)
    errors = [r for r in lines if r["level"] == "ERROR" and r.get("sync") == "time"]
    assert errors
    ids = {r.get(f) for r in errors for f in ID_FIELDS}
    assert not any(":" in str(i or "") for i in ids), f"ERROR line ID fields = {ids}"
    no_made_up_ids(lines)


# -- expenses -------------------------------------------------------------------------------------------------------
def test_an_expense_report_and_its_items_are_found_by_their_ids(expense_world, tmp_path):
    world = expense_world
    sheet = world.sheet()
    item = world.item(sheet, "42.50")
    other = world.item(sheet, "12.00")
    world.approve(sheet)
    lines = logged_run(world, tmp_path)
    report = world.report(sheet)
    assert report is not None
    said = [(r["message"], r.get("netsuite_id"), r.get("clicktime_ids")) for r in lines if r.get("sync") == "expenses"]
    for record_id in (str(report["id"]), item, other, sheet):
        assert any("created" in m for m in about(lines, "expenses", record_id)), (
            f"no 'created' line of expense sheet {sheet} is found by {record_id}; the expense lines say: {said}"
        )
    no_made_up_ids(lines)


def test_a_blocked_expense_item_is_found_by_its_clicktime_id(expense_world, tmp_path):
    world = expense_world
    gifts = {t["Name"]: t["ID"] for t in world.ct.store.expense_types.values()}["Client Gifts"]  # mapped to nothing
    sheet = world.sheet()
    item = world.item(sheet, "75.00", expense_type=gifts, description="Wine for the client")
    world.approve(sheet)
    lines = logged_run(world, tmp_path)
    errors = [r for r in lines if r["level"] == "ERROR" and r.get("sync") == "expenses"]
    assert errors, "the blocked sheet logged no ERROR line"
    said = [(r["message"], r.get("netsuite_id"), r.get("clicktime_ids")) for r in errors]
    assert found(errors, item), f"item {item}'s ERROR line is not found by it: {said}"
    no_made_up_ids(lines)


# -- projects -------------------------------------------------------------------------------------------------------
def test_a_project_and_its_job_are_found_by_their_ids(session, tmp_path):
    from ctns.commands.common import function_output
    from tests.e2e.support import run

    path = tmp_path / "fn.log"
    with function_output(path):
        run(session, "projects")
    lines = [json.loads(x) for x in path.read_text().splitlines() if x.startswith("{") and '"_aws"' not in x]
    created = [r for r in lines if r.get("sync") == "projects" and str(r.get("message", "")).endswith(": created")]
    assert created
    first = created[0]
    for record_id in (first["netsuite_id"], first["clicktime_id"]):
        assert first in found(lines, record_id)
    no_made_up_ids(lines)
