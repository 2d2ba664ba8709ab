"""Approved ClickTime expense sheets become NetSuite expense reports (`expenseReport`), one per sheet, receipts
stored in NetSuite's File Cabinet and linked to their lines.

One message is one expense sheet. The worker reads the sheet again (the message may be hours old), and beside
it the sheet's items and NetSuite's accounting periods (once per run and minute, `records.window.read_beside`), and:
- if it is no longer approved (or gone), removes its report (or flags it, by `expenses.on_unapproved`). A sheet
  marked **paid** in ClickTime counts as approved: it was approved, and paying it changes nothing NetSuite holds.
  An approved sheet with no items owes nothing: it gets no report, and one an earlier approval left goes the same
  way (an emptied sheet re-approved);
- blocks a sheet whose items read do not add up to the sheet's own figures (`TotalAmount`, `ExpenseItemCount`):
  ClickTime returns only the items its API user may see, and what it leaves out would be exported short, or an
  empty read taken for an emptied sheet and its report deleted (`short_of`). Nothing is written, nothing deleted;
- else builds the whole report first (`plan`): employee (`records.references.People`, the time export's way),
  the report's currency (the employee's subsidiary's), date (by `expenses.tran_date`), posting period (a closed
  or A/P-locked one by `accounting.on_closed_period`), memo (the title), classifications, approval boxes, and
  one line per item: category, amount and currency, project and task, billable and non-reimbursable flags,
  date and memo. Anything that cannot be mapped blocks the whole sheet: one cause per problem, listing its
  items, and nothing is written (whole or nothing);
- then stores each item's receipt (`ReceiptStep`: a failure never blocks the report, its line is left unlinked);
- then upserts the report, its lines linking their receipt files, when its payload changed (`PUT
  expenseReport/eid:ct-es-<sheet id>?replace=expense`: NetSuite's expense sublist has no key, and without
  `replace` an update appends the lines again). One write carries everything, so a retried or late-processed
  duplicate of it changes nothing. A report NetSuite marks paid or approved by accounting (unless the export
  sets that box itself, `expenses.approval`), or one in a closed period, is never changed or deleted: it is
  flagged with the reason. A posting period chosen out of a closed one is kept on the sheet's mapping: the report
  stays there while its date's period is the same, whatever closes or is reopened later.

A write of the report whose answer was lost (a timeout, a connection dropped after sending, a 500) may still be
processed by NetSuite after a later write: a correction undone, a rejected sheet's report brought back. The sheet's
mapping then keeps when (`unsettled.SINCE`), the sheet is listed, and the first run `netsuite.late_write_seconds`
later looks at it again (`recheck`, `records.expense_doubts`): its report written whole as the sheet stands, or
deleted (found by its external ID) when the sheet is no longer approved.

Currencies and amounts: `records.expense_lines`. Receipts: `records.expense_receipts`.

State: the sheet's mapping (kind `expensesheet`, target the report's internal id) is the lock that keeps two
deliveries apart and the version fence (`ApprovedDate`); its content hash is the report payload last written.
Each item has a child mapping (kind `expenseitem`) with its line's hash and its receipt's state (file, SHA-256,
the approval it was checked for, attached where), for traceability and so a re-run never uploads a receipt it
stored already.
"""

from __future__ import annotations

import re
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from ctsync import unsettled
from ctsync.clicktime.client import ClickTimeClient
from ctsync.clicktime.models import ExpenseItem, ExpenseSheet
from ctsync.config import SyncConfig
from ctsync.errors import BadInput, NeedsAttention, cause_part
from ctsync.netsuite.client import NetSuiteClient
from ctsync.netsuite.errors import (
    NetSuiteAlreadyBilled,
    NetSuiteError,
    NetSuiteNotFound,
    NetSuitePeriodClosed,
    NetSuiteValidationError,
)
from ctsync.observability import logger
from ctsync.records.blocking import (
    Blocked,
    Problem,
    _with_entries,
    backfill_since,
    keyed,
    merged,
    named,
    period_closed,
    record_flags,
)
from ctsync.records.clicktime_source import EXPENSE_SHEETS, approved_at
from ctsync.records.expense_doubts import LOOKED, Attempt, ReportDoubts, brought_back, unlike_held
from ctsync.records.expense_lines import (
    EXTERNAL_PREFIX,
    ITEM_KIND,
    KIND,
    RECORD,
    ROUNDED,
    ROUNDED_CAUSE,
    SUBLIST,
    LinePlan,
    Money,
    ReportPlan,
    external_id,
    id_order,
    line_mappings,
    line_money,
    posted_from_report,
    posted_period,
    report_hash,
    report_payload,
    report_total,
    resolve_category,
    rounded_texts,
    sheet_mapping,
)
from ctsync.records.expense_receipts import (
    FROZEN,
    RECEIPTS_ONLY,
    ReceiptsDone,
    ReceiptStep,
    Requeue,
    receipt_causes_of,
)
from ctsync.records.receipts import FileCabinet
from ctsync.records.references import (
    Currency,
    ExpenseCategory,
    Period,
    Projects,
    Unmapped,
    task_on_job,
)
from ctsync.records.sheet_export import (
    BLOCKED,
    SheetExport,
    approval_of,
    blocked_marker,
    flagged_before,
    kept_fingerprint,
    let_go,
    released,
    superseded,
    withdrawal_flags,
)
from ctsync.records.targets import locked
from ctsync.records.window import read_beside
from ctsync.references import References
from ctsync.state import Lock, Mapping, MappingStore, RunLog, note_key
from ctsync.sync import record_ids
from ctsync.sync.definition import CheckWarning
from ctsync.sync.messages import Outcome, WorkMessage
from ctsync.timeutil import day_named

ITEMS = "expense items"  # how a cause names what it blocks
MEMO_LIMIT = 999  # UNVERIFIED: NetSuite's length of expenseReport.memo ("Purpose") and of a line's memo
UNRECORDED = "an earlier run wrote it and did not record it"  # a noted report's plan (`MappingStore.writes_noted`)
EMPTY = "approved with no items"  # a sheet's state, as `_withdraw` says it: "expense sheet is approved with no items"
PAID_IN_FULL = "I"  # expenseReport.status: Paid In Full (exports addendum §2.2)
APPROVED_BY_ACCOUNTING = frozenset({"F", "G"})  # Approved (Overridden) by Accounting: posted, A/P may pay it


@dataclass(frozen=True)
class SheetReads:
    """Readings of a sheet in progress beside it: its items from ClickTime, NetSuite's accounting periods.
    `result()` raises what a reading raised."""

    items: Future[list[ExpenseItem]]
    periods: Future[list[Period]]


