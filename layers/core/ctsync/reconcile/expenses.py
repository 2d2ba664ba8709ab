"""Does NetSuite hold the approved ClickTime expenses, to the cent?

Compared in the currency each expense was spent in, so no exchange rate enters the comparison:
- ClickTime side: every approved (or paid) expense sheet in the export's look-back, its items grouped per
  NetSuite employee, project and currency; an item counts what was spent (`AmountForeign` in
  `AmountForeignCurrency` for a foreign item, else `Amount` in the company currency), rounded to the currency's
  precision. Read from the items here, not from the exporter's lines. Sheets blocked by an open cause (what the
  exporter's plan refuses: an unmapped expense type, employee or project, items read that do not add up to the sheet's
  own figures) are left out and listed in the notes
  with their amounts, not counted as differences; the report an earlier approval of such a sheet left in NetSuite
  is still read (it must be there, and its receipts linked), counted in the `netsuite` total and in
  `netsuite_of_blocked_sheets`, and named in the sheet's note. A sheet ClickTime sends unreadable (an item the
  export refuses, so that sheet alone is a dead letter) is named in a note with the reason, and the others compared;
- NetSuite side: each report the mapping store says was exported for those sheets, read with its lines
  (`expandSubResources=true`): a line in another currency counts its `foreignamount` in its `currency`, any
  other line its `amount` in the report's currency.

What posts to the ledger is each line's `amount` in its report's currency, which for a line in another currency
the first check never reads: a second check compares it per employee, project and report currency with what the
export plans (ClickTime's converted `Amount` when ClickTime kept the item in the report's currency, else the
spent amount at NetSuite's rate of the expense date, rounded once). A rate changed in NetSuite after the export
shows there as a difference.

Sums per group can net out: a line missing from one report and on another, a line that changed what it is. So
each report is also compared with what the export plans for its sheet: its date and posting period, and its
lines as a multiset of (category, project, task, date, amount, currency and amount spent, billable,
reimbursable).

Reports whose sheet is no longer approved are differences. Receipts are counted (stored, linked to their line or
attached, failed with their cause) and their links checked against the report lines.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ctsync.clicktime.client import ClickTimeClient
from ctsync.clicktime.models import ExpenseSheet
from ctsync.config import SyncConfig
from ctsync.errors import BadInput
from ctsync.money import round_money, to_decimal
from ctsync.netsuite.client import NetSuiteClient
from ctsync.netsuite.errors import NetSuiteNotFound
from ctsync.reconcile.report import (
    AMOUNT_UNKNOWN,
    Check,
    Reconciliation,
    groups_check,
    left_out_unknown,
    unreadable,
)
from ctsync.records.clicktime_source import EXPENSE_SHEETS, ApprovedSheetSource
from ctsync.records.expense_export import ITEM_KIND, KIND, RECORD, ExpenseExport, owes_nothing
from ctsync.records.expense_lines import EXTERNAL_PREFIX, ReportPlan, posted_period, spent_by, unlike_plan
from ctsync.records.netsuite_source import keyset
from ctsync.records.references import ClickTimeReferences, NetSuiteReferences, People, Projects
from ctsync.records.sheet_export import exported_as_approved
from ctsync.references import References
from ctsync.state import MappingStore
from ctsync.sync.definition import Window
from ctsync.timeutil import utc_now

Group = tuple[str, str, str]  # NetSuite employee, project ("-" for none), currency ISO


def reconcile_expenses(
    netsuite: NetSuiteClient, clicktime: ClickTimeClient, mappings: MappingStore, config: SyncConfig
) -> Reconciliation:
    cache = References()
    ns, ct = NetSuiteReferences(netsuite, cache), ClickTimeReferences(clicktime, cache)
    people, projects = People(config.people, ns, ct), Projects(mappings, ct, cache, ns)
    source = ApprovedSheetSource(
        clicktime, mappings, EXPENSE_SHEETS, lookback_days=config.expenses.lookback_days, skew_seconds=0
    )
    end = clicktime.server_time()
    window = Window(start=end, end=end)
    export = ExpenseExport(netsuite, clicktime, mappings, None, config, cache)  # type: ignore[arg-type]  # plans only
    company = ct.company_currency()

    def places(iso: str) -> int:
        currency = ns.currency_by_iso(iso)
        return currency.places if currency else 2

    expected: dict[Group, Decimal] = defaultdict(Decimal)

    def add_spent(employee: str, items: list[Any], spent: list[tuple[str, Decimal]]) -> None:
        for item, (iso, amount) in zip(items, spent, strict=True):
            project = (projects.project_of_job(item.JobID) if item.JobID else None) or "-"
            expected[(employee, project, iso)] += round_money(amount, places(iso))

    posted: dict[Group, Decimal] = defaultdict(Decimal)  # the currency: the report's
    blocked: dict[str, Decimal] = defaultdict(Decimal)
    unknown: list[str] = []  # left out, its amount unknown (an unreadable sheet without its TotalAmount)
    notes: list[str] = []
    exported: dict[str, str] = {}  # sheet -> report
    planned: dict[str, ReportPlan] = {}  # exported sheet -> what the export would send for it now
    held: dict[str, str] = {}  # blocked sheet -> the report its earlier approval left in NetSuite
    unkept: dict[str, tuple[ExpenseSheet, list[Any], Any]] = {}  # exported before its mapping kept the posting period
    as_held: set[str] = set()  # exported whole before what its plan finds now: compared by amounts spent only
    # blocked sheet with a report held -> what it spent in items not read (or its TotalAmount, unreadable), company
    blocked_unread: dict[str, Decimal] = defaultdict(Decimal)
    # blocked sheet with a report held -> its amounts per project and currency spent
    blocked_spent: dict[str, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    sheets = source.approved_sheets(window)
    for raw in sheets:
        try:
            sheet = ExpenseSheet.model_validate(raw)
            items = clicktime.expense_items(ExpenseSheetID=sheet.ID)
            mapping = mappings.get(KIND, sheet.ID)
            live = mapping is not None and not mapping.deleted
            owed = not owes_nothing(sheet, items)  # an empty read of a sheet that says it has items is blocked
            plan = export.plan(sheet, items, exported=live, posted_to=posted_period(mapping)) if owed else None
        except (BadInput, ValidationError) as error:
            # Not exported (a dead letter): approved, not in NetSuite, left out as a blocked sheet is
            total = _sheet_total(raw)
            before = mappings.get(KIND, str(raw.get("ID")))
            kept = before is not None and not before.deleted
            if total is None:
                unknown.append(f"expense sheet {raw.get('ID')} ({AMOUNT_UNKNOWN})")
            elif kept:  # less what its held report holds in that currency, below
                blocked_unread[str(raw.get("ID"))] += round_money(total, places(company))
            else:
                blocked[company] += round_money(total, places(company))
            said = (
                AMOUNT_UNKNOWN
                if total is None
                else f"{round_money(total, places(company))} {company} by its TotalAmount"
            )
            note = unreadable(f"expense sheet {raw.get('ID')}", error, said)
            if kept:
                held[str(raw.get("ID"))] = before.target_id  # type: ignore[union-attr]
                note += f"; NetSuite keeps report {before.target_id} of its earlier approval"  # type: ignore[union-attr]
            notes.append(note)
            continue
        if plan is None:  # no items, owes nothing: a report still in NetSuite (flagged, frozen) is all difference
            if live:
                exported[sheet.ID] = mapping.target_id  # type: ignore[union-attr]
            continue
        spent = [spent_by(item, company)[:2] for item in items]
        employee = (
            people.exported_to(sheet.UserID)
            if exported_as_approved(mapping, EXPENSE_SHEETS.fingerprint(raw), plan.problems)
            else None
        )
        if employee is not None:
            # Exported whole before what its plan finds now (its employee left, its category was retired): NetSuite
            # holds it and no run plans it again, so it is compared, not left out as blocked (finance review,
            # 2026-12-04). Without a plan its lines' posting is not compared: what was spent is.
            notes.append(
                f"expense sheet {sheet.ID} was exported as approved before this: {plan.problems[0].reason}; compared "
                "as NetSuite holds it (amounts spent)"
            )
            add_spent(employee, items, spent)
            exported[sheet.ID] = mapping.target_id  # type: ignore[union-attr]
            as_held.add(sheet.ID)
            continue
        if plan.problems:
            for item, (iso, amount) in zip(items, spent, strict=True):
                if live:  # what its held report holds on the same project, in the same currency, is taken off below
                    project = (projects.project_of_job(item.JobID) if item.JobID else None) or "-"
                    blocked_spent[sheet.ID][(project, iso)] += round_money(amount, places(iso))
                else:
                    blocked[iso] += round_money(amount, places(iso))
            # Each amount as it is counted (to its currency's precision): ClickTime's doubles (8.056500000000001)
            # printed raw gave the note another figure than the `blocked` total (month-end review, 2026-12-04)
            total = ", ".join(f"{round_money(amount, places(iso))} {iso}" for iso, amount in spent) or "none read"
            unread = round_money(_unread(sheet, items), places(company))  # items ClickTime did not return
            if unread and live:  # less what its held report holds beyond the items read, below
                blocked_unread[sheet.ID] += unread
            elif unread:
                blocked[company] += unread
                total += f"; {unread} {company} more by its TotalAmount, in items not read"
            note = f"expense sheet {sheet.ID} ({len(items)} item(s): {total}) is blocked: {plan.problems[0].reason}"
            if live:
                held[sheet.ID] = mapping.target_id  # type: ignore[union-attr]
                note += f"; NetSuite keeps report {mapping.target_id} of its earlier approval"  # type: ignore[union-attr]
            notes.append(note)
            continue
        employee = people.employee_of(sheet.UserID).id
        add_spent(employee, items, spent)
        for line in plan.lines:
            posted[(employee, line.project or "-", plan.currency.iso)] += line.money.amount  # type: ignore[union-attr]
        if live:
            exported[sheet.ID] = mapping.target_id  # type: ignore[union-attr]
            planned[sheet.ID] = plan
            if not posted_period(mapping):
                unkept[sheet.ID] = (sheet, items, mapping)
    approved = {str(raw["ID"]) for raw in sheets}
    read = _netsuite_amounts(netsuite, ns, {**exported, **held})
    for sheet_id, (sheet, items, mapping) in unkept.items():  # where the report was posted is where NetSuite holds it
        posted_to = export.posted_to(mapping, read.reports.get(sheet_id) or {})
        planned[sheet_id] = export.plan(sheet, items, exported=True, posted_to=posted_to)
    for sheet_id in blocked_spent.keys() | blocked_unread.keys():
        # Left out of NetSuite: what the blocked approval spent beyond what the report of its earlier one holds, per
        # project and currency (finance review, 2026-12-04: a blocked correction counted the whole sheet as not in
        # NetSuite; review of that fix: netted per currency alone, an item moved to another project hid); what it
        # spent in items not read (or by its TotalAmount, unreadable) beyond what the report holds besides, in the
        # company currency (review: a sheet exported whole and read short since was said left out)
        kept: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for (_, project, iso), amount in read.spent.get(sheet_id, {}).items():
            kept[(project, iso)] += amount
        for (project, iso), amount in blocked_spent.get(sheet_id, {}).items():
            taken = min(amount, kept[(project, iso)])
            kept[(project, iso)] -= taken
            if amount > taken:
                blocked[iso] += amount - taken
        besides = sum((amount for (_, iso), amount in kept.items() if iso == company), Decimal(0))
        if (beyond := blocked_unread.get(sheet_id, Decimal(0)) - besides) > 0:
            blocked[company] += beyond
    planned_whole = {sheet: report for sheet, report in exported.items() if sheet not in as_held}
    found, found_posted = read.summed(exported), read.summed(planned_whole, posted=True)
    # The reports of sheets no longer approved are read for their amounts: NetSuite holds them, and named without an
    # amount, in no total, its own figures did not tie out with the report's (month-end review, 2026-12-04)
    unapproved = _unapproved(mappings, approved, source.first_day(window).isoformat())
    stray_read = _netsuite_amounts(netsuite, ns, unapproved)
    strays = _strays(unapproved, stray_read) + _unknown_reports(netsuite, mappings)
    receipts = _receipts(mappings, {**exported, **held}, read.links, config.expenses.receipts.link)
    ct_totals, ns_totals = _per_currency(expected), _per_currency(read.summed({**exported, **held}))
    unlike = {sheet: d for sheet, plan in planned.items() if (d := unlike_plan(plan, read.reports.get(sheet)))}
    return Reconciliation(
        record="expenses",
        checks=[
            groups_check(
                "amounts per employee, project and currency spent (approved in ClickTime = in NetSuite)",
                expected,
                found,
                Decimal(0),
                lambda g, clicktime, netsuite: f"employee {g[0]}, project {g[1]}, {g[2]}: ClickTime {clicktime}, "
                f"NetSuite {netsuite}",
            ),
            groups_check(
                "amounts posted per employee, project and report currency (each line's amount in NetSuite)",
                posted,
                found_posted,
                Decimal(0),
                lambda g, planned, netsuite: f"employee {g[0]}, project {g[1]}, posted in {g[2]}: planned from "
                f"ClickTime {planned}, NetSuite {netsuite}",
            ),
            Check(
                name="reports as the export plans them (date, period; lines: category, project, task, amounts, "
                "billable, reimbursable)",
                expected=len(planned),
                found=len(planned) - len(unlike),
                differences=[
                    f"expense sheet {sheet} (report {exported[sheet]}): {'; '.join(found)}"
                    for sheet, found in sorted(unlike.items())
                ],
            ),
            Check(
                name="approved sheets with their report in NetSuite",
                expected=len(exported) + len(held),
                found=len(exported) + len(held) - len(read.missing),
                differences=read.missing,
            ),
            Check(
                name="reports from ClickTime whose sheet is not approved, or that no mapping knows",
                expected=0,
                found=len(strays),
                differences=strays,
            ),
            Check(
                name="receipts stored and linked to their report (per expenses.receipts.link)",
                expected=receipts["stored"],
                found=receipts["linked"],
                differences=receipts["unlinked"],
            ),
        ],
        totals={
            "clicktime_approved": _text(ct_totals),
            "netsuite": _text(ns_totals),
            "blocked": _text(blocked),
            "blocked_unknown": left_out_unknown(unknown),
            "netsuite_of_blocked_sheets": _text(_per_currency(read.summed(held))),
            "netsuite_not_approved": _text(_per_currency(stray_read.summed(unapproved))),
            "clicktime_posted": _text(_per_currency(posted)),
            "netsuite_posted": _text(_per_currency(found_posted)),
            "reports": str(len(exported) + len(held)),
            "receipts": f"stored {receipts['stored']}, linked {receipts['linked']}, failed {receipts['failed']}"
            + (f" ({receipts['causes']})" if receipts["causes"] else ""),
            "as_of": utc_now().isoformat(),
        },
        notes=notes + receipts["notes"],
    )


@dataclass
class _Read:
    """The reports read from NetSuite, per sheet: amounts spent and posted per group, the files lines link."""

    spent: dict[str, dict[Group, Decimal]] = field(default_factory=dict)
    posted: dict[str, dict[Group, Decimal]] = field(default_factory=dict)
    links: dict[str, set[str]] = field(default_factory=dict)  # report -> file ids
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)  # sheet -> the report as NetSuite holds it
    missing: list[str] = field(default_factory=list)

    def summed(self, sheets: dict[str, str], *, posted: bool = False) -> dict[Group, Decimal]:
        total: dict[Group, Decimal] = defaultdict(Decimal)
        for sheet in sheets:
            for group, amount in (self.posted if posted else self.spent).get(sheet, {}).items():
                total[group] += amount
        return dict(total)


def _netsuite_amounts(netsuite: NetSuiteClient, ns: NetSuiteReferences, reports: dict[str, str]) -> _Read:
    """Each report's lines (sheet -> report id) summed per group: what was spent (`foreignamount` in the line's
    currency, else `amount`) and what posts (`amount`, in the report's currency); the reports missing."""
    currencies = ns.currencies()
    read = _Read()
    for sheet, report_id in sorted(reports.items()):
        try:
            report = netsuite.get_record(RECORD, report_id, expand=True)
        except NetSuiteNotFound:
            read.missing.append(
                f"expense sheet {sheet}: report {report_id} is not in NetSuite (deleted there? approve the sheet "
                "again in ClickTime and the next run writes it anew)"
            )
            continue
        read.reports[sheet] = report
        employee = str((report.get("entity") or {}).get("id", ""))
        own = currencies.get(str((report.get("expensereportcurrency") or {}).get("id", "")))
        spent: dict[Group, Decimal] = defaultdict(Decimal)
        posted: dict[Group, Decimal] = defaultdict(Decimal)
        read.links[report_id] = set()
        for line in (report.get("expense") or {}).get("items", []):
            currency = currencies.get(str((line.get("currency") or {}).get("id", "")))
            spent_in = currency or own
            value = line.get("foreignamount") if currency is not None else line.get("amount")
            iso = spent_in.iso if spent_in else "?"
            amount = to_decimal(value if value is not None else 0, field="expense.amount")
            project = str((line.get("customer") or {}).get("id") or "-")
            spent[(employee, project, iso)] += round_money(amount, spent_in.places if spent_in else 2)
            in_report = to_decimal(line.get("amount") or 0, field="expense.amount")
            posted[(employee, project, own.iso if own else "?")] += round_money(in_report, own.places if own else 2)
            if (line.get("expmediaitem") or {}).get("id"):
                read.links[report_id].add(str(line["expmediaitem"]["id"]))
        read.spent[sheet], read.posted[sheet] = dict(spent), dict(posted)
    return read


def _unapproved(mappings: MappingStore, approved: set[str], first_day: str) -> dict[str, str]:
    """Sheet -> report, of the exported sheets in the look-back that are not approved now."""
    return {
        m.source_id: m.target_id
        for m in mappings.all_of_kind(KIND)
        if not m.deleted and m.source_id not in approved and m.details.get("period_start", "") >= first_day
    }


def _strays(unapproved: dict[str, str], read: _Read) -> list[str]:
    """A line per report of a sheet not approved, with what it holds (spent, per currency) as NetSuite gives it."""
    lines = []
    for sheet, report in unapproved.items():
        held = _text(_per_currency(read.summed({sheet: report}))) if sheet in read.reports else "not read"
        lines.append(f"expense report {report} ({held}) belongs to expense sheet {sheet}, which is not approved")
    return lines


def _unknown_reports(netsuite: NetSuiteClient, mappings: MappingStore) -> list[str]:
    """The reports under a ClickTime external ID that no mapping knows (written by an export that failed before
    recording them, or by hand), however old: one SuiteQL query, paged. UNVERIFIED table name: `expensereport` as
    SuiteQL exposes the record (CData's SuiteQL table list; `transaction` with type 'ExpRept' holds them too)."""
    known = {m.target_id for m in mappings.all_of_kind(KIND) if not m.deleted}

    def query(after: str | None) -> str:
        return (
            "SELECT er.id AS id, er.externalid AS externalid, TO_CHAR(er.trandate, 'YYYY-MM-DD') AS trandate "
            f"FROM expensereport er WHERE er.externalid LIKE '{EXTERNAL_PREFIX}%'{keyset('er', after)} ORDER BY er.id"
        )

    return [
        f"expense report {row['id']} ({row['externalid']}, {row['trandate']}) is not in the mapping store"
        for row in netsuite.rows(query)
        if str(row["id"]) not in known
    ]


def _receipts(
    mappings: MappingStore, exported: dict[str, str], links: dict[str, set[str]], mode: str
) -> dict[str, Any]:
    stored = linked = failed = 0
    causes: Counter[str] = Counter()
    unlinked: list[str] = []
    notes: list[str] = []
    for sheet, report in sorted(exported.items()):
        for child in mappings.children(KIND, sheet):
            if child.kind != ITEM_KIND:
                continue
            details = child.details
            if details.get("receipt_error") and not details.get("receipt_file"):
                failed += 1
                causes[details["receipt_error"]] += 1
                notes.append(f"receipt of expense item {child.source_id} (sheet {sheet}): {details['receipt_error']}")
                continue
            file_id = details.get("receipt_file")
            if not file_id:
                continue
            stored += 1
            on_line = file_id in links.get(report, set())
            attached = details.get("receipt_attached") == f"{report}:{file_id}"
            ok = {"line": on_line, "attach": attached, "both": on_line and attached}[mode]
            if ok:
                linked += 1
            else:
                unlinked.append(
                    f"receipt file {file_id} of expense item {child.source_id} is not linked to report {report}"
                )
    return {
        "stored": stored,
        "linked": linked,
        "failed": failed,
        "causes": ", ".join(f"{cause} {n}" for cause, n in sorted(causes.items())),
        "unlinked": unlinked,
        "notes": notes,
    }


def _sheet_total(raw: dict[str, Any]) -> Decimal | None:
    """An unreadable sheet's own `TotalAmount` (in the company currency, as its items' `Amount`), None when it gives
    none or one that is not a number: then its amount is unknown."""
    try:
        total = to_decimal(raw.get("TotalAmount"))
    except (BadInput, ArithmeticError, ValueError, TypeError):
        return None
    return total if total is not None and total.is_finite() else None


def _unread(sheet: ExpenseSheet, items: list[Any]) -> Decimal:
    """What a sheet's `TotalAmount` holds beyond the items read (ClickTime returns only what its user may see), 0
    when it gives none or the items cover it."""
    if sheet.TotalAmount is None or not sheet.TotalAmount.is_finite():
        return Decimal(0)
    return max(sheet.TotalAmount - sum((item.Amount for item in items), Decimal(0)), Decimal(0))


def _per_currency(groups: dict[Group, Decimal]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for (_, _, iso), amount in groups.items():
        totals[iso] += amount
    return totals


def _text(totals: dict[str, Decimal]) -> str:
    """Amounts per currency ("142.50 USD, 39.10 EUR" in ISO order); "none" when there are none (a blank read as a
    figure left out)."""
    return ", ".join(f"{amount} {iso}" for iso, amount in sorted(totals.items())) or "none"
