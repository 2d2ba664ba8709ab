"""What a review of the unrecorded-write notes (`1ba5d7f`, `8fd00f8`) found, each test failing before its fix:

- a noted bill NetSuite held frozen (billed) when its sheet was withdrawn was flagged and forgotten: it is recorded as
  the sheet's now, so a later pass deletes it once NetSuite lets it;
- a receipts-only retry wrote the report by its external ID with no note (made anew after a delete in NetSuite, the
  new report stayed once the sheet was un-approved): noted, and its new internal ID recorded;
- a changed bill or report written whose mapping was not recorded was in nobody's doubt (every write is noted now, and
  a bill's note is dropped only once its mapping is recorded); the expense export read the note only to withdraw;
- under `time.on_unapproved = flag`, a note whose write never reached NetSuite opened a flag of "0 bills".

Found by a fresh review (2026-12-02, review 12).

`ctns plan` did not read the notes (kept as two strict xfails, since fixed; each failed before the fix): it said
"skip" where the run deletes a noted bill or report of a blocked sheet (or keeps it, under `time.on_unapproved = flag`),
and "unchanged" where the run writes again a noted bill or report the sheet, approved back as its mappings have it,
still wants. It reads them as the run does now (`MappingStore.writes_noted`), and writes nothing (`plan_steps`)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.e2e.test_export_unrecorded_writes import fail_first_mapping_write, nights
from tests.e2e.test_time_export_review import WEEK

pytestmark = pytest.mark.e2e


def _unbill(world, bill_id: str) -> None:  # the invoice voided: the bill may change again
    world.ns.records.billed_time.discard(bill_id)
    world.ns.records.update("timeBill", bill_id, {"posted": False})


def test_control_a_recorded_billed_bill_of_an_unapproved_sheet_leaves_once_unbilled(time_world):
    world = time_world
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "2")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    world.run()
    bill = world.bill(entry)
    world.ns.mark_time_billed(bill["id"])
    world.ct.clock.advance(timedelta(hours=1))
    world.act(sheet, "UndoApproval")
    nights(world, 1)
    assert world.bill(entry) is not None  # billed: flagged, kept
    _unbill(world, bill["id"])
    nights(world)
    assert world.bill(entry) is None


def test_a_noted_bill_billed_when_its_sheet_is_withdrawn_is_forgotten_and_never_leaves(time_world, monkeypatch):
    """The bill is written, its mapping write fails, the sheet is un-approved and the bill invoiced meanwhile.
    The redelivery's withdrawal finds the noted bill frozen: flagged, not deleted, and the commit drops the note
    (settled=True) with no mapping for the bill (the sheet's mapping is recorded deleted). Once the invoice is
    voided, nothing ever looks at the bill again: a recorded bill in the same place is deleted (the control test)."""
    world = time_world
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "2")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))

    def meanwhile() -> None:
        world.act(sheet, "UndoApproval")
        world.ns.mark_time_billed(world.bill(entry)["id"])

    failed = fail_first_mapping_write(monkeypatch, "timeentry", meanwhile)
    world.run()
    assert failed
    bill = world.bill(entry)
    assert bill is not None
    mappings = world.session.mappings
    item = mappings._table.get_item(Key={"pk": f"MAP#timesheet#{sheet}", "sk": "MAP"}).get("Item") or {}
    _unbill(world, bill["id"])
    nights(world)

    left = world.bill(entry)
    assert left is None, (
        f"timesheet {sheet} is {world.ct.store.timesheets[sheet]['Status']}; its noted bill {bill['id']} was billed "
        f"at the withdrawal (flagged), then unbilled, and stays for good: mapping of the entry "
        f"{mappings.get('timeentry', entry)}, sheet item {item}"
    )


# -- the receipts-only retry writes the report by its external ID, with no note ---------------------------------------
from tests.e2e.test_expense_export_review import World as ExpenseWorld  # noqa: E402


def test_a_receipts_retry_that_writes_the_report_anew_leaves_an_orphan_when_the_sheet_is_unapproved(
    open_session, monkeypatch
):
    """expenses.receipts.link = line (the default): a receipt that failed at the approval's pass is stored by a
    receipts-only retry, which writes the whole report again by its external ID (`ReceiptStep._link`). The report was
    deleted in NetSuite meanwhile: the upsert makes a new one (R2). Nothing notes that write, and the mapping keeps
    R1 (`before.target_id`). The sheet is then un-approved: the withdrawal deletes R1 (not found: "gone") and R2, a
    reimbursable report of a sheet no longer approved, stays with no mapping and no note."""
    world = ExpenseWorld(open_session({"expenses": {"receipts": {"retry_delay_seconds": 0}}}))
    sheet = world.sheet()
    item = world.item(sheet, "42.50", receipt=b"%PDF-1.4 r\n%%EOF\n", receipt_type="application/pdf")
    world.approve(sheet)
    world.ct.fail_receipt(item, 503)
    runtime = world.session.runtime("ExpensesWorker")
    download = runtime.clicktime.download_receipt
    seen = {"n": 0, "deleted": None}

    def download_then_heal(url, *args, **kwargs):
        if item in url:
            seen["n"] += 1
            if seen["n"] == 2:  # the receipts-only retry: the report was deleted in NetSuite by now
                world.ct.heal_receipt(item)
                report = world.report(sheet)
                if report is not None:
                    seen["deleted"] = report["id"]
                    world.ns.records.delete("expenseReport", report["id"])
        return download(url, *args, **kwargs)

    monkeypatch.setattr(runtime.clicktime, "download_receipt", download_then_heal)
    world.ct.clock.advance(timedelta(hours=1))
    world.run()
    assert seen["deleted"], f"the retry never came (downloads {seen['n']})"
    rewritten = world.report(sheet)
    mapping = world.session.mappings.get("expensesheet", sheet)

    world.ct.clock.advance(timedelta(hours=1))
    world.act(sheet, "UndoApproval")
    nights(world)
    report = world.report(sheet)
    assert report is None, (
        f"expense sheet {sheet} is {world.ct.store.expense_sheets[sheet]['Status']}, yet report {report['id']} stays "
        f"in NetSuite: the receipts retry wrote it anew (after report {seen['deleted']} was deleted in NetSuite) with "
        f"no note; the mapping then said {mapping.target_id if mapping else None}, NetSuite held "
        f"{rewritten['id'] if rewritten else None}"
    )


# -- a noted report write whose mapping was not recorded, and the sheet approved back as the mapping has it -----------
def test_a_noted_report_update_is_not_written_again_when_the_sheet_is_approved_back_to_the_recorded_amount(
    expense_world, monkeypatch
):
    """Report R1 holds 42.50 (recorded). A correction to 45.00 is approved; the export notes the report and writes
    45.00; the line mappings' write fails. Before the redelivery the correction is undone (42.50, approved again).
    The redelivery's `_export` never reads the note: the mapping's hash is 42.50's, the plan's too, the report
    exists: nothing is written, the settled commit drops the note, and NetSuite keeps 45.00 for good."""
    world = expense_world
    sheet = world.sheet()
    item = world.item(sheet, "42.50")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    world.run()
    assert world.report(sheet) is not None
    world.reapprove(sheet, lambda: world.ct.edit_expense_item(item, Amount="45.00"))
    world.ct.clock.advance(timedelta(hours=1))

    def undo() -> None:  # the correction sent back and undone, the sheet approved again as it was
        world.ct.clock.advance(timedelta(minutes=10))
        world.act(sheet, "UndoApproval")
        world.ct.edit_expense_item(item, Amount="42.50")
        world.act(sheet, "Approve")

    failed = fail_first_mapping_write(monkeypatch, "expenseitem", undo)
    world.run()
    assert failed, "the mapping write never happened"
    nights(world)

    amounts = [line["amount"] for line in world.report(sheet)["expense"]["items"]]
    assert [str(a) for a in amounts] in (["42.5"], ["42.50"]), (
        f"expense sheet {sheet} is approved at 42.50 in ClickTime; its report {world.report(sheet)['id']} holds "
        f"{amounts} (the noted write of the undone correction)"
    )


def test_a_bill_update_whose_mapping_write_failed_stays_when_the_sheet_is_approved_back(time_world, monkeypatch):
    """The time analogue: bill B holds 2:00 (recorded). A correction to 3 h is approved and written; the mapping
    write fails; the correction is undone (2 h, approved again) before the redelivery. The bill was recorded as
    NetSuite has it (its ID), so it is not noted nor doubted; its mapping's hash is 2:00's: nothing is written, and
    NetSuite keeps 3:00 of billable time ClickTime no longer has."""
    world = time_world
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "2")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    world.run()
    assert world.bill(entry)["hours"] == "2:00" or world.bill(entry)["hours"].startswith("2")
    from decimal import Decimal

    world.reapprove(sheet, lambda: world.ct.edit_time_entry(entry, Hours=Decimal("3")))
    world.ct.clock.advance(timedelta(hours=1))

    def undo() -> None:
        world.ct.clock.advance(timedelta(minutes=10))
        world.act(sheet, "UndoApproval")
        world.ct.edit_time_entry(entry, Hours=Decimal("2"))
        world.act(sheet, "Approve")

    failed = fail_first_mapping_write(monkeypatch, "timeentry", undo)
    world.run()
    assert failed, "the mapping write never happened"
    nights(world)

    bill = world.bill(entry)
    assert bill["hours"] in ("2:00", "02:00"), (
        f"timesheet {sheet} is approved with 2 h on entry {entry}; its bill {bill['id']} holds {bill['hours']} "
        "(the undone correction's write, whose mapping was not recorded)"
    )


# -- ctns plan of a sheet whose only trace in NetSuite is a noted bill --------------------------------------------------
def plan_steps(world, sync: str = "time") -> dict:
    """`ctns plan`'s steps by source ID, planned as the command plans: the state table read through `ReadOnlyTable`,
    and any NetSuite request but a read (GET, SuiteQL) refused."""
    from ctns.plan import ReadOnlyTable, plan_sync, runtime_for

    runtime = world.session.runtime()
    netsuite = runtime.netsuite
    send = netsuite._session.send

    def reads_only(prepared, **kwargs):
        suiteql = prepared.url.split("?", 1)[0].rstrip("/").endswith("/query/v1/suiteql")
        assert prepared.method in ("GET", "HEAD") or suiteql, f"ctns plan sent {prepared.method} {prepared.url}"
        return send(prepared, **kwargs)

    netsuite._session.send = reads_only
    try:
        planned = runtime_for(sync, runtime.config, netsuite, runtime.clicktime, ReadOnlyTable(runtime._table))
        return {step.source_id: step for step in plan_sync(sync, planned, runtime.config).steps}
    finally:
        del netsuite._session.send  # the session's own method again


def time_plan_steps(world) -> dict:
    return plan_steps(world, "time")


def blocked_with_a_noted_bill_then_unapproved(world, monkeypatch) -> tuple[str, str, dict]:
    """A first export writes entry E's bill (2 h) and its mapping write fails; meanwhile an entry on a task linked to
    no NetSuite task is added and the sheet approved again, so the redelivery is blocked (the marker keeps the
    note); then the sheet is un-approved. The sheet's ID, E's and E's bill as NetSuite holds it."""
    from tests.e2e.test_time_export_review import unlinked_task

    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "2")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))

    def block() -> None:
        world.act(sheet, "UndoApproval")
        world.entry(sheet, WEEK + timedelta(days=1), "1", task=unlinked_task(world))
        world.act(sheet, "Approve")

    failed = fail_first_mapping_write(monkeypatch, "timeentry", block)
    world.run()
    assert failed
    bill = world.bill(entry)
    assert bill is not None, "the noted bill is in NetSuite while the sheet is blocked"
    world.ct.clock.advance(timedelta(hours=1))
    world.act(sheet, "UndoApproval")
    world.ct.clock.advance(timedelta(hours=1))
    return sheet, entry, bill