class ExpenseExport(SheetExport):
    """Both halves of the expenses sync."""

    def __init__(
        self,
        netsuite: NetSuiteClient,
        clicktime: ClickTimeClient,
        mappings: MappingStore,
        runlog: RunLog,
        config: SyncConfig,
        cache: References,
        requeue: Requeue | None = None,
    ) -> None:
        self._settings = config.expenses
        self._timezone = ZoneInfo(config.netsuite.timezone)
        super().__init__(
            netsuite,
            clicktime,
            mappings,
            runlog,
            config,
            cache,
            sheets=EXPENSE_SHEETS,
            lookback_days=config.expenses.lookback_days,
            late_approval_days=config.expenses.late_approval_days,
        )
        self._doubts = ReportDoubts(mappings)
        receipts = self._settings.receipts
        cabinet = FileCabinet(netsuite, cache, folder_name=receipts.folder_name, parent=receipts.folder_parent)
        self._receipt_step = ReceiptStep(
            netsuite, clicktime, mappings, runlog, receipts, cabinet, requeue, frozen=self._frozen
        )

    # -- the plan: everything resolved, nothing written -------------------------------------------------
    def plan(
        self,
        sheet: ExpenseSheet,
        items: list[ExpenseItem] | None = None,
        *,
        exported: bool = False,
        posted_to: str = "",
    ) -> ReportPlan:
        """The whole report, or the problems that block the sheet. `exported`: the sheet has a report already
        (one in a closed period is flagged when it would change, not refused here); `posted_to`: where that
        report was posted (`expense_lines.posted_period`): while its date's period is the same, it stays there,
        whether that period is closed or open now (one posted elsewhere out of a closed period stays there once the
        period is reopened); a date moved to another period is placed anew (open: its own; closed: the policy)."""
        people, projects = self._resolvers()
        plan = ReportPlan(sheet)
        try:
            employee = people.employee_of(sheet.UserID)
        except Unmapped as error:
            plan.problems.append(Problem(error.cause_key, error.message, error.fix))
            return plan
        plan.employee = employee.id
        plan.currency = self._report_currency(plan, employee.subsidiary)
        self._dates(plan, exported, posted_to)
        if plan.currency is None or plan.tran_date is None:
            return plan
        if items is None:
            items = self._clicktime.expense_items(ExpenseSheetID=sheet.ID)
        if (short := short_of(sheet, items)) is not None:
            plan.problems.append(short)
        projects.read_projects_of_tasks(i.TaskID for i in items if i.TaskID)
        for item in sorted(items, key=lambda i: (i.ExpenseDate[:10], id_order(i.ID))):
            self._plan_line(plan, item, projects)
        return plan

    def _report_currency(self, plan: ReportPlan, subsidiary: str | None) -> Currency | None:
        chosen = self._settings.classification.subsidiary or subsidiary
        currencies = self._ns.currencies()
        if chosen:
            currency = currencies.get(self._ns.subsidiary_currencies().get(chosen, ""))
        else:  # an account without subsidiaries keeps everything in its base currency
            currency = next((c for c in currencies.values() if c.is_base), None)
        if currency is None:
            plan.problems.append(
                Problem(
                    f"report-currency-unknown:{cause_part(chosen or 'base')}",
                    f"the currency of NetSuite subsidiary {chosen} (employee {plan.employee}) is unknown"
                    if chosen
                    else "the account has no subsidiaries and no base currency",
                    "check the subsidiary's currency in NetSuite and the integration role's access to currencies",
                )
            )
        return currency

    def _dates(self, plan: ReportPlan, exported: bool, posted_to: str) -> None:
        sheet = plan.sheet
        if self._settings.tran_date == "approval":
            day = day_named(sheet.ApprovedDate, self._timezone) if sheet.ApprovedDate else None
        else:
            day = date.fromisoformat(sheet.ExpenseSheetDate[:10]) if sheet.ExpenseSheetDate else None
        if day is None:
            by_approval = self._settings.tran_date == "approval"
            field_name = "ApprovedDate" if by_approval else "ExpenseSheetDate"
            fix = (
                "approve it again in ClickTime (its new approval carries the date), or date reports by the sheet: "
                "expenses.tran_date = sheet"
                if by_approval
                else "give the expense sheet its date in ClickTime, or date reports by their approval: "
                "expenses.tran_date = approval"
            )
            plan.problems.append(
                Problem(
                    f"bad-input:{field_name.lower()}",
                    f"expense sheet {sheet.ID} has no {field_name} (expenses.tran_date = {self._settings.tran_date})",
                    fix,
                )
            )
            return
        plan.tran_date = day
        memo = (sheet.Title or "").strip() or f"ClickTime expense sheet {sheet.ID}"
        header: dict[str, Any] = {
            "externalId": external_id(sheet.ID),
            "entity": {"id": plan.employee},
            "tranDate": day.isoformat(),
            "expensereportcurrency": {"id": plan.currency.id} if plan.currency else None,
            **self._settings.classification.refs(),
            **self._settings.approval,
        }
        period = self._ns.period_of(day)
        # A report stays in the period it was posted to while its date's period is the same, as a time bill does:
        # its own period closing since, or (posted elsewhere out of a closed one) reopened since, changes nothing.
        # Choosing again would move a posted report between two months' books (a reconciliation difference, and a
        # correction of any line moving it with no flag: finance review, 2026-12-04).
        own_then, _, sent_then = posted_to.partition(":")
        same_period = period is not None and bool(sent_then) and own_then == period.id  # a date moved is placed anew
        kept = next((p for p in self._ns.periods() if p.id == sent_then), None) if same_period else None
        if period is not None and kept is not None and kept.id != period.id and not (period.closed or period.ap_locked):
            # Posted elsewhere out of its closed period, which is open again: it stays. The memo keeps the note it
            # was posted with (reopening the month changes nothing in NetSuite); the run's note says what now holds.
            header["postingPeriod"] = {"id": kept.id}
            plan.kept_out_of_reopened = True
            memo = f"{memo} [{_moved_note(day, period.name, kept.name)}]"
            plan.notes.append(
                f"expense sheet {sheet.ID}: dated {day}; period {period.name} is open again, the report stays in "
                f"{kept.name}, where it was posted (accounting.on_closed_period)"
            )
        elif period is not None and (period.closed or period.ap_locked) and (kept is None or kept.id != period.id):
            later = kept
            if later is None and self._accounting.on_closed_period == "next_open_period":
                later = self._ns.next_open_period(period, for_expenses=True)
            if later is not None:
                header["postingPeriod"] = {"id": later.id}
                note = _moved_note(day, period.name, later.name)
                memo = f"{memo} [{note}]"
                plan.notes.append(f"expense sheet {sheet.ID}: {note}")
            elif not exported:  # a report in NetSuite already is flagged if it would change (`_frozen`)
                closed = "is closed" + (" for A/P" if not period.closed else "") + f" (field tranDate {day})"
                plan.problems.append(period_closed(period.name, self._accounting.on_closed_period, closed))
                return
        if period is not None and "postingPeriod" not in header:
            # Sent, though NetSuite would take the date's own period anyway: the upsert changes only the fields it
            # sends, so a period an earlier export chose (out of a closed one) would stay when the date moves.
            header["postingPeriod"] = {"id": period.id}
            plan.own_period = period.id
        header["memo"] = memo[:MEMO_LIMIT]
        plan.header = {k: v for k, v in header.items() if v is not None}
        sent = (plan.header.get("postingPeriod") or {}).get("id", "")
        plan.posted_to = f"{period.id}:{sent}" if period is not None and sent else ""
        plan.into_closed_period = any(p.id == sent and (p.closed or p.ap_locked) for p in self._ns.periods())

    def _plan_line(self, plan: ReportPlan, item: ExpenseItem, projects: Projects) -> None:
        assert plan.currency is not None
        problems = len(plan.problems)
        category = self._category(item, plan)
        project = None
        if item.JobID:
            project = projects.project_of_job(item.JobID)
            if project is None:
                plan.problems.append(
                    Problem(
                        f"job-unlinked:{cause_part(item.JobID)}",
                        f"job {projects.job_label(item.JobID)} is not linked to a NetSuite project",
                        "link the ClickTime job to its NetSuite project (AccountingPackageID) or let the projects "
                        "sync create it",
                        (item.ID,),
                    )
                )
        task, said = (
            task_on_job(
                projects, item.TaskID, item.JobID or "", project, item.ID, self._accounting.tasks_not_from_netsuite
            )
            if item.TaskID and project
            else (None, None)
        )
        if isinstance(said, Problem):
            plan.problems.append(said)
        elif said:
            plan.notes.append(
                f"expense sheet {plan.sheet.ID}: {said}: item {item.ID} went to project {project} without a task"
            )
        reimbursable = item.Reimbursable
        if reimbursable is None and item.PaymentTypeID:
            payment = self._ct.payment_types().get(item.PaymentTypeID)
            reimbursable = payment.Reimbursable if payment else None
        if reimbursable is None:
            plan.problems.append(
                Problem(
                    "bad-input:reimbursable",
                    f"expense item {item.ID} does not say whether it is reimbursable (nor does its payment type)",
                    entries=(item.ID,),
                )
            )
        if item.Billable is None:
            # Written as non-billable, a client's cost would never be re-billed, and nobody would be told.
            plan.problems.append(
                Problem(
                    "bad-input:Billable",
                    f"expense item {item.ID} does not say whether it is billable (Billable is missing)",
                    "check that the integration's ClickTime user may see the item's Billable flag, then approve the "
                    "sheet again",
                    entries=(item.ID,),
                )
            )
        netsuite_rate = self._ns_rate if self._settings.exchange_rates == "netsuite" else None
        money, problem = line_money(
            item, plan.currency, self._ct.company_currency(), self._ns.currency_by_iso, netsuite_rate
        )
        if problem:
            plan.problems.append(problem)
        if len(plan.problems) > problems or money is None or category is None:
            return
        memo = (item.Description or "").strip()
        comment = (item.Comment or "").strip()
        if comment and comment != memo:
            memo = f"{memo} - {comment}" if memo else comment
        if item.Quantity is not None and item.Rate is not None:
            memo = f"{memo} ({item.Quantity} x {item.Rate})".strip()
        if money.note:
            memo = f"{memo} [{money.note}]".strip()
        line: dict[str, Any] = {
            "category": {"id": category.id},
            "expensedate": item.ExpenseDate[:10],
            "amount": money.amount,
            "isBillable": bool(item.Billable),
            "isnonreimbursable": not reimbursable,
            "memo": memo[:MEMO_LIMIT],
        }
        if money.currency is not None:
            line.update({"currency": {"id": money.currency.id}, "foreignamount": money.foreign})
            line["exchangerate"] = money.rate
        if project:
            line["customer"] = {"id": project}
        if task:
            line["projecttask"] = {"id": task}
        plan.lines.append(LinePlan(item, line, money, project))

    def _ns_rate(self, spent: Currency, report: Currency, day: date) -> Decimal | None:
        return self._ns.exchange_rate(report.id, spent.id, day)

    def _category(self, item: ExpenseItem, plan: ReportPlan) -> ExpenseCategory | None:
        type_id = item.ExpenseTypeID or ""
        category, problem = self._resolve_category(type_id)
        if problem is not None and (self._ns.refresh_categories() | self._ct.refresh_expense_types()):
            category, problem = self._resolve_category(type_id)  # a person may have fixed it since the last read
        if problem is not None:
            plan.problems.append(Problem(problem.cause_key, problem.reason, problem.fix, (item.ID,)))
        return category

    def _resolve_category(self, type_id: str) -> tuple[ExpenseCategory | None, Problem | None]:
        return resolve_category(
            type_id, self._ct.expense_types().get(type_id), self._ns.expense_categories(), self._settings.categories
        )

    def check(self) -> list[str]:
        """For `ctns check` (read only): what the expenses settings name exists, and every active ClickTime
        expense type has a NetSuite expense category, so that no sheet waits on a category tonight."""
        people, _ = self._resolvers()
        problems = people.check()
        categories = self._ns.expense_categories()
        types = self._ct.expense_types()
        configured = {key.lower() for key in self._settings.categories}
        for type_id, expense_type in sorted(types.items()):
            if expense_type.IsActive:
                _, problem = resolve_category(type_id, expense_type, categories, self._settings.categories)
                if problem is None:
                    continue
                text = f"{problem.reason}: {problem.fix}"
                named = type_id.lower() in configured or expense_type.Name.strip().lower() in configured
                # A setting that names what is not there fails; an unmapped type blocks only the sheets carrying it.
                problems.append(text if named else CheckWarning(text))
        known = {type_id.lower() for type_id in types} | {t.Name.strip().lower() for t in types.values()}
        for key in self._settings.categories:
            if key.lower() not in known:
                problems.append(
                    f"expenses.categories names ClickTime expense type {key!r}, which ClickTime does not have"
                )
        subsidiary = self._settings.classification.subsidiary
        if subsidiary and subsidiary not in self._ns.subsidiary_currencies():
            problems.append(
                f"expenses.classification.subsidiary {subsidiary} is not a NetSuite subsidiary with a currency"
            )
        return problems + self._shared_problems()

    def verdict(self, message: WorkMessage, mapping: Mapping | None) -> tuple[str, str] | None:
        """For `ctns plan`, what the worker would do with this approval where the sheet decides it: "fail" with
        what would make NetSuite reject it tonight; for a sheet with no items, no report ("skip") or the report of
        an emptied one removed ("delete") or flagged ("unchanged"); "unchanged" too for an approval whose report holds
        its lines already, or whose report NetSuite froze (paid, approved by accounting, a closed period: the run
        flags the change), and for a withdrawal whose report stays (by policy, or frozen); None: as the plan judged
        it. A sheet whose items ClickTime sends unreadable is "fail" alone. A report an earlier holder noted and did
        not record (`MappingStore.writes_noted`) counts as the run counts it: written whole, or withdrawn like a
        recorded one. Reads only."""
        noted = external_id(message.source_id) in self._mappings.writes_noted(KIND, message.source_id)
        if message.op == "delete":
            return self._withdrawal_verdict(message.source_id, mapping, noted)
        sheet = self._clicktime.expense_sheet(message.source_id) if message.op == "upsert" else None
        if sheet is None or not EXPENSE_SHEETS.counts_as_approved(sheet.Status, sheet.ApprovedDate):
            return None
        try:
            items = self._clicktime.expense_items(ExpenseSheetID=sheet.ID)
        except BadInput as unreadable:  # this sheet's, as the worker would refuse it: the others are still judged
            return "fail", str(unreadable)
        if not owes_nothing(sheet, items):
            exported = mapping is not None and not mapping.deleted and bool(mapping.target_id)
            plan = self._planned(sheet, items, mapping)
            problems = merged(plan.problems)
            if problems:
                return "fail", "; ".join(_with_entries(p, ITEMS) for p in problems)
            if plan.made_anew:
                return "update", "; ".join([plan.made_anew, *plan.notes[:-1]])
            report = self._report_of(sheet.ID, mapping, noted)
            if report is None:
                return None
            if exported and not noted:  # a noted report is written whole, whatever its mapping's hash says
                assert mapping is not None
                children = {m.source_id: m for m in self._mappings.children(KIND, sheet.ID)}
                payload = report_payload(plan, self._receipt_step.linked_files(plan, children))
                version = approved_at(sheet.model_dump()) or message.version

                def to_store(item: ExpenseItem) -> bool:
                    details = children[item.ID].details if item.ID in children else {}
                    return self._receipt_step.would_store(item, details, version, sheet.ApprovedDate)

                unstored = self._settings.receipts.enabled and any(to_store(line.item) for line in plan.lines)
                if not unstored and report_hash(plan, payload) == mapping.content_hash and self._report_exists(report):
                    return "unchanged", f"report {report} holds this approval's lines already"
            if why := self._frozen(report):
                return "unchanged", f"report {report} {why}: ClickTime's changes wait (flagged)"
            if noted:
                return "update" if exported else "create", f"report {report} written whole: {UNRECORDED}"
            return None
        returned = self._unrecorded_report(sheet.ID, mapping, noted)
        report = returned or (mapping.target_id if mapping is not None and not mapping.deleted else "")
        if not report:
            return "skip", f"expense sheet is {EMPTY}: no report"
        if self._settings.on_unapproved == "flag":
            return "unchanged", f"expense sheet is {EMPTY}: report {report} flagged (expenses.on_unapproved)"
        return "delete", f"expense sheet is {EMPTY}: report {report} removed unless NetSuite froze it"

    def _planned(self, sheet: ExpenseSheet, items: list[ExpenseItem], mapping: Mapping | None) -> ReportPlan:
        """The sheet's plan against the report its mapping knows (`plan`). A report kept in a closed period that
        NetSuite no longer holds (a person deleted it after the period closed) is planned as a first export: posted
        to the next open period or held, by `accounting.on_closed_period`, never made anew inside the closed period
        (NetSuite refuses that). So is one kept where it was posted out of its date's period once that period is
        open again: made anew, it goes to its own period (review of 2026-12-04's diff: it was made anew in the later
        period, its memo saying the open period was closed). One read of the report, only for a report kept so."""
        exported = mapping is not None and not mapping.deleted and bool(mapping.target_id)
        plan = self.plan(sheet, items, exported=exported, posted_to=self.posted_to(mapping))
        kept = plan.into_closed_period or plan.kept_out_of_reopened
        if exported and kept and not self._report_exists(mapping.target_id):  # type: ignore[union-attr]
            closed = plan.into_closed_period
            plan = self.plan(sheet, items)
            plan.made_anew = f"expense report {mapping.target_id} was deleted in NetSuite " + (  # type: ignore[union-attr]
                "after its period closed: made anew as a first export is (accounting.on_closed_period)"
                if closed
                else "after it was posted out of its date's period, which is open again: made anew in that period"
            )
            plan.notes.append(f"expense sheet {sheet.ID}: {plan.made_anew}")
        return plan

    def _report_exists(self, report: str) -> bool:
        try:
            self._netsuite.get_record(RECORD, report, fields=["id"])
        except NetSuiteNotFound:
            return False
        return True

    def _withdrawal_verdict(self, sheet_id: str, mapping: Mapping | None, noted: bool) -> tuple[str, str] | None:
        returned = self._unrecorded_report(sheet_id, mapping, noted)
        unrecorded = mapping is None or mapping.deleted or not mapping.target_id
        if returned is None and unrecorded:
            if mapping is not None and mapping.deleted and mapping.details.get(BLOCKED):
                return "skip", f"blocked, no report in NetSuite: its causes let go of expense sheet {sheet_id}"
            return None
        report = returned or (mapping.target_id if mapping is not None else "")
        if self._settings.on_unapproved == "flag":
            return "unchanged", f"report {report} stays in NetSuite (expenses.on_unapproved = flag)"
        if why := self._frozen(report):
            return "unchanged", f"report {report} {why}: not deleted (flagged)"
        if unrecorded:
            return "delete", f"report {report} removed: {UNRECORDED}"
        return None

    def _report_of(self, sheet_id: str, before: Mapping | None, noted: bool) -> str | None:
        """The report an export of the sheet writes over: its mapping's, else one NetSuite holds under the sheet's
        external ID that a holder noted and did not record (`_unrecorded_report`); None: a new one is made."""
        if before is not None and not before.deleted and before.target_id:
            return before.target_id
        return self._unrecorded_report(sheet_id, before, noted)

    def _unrecorded_report(self, sheet_id: str, before: Mapping | None, noted: bool, look: bool = False) -> str | None:
        """The report NetSuite holds under the sheet's external ID where its mapping (`before`) may not know it: a
        holder noted a write of it (`noted`: `MappingStore.note_writes`) and failed before recording it, or (`look`) a
        late request wrote it after the sheet's report was withdrawn. None: not looked for, or not there. One read
        (`brought_back`)."""
        unrecorded = before is None or before.deleted
        if not (noted or (unrecorded and look and before is not None)):
            return None
        return brought_back(self._netsuite, sheet_id, None if unrecorded else before.target_id)  # type: ignore[union-attr]

    # -- the worker -----------------------------------------------------------------------------------------
    def apply(self, message: WorkMessage) -> Outcome:
        return self._under_lock(message, Attempt())

    def recheck(self, message: WorkMessage) -> Outcome:
        """A later look at a sheet listed after a write of its report whose answer was lost: NetSuite may process
        such a request late, over a later write (a correction undone, a rejected sheet's report brought back).

        Until `netsuite.late_write_seconds` have passed since that write, nothing is done. Then the sheet is
        exported again as it stands in ClickTime, its report written whole whatever its mapping says (or deleted,
        found by its external ID, when the sheet is no longer approved), and the sheet leaves the list unless one
        of those writes was of unknown outcome too."""
        return self._under_lock(message, Attempt(look=True))

    def _under_lock(self, message: WorkMessage, attempt: Attempt) -> Outcome:
        receipts_only = bool(message.snapshot.get(RECEIPTS_ONLY)) and not attempt.look
        # A look has an owner of its own: the sheet's approval may be in progress beside it in the same run
        owner = f"{message.run_id}:{'check:' if attempt.look else ''}{message.source_id}"
        owner += ":receipts" if receipts_only else ""
        # The sheet's items and the accounting periods (once per run and minute) are read beside the sheet: the
        # plan needs all three, and reading them one after another kept the sheet's first write waiting
        with (
            locked(self._mappings, KIND, message.source_id, owner) as lock,
            read_beside(lambda: _noted(self._clicktime.expense_items(ExpenseSheetID=message.source_id))) as items,
            read_beside(self._ns.periods) as periods,
            unsettled.watching() as attempt.sent,
        ):
            if attempt.look:
                waiting = self._still_waiting(lock, "a report write")
                if waiting is not None:
                    return waiting
                before = lock.mapping
                assert before is not None  # `_still_waiting` answered otherwise
                # A look is not a new version: neither the fence nor the approval moves. What it queues (a retry of
                # the receipt step) is the sheet's own work, not another look.
                message = message.model_copy(
                    update={
                        "op": "upsert",
                        "version": before.source_version or message.version,
                        "fingerprint": approval_of(before.fingerprint),
                    }
                )
            try:
                outcome = self._apply_locked(lock, message, attempt, SheetReads(items, periods), receipts_only)
                # a look past its wait writes the report whole as the sheet stands: it went through, as an export does
                return replace(outcome, whole=True) if attempt.look else outcome
            except NeedsAttention as error:
                doubts = partial(self._doubts.recorded, lock, Attempt(sent=attempt.sent))
                held = not attempt.look and self._mark_held(lock, error, attempt.period_start, "expense sheet", doubts)
                if not held:
                    self._doubts.keep(lock, attempt)
                if not attempt.look or error.systemic:  # a login or permission failure stops the sync as usual
                    raise
                then = "the report is written whole once it goes through"
                return self._look_waits(lock, message, error, "expense sheet", LOOKED, then)
            except BaseException:
                self._doubts.keep(lock, attempt)
                raise

    def _apply_locked(
        self, lock: Lock, message: WorkMessage, attempt: Attempt, reads: SheetReads, receipts_only: bool
    ) -> Outcome:
        sheet = self._clicktime.expense_sheet(message.source_id)
        before = lock.mapping
        if sheet is None or not EXPENSE_SHEETS.counts_as_approved(sheet.Status, sheet.ApprovedDate):
            status = sheet.Status if sheet else "deleted"
            if receipts_only:
                self._mappings.release(lock)
                return Outcome("skipped", before.target_id if before else None, f"sheet is {status}: no receipts")
            return self._withdraw(lock, message, status, attempt)
        attempt.period_start = (sheet.ExpenseSheetDate or sheet.ApprovedDate or "")[:10]
        version = approved_at(sheet.model_dump()) or message.version
        if superseded(before, sheet.ApprovedDate, version):
            self._mappings.release(lock)
            return Outcome("skipped", before.target_id, "stale: a newer approval was exported already")
        items = reads.items.result()
        if not items and receipts_only:
            self._mappings.release(lock)
            return Outcome("skipped", before.target_id if before else None, "sheet has no items: no receipts")
        if owes_nothing(sheet, items):
            # Nothing is owed: no report of no lines (whether NetSuite's REST API refuses one is unverified; its
            # form does), and an earlier one leaves. An empty read of a sheet whose own figures say it has items is
            # not that: the plan blocks it (`short_of`), and its report stays.
            return self._withdraw(lock, message, EMPTY, attempt, fingerprint=message.fingerprint)
        children = {m.source_id: m for m in self._mappings.children(KIND, sheet.ID)}
        record_ids.note_mappings(children.values())  # its items and their report, on every line about it
        reads.periods.result()  # a failed read raises here, rather than the plan reading (and retrying) it again
        plan = self._planned(sheet, items, before)
        if receipts_only:
            recorded = partial(self._doubts.recorded, lock, attempt)
            return self._receipt_step.again(lock, message, plan, version, children, recorded)
        for note in plan.notes:
            self._runlog.note(message.run_id, note_key("moved", note), note)
        if plan.problems:
            blocked = Blocked(sheet.ID, plan.problems, ITEMS)
            day = str(sheet.ExpenseSheetDate or plan.tran_date or "")[:10]
            marker = blocked_marker(before, KIND, sheet.ID, day, blocked)
            if marker is not None:
                self._mappings.commit(lock, marker)
            raise blocked
        outcome = self._export(lock, message, plan, version, children, attempt)
        rounded = rounded_texts(plan)
        if outcome.action != "unchanged":
            record_flags(
                self._runlog,
                message,
                rounded,
                what=f"expense sheet {sheet.ID} (report {outcome.target_id})",
                cause_key=ROUNDED_CAUSE,
                fix="correct the amount in ClickTime to the currency's decimal places if the rounding is not right",
                kind="ROUNDED",
            )
        if not rounded:
            self._rounding_let_go(message, before)
        return outcome

    def _rounding_let_go(self, message: WorkMessage, before: Mapping | None) -> None:
        """The sheet leaves the `amount-rounded` cause once no figure of its report is rounded any more (corrected in
        ClickTime and approved again) or its report left NetSuite: the cause named an amount nobody holds now, and
        `ctns errors` listed it (exit 1) for good. A mapping written before it counted its rounded figures (before
        2026-12-04) is not known to have any: such a sheet's flag stays until `ctns redrive expenses --cause
        amount-rounded`."""
        if before is not None and before.details.get(ROUNDED):
            self._runlog.unblock(message.sync, ROUNDED_CAUSE, message.source_id)

    def _export(
        self,
        lock: Lock,
        message: WorkMessage,
        plan: ReportPlan,
        version: Any,
        children: dict[str, Mapping],
        attempt: Attempt,
    ) -> Outcome:
        sheet_id = plan.sheet.ID
        before = lock.mapping
        # A look writes the report whole: a late request may have changed what NetSuite holds since the mapping; so
        # does a pass after a holder noted a write of it and did not record it
        noted = external_id(sheet_id) in lock.writes_noted
        # that holder's report, if it made one and no mapping knows it, is the sheet's (and may be frozen since)
        report = self._report_of(sheet_id, before, noted)
        held = before.content_hash if before and report and not attempt.look and not noted else ""
        frozen = self._receipt_step.frozen(report or "")
        done = ReceiptsDone()
        if self._settings.receipts.enabled:
            done = self._receipt_step.store(plan, version, children, report or "", frozen)
        payload = report_payload(plan, self._receipt_step.linked_files(plan, children))
        digest = report_hash(plan, payload)
        flags: list[str] = list(done.held_back)
        wrote = False
        if report is not None and held == digest and not self._report_exists(report):
            # Deleted in NetSuite since it was written (the reconciliation names it): this approval (a backfill,
            # the sheet approved again) writes it anew, rather than holding it as unchanged for good.
            logger.warning(
                f"expense report {report} was deleted in NetSuite: written again",
                extra={"clicktime_id": sheet_id, "netsuite_id": report},
            )
            report, held = None, ""
        if report is None or held != digest:
            if (why := frozen()) and attempt.look and before is not None and before.content_hash == digest:
                # The look would write what the last export wrote, and NetSuite froze the report since (approved,
                # paid): flagged only if it differs from the sheet (a late request landed before it froze)
                unlike = unlike_held(self._netsuite, report, plan)
                if unlike:
                    flags.append(
                        f"expense report {report} {why}: not changed, though it differs from the approved sheet "
                        f"({'; '.join(unlike[:3])}): a write of unknown outcome landed late"
                    )
                else:
                    logger.info(
                        f"expense report {report} {why}, and holds the approved sheet: nothing to write",
                        extra={"clicktime_id": sheet_id, "netsuite_id": report},
                    )
                    held = before.content_hash
            elif why:
                flags.append(f"expense report {report} {why}: not changed")
            else:
                restored: set[str] = set()
                # Noted before it is written (by external ID: a report deleted in NetSuite since is made anew): should
                # its mapping not be recorded, the next holder finds it
                self._mappings.note_writes(lock, [external_id(sheet_id)])
                while True:
                    try:
                        report = self._netsuite.upsert_record(RECORD, external_id(sheet_id), payload, replace=[SUBLIST])
                    except (NetSuiteAlreadyBilled, NetSuitePeriodClosed) as refused:
                        if report is None:
                            raise
                        flags.append(f"expense report {report}: NetSuite refused the change: {refused.detail}")
                    except NetSuiteValidationError as refused:
                        gone = receipt_file_gone(refused, plan)
                        if gone is None or gone in restored:  # NetSuite names one refused file at a time
                            raise on_line(refused, plan, payload) from None
                        restored.add(gone)
                        # A receipt file deleted in NetSuite (a File Cabinet clean-up) would refuse every later
                        # write of the report, a correction too: it is stored again and the report written once more.
                        logger.warning(
                            f"expense item {gone}: its receipt file was deleted in NetSuite; storing it again",
                            extra={"clicktime_id": gone, "netsuite_id": report or ""},
                        )
                        children[gone] = forget_receipt(children[gone])
                        done = done.merged(self._receipt_step.store(plan, version, children, report or "", frozen))
                        payload = report_payload(plan, self._receipt_step.linked_files(plan, children))
                        digest = report_hash(plan, payload)
                        flags = list(done.held_back)
                        continue
                    else:
                        wrote, held = True, digest
                    break
        assert report is not None
        complete = children.keys() >= {line.item.ID for line in plan.lines}
        wanted = {line.item.ID for line in plan.lines}
        left: tuple[Mapping, ...] = ()  # items whose mappings `_record_lines` forgets: their files may be attached
        if wrote or (not flags and not complete):
            left = tuple(m for item, m in children.items() if item not in wanted)
            children = self._record_lines(plan, report, children)
        approval = message.fingerprint or approval_of(before.fingerprint if before else "")
        if self._settings.receipts.enabled and not flags:
            # Files attached to (or detached from) the report after it is known: NetSuite may hold those back too.
            # The fingerprint moves only with the last commit: a worker that dies before it leaves the approval to
            # its redelivery (which writes nothing the report holds already) and the cause to let go of.
            interim = before.fingerprint if before else ""
            mapping = sheet_mapping(plan, report, version, held, interim, flags=0)
            # the receipt causes naming the sheet stay on it until the last commit says which still hold
            mapping = self._doubts.recorded(lock, attempt, receipt_causes_of(before, mapping))
            self._mappings.commit(lock, mapping, keep_lock=True, settled=True)
            self._receipt_step.attach(plan, report, children, done, frozen, left=left)
            flags += done.held_back
        if not flagged_before(before, approval):
            self._flag(message, flags)
        if not flags:
            released(self._runlog, message, before, FROZEN)
        fingerprint = kept_fingerprint(approval, held_back=bool(flags))
        mapping = sheet_mapping(plan, report, version, held, fingerprint, flags=len(flags))
        mapping = self._receipt_step.report(
            message, plan, report, mapping, done, try_number=0, before=before, held_back=bool(flags)
        )
        self._mappings.commit(lock, self._doubts.recorded(lock, attempt, mapping), settled=True)
        self._receipt_step.requeue_retry(message, version, done, try_number=0)
        action = "created" if before is None or before.deleted else ("updated" if wrote or done.wrote else "unchanged")
        detail = f"expense report {report}: {len(plan.lines)} line(s), {report_total(plan)}"
        detail = f"{LOOKED}: {detail}" if attempt.look else detail
        detail += f"; {done.stored} receipt(s) stored" if done.stored else ""
        detail += f"; {len(flags)} flagged" if flags else ""
        return Outcome(action, report, detail)  # type: ignore[arg-type]

    def _record_lines(self, plan: ReportPlan, report: str, children: dict[str, Mapping]) -> dict[str, Mapping]:
        """Each item's child mapping written (`line_mappings`); the items that left the sheet forgotten (their
        lines left NetSuite with the replaced line list)."""
        written = line_mappings(plan, report, children)
        self._mappings.put_many(written)
        wanted = {line.item.ID for line in plan.lines}
        self._mappings.delete_many(ITEM_KIND, [item for item in children if item not in wanted])
        return {m.source_id: m for m in written}

    # -- withdrawals and frozen reports -----------------------------------------------------------------------
    def _withdraw(
        self, lock: Lock, message: WorkMessage, status: str, attempt: Attempt, *, fingerprint: str = ""
    ) -> Outcome:
        """The sheet is not approved any more, or approved with no items (`status` says which): its report leaves
        NetSuite (or is flagged, by policy). `fingerprint`: the approval's snapshot, kept on a report that stays,
        so the next run's overlap does not queue (and flag) the same approval again."""
        before = lock.mapping
        unrecorded = before is None or before.deleted  # a report NetSuite holds would be one no mapping knows
        # written late (a look), or written by a holder that noted it and failed before recording it
        noted = external_id(message.source_id) in lock.writes_noted
        returned = self._unrecorded_report(message.source_id, before, noted, attempt.look)
        if returned is None and before is not None and before.deleted and before.details.get(BLOCKED):
            let_go_of = self._doubts.recorded(lock, attempt, let_go(self._runlog, message, before, status))
            self._mappings.commit(lock, let_go_of, settled=True)
            return Outcome("skipped", None, f"expense sheet is {status}: it was blocked, it has no report in NetSuite")
        if returned is None and unrecorded:
            if before is not None and attempt.look:
                self._mappings.commit(lock, self._doubts.recorded(lock, attempt, before), settled=True)
                return Outcome("unchanged", before.target_id, f"{LOOKED}: expense sheet is {status}, not in NetSuite")
            self._mappings.release(lock, settled=True)
            return Outcome(
                "skipped", before.target_id if before else None, f"expense sheet is {status} and not in NetSuite"
            )
        before = before or Mapping(kind=KIND, source_id=message.source_id, target_id=returned or "", deleted=True)
        report = returned or before.target_id
        flags: list[str] = []
        gone = held_back = absent = False
        if self._settings.on_unapproved == "flag":
            flags.append(
                f"expense sheet is {status}: its report {report} stays in NetSuite (expenses.on_unapproved = flag)"
            )
        elif frozen := self._frozen(report):
            flags.append(f"expense sheet is {status}, but report {report} {frozen}: not deleted")
            held_back = True
        else:
            try:
                self._netsuite.delete_record(RECORD, report)
                gone = True
            except NetSuiteNotFound:
                gone = absent = True  # a person deleted it there: nothing left NetSuite on this run
            except (NetSuiteAlreadyBilled, NetSuitePeriodClosed) as refused:
                flags.append(f"expense sheet is {status}: NetSuite refused to delete report {report}: {refused.detail}")
                held_back = True
        if not flags:
            released(self._runlog, message, before, FROZEN)
        if gone:  # what was sent rounded left NetSuite with the report
            self._rounding_let_go(message, before)
        flags, told = withdrawal_flags(before, status, flags)
        self._flag(message, flags)
        details = {k: v for k, v in before.details.items() if not (gone and k == ROUNDED)}
        mapping = before.model_copy(
            update={
                "target_id": report,
                "source_version": max(filter(None, [message.version, before.source_version])),
                "details": {**details, "withdrawn": status, **told},
                "deleted": gone,
                # A report a look leaves (by policy, or frozen) may hold what a late request wrote: the next approval
                # writes it whole
                "content_hash": "" if gone or attempt.look or noted else before.content_hash,
                "fingerprint": kept_fingerprint(fingerprint or approval_of(before.fingerprint), held_back=held_back),
            }
        )
        mapping = self._doubts.recorded(lock, attempt, mapping)
        self._mappings.commit(lock, mapping, settled=True)
        if absent:
            return Outcome(
                "unchanged", report, f"expense sheet is {status}: report {report} deleted in NetSuite already"
            )
        return Outcome(
            "updated" if gone else "unchanged",
            report,
            f"expense sheet is {status}: report {'deleted' if gone else 'kept'}",
        )

    # -- report writes of unknown outcome (`ctsync.unsettled`) ---------------------------------------------------
    def posted_to(self, mapping: Mapping | None, report: dict[str, Any] | None = None) -> str:
        """Where the sheet's report was posted (`expense_lines.posted_period`). A mapping written before it kept
        that (before 2026-12-02) is answered from the report NetSuite holds: `report` when the caller has read it,
        else one read of its date and period (once: the export's commit records it)."""
        kept = posted_period(mapping)
        if kept or mapping is None or mapping.deleted or not mapping.target_id:
            return kept
        if report is None:
            try:
                report = self._netsuite.get_record(RECORD, mapping.target_id, fields=["tranDate", "postingPeriod"])
            except NetSuiteNotFound:
                return ""
        return posted_from_report(report, self._ns.period_of)

    def _frozen(self, report: str) -> str | None:
        """Why a report must not change: paid in NetSuite, approved by accounting there (unless the export sets
        that box itself), or in a closed (or A/P-locked) period; None if it may (or is gone). One read of the
        report's status and period."""
        try:
            record = self._netsuite.get_record(RECORD, report, fields=["status", "postingPeriod", "tranDate"])
        except NetSuiteNotFound:
            return None
        status = (record.get("status") or {}).get("id")
        if status == PAID_IN_FULL:
            return "is paid in NetSuite"
        if status in APPROVED_BY_ACCOUNTING and not self._settings.approval.get("accountingapproval"):
            # A person approved it in NetSuite: what A/P pays is theirs now. Not when the export itself sets the
            # box (expenses.approval), which makes every report it writes approved by accounting.
            return "is approved by accounting in NetSuite"
        chosen = (record.get("postingPeriod") or {}).get("id")
        period = next((p for p in self._ns.periods() if p.id == str(chosen)), None) if chosen else None
        if period is None and record.get("tranDate"):
            period = self._ns.period_of(date.fromisoformat(str(record["tranDate"])[:10]))
        if period is not None and (period.closed or period.ap_locked):
            return f"is in closed period {period.name}"
        return None

    def _flag(self, message: WorkMessage, flags: list[str]) -> None:
        record_flags(
            self._runlog,
            message,
            flags,
            what=f"expense sheet {message.source_id}",
            cause_key=FROZEN,
            fix="a paid, accounting-approved or closed-period expense report, or one kept by expenses.on_unapproved"
            " = flag, is not changed by the sync: adjust it in NetSuite, or once NetSuite lets it (rejected by"
            " accounting, the period reopened) run "
            + backfill_since(
                "expenses",
                f"expense sheet {message.source_id}",
                message.version,
                "withdrawal (as read)" if message.op == "delete" else "approval",
            ),
        )


