"""Approved ClickTime expense sheets become NetSuite expense reports with their receipts, end to end through the
template's wiring (local runner, moto, both simulators)."""

from __future__ import annotations

import hashlib
import threading
from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from ctns.runner import SyncRun
from ctsync.errors import ConfigurationError
from ctsync.records.expense_export import external_id
from ctsync.records.receipts import file_external_id
from ctsync.state import MappingStore
from simulators.generator import UNMAPPED_EXPENSE_TYPE
from simulators.scenarios import after_first_export
from tests.e2e.support import periods_unreadable, run, sheet_reads_waiting_for_periods

pytestmark = pytest.mark.e2e

GUARD_SECONDS = 30.0  # only ever reached when the two reads do not overlap

CENT = Decimal("0.01")
REPORTS = "/services/rest/record/v1/expenseReport/"
FILES = "/services/rest/record/v1/file/"


@pytest.fixture
def activity(session):
    """Projects synced, people's expenses logged and approved in ClickTime; nothing exported yet."""
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    return session


@pytest.fixture
def exported(activity):
    activity.first = run(activity, "expenses")
    return activity


# -- looking at both systems ----------------------------------------------------------------------------------


def reports(session) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for report in session.simulators.netsuite.records.all("expenseReport"):
        found[report.get("externalId", "")].append(report)
    return found


def report_of(session, sheet_id: str) -> dict[str, Any]:
    (report,) = reports(session)[external_id(sheet_id)]
    return report


def lines_of(report: dict[str, Any]) -> list[dict[str, Any]]:
    return (report.get("expense") or {}).get("items", [])


def users_by_id(session) -> dict[str, dict[str, Any]]:
    return {u["ID"]: u for u in session.simulators.clicktime.users()}


def employee_of(session, user_id: str) -> dict[str, Any] | None:
    email = users_by_id(session)[user_id]["Email"].lower()
    return next((e for e in session.simulators.netsuite.records.all("employee") if e["email"].lower() == email), None)


def expense_types(session) -> dict[str, dict[str, Any]]:
    return dict(session.simulators.clicktime.store.expense_types)


def exportable_sheets(session) -> list[dict[str, Any]]:
    """Approved (or paid) sheets of NetSuite employees without the unmapped expense type (blocked on purpose)."""
    ct = session.simulators.clicktime
    types = expense_types(session)
    return [
        s
        for s in ct.expense_sheets()
        if s["Status"] in ("approved", "paid")
        and employee_of(session, s["UserID"]) is not None
        and all(types[i["ExpenseTypeID"]]["Name"] != UNMAPPED_EXPENSE_TYPE for i in ct.items_of(s["ID"]))
    ]


def currency_ids(session) -> dict[str, str]:
    return {c["symbol"]: c["id"] for c in session.simulators.netsuite.records.all("currency")}


def report_currency(session, employee: dict[str, Any]) -> str:
    subsidiary = session.simulators.netsuite.records.get("subsidiary", employee["subsidiary"]["id"])
    return next(iso for iso, cid in currency_ids(session).items() if cid == subsidiary["currency"]["id"])


def netsuite_rate(session, base: str, transaction: str) -> Decimal:
    ids = currency_ids(session)
    rows = session.simulators.netsuite.records.exchange_rates
    return next(
        r["exchangerate"]
        for r in rows
        if r["basecurrency"] == ids[base] and r["transactioncurrency"] == ids[transaction]
    )


def category_of(session, expense_type: dict[str, Any]) -> str:
    """The seeded company keeps some categories in AccountingPackageID and leaves the rest to the name."""
    if expense_type["AccountingPackageID"]:
        return expense_type["AccountingPackageID"]
    categories = session.simulators.netsuite.records.all("expenseCategory")
    return next(c["id"] for c in categories if c["name"].lower() == expense_type["Name"].lower())