def test_plan_of_a_blocked_sheet_with_a_noted_bill_says_skip_while_the_run_deletes_the_bill(time_world, monkeypatch):
    """A first export writes entry E's bill; its mapping write fails; meanwhile an entry on a task linked to no
    NetSuite task is added and the sheet approved again: the redelivery is blocked (the marker keeps the note).
    The sheet is then un-approved. `ctns plan` says "skip: blocked, nothing of it in NetSuite" (the verdict looks at
    child mappings only); the run deletes E's noted bill."""
    world = time_world
    sheet, entry, bill = blocked_with_a_noted_bill_then_unapproved(world, monkeypatch)
    mapping = world.session.mappings.get("timesheet", sheet)
    assert mapping is not None and mapping.details.get("blocked"), mapping
    step = time_plan_steps(world).get(sheet)
    world.run()
    gone = world.bill(entry) is None
    assert gone, "the run deletes the noted bill (the worker's side of this comparison)"
    assert step is not None and step.action == "delete", (
        f"ctns plan says {(step.action, step.detail) if step else None} for timesheet {sheet}, whose noted bill "
        f"{bill['id']} (entry {entry}) is in NetSuite; the run deleted it"
    )


def test_expense_plan_of_a_blocked_sheet_with_a_noted_report_says_skip_while_the_run_deletes_it(
    expense_world, monkeypatch
):
    """The expense side: a first export writes report R; the line mappings' write fails; meanwhile a Client Gifts
    item (no NetSuite category) is added and the sheet approved again: the redelivery is blocked (the note kept).
    Un-approved since: `ctns plan` says "skip: blocked, no report in NetSuite"; the run deletes R."""
    from tests.e2e.test_expense_export_withdrawn_causes import gifts

    world = expense_world
    sheet = world.sheet()
    world.item(sheet, "42.50")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))

    def block() -> None:
        world.act(sheet, "UndoApproval")
        world.item(sheet, "75.00", expense_type=gifts(world), description="Wine for the client")
        world.act(sheet, "Approve")

    failed = fail_first_mapping_write(monkeypatch, "expenseitem", block)
    world.run()
    assert failed
    report = world.report(sheet)
    assert report is not None, "the noted report is in NetSuite while the sheet is blocked"
    world.ct.clock.advance(timedelta(hours=1))
    world.act(sheet, "UndoApproval")
    world.ct.clock.advance(timedelta(hours=1))
    step = plan_steps(world, "expenses").get(sheet)
    world.run()
    assert world.report(sheet) is None, "the run deletes the noted report (the worker's side of this comparison)"
    assert step is not None and step.action == "delete", (
        f"ctns plan says {(step.action, step.detail) if step else None} for expense sheet {sheet}, whose noted report "
        f"{report['id']} is in NetSuite; the run deleted it"
    )