def _moved_note(day: date, closed: str, posted: str) -> str:
    """The memo's (and the run's) note on a report posted out of its date's closed period: the same words whenever
    the report is written there again, so keeping it there changes nothing of it."""
    return f"dated {day}; period {closed} is closed, posted to {posted}"


def _noted(items: list[ExpenseItem]) -> list[ExpenseItem]:
    """The sheet's items as read, each noted: a line about the sheet names them (`record_ids`)."""
    record_ids.note(source=(item.ID for item in items))
    return items


SHORT = "clicktime-expense-items-short"  # the cause of a sheet whose items read lack what the sheet itself has
SHORT_FIX = (
    "give the integration's ClickTime user access to every item of the sheet (ClickTime returns only the expense items "
    "its user may see; UNVERIFIED which role or permission that is: an administrator sees all), then run ctns "
    "redrive expenses, or "
)
SHORT_BY = Decimal("0.01")  # the least difference of amounts that makes a sheet short (below: a rounded total)


def short_of(sheet: ExpenseSheet, items: list[ExpenseItem]) -> Problem | None:
    """The problem of a sheet whose items read do not add up to its own figures: `ExpenseItemCount` (verbose) and
    `TotalAmount`, as ClickTime gives them on the sheet; None when they agree. ClickTime returns only the items its
    API user may see: an item it leaves out would be exported short, and an empty read of a re-approved sheet taken
    for an emptied sheet (its report deleted).

    A figure the sheet does not carry (an older API answer, a count sent without verbose, or one that is not a whole
    number) is not compared: a sheet that carries neither is exported as read, as before the check. The amounts are
    compared to the cent (`SHORT_BY`): ClickTime sends its total as a double, perhaps rounded while an item has a
    tenth of a cent. UNVERIFIED: that `TotalAmount` sums every item's `Amount` (reimbursable or not, in the
    company currency, as `Amount` is); the simulator's does. A hidden item under a cent is caught by its count only.
    Every disagreement counts, a read with more than the sheet says too (a hidden refund, a list paged over a change)."""
    said: list[str] = []
    read: list[str] = []
    count = _whole(sheet.ExpenseItemCount)
    if count is not None and count != len(items):
        said.append(f"{count} item(s)")
        read.append(f"{len(items)} item(s)")
    if sheet.TotalAmount is not None and sheet.TotalAmount.is_finite():
        total = sum((item.Amount for item in items), Decimal(0))
        if abs(total - sheet.TotalAmount) >= SHORT_BY:
            said.append(f"{sheet.TotalAmount} in total")
            read.append(f"{total} in total")
    if not said:
        return None
    return Problem(
        SHORT,
        f"expense sheet {sheet.ID}: ClickTime's sheet says {', '.join(said)}, its items read are {', '.join(read)}: "
        "what ClickTime did not return is not exported, nothing is written and no report is deleted",
        SHORT_FIX + backfill_since("expenses", f"expense sheet {sheet.ID}", sheet.ApprovedDate),
    )