def expected_line(session, item: dict[str, Any], report_iso: str) -> dict[str, Any]:
    """The line the exports brief asks for, from ClickTime's own figures (company currency USD)."""
    ids = currency_ids(session)
    foreign = item["HasForeignCurrency"]
    spent_in = item["AmountForeignCurrency"] if foreign else "USD"
    spent = item["AmountForeign"] if foreign else item["Amount"]
    line: dict[str, Any] = {
        "category": {"id": category_of(session, expense_types(session)[item["ExpenseTypeID"]])},
        "expensedate": item["ExpenseDate"],
        "customer": {"id": session.simulators.clicktime.store.jobs[item["JobID"]]["AccountingPackageID"]},
        "isBillable": item["Billable"],
        "isnonreimbursable": not item["Reimbursable"],
    }
    if spent_in == report_iso:
        line["amount"] = spent
    elif report_iso == "USD":  # ClickTime's amount and rate, as the approver saw them
        line.update(
            amount=item["Amount"],
            currency={"id": ids[spent_in]},
            foreignamount=spent,
            exchangerate=item["AmountForeignExchangeRate"],
        )
    else:  # ClickTime has no rate into the report's currency: NetSuite's own
        rate = netsuite_rate(session, report_iso, spent_in)
        line.update(
            amount=(spent * rate).quantize(CENT, ROUND_HALF_UP),
            currency={"id": ids[spent_in]},
            foreignamount=spent,
            exchangerate=rate,
        )
    return line