# A noted write the sheet still wants, its mappings saying it holds the sheet already: the run writes it again (what
# NetSuite holds is not known), and `ctns plan` said "unchanged". The redelivery is blocked so that the note stays.
def test_plan_of_a_noted_bill_the_sheet_approved_back_still_wants_says_it_is_written_again(time_world, monkeypatch):
    """2 h recorded; a correction to 3 h is written (noted), its mapping write fails; meanwhile the correction is
    undone and an entry on a task linked to no NetSuite task added (the redelivery blocked, the note kept). The entry
    is removed and the sheet approved again at 2 h, as the mapping has it: the run writes the bill (3 h) again."""
    from tests.e2e.test_time_export_review import unlinked_task

    world = time_world
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "2")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    world.run()
    world.reapprove(sheet, lambda: world.ct.edit_time_entry(entry, Hours=Decimal("3")))
    world.ct.clock.advance(timedelta(hours=1))
    blocker: list[str] = []

    def undo_and_block() -> None:
        world.ct.clock.advance(timedelta(minutes=10))
        world.act(sheet, "UndoApproval")
        world.ct.edit_time_entry(entry, Hours=Decimal("2"))
        blocker.append(world.entry(sheet, WEEK + timedelta(days=1), "1", task=unlinked_task(world)))
        world.act(sheet, "Approve")

    failed = fail_first_mapping_write(monkeypatch, "timeentry", undo_and_block)
    world.run()
    assert failed
    assert world.bill(entry)["hours"].startswith("3"), "the noted write of the correction is in NetSuite"
    world.ct.clock.advance(timedelta(hours=1))
    world.reapprove(sheet, lambda: world.ct.delete_time_entry(blocker[0]))
    world.ct.clock.advance(timedelta(hours=1))
    step = plan_steps(world).get(sheet)
    world.run()
    bill = world.bill(entry)
    assert bill["hours"] in ("2:00", "02:00"), "the run writes the noted bill again (the worker's side)"
    assert step is not None and step.action == "update" and "written again" in step.detail, (
        f"ctns plan says {(step.action, step.detail) if step else 'nothing (unchanged)'} for timesheet {sheet}, whose "
        f"noted bill {bill['id']} held 3 h; the run wrote it again"
    )