def owes_nothing(sheet: ExpenseSheet, items: list[ExpenseItem]) -> bool:
    """Whether an approved sheet has no items, as ClickTime gives both: no report is owed, and one an earlier
    approval left leaves NetSuite. Not a sheet whose own figures say it has items (`short_of`): it is blocked."""
    return not items and short_of(sheet, items) is None


def _whole(value: Any) -> int | None:
    """A count as ClickTime sends it (a number, or a string of one); None when absent or not a whole number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return int(number) if number.is_finite() and number == number.to_integral_value() else None


__all__ = [
    "EXTERNAL_PREFIX",
    "ITEM_KIND",
    "KIND",
    "RECORD",
    "ExpenseExport",
    "LinePlan",
    "Money",
    "ReportPlan",
    "external_id",
    "line_money",
    "report_payload",
    "resolve_category",
]


def receipt_file_gone(error: NetSuiteError, plan: ReportPlan) -> str | None:
    """The item whose linked receipt file NetSuite refused as a reference (deleted in its File Cabinet), if so."""
    match = LINE_PATH.match(error.path or "")
    if not match or match.group(2) != "expmediaitem" or int(match.group(1)) >= len(plan.lines):
        return None
    return plan.lines[int(match.group(1))].item.ID


def forget_receipt(child: Mapping) -> Mapping:
    """The item's mapping without its stored receipt: the next store uploads it again."""
    kept = {k: v for k, v in child.details.items() if k not in ("receipt_file", "receipt_sha", "receipt_checked")}
    return child.model_copy(update={"details": kept})