def receipt_items(session, sheets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ct = session.simulators.clicktime
    return [i for s in sheets for i in ct.items_of(s["ID"]) if ct.receipt(i["ID"]) is not None]


def files_by_external_id(session) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for stored in session.simulators.netsuite.files():
        found[stored["externalId"]].append(stored)
    return found


def uploads(writes) -> list[Any]:
    return [w for w in writes if w.method == "PUT" and w.path.startswith(FILES)]


def drain(session) -> SyncRun:
    mapping = next(m for m in session.stack.queue_mappings if m.queue == "ExpensesQueue")
    result = SyncRun("expenses")
    session.runner.drain(mapping, result)
    return result


def reapprove(session, sheet_id: str) -> None:
    ct = session.simulators.clicktime
    ct.clock.advance(timedelta(hours=1))
    ct.expense_sheet_action(sheet_id, "UndoApproval", "checking")
    ct.expense_sheet_action(sheet_id, "Approve")


def sheet_with_receipts(session, *, exclude: set[str] = frozenset()) -> dict[str, Any]:
    ct = session.simulators.clicktime
    failing = set(ct.failing_receipts())
    return next(
        s
        for s in exportable_sheets(session)
        if s["ID"] not in exclude
        and any(ct.receipt(i["ID"]) for i in ct.items_of(s["ID"]))
        and not failing & {i["ID"] for i in ct.items_of(s["ID"])}
    )


# -- the tests ------------------------------------------------------------------------------------------------


def test_each_approved_sheet_is_one_report_with_its_lines_categories_currencies_and_amounts_to_the_cent(exported):
    session = exported
    ct = session.simulators.clicktime
    sheets = exportable_sheets(session)
    currencies_seen: set[str] = set()
    report_currencies: set[str] = set()
    for sheet in sheets:
        report = report_of(session, sheet["ID"])
        employee = employee_of(session, sheet["UserID"])
        iso = report_currency(session, employee)
        report_currencies.add(iso)
        assert report["entity"] == {"id": employee["id"]}
        assert report["tranDate"] == sheet["ExpenseSheetDate"] and report["memo"] == sheet["Title"]
        assert report["expensereportcurrency"] == {"id": currency_ids(session)[iso]}
        items = sorted(ct.items_of(sheet["ID"]), key=lambda i: (i["ExpenseDate"], i["ID"]))
        lines = lines_of(report)
        assert len(lines) == len(items)
        for item, line in zip(items, lines, strict=True):
            wanted = expected_line(session, item, iso)
            assert {k: line.get(k) for k in wanted} == wanted, item["ID"]
            assert item["Description"] in line["memo"]
            assert line["amount"] == line["amount"].quantize(CENT)  # to the cent, never more places
            currencies_seen.add(item["AmountForeignCurrency"] if item["HasForeignCurrency"] else "USD")
    assert currencies_seen == {"USD", "EUR"} and report_currencies == {"USD", "EUR"}
    assert len(session.simulators.netsuite.records.all("expenseReport")) == len(sheets)  # nothing else was sent
    assert exported.first.counts("expenses")["created"] == len(sheets)


def test_receipts_are_stored_once_and_linked_to_their_lines_and_a_rerun_uploads_nothing(exported):
    session = exported
    ct, ns = session.simulators.clicktime, session.simulators.netsuite
    failing = set(ct.failing_receipts())
    items = [i for i in receipt_items(session, exportable_sheets(session)) if i["ID"] not in failing]
    files = files_by_external_id(session)
    assert len(ns.files()) == len(items) and {f["fileType"] for f in ns.files()} == {"PNGIMAGE", "PDF"}
    (folder,) = [f for f in ns.records.all("folder") if f.get("externalId") == "ctns-receipts"]
    linked: dict[str, str] = {}
    for sheet in exportable_sheets(session):
        for line in lines_of(report_of(session, sheet["ID"])):
            if line.get("expmediaitem"):
                assert line["receipt"] is True
                linked[line["expmediaitem"]["id"]] = sheet["ID"]
    for item in items:
        (stored,) = files[file_external_id(item["ID"])]  # one file per receipt
        content, _mime = ct.receipt(item["ID"])
        assert stored["sha256"] == hashlib.sha256(content).hexdigest() and stored["folder"] == folder["id"]
        assert linked[stored["id"]] == item["ExpenseSheetID"]
    assert len(uploads(exported.first.netsuite_writes)) == len(items)

    # A sheet approved again without a change: its receipts are read again, none is uploaded, nothing written
    sheet = sheet_with_receipts(session)
    reapprove(session, sheet["ID"])
    again = run(session, "expenses")

    assert again.syncs["expenses"]["enqueued"] == 1
    assert again.netsuite_writes == [] and again.clicktime_writes == []
    assert len(ns.files()) == len(items)


def test_a_second_pass_on_unchanged_data_writes_nothing(exported):
    second = run(exported, "expenses")

    assert second.netsuite_writes == [] and second.clicktime_writes == []
    assert second.syncs["expenses"]["enqueued"] == 0


def test_netsuite_calls_per_exported_report_and_per_receipt(exported):
    """One write per changed report, its lines linking their files (the receipts are uploaded first), one upload
    per receipt; the folder is found or created once. (It was two report writes, the second linking the files:
    the first, processed late, undid the links; see test_expense_late_writes.)"""
    session = exported
    writes = exported.first.netsuite_writes
    failing = set(session.simulators.clicktime.failing_receipts())
    per_report: dict[str, int] = defaultdict(int)
    for write in writes:
        if write.path.startswith(REPORTS):
            assert write.method == "PUT" and write.query == {"replace": ["expense"]}
            per_report[write.path.rsplit("eid:", 1)[1]] += 1
    for sheet in exportable_sheets(session):
        stored = [
            i
            for i in session.simulators.clicktime.items_of(sheet["ID"])
            if session.simulators.clicktime.receipt(i["ID"]) and i["ID"] not in failing
        ]
        assert per_report[external_id(sheet["ID"])] == 1, sheet["ID"]
        (put,) = [w for w in writes if w.path == REPORTS + "eid:" + external_id(sheet["ID"])]
        assert len([ln for ln in put.body["expense"]["items"] if ln.get("expmediaitem")]) == len(stored)
    folders = [w for w in writes if "/folder/" in w.path]
    others = [w for w in writes if not w.path.startswith((REPORTS, FILES)) and "/folder/" not in w.path]
    assert len(folders) == 1 and others == []
    assert len(writes) == sum(per_report.values()) + len(uploads(writes)) + 1


def test_a_failing_receipt_is_reported_while_its_report_lands_and_is_stored_once_it_heals(exported):
    session = exported
    ct = session.simulators.clicktime
    ((item_id, status),) = ct.failing_receipts().items()
    sheet_id = ct.store.expense_items[item_id]["ExpenseSheetID"]
    report = report_of(session, sheet_id)  # the report landed
    (line,) = [ln for ln in lines_of(report) if ln["amount"] == ct.store.expense_items[item_id]["Amount"]]
    assert "expmediaitem" not in line and file_external_id(item_id) not in files_by_external_id(session)
    (cause,) = [c for c in session.runlog.causes("expenses") if c.key == "receipt-download"]
    assert cause.blocked == [sheet_id] and item_id in cause.reason and str(status) in cause.reason
    # Its retries used up, it waits for a person in the dead-letter queue
    (letter,) = [d for d in session.runner.dead_letters("expenses") if d.source_id == sheet_id]
    assert letter.cause_key == "receipt-download"

    # When ClickTime serves the receipt again and the dead letter is redriven
    ct.heal_receipt(item_id)
    session.runner.redrive("expenses")
    drain(session)

    (stored,) = files_by_external_id(session)[file_external_id(item_id)]
    (line,) = [ln for ln in lines_of(report_of(session, sheet_id)) if ln.get("expmediaitem") == {"id": stored["id"]}]
    assert line["receipt"] is True and len(lines_of(report_of(session, sheet_id))) == len(ct.items_of(sheet_id))
    assert len(reports(session)[external_id(sheet_id)]) == 1
    assert all(d.source_id != sheet_id for d in session.runner.dead_letters("expenses"))


def test_a_receipt_that_fails_for_a_while_then_stores_on_its_retry_leaves_no_open_cause_naming_its_sheet(activity):
    # Found by the fault suite: a download that failed twice (a 500, the client's two tries) was reported as the
    # cause "receipt-download" naming the sheet; its retry stored the receipt, and the cause still named the sheet
    # (an operator would go and redrive a sheet that is fine).
    session = activity
    ct = session.simulators.clicktime
    sheet = sheet_with_receipts(session)
    failing = set(ct.failing_receipts())
    (item, *_) = [i for i in receipt_items(session, [sheet]) if i["ID"] not in failing]
    ct.faults.inject(status=500, times=2, method="GET", path=rf"/receipts/{item['ID']}$")

    run(session, "expenses")

    assert ct.faults.fired["500"] == 2
    assert file_external_id(item["ID"]) in files_by_external_id(session)  # stored by the retry
    blocking = {c.key: c.blocked for c in session.runlog.causes("expenses") if sheet["ID"] in c.blocked}
    assert blocking == {}
    # The seeded receipt that never downloads still names its sheet
    (failing_item,) = failing
    failing_sheet = ct.store.expense_items[failing_item]["ExpenseSheetID"]
    assert any(failing_sheet in c.blocked for c in session.runlog.causes("expenses") if c.key == "receipt-download")


def test_receipts_netsuite_cannot_take_are_reported_with_why_and_their_reports_land(activity):
    session = activity
    ct = session.simulators.clicktime
    failing = set(ct.failing_receipts())
    large_sheet = sheet_with_receipts(session)
    other_sheet = next(
        s
        for s in exportable_sheets(session)
        if s["ID"] != large_sheet["ID"]
        and len([i for i in ct.items_of(s["ID"]) if ct.receipt(i["ID"]) and i["ID"] not in failing]) >= 2
    )
    large = next(i for i in ct.items_of(large_sheet["ID"]) if ct.receipt(i["ID"]))
    html, untyped = [i for i in ct.items_of(other_sheet["ID"]) if ct.receipt(i["ID"])][:2]
    ct.set_receipt(large["ID"], b"x" * (11 * 1024 * 1024), "image/png")  # NetSuite takes 10 MB at most
    ct.set_receipt(html["ID"], b"<html><body>receipt</body></html>", "text/html")
    ct.set_receipt(untyped["ID"], b"\x00\x01\x02 not an image", "application/octet-stream")
    stored_before = len(receipt_items(session, exportable_sheets(session))) - len(failing)

    result = run(session, "expenses")

    for sheet in (large_sheet, other_sheet):  # the reports landed, with every line
        assert len(lines_of(report_of(session, sheet["ID"]))) == len(ct.items_of(sheet["ID"]))
    files = files_by_external_id(session)
    assert all(file_external_id(i["ID"]) not in files for i in (large, html, untyped))
    causes = {c.key: c for c in session.runlog.causes("expenses")}
    too_large, wrong_type = causes["receipt-too-large"], causes["receipt-type"]
    assert too_large.blocked == [large_sheet["ID"]] and wrong_type.blocked == [other_sheet["ID"]]
    assert large["ID"] in too_large.reason and str(11 * 1024 * 1024) in too_large.reason  # its size, in bytes
    assert html["ID"] in wrong_type.reason and "text/html" in wrong_type.reason
    assert untyped["ID"] in wrong_type.reason and "application/octet-stream" in wrong_type.reason
    # Not retried (nothing NetSuite will take comes of trying again); the other receipts were stored
    sheets = {large_sheet["ID"], other_sheet["ID"]}
    assert all(letter.source_id not in sheets for letter in session.runner.dead_letters("expenses"))
    assert len(session.simulators.netsuite.files()) == stored_before - 3
    assert result.counts("expenses")["created"] == len(exportable_sheets(session))


def test_an_edit_replaces_the_lines_and_leaves_no_duplicates(exported):
    session = exported
    ct = session.simulators.clicktime
    ct.clock.advance(timedelta(days=1))
    changes = after_first_export(ct, session.simulators.company)
    sheet_id = changes["reapproved_expense_sheet"]

    result = run(session, "expenses")

    report = report_of(session, sheet_id)
    items = sorted(ct.items_of(sheet_id), key=lambda i: (i["ExpenseDate"], i["ID"]))
    assert len(lines_of(report)) == len(items)  # replaced, not appended
    iso = report_currency(session, employee_of(session, ct.store.expense_sheets[sheet_id]["UserID"]))
    for item, line in zip(items, lines_of(report), strict=True):
        wanted = expected_line(session, item, iso)
        assert {k: line.get(k) for k in wanted} == wanted
    assert result.counts("expenses")["updated"] == 1 and result.counts("expenses")["failed"] == 0
    assert [w.path for w in result.netsuite_writes] == [REPORTS + "eid:" + external_id(sheet_id)]
    assert all(len(found) == 1 for found in reports(session).values())


def test_an_unapproved_sheet_leaves_netsuite(exported):
    session = exported
    ct = session.simulators.clicktime
    sheet = sheet_with_receipts(session)
    ct.clock.advance(timedelta(days=1))
    ct.expense_sheet_action(sheet["ID"], "UndoApproval", "Wrong project")

    result = run(session, "expenses")

    assert external_id(sheet["ID"]) not in reports(session)
    assert result.counts("expenses")["updated"] == 1
    assert len(session.simulators.netsuite.records.all("expenseReport")) == len(exportable_sheets(session))

    # Approved again: the report comes back, its receipts linked without another upload
    ct.clock.advance(timedelta(hours=1))
    ct.expense_sheet_action(sheet["ID"], "Approve")
    back = run(session, "expenses")

    report = report_of(session, sheet["ID"])
    assert any(line.get("expmediaitem") for line in lines_of(report))
    assert uploads(back.netsuite_writes) == []


def test_a_sheet_marked_paid_in_clicktime_still_counts_as_approved(activity):
    session = activity
    ct = session.simulators.clicktime
    paid_before, paid_after = exportable_sheets(session)[:2]
    ct.expense_sheet_action(paid_before["ID"], "MarkPaid", check="CHK-1")  # approved and paid before the night

    run(session, "expenses")

    assert len(lines_of(report_of(session, paid_before["ID"]))) == len(ct.items_of(paid_before["ID"]))
    before = report_of(session, paid_after["ID"])
    ct.clock.advance(timedelta(days=1))
    ct.expense_sheet_action(paid_after["ID"], "MarkPaid", check="CHK-2")

    result = run(session, "expenses")

    assert report_of(session, paid_after["ID"]) == before  # not withdrawn, not changed
    assert result.syncs["expenses"]["enqueued"] == 0 and result.netsuite_writes == []


def test_a_paid_report_and_a_report_in_a_closed_period_are_flagged_not_changed(exported):
    session = exported
    ct, ns = session.simulators.clicktime, session.simulators.netsuite
    sheets = sorted(exportable_sheets(session), key=lambda s: s["ExpenseSheetDate"])
    paid, closed = sheets[-1], sheets[0]
    assert paid["ExpenseSheetDate"][:7] > closed["ExpenseSheetDate"][:7]  # two months, two periods
    paid_report = report_of(session, paid["ID"])
    ns.mark_expense_report_paid(paid_report["id"])
    closed_report = report_of(session, closed["ID"])
    ns.close_period(date.fromisoformat(closed["ExpenseSheetDate"]))
    period = ns.accounting_period(date.fromisoformat(closed["ExpenseSheetDate"]))["periodName"]
    # When the paid sheet is corrected and approved again, and the other un-approved
    ct.clock.advance(timedelta(days=1))
    ct.expense_sheet_action(paid["ID"], "UndoApproval")
    item = ct.items_of(paid["ID"])[0]
    ct.edit_expense_item(item["ID"], Description="Corrected after payment")
    ct.expense_sheet_action(paid["ID"], "Approve")
    ct.expense_sheet_action(closed["ID"], "UndoApproval")

    result = run(session, "expenses")

    assert report_of(session, paid["ID"])["expense"] == paid_report["expense"]
    assert report_of(session, closed["ID"])["expense"] == closed_report["expense"]
    assert not [w for w in result.netsuite_writes if w.path.startswith(REPORTS)]
    (cause,) = [c for c in session.runlog.causes("expenses") if c.key == "expense-report-frozen"]
    assert sorted(cause.blocked) == sorted([paid["ID"], closed["ID"]])
    reasons = " ".join(f.reason for f in session.runlog.failures(result.syncs["expenses"]["run_id"]))
    assert "paid" in reasons and period in reasons


@pytest.mark.parametrize(("lock", "policy"), [("close", "fail"), ("lock_ap", "fail"), ("close", "next_open_period")])
def test_a_closed_period_blocks_a_first_export_or_moves_it_by_policy(open_session, lock, policy):
    session = open_session({"accounting": {"on_closed_period": policy}})
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    ns = session.simulators.netsuite
    sheet = exportable_sheets(session)[0]
    day = date.fromisoformat(sheet["ExpenseSheetDate"])
    (ns.close_period if lock == "close" else ns.lock_ap_period)(day)
    period = ns.accounting_period(day)

    result = run(session, "expenses")

    if policy == "fail":
        assert external_id(sheet["ID"]) not in reports(session)  # whole or nothing: none of it was written
        cause = next(c for c in session.runlog.causes("expenses") if c.key.startswith("period-closed"))
        assert period["periodName"] in cause.reason and sheet["ID"] in cause.blocked
    else:
        report = report_of(session, sheet["ID"])
        later = ns.records.get("accountingPeriod", report["postingPeriod"]["id"])
        assert later["startDate"] > period["endDate"] and not later["closed"]
        assert (
            report["tranDate"] == sheet["ExpenseSheetDate"]
            and f"period {period['periodName']} is closed" in report["memo"]
        )
        assert result.counts("expenses")["created"] == len(exportable_sheets(session))


def test_an_unmapped_expense_type_blocks_its_sheet_as_one_cause_and_exports_once_mapped(exported):
    session = exported
    ct, ns = session.simulators.clicktime, session.simulators.netsuite
    types = expense_types(session)
    gift_items = [i for i in ct.expense_items() if types[i["ExpenseTypeID"]]["Name"] == UNMAPPED_EXPENSE_TYPE]
    sheets = sorted(
        {
            i["ExpenseSheetID"]
            for i in gift_items
            if ct.store.expense_sheets[i["ExpenseSheetID"]]["Status"] == "approved"
            and employee_of(session, ct.store.expense_sheets[i["ExpenseSheetID"]]["UserID"])
        }
    )
    (cause,) = [c for c in session.runlog.causes("expenses") if c.key.startswith("expense-type-unmapped")]
    assert cause.key == "expense-type-unmapped:client-gifts" and cause.blocked == sheets
    assert all(i["ID"] in cause.reason for i in gift_items if i["ExpenseSheetID"] in sheets)
    assert UNMAPPED_EXPENSE_TYPE in cause.reason and "expenses.categories" in cause.fix
    assert all(external_id(s) not in reports(session) for s in sheets)  # whole or nothing

    # When NetSuite gets the category and the dead letters are redriven
    category = ns.records.add("expenseCategory", {"name": UNMAPPED_EXPENSE_TYPE, "isinactive": False})
    session.runner.redrive("expenses")
    drain(session)

    for sheet in sheets:
        lines = lines_of(report_of(session, sheet))
        assert {"id": category} in [line["category"] for line in lines]
        assert len(lines) == len(ct.items_of(sheet))


def test_a_duplicate_delivery_and_a_crash_between_the_report_and_its_mapping_leave_one_report(activity, monkeypatch):
    session = activity
    failed: list[str] = []
    original = MappingStore.put_many

    def lose_the_first_mapping_write(self, mappings):
        mappings = list(mappings)
        if mappings and mappings[0].kind == "expenseitem" and not failed:
            failed.append(mappings[0].parent or "")
            raise ConnectionError("the worker lost DynamoDB after writing the expense report")
        return original(self, mappings)

    monkeypatch.setattr(MappingStore, "put_many", lose_the_first_mapping_write)
    queue = session.runtime("ExpensesPoller").work_queue
    original_send = type(queue).send
    monkeypatch.setattr(type(queue), "send", lambda self, messages: original_send(self, [*messages, *messages]))

    run(session, "expenses")

    assert failed
    found = reports(session)
    assert set(found) == {external_id(s["ID"]) for s in exportable_sheets(session)}
    assert all(len(copies) == 1 for copies in found.values())
    assert all(
        len(lines_of(r[0])) == len(session.simulators.clicktime.items_of(r[0]["externalId"][6:]))
        for r in found.values()
    )
    assert all(len(copies) == 1 for copies in files_by_external_id(session).values())


def test_receipts_attached_to_the_report_when_configured_once_each(open_session):
    session = open_session({"expenses": {"receipts": {"link": "attach"}}})
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    ns = session.simulators.netsuite

    first = run(session, "expenses")

    files = {f["externalId"]: f["id"] for f in ns.files()}
    attaches = [w for w in first.netsuite_writes if "!attach" in w.path]
    assert len(attaches) == len(files) > 0
    for sheet in exportable_sheets(session):
        report = report_of(session, sheet["ID"])
        assert not any(line.get("expmediaitem") for line in lines_of(report))
        wanted = [
            files[file_external_id(i["ID"])]
            for i in session.simulators.clicktime.items_of(sheet["ID"])
            if file_external_id(i["ID"]) in files
        ]
        assert sorted(ns.attachments("expenseReport", report["id"])) == sorted(wanted)
    # one write per report: attaching does not write the report again
    report_writes = [w for w in first.netsuite_writes if w.path.startswith(REPORTS) and "!attach" not in w.path]
    assert len(report_writes) == len(exportable_sheets(session))

    reapprove(session, sheet_with_receipts(session)["ID"])
    assert run(session, "expenses").netsuite_writes == []


def test_a_crash_between_a_receipt_upload_and_its_mapping_write_uploads_it_once(activity, monkeypatch):
    session = activity
    lost: list[str] = []
    original = MappingStore.put

    def lose_the_first_write_after_an_upload(self, mapping):
        if mapping.kind == "expenseitem" and mapping.details.get("receipt_file") and not lost:
            lost.append(mapping.source_id)
            raise ConnectionError("the worker lost DynamoDB after uploading the receipt")
        return original(self, mapping)

    monkeypatch.setattr(MappingStore, "put", lose_the_first_write_after_an_upload)

    result = run(session, "expenses")

    assert lost
    (item_id,) = lost
    puts = [w for w in uploads(result.netsuite_writes) if w.path.endswith(file_external_id(item_id))]
    assert len(puts) == 1  # the retry found the file by its external ID and hash, and did not upload it again
    probes = [
        r
        for r in session.simulators.netsuite.requests
        if r.method == "GET" and r.path.endswith(f"file/eid:{file_external_id(item_id)}")
    ]
    assert len(probes) == 1
    (stored,) = files_by_external_id(session)[file_external_id(item_id)]
    sheet = session.simulators.clicktime.store.expense_items[item_id]["ExpenseSheetID"]
    assert {"id": stored["id"]} in [line.get("expmediaitem") for line in lines_of(report_of(session, sheet))]
    assert all(len(copies) == 1 for copies in files_by_external_id(session).values())


def test_the_accounting_periods_are_read_from_netsuite_beside_the_first_expense_sheet(activity, monkeypatch):
    """As for timesheets: every report needs the accounting periods (closed and A/P-locked periods), read from
    NetSuite once per invocation, and read beside the expense sheet rather than after it. Each expense sheet read
    here waits until this invocation's periods have been asked for, which happens only when the two overlap."""
    overlapped = sheet_reads_waiting_for_periods(monkeypatch, activity, "ExpensesWorker", GUARD_SECONDS)

    run(activity, "expenses")

    assert overlapped and all(overlapped)
    found = reports(activity)
    assert found and all(len(each) == 1 for each in found.values())


def test_an_expense_sheets_items_are_read_beside_the_sheet_not_after_it(activity, monkeypatch):
    """A report needs the sheet and its items, two ClickTime reads; one after the other they kept the report's
    first write waiting for both. Each sheet read here waits until its items have been asked for, which happens
    only when the two overlap (each sheet has its own signal, so sheets in progress together do not mix)."""
    runtime = activity.runtime("ExpensesWorker")
    asked: dict[str, threading.Event] = {}
    guard = threading.Lock()
    overlapped: list[bool] = []
    read_sheet, read_items = runtime.clicktime.expense_sheet, runtime.clicktime.expense_items

    def signal(sheet_id: str) -> threading.Event:
        with guard:
            return asked.setdefault(sheet_id, threading.Event())

    def items(**filters: Any) -> Any:
        signal(str(filters.get("ExpenseSheetID"))).set()
        return read_items(**filters)

    def sheet(sheet_id: str) -> Any:
        overlapped.append(signal(sheet_id).wait(GUARD_SECONDS))
        return read_sheet(sheet_id)

    monkeypatch.setattr(runtime.clicktime, "expense_items", items)
    monkeypatch.setattr(runtime.clicktime, "expense_sheet", sheet)

    run(activity, "expenses")

    assert overlapped and all(overlapped)
    found = reports(activity)
    assert found and all(len(each) == 1 for each in found.values())


def test_a_failed_read_of_the_accounting_periods_is_met_once_per_expense_sheet_not_read_again(activity, monkeypatch):
    """When the periods read beside the sheet fails, the sheet fails with that error; the plan does not read them
    again (under an outage a second read would wait through the client's retries twice)."""
    refusal = ConfigurationError("the integration role cannot read accountingperiod", cause="periods-unreadable")
    reads = periods_unreadable(monkeypatch, activity, "ExpensesWorker", refusal)

    first = run(activity, "expenses")

    assert reads.sheets >= 1 and reads.periods == reads.sheets
    assert not reports(activity)
    assert first.failures and all("cannot read accountingperiod" in f["reason"] for f in first.failures)
