"""Activity between two export runs, for tests and the demo: `after_first_export(clicktime_sim, company)`.

What people and approvers do in ClickTime after the first nightly export has sent their approved time and
expenses to NetSuite, so that the second run has something to reconcile:

* one approved timesheet is re-opened (UndoApproval), corrected (an entry's hours and comment edited, an
  entry deleted, an entry added) and approved again: a new ApprovedDate, and contents that differ from what
  was exported;
* one approved timesheet is un-approved (UndoApproval, back to Waiting) and left so;
* one approved expense sheet is re-opened, corrected (an item's amount edited, an item deleted when it has
  more than one) and approved again.

Only sheets of employees that exist in NetSuite are chosen, none holding the generator's odd-hours entries
or its failing receipt (those cases stay as the first run met them). The choice is deterministic per seed
(the company's seed and the simulator's). The approval stamps come from the simulator's clock: move the
clock past the first run before calling, so the new ApprovedDates come after that run's watermark.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

from simulators.clicktime import ClickTimeSimulator
from simulators.company import Company

QUARTER = Decimal("0.25")


def after_first_export(clicktime_sim: ClickTimeSimulator, company: Company) -> dict[str, Any]:
    """Apply the changes (through the simulator's helpers) and return what changed, by ClickTime ID:

    reapproved_timesheet, edited_time_entry, deleted_time_entry, added_time_entry, unapproved_timesheet,
    reapproved_expense_sheet, edited_expense_item, deleted_expense_item (None when the sheet had one item).
    """
    sim = clicktime_sim
    rng = random.Random(f"after-first-export-{company.seed}")
    employees = {e.email.lower() for e in company.employees}
    mapped = {sim.user_id_for_key(u.key) for u in company.users if u.email.lower() in employees}

    sheets = [
        s
        for s in sim.timesheets()
        if s["Status"] == "Approved"
        and s["UserID"] in mapped
        and len(sim.entries_of(s["ID"])) >= 2
        and all(e["Hours"] % QUARTER == 0 for e in sim.entries_of(s["ID"]))
    ]
    if len(sheets) < 2:
        raise ValueError("the company has fewer than two approved timesheets of mapped employees to change")
    reapproved, unapproved = rng.sample(sheets, 2)
    changes: dict[str, Any] = {"reapproved_timesheet": reapproved["ID"], "unapproved_timesheet": unapproved["ID"]}

    sim.timesheet_action(reapproved["ID"], "UndoApproval", "Correcting hours")
    entries = sim.entries_of(reapproved["ID"])
    edited, deleted = entries[0], entries[-1]
    sim.edit_time_entry(
        edited["ID"],
        Hours=min(edited["Hours"] + Decimal("0.5"), Decimal("24")),
        Comment=(edited["Comment"] + " (corrected)").strip(),
    )
    sim.delete_time_entry(deleted["ID"])
    added = sim.add_time_entry(
        reapproved["ID"],
        reapproved["StartDate"],
        Decimal("1.25"),
        edited["JobID"],
        edited["TaskID"],
        "Added after review",
    )
    sim.timesheet_action(reapproved["ID"], "Approve")
    changes.update(edited_time_entry=edited["ID"], deleted_time_entry=deleted["ID"], added_time_entry=added["ID"])

    sim.timesheet_action(unapproved["ID"], "UndoApproval", "Wrong project, please fix")

    failing = set(sim.failing_receipts())
    expense_sheets = [
        s
        for s in sim.expense_sheets()
        if s["Status"] == "approved"
        and s["UserID"] in mapped
        and sim.items_of(s["ID"])
        and not failing & {i["ID"] for i in sim.items_of(s["ID"])}
    ]
    if not expense_sheets:
        raise ValueError("the company has no approved expense sheet of a mapped employee to change")
    sheet = rng.choice(expense_sheets)
    sim.expense_sheet_action(sheet["ID"], "UndoApproval", "Amount does not match the receipt")
    items = sim.items_of(sheet["ID"])
    # A foreign-currency item's amount follows its foreign amount and rate: edit a home-currency one if any.
    item = next((i for i in items if not i["HasForeignCurrency"]), items[0])
    if item["HasForeignCurrency"]:
        sim.edit_expense_item(item["ID"], Description=item["Description"] + " (corrected)")
    else:
        sim.edit_expense_item(item["ID"], Amount=item["Amount"] + Decimal("12.34"))
    removed = next((i for i in reversed(items) if i["ID"] != item["ID"]), None)
    if removed is not None:
        sim.delete_expense_item(removed["ID"])
    sim.expense_sheet_action(sheet["ID"], "Approve")
    changes.update(
        reapproved_expense_sheet=sheet["ID"],
        edited_expense_item=item["ID"],
        deleted_expense_item=removed["ID"] if removed else None,
    )
    return changes