def test_expense_plan_of_a_noted_report_the_sheet_approved_back_still_wants_says_it_is_written(
    expense_world, monkeypatch
):
    """The expense side: 42.50 recorded; a correction to 45.00 is written (noted), the line mappings' write fails;
    meanwhile it is undone and a Client Gifts item added (the redelivery blocked, the note kept). The item is removed
    and the sheet approved again at 42.50, as the mapping has it: the run writes the report whole."""
    from tests.e2e.test_expense_export_withdrawn_causes import gifts

    world = expense_world
    sheet = world.sheet()
    item = world.item(sheet, "42.50")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    world.run()
    world.reapprove(sheet, lambda: world.ct.edit_expense_item(item, Amount="45.00"))
    world.ct.clock.advance(timedelta(hours=1))
    blocker: list[str] = []

    def undo_and_block() -> None:
        world.ct.clock.advance(timedelta(minutes=10))
        world.act(sheet, "UndoApproval")
        world.ct.edit_expense_item(item, Amount="42.50")
        blocker.append(world.item(sheet, "75.00", expense_type=gifts(world), description="Wine for the client"))
        world.act(sheet, "Approve")

    failed = fail_first_mapping_write(monkeypatch, "expenseitem", undo_and_block)
    world.run()
    assert failed
    report = world.report(sheet)
    assert [str(line["amount"]) for line in report["expense"]["items"]] in (["45"], ["45.0"], ["45.00"])
    world.ct.clock.advance(timedelta(hours=1))
    world.reapprove(sheet, lambda: world.ct.delete_expense_item(blocker[0]))
    world.ct.clock.advance(timedelta(hours=1))
    step = plan_steps(world, "expenses").get(sheet)
    world.run()
    amounts = [str(line["amount"]) for line in world.report(sheet)["expense"]["items"]]
    assert amounts in (["42.5"], ["42.50"]), "the run writes the noted report whole (the worker's side)"
    assert step is not None and step.action == "update" and "written whole" in step.detail, (
        f"ctns plan says {(step.action, step.detail) if step else 'nothing (unchanged)'} for expense sheet {sheet}, "
        f"whose noted report {report['id']} held 45.00; the run wrote it whole"
    )