LINE_PATH = re.compile(r"^expense\.items\[(\d+)\]\.?(\w*)")


def on_line(error: NetSuiteError, plan: ReportPlan, payload: dict[str, Any]) -> NetSuiteError:
    """A refusal NetSuite places on one line of the report (`expense.items[1].customer`) named by the ClickTime
    item, and keyed by what it refused (the field and the value sent) rather than by the line's position: two
    sheets refused for two deleted projects are two causes, each naming its project."""
    match = LINE_PATH.match(error.path or "")
    lines = payload.get(SUBLIST, {}).get("items", [])
    if not match or int(match.group(1)) >= min(len(lines), len(plan.lines)):
        return error
    index, field = int(match.group(1)), match.group(2)
    item = plan.lines[index].item.ID
    sent = lines[index].get(field) if field else None
    value = sent.get("id") if isinstance(sent, dict) else sent
    refused = f"{field} {value}" if field and value not in (None, "") else field or "the line"
    return keyed(
        named(error, f"expense item {item} (line {index + 1} of the report)"),
        f"netsuite-{cause_part(error.code)}:{cause_part(refused)}",
        f"NetSuite refuses {refused} on expense item {item}'s line: check that record in NetSuite (deleted, "
        "inactive, not allowed for this subsidiary?) or the ClickTime item's job or expense type, then redrive",
    )
