"""scenarios.after_first_export: the activity the demo and tests replay between two export runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from simulators.clicktime import ClickTimeSimulator
from simulators.generator import generate_company
from simulators.scenarios import after_first_export

FIRST_RUN = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = FIRST_RUN

    def __call__(self) -> datetime:
        return self.now


def _loaded(seed: int, sim_seed: int = 1) -> tuple[ClickTimeSimulator, Clock]:
    company = generate_company(seed)
    clock = Clock()
    sim = ClickTimeSimulator(seed=sim_seed, clock=clock)
    sim.load(company)
    ids = sim.seed_jobs_and_tasks(company)
    sim.load_activity(company, ids.jobs.get, ids.tasks.get)
    return sim, clock


@pytest.mark.parametrize("seed", [7, 3, 11])
def test_after_first_export_changes_what_it_says(seed):
    company = generate_company(seed)
    sim, clock = _loaded(seed)
    before_sheets = {s["ID"]: s for s in sim.timesheets()}
    before_entries = {e["ID"]: e for e in sim.time_entries()}
    before_items = {i["ID"]: i for i in sim.expense_items()}
    clock.now = FIRST_RUN + timedelta(days=1)

    changes = after_first_export(sim, company)

    assert set(changes) == {
        "reapproved_timesheet",
        "edited_time_entry",
        "deleted_time_entry",
        "added_time_entry",
        "unapproved_timesheet",
        "reapproved_expense_sheet",
        "edited_expense_item",
        "deleted_expense_item",
    }
    sheets = {s["ID"]: s for s in sim.timesheets()}
    reapproved = sheets[changes["reapproved_timesheet"]]
    assert before_sheets[reapproved["ID"]]["Status"] == "Approved" and reapproved["Status"] == "Approved"
    assert reapproved["ApprovedDate"] == "2026-11-26T02:00:00Z"  # after the first run
    entries = {e["ID"]: e for e in sim.entries_of(reapproved["ID"])}
    edited = entries[changes["edited_time_entry"]]
    assert edited["Hours"] == before_entries[edited["ID"]]["Hours"] + Decimal("0.5")
    assert changes["deleted_time_entry"] not in entries and changes["deleted_time_entry"] in before_entries
    assert entries[changes["added_time_entry"]]["Hours"] == Decimal("1.25")

    unapproved = sheets[changes["unapproved_timesheet"]]
    assert before_sheets[unapproved["ID"]]["Status"] == "Approved" and unapproved["Status"] == "Waiting"
    assert unapproved["ApprovedDate"] is None
    assert unapproved["ID"] != reapproved["ID"]

    expense = next(s for s in sim.expense_sheets() if s["ID"] == changes["reapproved_expense_sheet"])
    assert expense["Status"] == "approved" and expense["ApprovedDate"] == "2026-11-26T02:00:00Z"
    items = {i["ID"]: i for i in sim.items_of(expense["ID"])}
    item = items[changes["edited_expense_item"]]
    old = before_items[item["ID"]]
    assert item["Amount"] != old["Amount"] or item["Description"] != old["Description"]
    if changes["deleted_expense_item"]:
        assert changes["deleted_expense_item"] not in items

    # The odd-hours entries and the failing receipt are left as the first run met them.
    odd = sorted(e["Hours"] for e in sim.time_entries() if e["Hours"] % Decimal("0.25"))
    assert odd == sorted(e["Hours"] for e in before_entries.values() if e["Hours"] % Decimal("0.25"))
    assert len(sim.failing_receipts()) == 1


def test_after_first_export_is_deterministic():
    company = generate_company(7)
    first, clock_a = _loaded(7)
    second, clock_b = _loaded(7)
    clock_a.now = clock_b.now = FIRST_RUN + timedelta(days=1)
    assert after_first_export(first, company) == after_first_export(second, company)