def test_flag_policy_plan_of_a_blocked_sheet_with_a_noted_bill_says_it_stays(open_session, monkeypatch):
    """time.on_unapproved = flag: the blocked sheet of the first plan test, un-approved. The run keeps the noted bill
    (recorded as the sheet's, flagged); `ctns plan` said "skip: blocked, nothing of it in NetSuite"."""
    from tests.e2e.test_time_export_review import World as TimeWorld

    world = TimeWorld(open_session({"time": {"on_unapproved": "flag"}}))
    sheet, entry, _ = blocked_with_a_noted_bill_then_unapproved(world, monkeypatch)
    step = plan_steps(world).get(sheet)
    world.run()
    assert world.bill(entry) is not None, "the run keeps the noted bill (the worker's side)"
    assert step is not None and step.action == "unchanged" and "stay in NetSuite" in step.detail, (
        f"ctns plan says {(step.action, step.detail) if step else None} for timesheet {sheet}, whose noted bill "
        f"stays in NetSuite (time.on_unapproved = flag)"
    )


# -- flag policy: a note whose write never reached NetSuite ----------------------------------------------------------
def test_flag_policy_withdrawal_of_a_note_whose_write_never_happened_flags_zero_bills(open_session, monkeypatch):
    """time.on_unapproved = flag. A first export notes entry E's bill and dies before writing it (nothing in
    NetSuite); the sheet is un-approved before the redelivery. The withdrawal goes past "never exported" (a note),
    adopts nothing and raises a flag for a person: "its 0 time bill(s) stay in NetSuite" -- a cause about nothing,
    for a sheet that never had anything in NetSuite (under the delete policy the same pass says nothing)."""
    from ctsync.state import MappingStore
    from tests.e2e.test_time_export_review import World as TimeWorld

    world = TimeWorld(open_session({"time": {"on_unapproved": "flag"}}))
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "2")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    note_writes = MappingStore.note_writes
    died: list[str] = []

    def note_then_die(self, lock, external_ids):
        note_writes(self, lock, external_ids)
        if not died and lock.writes_noted:
            died.append(lock.source_id)
            world.act(sheet, "UndoApproval")
            raise RuntimeError("the function timed out (after the note, before the write)")

    monkeypatch.setattr(MappingStore, "note_writes", note_then_die)
    world.run()
    assert died and world.bill(entry) is None
    nights(world)

    flagged = [c for c in world.causes() if sheet in " ".join(c.blocked) or sheet in c.reason]
    assert flagged == [], (
        f"timesheet {sheet} never had a bill in NetSuite, yet `ctns errors` lists "
        f"{[(c.key, c.reason) for c in flagged]}"
    )


