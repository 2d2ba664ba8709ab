"""The nightly reconciliation against what the exports write (review 14): each difference it reports must be one
the exports did not make by their own rules, and one sheet ClickTime sends badly must not hide the others."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.e2e.test_time_export_review import WEEK, minutes, reconcile

pytestmark = pytest.mark.e2e


def _failing(result):
    return [(c.name, c.expected, c.found, c.differences[:3]) for c in result.checks if not c.ok]


def test_billable_minutes_are_allocated_as_the_export_allocates_them(time_world):
    """Two entries of 0.125 h (7.5 minutes) on one project and day, one on a billable task and one not: the day is
    15 minutes, and the export gives the odd minute to the entry first in (date, ClickTime ID) order. NetSuite
    then holds exactly what the export wrote, and nothing was changed by anyone, yet the reconciliation reported
    "billable in ClickTime 0:07, in NetSuite 0:08" (or the reverse): it allocated the minutes over the rows in the
    order Reports/Time returned them, not in the export's order, so the tie went to the other entry. Finance was
    shown a billable difference that does not exist (and would chase it every night). Both now allocate through
    `records.time_export.bill_minutes`.

    Found by review 14; failed before the fix."""
    world = time_world
    world.ct.store.tasks[world.ct_task]["IsBillable"] = True
    world.ct.store.tasks[world.ct_task2]["IsBillable"] = False
    sheet = world.sheet()
    for _ in range(200):  # two entries whose IDs sort differently case-sensitively and case-blind
        billable = world.entry(sheet, WEEK, "0.125", task=world.ct_task)
        other = world.entry(sheet, WEEK, "0.125", task=world.ct_task2)
        if sorted([billable, other]) != sorted([billable, other], key=str.lower):
            break
        world.ct.delete_time_entry(billable)
        world.ct.delete_time_entry(other)
    else:  # the simulator's IDs are seeded: the same pair every run, found within a few tries
        raise AssertionError("setup: no pair of entry IDs whose case-sensitive and case-blind orders differ")
    world.approve(sheet)
    world.run()
    a, b = world.bill(billable), world.bill(other)
    assert a["isBillable"] is True and b["isBillable"] is False
    assert minutes(a) + minutes(b) == 15  # the export wrote the day exactly, nobody touched NetSuite since

    result = reconcile(world)

    assert result.ok, (
        f"NetSuite holds what the export wrote ({minutes(a)} min billable, {minutes(b)} min not), yet the "
        f"reconciliation reports differences: {_failing(result)}"
    )


def test_one_expense_sheet_with_a_malformed_item_does_not_stop_the_expense_reconciliation(expense_world):
    """Three sheets are approved and exported; a fourth has one item whose ExpenseDate ClickTime sends malformed
    (2026-13-01). The export refuses that sheet alone (its dead letter names it) and writes the three others. The
    expense reconciliation, though, raised on that one sheet, so finance got no reconciliation of any expense at
    all that night (the time reconciliation already named such a sheet in a note and compared the others).
    Expected: the other sheets compared (and in agreement), the bad one named in a note with the reason.

    Found by review 14; failed before the fix."""
    from tests.e2e.test_expense_export_third_review import three_sheets_and_one_with_a_malformed_item

    world = expense_world
    good, bad = three_sheets_and_one_with_a_malformed_item(world)
    result = world.run()
    assert result.counts("expenses")["created"] == 3  # the run exports the three good sheets

    try:
        recon = world.reconcile()
    except Exception as error:  # noqa: BLE001
        pytest.fail(
            f"the expense reconciliation raised {type(error).__name__}: {str(error)[:200]} (one bad sheet {bad})"
        )
    named = [note for note in recon.notes if bad in note]
    assert named and "ExpenseDate" in named[0], recon.notes
    assert recon.ok, _failing(recon)
    assert recon.checks[0].expected == 1  # the three good sheets: one employee, project and currency


def test_a_day_of_one_employee_on_two_timesheets_is_reconciled_as_the_export_rounds_it(time_world):
    """A person with two ClickTime logins (people.overrides maps both to one NetSuite employee) logs 0.125 h
    (7.5 minutes) under each on the same project and day. The export rounds each timesheet's day on its own (8 + 8
    minutes: it writes one sheet at a time, and rounding across sheets would make one sheet's bills change when
    the other is approved), while the reconciliation rounded the employee's day once (15), so it named a
    difference the export made by its own rule, every night. The reconciliation now rounds per timesheet too.

    Found by review 14; failed before the fix."""
    from tests.e2e.test_time_export_third_review import switch_config

    world = time_world
    switch_config(world, people={"overrides": {world.other_user["ID"]: world.employee}})
    one, two = world.sheet(), world.sheet(user=world.other_user)
    first = world.entry(one, WEEK, "0.125")
    second = world.entry(two, WEEK, "0.125")
    world.approve(one)
    world.approve(two)
    world.run()
    a, b = world.bill(first), world.bill(second)
    assert a["employee"]["id"] == b["employee"]["id"] == world.employee
    assert minutes(a) == minutes(b) == 8  # each timesheet's day rounded on its own, by design

    result = reconcile(world)

    assert result.ok, (
        f"0.25 h of employee {world.employee} on one project and day on two timesheets: NetSuite holds "
        f"{minutes(a)} + {minutes(b)} minutes as the export writes it; reconciliation: {_failing(result)}"
    )


def test_an_item_whose_currency_clicktime_sends_padded_is_reconciled_in_that_currency(expense_world):
    """ClickTime sends an item's foreign currency as " eur ": the export reads it as EUR (stripped and upper-cased)
    and writes the line in EUR, but the reconciliation only upper-cased it, so it put ClickTime's 39.10 under
    " EUR " and NetSuite's under "EUR": two differences for one agreeing amount. Both now read what was spent
    through `records.expense_lines.spent_by`.

    Found by review 14; failed before the fix."""
    world = expense_world
    sheet = world.sheet()
    world.item(sheet, "42.50", foreign_amount="39.10", foreign_currency=" eur ", exchange_rate="1.08696")
    world.approve(sheet)
    result = world.run()
    assert world.report(sheet) is not None, result.failures

    recon = world.reconcile()

    assert recon.ok, _failing(recon)
    assert recon.totals["clicktime_approved"] == "39.10 EUR"


def test_clicktimes_own_total_is_shown_beside_the_minutes_netsuite_holds_and_the_rounding_between_them(time_world):
    """Six entries of 0.33 h on six projects on one day: ClickTime's approved total is 1.98 h (118.8 minutes). The
    export rounds each employee's day per project to the minute (20 minutes each), so NetSuite rightly holds 2:00.
    The reconciliation labelled the export's own rounded figure "clicktime_approved" (2:00), so the figure finance
    reads as ClickTime's was not ClickTime's and the 1.2 minutes the rounding added were shown nowhere. ClickTime's
    exact hours are now the ClickTime figure, beside the minutes NetSuite should hold and the rounding between them.

    Found by the finance review of 2026-12-03; failed before the fix."""
    world = time_world
    sheet = world.sheet()
    jobs = []
    for project, job in world.ids.jobs.items():
        tasks = [
            world.ids.tasks[t.id]
            for t in world.company.tasks
            if t.project_id == project and t.id in world.ids.tasks and t.service_item_id and not t.is_inactive
        ]
        if tasks:
            jobs.append((job, tasks[0]))
    assert len(jobs) >= 6, "setup: six projects with a task that has a service item"
    for job, task in jobs[:6]:
        world.entry(sheet, WEEK, "0.33", task=task, job=job)
    world.approve(sheet)
    assert not world.run().failures

    result = reconcile(world)

    assert result.ok, _failing(result)
    assert result.totals["clicktime_approved"] == "1.98 h"  # ClickTime's own figure, as its reports give hours
    assert result.totals["clicktime_in_minutes"] == "2:00" == result.totals["netsuite"]
    assert result.totals["rounding"] == "+1.2 min (6 groups, each rounded to the minute)"


def test_hours_clicktime_sends_as_a_double_are_shown_to_a_millionth_not_with_float_noise(time_world):
    """ClickTime sends hours as doubles (`_exact`: 3.3000000000000003 for 1.1 + 2.2): an entry of 0.3 h can come as
    0.30000000000000004. The export rounds it to 18 minutes and NetSuite holds 3:36, yet the report printed
    "clicktime_approved 3.60000000000000004 h" and "rounding -0.0000000000000024 min": float noise as a figure finance
    copies into the close (month-end reconcile review, 2026-12-04; failed before the fix)."""
    world = time_world
    sheet = world.sheet()
    world.entry(sheet, WEEK, "0.30000000000000004")
    world.entry(sheet, WEEK + timedelta(days=1), "3.3000000000000003")
    world.approve(sheet)
    assert not world.run().failures

    result = reconcile(world)

    assert result.ok, _failing(result)
    assert result.totals["clicktime_approved"] == "3.6 h", result.totals
    assert result.totals["clicktime_in_minutes"] == "3:36" == result.totals["netsuite"], result.totals
    assert result.totals["rounding"] == "+0 min (2 groups, each rounded to the minute)", result.totals


def test_a_report_line_netsuite_gives_the_reports_own_currency_rate_1_is_the_line_planned(expense_world):
    """With Multiple Currencies on, NetSuite may give a line sent without a currency the report's currency, a foreign
    amount equal to its amount and a rate of 1 (UNVERIFIED which it does; the simulator keeps what it was sent). The
    check of each report against the plan counted such a line as another line ("NetSuite lacks the line …; NetSuite
    holds a line not planned …") every night, on every report, while every amount agreed: real differences would
    drown. A line in the report's own currency at its own amount is the planned line; a foreign line stays compared
    with its currency and foreign amount.

    Found by the finance review of 2026-12-03; failed before the fix."""
    world = expense_world
    sheet = world.sheet()
    world.item(sheet, "100.00")
    world.item(sheet, "42.50", foreign_amount="39.10", foreign_currency="EUR", exchange_rate="1.08696")
    world.approve(sheet)
    world.run()
    report = world.report(sheet)
    own = report["expensereportcurrency"]["id"]
    items = report["expense"]["items"]
    for line in items:
        if not line.get("currency"):
            line.update({"currency": {"id": own}, "foreignamount": line["amount"], "exchangerate": Decimal("1")})
    world.ns.records.update("expenseReport", report["id"], {"expense": {"items": items}})

    assert world.reconcile().ok, _failing(world.reconcile())

    # a line whose amount in the report's currency was changed by hand is still a difference
    changed = next(line for line in items if line["currency"]["id"] == own)
    changed["amount"] = changed["foreignamount"] = Decimal("90.00")
    world.ns.records.update("expenseReport", report["id"], {"expense": {"items": items}})
    failing = _failing(world.reconcile())
    assert any("NetSuite lacks the line" in " ".join(diffs) for _name, _e, _f, diffs in failing), failing


def test_a_blocked_expense_sheets_note_gives_its_amounts_as_counted_not_with_float_noise(expense_world):
    """ClickTime sends amounts as doubles (a mileage item: 12.3 mi x 0.655 = 8.056500000000001). The reconciliation
    counted the blocked sheet's 8.06 USD as left out, but its note said "(1 item(s): 8.056500000000001 USD)": two
    figures for one item, one of them no amount at all (month-end reconcile review, 2026-12-04; failed before)."""
    world = expense_world
    employees = {e["email"].lower() for e in world.ns.records.all("employee")}
    stranger = next(u for u in world.ct.users() if u["Email"].lower() not in employees)
    blocked = world.sheet()
    world.ct.store.expense_sheets[blocked]["UserID"] = stranger["ID"]  # no NetSuite employee: blocked
    world.item(blocked, "8.056500000000001")
    world.approve(blocked)
    world.run()

    result = world.reconcile()

    assert result.totals["blocked"] == "8.06 USD", result.totals
    (note,) = [n for n in result.notes if n.startswith(f"expense sheet {blocked} ")]
    assert "(1 item(s): 8.06 USD)" in note, note


def test_the_time_reconciliation_reads_the_approved_timesheets_once(time_world, monkeypatch):
    """`reconcile_time` listed the approved timesheets twice: once to compare their entries, again to judge which
    bills belong to an approved sheet. An approval undone between the two reads (approvers work while finance
    closes the month) made the sheet's own bills "not approved" strays and its entries "not in NetSuite": two
    differences out of one consistent state. One read now serves both (month-end reconcile review, 2026-12-04;
    failed before)."""
    from ctsync.records.clicktime_source import ApprovedSheetSource

    world = time_world
    sheet = world.sheet()
    world.entry(sheet, WEEK, "1.5")
    world.approve(sheet)
    assert not world.run().failures
    listed = ApprovedSheetSource.approved_sheets
    reads: list[int] = []

    def approved_then_undone(self, window, **kwargs):
        reads.append(1)
        sheets = listed(self, window, **kwargs)
        return sheets if len(reads) == 1 else [s for s in sheets if s["ID"] != sheet]

    monkeypatch.setattr(ApprovedSheetSource, "approved_sheets", approved_then_undone)

    result = reconcile(world)

    assert len(reads) == 1, reads
    assert result.ok, _failing(result)


def test_time_bills_of_a_sheet_no_longer_approved_are_counted_in_a_total_and_their_line(time_world):
    """A timesheet exported, then its approval undone in ClickTime before the next run: NetSuite still holds its
    1:30. The reconciliation named the bill a stray, but its minutes were in no figure ("netsuite" counts the bills
    of approved sheets) and its line gave none, so NetSuite's own time report did not tie out with the report
    (month-end reconcile review, 2026-12-04; failed before)."""
    world = time_world
    sheet = world.sheet()
    world.entry(sheet, WEEK, "1.5")
    world.approve(sheet)
    assert not world.run().failures
    world.act(sheet, "UndoApproval")

    result = reconcile(world)

    assert not result.ok
    assert result.totals["netsuite"] == "0:00" and result.totals.get("netsuite_not_approved") == "1:30", result.totals
    (stray,) = [d for c in result.checks for d in c.differences if "not approved" in d]
    assert "1:30" in stray, stray


def test_an_expense_report_of_a_sheet_no_longer_approved_is_counted_in_a_total_and_its_line(expense_world):
    """The expense side of the time bills' test above: a report exported, its sheet's approval undone before the next
    run. The reconciliation named the report, but not its amount, and no total held it (month-end reconcile review,
    2026-12-04; failed before)."""
    world = expense_world
    sheet, _item, report = world.exported_sheet("42.50")
    world.act(sheet, "UndoApproval")

    result = world.reconcile()

    assert not result.ok
    assert result.totals["netsuite"] == "none", result.totals
    assert result.totals.get("netsuite_not_approved") == "42.50 USD", result.totals
    (stray,) = [d for c in result.checks for d in c.differences if "not approved" in d]
    assert report["id"] in stray and "42.50 USD" in stray, stray