# -- found by a fourth review (2026-12-02, review 13); each failed before its fix -----------------------------------
# Under on_unapproved = flag (and for a noted bill NetSuite froze), the withdrawal or export settled the note of a
# changed bill or report whose mapping still held the old hash: approved back as the mapping had it, nothing was
# written and NetSuite kept the unapproved correction. Such a target is recorded with no content now.
def test_time_flag_policy_withdrawal_drops_the_note_of_a_changed_bill_and_keeps_its_stale_hash(
    open_session, monkeypatch
):
    from tests.e2e.test_time_export_review import World as TimeWorld

    world = TimeWorld(open_session({"time": {"on_unapproved": "flag"}}))
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "2")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    world.run()
    assert world.bill(entry)["hours"].startswith("2")
    world.reapprove(sheet, lambda: world.ct.edit_time_entry(entry, Hours=Decimal("3")))
    world.ct.clock.advance(timedelta(hours=1))

    def unapprove() -> None:  # the correction sent back before the redelivery
        world.ct.clock.advance(timedelta(minutes=10))
        world.act(sheet, "UndoApproval")

    failed = fail_first_mapping_write(monkeypatch, "timeentry", unapprove)
    world.run()
    assert failed, "the mapping write never happened"
    assert world.bill(entry)["hours"].startswith("3"), "the noted write reached NetSuite"
    nights(world, 1)  # the withdrawal: flagged, bills stay (time.on_unapproved = flag)
    # the correction undone, the sheet approved again as its mapping has it
    world.ct.clock.advance(timedelta(hours=1))
    world.ct.edit_time_entry(entry, Hours=Decimal("2"))
    world.act(sheet, "Approve")
    world.ct.clock.advance(timedelta(hours=1))
    nights(world)

    bill = world.bill(entry)
    mapping = world.session.mappings.get("timeentry", entry)
    assert bill["hours"] in ("2:00", "02:00"), (
        f"timesheet {sheet} is approved with 2 h on entry {entry}; its bill {bill['id']} holds {bill['hours']} "
        f"(the noted write of the withdrawn correction); the entry's mapping hash {mapping.content_hash if mapping else None!r}"
    )


def test_expense_flag_policy_withdrawal_drops_the_note_of_an_updated_report_and_keeps_its_stale_hash(
    open_session, monkeypatch
):
    from tests.e2e.test_expense_export_review import World as ExpenseWorld

    world = ExpenseWorld(open_session({"expenses": {"on_unapproved": "flag"}}))
    sheet = world.sheet()
    item = world.item(sheet, "42.50")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    world.run()
    assert world.report(sheet) is not None
    world.reapprove(sheet, lambda: world.ct.edit_expense_item(item, Amount="45.00"))
    world.ct.clock.advance(timedelta(hours=1))

    def unapprove() -> None:
        world.ct.clock.advance(timedelta(minutes=10))
        world.act(sheet, "UndoApproval")

    failed = fail_first_mapping_write(monkeypatch, "expenseitem", unapprove)
    world.run()
    assert failed, "the mapping write never happened"
    nights(world, 1)  # the withdrawal: the report stays (expenses.on_unapproved = flag)
    world.ct.clock.advance(timedelta(hours=1))
    world.ct.edit_expense_item(item, Amount="42.50")
    world.act(sheet, "Approve")
    world.ct.clock.advance(timedelta(hours=1))
    nights(world)

    report = world.report(sheet)
    amounts = [str(line["amount"]) for line in report["expense"]["items"]]
    assert amounts in (["42.5"], ["42.50"]), (
        f"expense sheet {sheet} is approved at 42.50 in ClickTime; its report {report['id']} holds {amounts} "
        "(the noted write of the withdrawn correction)"
    )


def test_a_noted_bill_update_billed_before_the_redelivery_is_settled_with_its_stale_hash(time_world, monkeypatch):
    """The same hole through a frozen bill, under the default policy: 2 h recorded; a correction to 3 h is written
    (noted), the mapping write fails, the bill is invoiced meanwhile. The redelivery flags it "not changed" (it
    holds 3 h, as approved) and its settled commit drops the note; the mapping keeps 2 h's hash. The invoice is
    voided and the correction undone (2 h approved): nothing is written, NetSuite keeps 3 h."""
    world = time_world
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "2")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    world.run()
    world.reapprove(sheet, lambda: world.ct.edit_time_entry(entry, Hours=Decimal("3")))
    world.ct.clock.advance(timedelta(hours=1))
    failed = fail_first_mapping_write(
        monkeypatch, "timeentry", lambda: world.ns.mark_time_billed(world.bill(entry)["id"])
    )
    world.run()
    assert failed
    nights(world, 1)
    bill = world.bill(entry)
    world.ns.records.billed_time.discard(bill["id"])  # the invoice voided
    world.ns.records.update("timeBill", bill["id"], {"posted": False})
    world.reapprove(sheet, lambda: world.ct.edit_time_entry(entry, Hours=Decimal("2")))
    world.ct.clock.advance(timedelta(hours=1))
    nights(world)

    bill = world.bill(entry)
    assert bill["hours"] in ("2:00", "02:00"), (
        f"timesheet {sheet} is approved with 2 h on entry {entry}; its bill {bill['id']} holds {bill['hours']}"
    )


# A new bill or report written whose mapping write failed, and frozen by NetSuite before the next holder came, was
# upserted again as a new one, refused, and the sheet blocked for good; it is now found by its external ID and known.
def test_a_new_noted_bill_billed_before_the_redelivery_fails_the_sheet_for_good(time_world, monkeypatch):
    world = time_world
    sheet = world.sheet()
    entry = world.entry(sheet, WEEK, "2")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))

    def invoiced() -> None:  # the bill is in NetSuite; Finance invoices it before the redelivery
        world.ns.mark_time_billed(world.bill(entry)["id"])

    failed = fail_first_mapping_write(monkeypatch, "timeentry", invoiced)
    world.run()
    assert failed
    bill = world.bill(entry)
    assert bill is not None and bill["hours"].startswith("2"), "NetSuite holds what the sheet wants"
    nights(world)

    mapping = world.session.mappings.get("timeentry", entry)
    sheet_mapping = world.session.mappings.get("timesheet", sheet)
    # flagged as billed (what it holds is not known: not changed) is right; refused as a new bill, every run, is not
    failures = [(c.key, c.reason) for c in world.causes() if not c.key.startswith("time-bill-frozen")]
    assert mapping is not None and mapping.target_id == bill["id"] and not failures, (
        f"timesheet {sheet} is approved and its bill {bill['id']} (2 h, billed) holds it, yet the entry's mapping is "
        f"{mapping}, the sheet's {sheet_mapping and (sheet_mapping.target_id, sheet_mapping.details)}, and each run "
        f"fails: {failures}"
    )


def test_a_new_noted_report_paid_before_the_redelivery_fails_the_sheet_for_good(expense_world, monkeypatch):
    world = expense_world
    sheet = world.sheet()
    world.item(sheet, "42.50")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))

    def paid() -> None:
        world.ns.mark_expense_report_paid(world.report(sheet)["id"])

    failed = fail_first_mapping_write(monkeypatch, "expenseitem", paid)
    world.run()
    assert failed
    report = world.report(sheet)
    assert report is not None
    nights(world)

    mapping = world.session.mappings.get("expensesheet", sheet)
    failures = [(c.key, c.reason) for c in world.causes() if not c.key.startswith("expense-report-frozen")]
    assert mapping is not None and mapping.target_id == report["id"] and not failures, (
        f"expense sheet {sheet} is approved and its report {report['id']} (paid) holds it, yet the sheet's mapping "
        f"is {mapping and (mapping.target_id, mapping.deleted)} and ctns errors lists {failures}"
    )
