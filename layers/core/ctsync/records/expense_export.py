"""Approved ClickTime expense sheets become NetSuite expense reports (`expenseReport`), one per sheet, receipts
stored in NetSuite's File Cabinet and linked to their lines.

One message is one expense sheet. The worker reads the sheet again (the message may be hours old) and:
- if it is no longer approved (or gone), removes its report (or flags it, by `expenses.on_unapproved`). A sheet
  marked **paid** in ClickTime counts as approved: it was approved, and paying it changes nothing NetSuite holds;
- else builds the whole report first (`plan`): employee (`records.references.People`, the time export's way),
  the report's currency (the employee's subsidiary's), date (by `expenses.tran_date`), posting period (a closed
  or A/P-locked one by `accounting.on_closed_period`), memo (the title), classifications, approval boxes, and
  one line per item: category, amount and currency, project and task, billable and non-reimbursable flags,
  date and memo. Anything that cannot be mapped blocks the whole sheet: one cause per problem, listing its
  items, and nothing is written (whole or nothing);
- then upserts the report when its payload changed (`PUT expenseReport/eid:ct-es-<sheet id>?replace=expense`:
  NetSuite's expense sublist has no key, and without `replace` an update appends the lines again). A report
  NetSuite marks paid, or one in a closed period, is never changed or deleted: it is flagged with the reason;
- then, as a separate step that never blocks the report, stores each item's receipt (see `_receipts`).

Currencies and amounts (every amount Decimal, rounded once by `ctsync.money`'s rule to the precision NetSuite
gives its currency). ClickTime keeps an item's `Amount` in the company currency C; an item paid in another
currency O also has `AmountForeign` in O and `AmountForeignExchangeRate` (O -> C). The report is kept in the
employee's subsidiary currency R, and each line says what was spent:
- O = R: `amount` = what was spent in O (the foreign amount, or Amount when O is C); no currency fields;
- R = C, O other: `amount` = ClickTime's Amount, the figure the approver saw, even where it differs by a cent
  from AmountForeign x rate (it is kept, not recomputed); `currency` O, `foreignamount`, `exchangerate` from
  ClickTime;
- R other than both (a USD item on a EUR employee's report): ClickTime gives no rate into R, so NetSuite's own
  (Currency Exchange Rates, the latest on or before the expense date; `expenses.exchange_rates = netsuite`) is
  used: `amount` = foreign amount x that rate, rounded; or the sheet is blocked (`fail`).

State: the sheet's mapping (kind `expensesheet`, target the report's internal id) is the lock that keeps two
deliveries apart and the version fence (`ApprovedDate`); its content hash is the report payload last written.
Each item has a child mapping (kind `expenseitem`) with its line's hash and its receipt's state (file, SHA-256,
the approval it was checked for, attached where), for traceability and so a re-run never uploads a receipt it
stored already.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from ctsync.clicktime.client import ClickTimeClient, ReceiptRefused
from ctsync.clicktime.models import ExpenseItem, ExpenseSheet, ExpenseType
from ctsync.config import SyncConfig
from ctsync.errors import NeedsAttention, TransientError, cause_part
from ctsync.money import round_money
from ctsync.netsuite.client import NetSuiteClient
from ctsync.netsuite.errors import NetSuiteAlreadyBilled, NetSuiteNotFound, NetSuitePeriodClosed
from ctsync.records.clicktime_source import EXPENSE_SHEETS, ApprovedSheetSource, approved_at
from ctsync.records.receipts import FileCabinet, file_type_of
from ctsync.records.references import (
    ClickTimeReferences,
    Currency,
    ExpenseCategory,
    NetSuiteReferences,
    People,
    Projects,
    Unmapped,
)
from ctsync.records.targets import content_hash, locked
from ctsync.records.time_export import Blocked, Problem, _with_entries, merged, record_flags
from ctsync.references import References
from ctsync.state import Lock, Mapping, MappingStore, RunLog
from ctsync.sync.messages import Outcome, WorkMessage
from ctsync.timeutil import format_instant

KIND = "expensesheet"
ITEM_KIND = "expenseitem"
RECORD = "expenseReport"
SUBLIST = "expense"
EXTERNAL_PREFIX = "ct-es-"
ITEMS = "expense items"  # how a cause names what it blocks
MEMO_LIMIT = 999  # UNVERIFIED: NetSuite's length of expenseReport.memo ("Purpose") and of a line's memo
PAID_IN_FULL = "I"  # expenseReport.status: Paid In Full (exports addendum §2.2)
# The snapshot flags of a receipts retry (a message the worker sends itself): only the receipt step runs.
RECEIPTS_ONLY = "receipts_only"
RECEIPT_TRY = "receipt_try"
DOWNLOAD_ATTEMPTS = 2  # the client's own tries per receipt; later ones go through the queue
_SAFE = re.compile(r"[^A-Za-z0-9_-]")

Requeue = Callable[[WorkMessage, int], None]  # a message, its delay in seconds


def external_id(sheet_id: str) -> str:
    """The report's external ID: NetSuite documents [A-Za-z0-9_-]; anything else is written as _xx hex."""
    return EXTERNAL_PREFIX + _SAFE.sub(lambda m: f"_{ord(m.group()):02x}", sheet_id)


# -- the pure parts ------------------------------------------------------------------------------------------


def resolve_category(
    type_id: str,
    expense_type: ExpenseType | None,
    categories: dict[str, ExpenseCategory],
    explicit: dict[str, str],
) -> tuple[ExpenseCategory | None, Problem | None]:
    """The NetSuite expense category of a ClickTime expense type, or the problem that blocks it.

    Tried in order: `expenses.categories` by the type's ID, then by its name (a deliberate choice of the
    operator, so it decides first); the type's AccountingPackageID (a category's internal id, or its external
    ID); a category with the same name (case-insensitive, the only active one of that name). An inactive
    category blocks rather than falls through: a person retired it on purpose.
    """
    name = expense_type.Name.strip() if expense_type else ""
    label = f"{name} ({type_id})" if name else type_id
    by_name = {key.lower(): value for key, value in explicit.items()}
    chosen: ExpenseCategory | None = None
    how = ""
    wanted = explicit.get(type_id) or (by_name.get(name.lower()) if name else None)
    if wanted:
        chosen, how = categories.get(wanted), f"expenses.categories maps it to {wanted}"
        if chosen is None:
            return None, Problem(
                f"category-missing:{wanted}",
                f"ClickTime expense type {label}: {how}, which is no NetSuite expense category",
                "correct expenses.categories",
            )
    apid = ((expense_type.AccountingPackageID if expense_type else None) or "").strip()
    if chosen is None and apid:
        how = f"its AccountingPackageID is {apid}"
        chosen = categories.get(apid) or next((c for c in categories.values() if c.external_id == apid), None)
        if chosen is None:
            return None, Problem(
                f"category-missing:{cause_part(apid)}",
                f"ClickTime expense type {label}: {how}, which is no NetSuite expense category",
                "set the type's AccountingPackageID to a NetSuite expense category's internal id, or map the type "
                "in expenses.categories",
            )
    if chosen is None and name:
        same = [c for c in categories.values() if c.name.lower() == name.lower()]
        active = [c for c in same if not c.is_inactive]
        chosen = active[0] if len(active) == 1 else (same[0] if len(same) == 1 else None)
        how = "by its name"
        if len(active) > 1:
            return None, Problem(
                f"category-ambiguous:{cause_part(name)}",
                f"ClickTime expense type {label}: {len(active)} active NetSuite expense categories are named {name}",
                "map the type in expenses.categories or set its AccountingPackageID",
            )
    if chosen is None:
        return None, Problem(
            f"expense-type-unmapped:{cause_part(name or type_id)}",
            f"ClickTime expense type {label} has no NetSuite expense category (none by expenses.categories, "
            "AccountingPackageID or name)",
            f"create a NetSuite expense category named {name or type_id}, set the type's AccountingPackageID to a "
            "category's internal id, or map the type in expenses.categories",
        )
    if chosen.is_inactive:
        return None, Problem(
            f"category-inactive:{chosen.id}",
            f"ClickTime expense type {label} maps to NetSuite expense category {chosen.name} ({chosen.id}), "
            f"which is inactive ({how})",
            f"reactivate category {chosen.id} in NetSuite or map the type to another",
        )
    return chosen, None


@dataclass(frozen=True)
class Money:
    """What one line says about money: `amount` in the report's currency; `currency`, `foreign` and `rate`
    when the item was spent in another currency; `spent_in`/`spent` what was spent (for reconciliation)."""

    amount: Decimal
    spent_in: str  # ISO
    spent: Decimal
    currency: Currency | None = None
    foreign: Decimal | None = None
    rate: Decimal | None = None
    note: str = ""


RateLookup = Callable[[Currency, Currency, date], Decimal | None]  # (from, into, day) -> rate


def line_money(
    item: ExpenseItem,
    report: Currency,
    company_iso: str,
    currency_by_iso: Callable[[str], Currency | None],
    netsuite_rate: RateLookup | None,
) -> tuple[Money | None, Problem | None]:
    """The line amounts of one item (rules in the module docstring); `netsuite_rate` None blocks a line that
    needs NetSuite's rate (`expenses.exchange_rates = fail`)."""
    home = (item.Currency or company_iso).strip().upper()
    foreign = bool(item.HasForeignCurrency or item.AmountForeignCurrency) and item.AmountForeign is not None
    spent_iso = (item.AmountForeignCurrency or "").strip().upper() if foreign else home
    spent_value: Decimal = item.AmountForeign if foreign and item.AmountForeign is not None else item.Amount
    spent_currency = currency_by_iso(spent_iso) if spent_iso else None
    if spent_currency is None:
        return None, Problem(
            f"currency-unmapped:{cause_part(spent_iso or 'none')}",
            f"expense item {item.ID} is in currency {spent_iso or '(none)'}, which NetSuite does not have",
            f"add the currency {spent_iso} in NetSuite (symbol = the ISO code) or correct the item",
            (item.ID,),
        )
    spent = round_money(spent_value, spent_currency.places)
    if spent_currency.id == report.id:
        return Money(round_money(spent_value, report.places), spent_iso, spent), None
    if home == report.iso and foreign:
        rate = item.AmountForeignExchangeRate
        if rate is None or rate <= 0:
            return None, Problem(
                "bad-input:exchange-rate",
                f"expense item {item.ID} in {spent_iso} has no exchange rate in ClickTime ({rate})",
                "give the item its exchange rate in ClickTime",
                (item.ID,),
            )
        return Money(round_money(item.Amount, report.places), spent_iso, spent, spent_currency, spent, rate), None
    # ClickTime gives no rate into the report's currency.
    rate = netsuite_rate(spent_currency, report, date.fromisoformat(item.ExpenseDate[:10])) if netsuite_rate else None
    if rate is None:
        how = "NetSuite has no rate on or before that date" if netsuite_rate else "expenses.exchange_rates is fail"
        return None, Problem(
            f"exchange-rate-missing:{cause_part(spent_iso)}-{cause_part(report.iso)}",
            f"expense item {item.ID} was spent in {spent_iso} on a report kept in {report.iso}, and ClickTime gives "
            f"no rate between them ({how})",
            f"add a {spent_iso} to {report.iso} rate in NetSuite (Lists > Accounting > Currency Exchange Rates) or set "
            "expenses.exchange_rates to netsuite",
            (item.ID,),
        )
    amount = round_money(spent_value * rate, report.places)
    note = f"{spent} {spent_iso} at NetSuite's rate {rate}"
    return Money(amount, spent_iso, spent, spent_currency, spent, rate, note), None


# -- plans ---------------------------------------------------------------------------------------------------


@dataclass
class LinePlan:
    item: ExpenseItem
    line: dict[str, Any]  # the expense line, without its receipt link
    money: Money
    project: str | None


@dataclass
class ReportPlan:
    sheet: ExpenseSheet
    employee: str = ""
    currency: Currency | None = None
    header: dict[str, Any] = field(default_factory=dict)
    lines: list[LinePlan] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    tran_date: date | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class ReceiptsDone:
    stored: int = 0
    linked: bool = False  # the report was written again to link files to lines
    attached: int = 0
    failures: dict[str, list[str]] = field(default_factory=dict)  # cause key -> texts: not retried for this approval
    pending: dict[str, list[str]] = field(default_factory=dict)  # cause key -> texts: may go through later
    link_hash: str = ""  # the report's payload hash after the write that linked files to lines

    @property
    def wrote(self) -> bool:
        return bool(self.stored or self.linked or self.attached)

    @property
    def retry(self) -> int:
        return sum(len(texts) for texts in self.pending.values())

    def fail(self, cause: str, text: str) -> None:
        self.failures.setdefault(cause, []).append(text)

    def later(self, cause: str, text: str) -> None:
        self.pending.setdefault(cause, []).append(text)


class ExpenseExport:
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
        self._netsuite = netsuite
        self._clicktime = clicktime
        self._mappings = mappings
        self._runlog = runlog
        self._settings = config.expenses
        self._accounting = config.accounting
        self._timezone = ZoneInfo(config.netsuite.timezone)
        self._ns = NetSuiteReferences(netsuite, cache)
        self._ct = ClickTimeReferences(clicktime, cache)
        self._people = config.people
        self._cache = cache
        self._requeue = requeue
        receipts = self._settings.receipts
        self._cabinet = FileCabinet(netsuite, cache, folder_name=receipts.folder_name, parent=receipts.folder_parent)
        self.source = ApprovedSheetSource(
            clicktime,
            mappings,
            EXPENSE_SHEETS,
            lookback_days=self._settings.lookback_days,
            skew_seconds=config.clicktime.clock_skew_seconds,
        )

    def _resolvers(self) -> tuple[People, Projects]:
        people = self._cache.get("expenses:people", lambda: People(self._people, self._ns, self._ct))
        projects = self._cache.get("expenses:projects", lambda: Projects(self._mappings, self._ct, self._cache))
        return people, projects

    # -- the plan: everything resolved, nothing written -------------------------------------------------
    def plan(
        self, sheet: ExpenseSheet, items: list[ExpenseItem] | None = None, *, exported: bool = False
    ) -> ReportPlan:
        """The whole report, or the problems that block the sheet. `exported`: the sheet has a report already
        (one in a closed period is flagged when it would change, not refused here)."""
        people, projects = self._resolvers()
        plan = ReportPlan(sheet)
        try:
            employee = people.employee_of(sheet.UserID)
        except Unmapped as error:
            plan.problems.append(Problem(error.cause_key, error.message, error.fix))
            return plan
        plan.employee = employee.id
        plan.currency = self._report_currency(plan, employee.subsidiary)
        self._dates(plan, exported)
        if plan.currency is None or plan.tran_date is None:
            return plan
        if items is None:
            items = self._clicktime.expense_items(ExpenseSheetID=sheet.ID)
        for item in sorted(items, key=lambda i: (i.ExpenseDate[:10], _id_order(i.ID))):
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

    def _dates(self, plan: ReportPlan, exported: bool) -> None:
        sheet = plan.sheet
        if self._settings.tran_date == "approval":
            approved = approved_at(sheet.model_dump())
            day = approved.astimezone(self._timezone).date() if approved else None
        else:
            day = date.fromisoformat(sheet.ExpenseSheetDate[:10]) if sheet.ExpenseSheetDate else None
        if day is None:
            field_name = "ApprovedDate" if self._settings.tran_date == "approval" else "ExpenseSheetDate"
            plan.problems.append(
                Problem(
                    f"bad-input:{field_name.lower()}",
                    f"expense sheet {sheet.ID} has no {field_name} (expenses.tran_date = {self._settings.tran_date})",
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
        if period is not None and (period.closed or period.ap_locked):
            later = (
                self._ns.next_open_period(period, for_expenses=True)
                if self._accounting.on_closed_period == "next_open_period"
                else None
            )
            if later is not None:
                header["postingPeriod"] = {"id": later.id}
                note = f"dated {day}; period {period.name} is closed, posted to {later.name}"
                memo = f"{memo} [{note}]"
                plan.notes.append(f"expense sheet {sheet.ID}: {note}")
            elif not exported:  # a report in NetSuite already is flagged if it would change (`_frozen`)
                plan.problems.append(
                    Problem(
                        f"period-closed:{cause_part(period.name)}",
                        f"period {period.name} is closed" + (" for A/P" if not period.closed else ""),
                        f"reopen {period.name} in NetSuite, or set accounting.on_closed_period to next_open_period",
                    )
                )
                return
        header["memo"] = memo[:MEMO_LIMIT]
        plan.header = {k: v for k, v in header.items() if v is not None}

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
        task = projects.task_of(item.TaskID) if item.TaskID and project else None
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

    def payload(self, plan: ReportPlan, files: dict[str, str]) -> dict[str, Any]:
        """The report as sent: header and every line, with the receipt files linked to their lines (`files`:
        item ID -> file internal id, when receipts are linked per line)."""
        lines = []
        for line in plan.lines:
            body = dict(line.line)
            file_id = files.get(line.item.ID)
            if file_id:
                body.update({"expmediaitem": {"id": file_id}, "receipt": True})
            lines.append(body)
        return {**plan.header, SUBLIST: {"items": lines}}

    def preflight(self, message: WorkMessage) -> list[str]:
        """What would make NetSuite reject this expense sheet tonight (for `ctns plan`); writes nothing."""
        sheet = self._clicktime.expense_sheet(message.source_id)
        if sheet is None or sheet.Status not in EXPENSE_SHEETS.exported_statuses:
            return []
        return [_with_entries(p, ITEMS) for p in merged(self.plan(sheet).problems)]

    # -- the worker -----------------------------------------------------------------------------------------
    def apply(self, message: WorkMessage) -> Outcome:
        receipts_only = bool(message.snapshot.get(RECEIPTS_ONLY))
        owner = f"{message.run_id}:{message.source_id}" + (":receipts" if receipts_only else "")
        with locked(self._mappings, KIND, message.source_id, owner) as lock:
            sheet = self._clicktime.expense_sheet(message.source_id)
            before = lock.mapping
            if sheet is None or sheet.Status not in EXPENSE_SHEETS.exported_statuses:
                status = sheet.Status if sheet else "deleted"
                if receipts_only:
                    self._mappings.release(lock)
                    return Outcome("skipped", before.target_id if before else None, f"sheet is {status}: no receipts")
                return self._withdraw(lock, message, status)
            version = approved_at(sheet.model_dump()) or message.version
            if before and before.source_version and version < before.source_version:
                self._mappings.release(lock)
                return Outcome("skipped", before.target_id, "stale: a newer approval was exported already")
            children = {m.source_id: m for m in self._mappings.children(KIND, sheet.ID)}
            exported = bool(before and not before.deleted)
            plan = self.plan(sheet, exported=exported)
            if receipts_only:
                return self._receipts_again(lock, message, plan, version, children)
            for note in plan.notes:
                self._runlog.note(message.run_id, f"moved:{cause_part(note)[:80]}", note)
            if plan.problems:
                raise Blocked(sheet.ID, plan.problems, ITEMS)
            return self._export(lock, message, plan, version, children)

    def _export(
        self, lock: Lock, message: WorkMessage, plan: ReportPlan, version: Any, children: dict[str, Mapping]
    ) -> Outcome:
        sheet_id = plan.sheet.ID
        before = lock.mapping
        report = before.target_id if before and not before.deleted else None
        payload = self.payload(plan, self._linked_files(plan, children))
        digest = content_hash(payload)
        flags: list[str] = []
        wrote = False
        held = before.content_hash if before and report else ""
        if report is None or held != digest:
            frozen = self._frozen(report) if report else None
            if frozen:
                flags.append(f"expense report {report} {frozen}: not changed")
            else:
                try:
                    report = self._netsuite.upsert_record(RECORD, external_id(sheet_id), payload, replace=[SUBLIST])
                except (NetSuiteAlreadyBilled, NetSuitePeriodClosed) as refused:
                    if report is None:
                        raise
                    flags.append(f"expense report {report}: NetSuite refused the change: {refused.detail}")
                else:
                    wrote, held = True, digest
        assert report is not None
        complete = children.keys() >= {line.item.ID for line in plan.lines}
        if wrote or (not flags and not complete):
            children = self._record_lines(plan, report, children)
        self._flag(message, flags)
        mapping = self._sheet_mapping(message, plan, report, version, held, before, flags=len(flags))
        self._mappings.commit(lock, mapping, keep_lock=True)  # the report is known before the receipt step
        done = ReceiptsDone()
        if self._settings.receipts.enabled and not flags:
            done = self._receipts(message, plan, report, version, children, held)
        mapping = self._after_receipts(message, plan, report, mapping, done, try_number=0)
        self._mappings.commit(lock, mapping)
        self._retry_receipts(message, version, done, try_number=0)
        action = "created" if before is None or before.deleted else ("updated" if wrote or done.wrote else "unchanged")
        detail = f"expense report {report}: {len(plan.lines)} line(s), {_total(plan)}"
        detail += f"; {done.stored} receipt(s) stored" if done.stored else ""
        detail += f"; {len(flags)} flagged" if flags else ""
        return Outcome(action, report, detail)  # type: ignore[arg-type]

    def _record_lines(self, plan: ReportPlan, report: str, children: dict[str, Mapping]) -> dict[str, Mapping]:
        """Each item's child mapping: its line's hash and what it holds (receipt state kept), and the items that
        left the sheet forgotten (their lines left NetSuite with the replaced line list)."""
        wanted = {line.item.ID for line in plan.lines}
        written = []
        for line in plan.lines:
            existing = children.get(line.item.ID)
            details = dict(existing.details) if existing else {}
            details.update(
                {
                    "amount": str(line.money.amount),
                    "spent": f"{line.money.spent} {line.money.spent_in}",
                    "project": line.project or "",
                    "employee": plan.employee,
                }
            )
            written.append(
                Mapping(
                    kind=ITEM_KIND,
                    source_id=line.item.ID,
                    target_id=report,
                    content_hash=content_hash(line.line),
                    parent=f"{KIND}#{plan.sheet.ID}",
                    details=details,
                )
            )
        self._mappings.put_many(written)
        self._mappings.delete_many(ITEM_KIND, [item for item in children if item not in wanted])
        return {m.source_id: m for m in written}

    def _sheet_mapping(
        self,
        message: WorkMessage,
        plan: ReportPlan,
        report: str,
        version: Any,
        digest: str,
        before: Mapping | None,
        *,
        flags: int,
    ) -> Mapping:
        assert plan.currency is not None and plan.tran_date is not None
        return Mapping(
            kind=KIND,
            source_id=plan.sheet.ID,
            target_id=report,
            source_version=version,
            content_hash=digest,
            fingerprint=message.fingerprint or (before.fingerprint if before else ""),
            details={
                "period_start": (plan.sheet.ExpenseSheetDate or plan.tran_date.isoformat())[:10],
                "employee": plan.employee,
                "currency": plan.currency.iso,
                "lines": str(len(plan.lines)),
                "total": _total(plan),
                "flagged": str(flags),
            },
        )

    # -- receipts: a separate step, never blocking the report ------------------------------------------------
    def _linked_files(self, plan: ReportPlan, children: dict[str, Mapping]) -> dict[str, str]:
        """Item -> file id of the receipts stored for the items' current receipts, when linked per line."""
        if self._settings.receipts.link == "attach" or not self._settings.receipts.enabled:
            return {}
        files = {}
        for line in plan.lines:
            details = children[line.item.ID].details if line.item.ID in children else {}
            if line.item.ReceiptURL and details.get("receipt_file"):
                files[line.item.ID] = details["receipt_file"]
        return files

    def _receipts(
        self,
        message: WorkMessage,
        plan: ReportPlan,
        report: str,
        version: Any,
        children: dict[str, Mapping],
        report_hash: str,
    ) -> ReceiptsDone:
        """Store each item's receipt once, then link the new files (by `expenses.receipts.link`).

        For each item with a ReceiptURL whose receipt was not stored (or refused) for this approval: download it
        as a stream capped at `receipts.max_bytes` (one receipt in memory at a time); map its type; compare its
        SHA-256 with the one stored (the same content is never uploaded again); upload it. A download that may
        work later (5xx, a timeout) is left for a retry of this step alone; one that cannot (too large, a type
        NetSuite refuses) is reported and not tried again until the sheet is approved anew.
        """
        checked = format_instant(version)
        done = ReceiptsDone()
        for line in plan.lines:
            item = line.item
            child = children.get(item.ID)
            if not item.ReceiptURL or child is None:
                continue
            details = dict(child.details)
            if details.get("receipt_checked") == checked and (
                details.get("receipt_file") or details.get("receipt_refused")
            ):
                continue  # stored (or refused) for this approval already: not downloaded again
            failure = self._receipt(item, child, details, done)
            if failure is not None:
                cause, text, retry = failure
                details["receipt_error"] = cause
                if retry:
                    done.later(cause, text)
                else:  # not tried again for this approval; an older file is not this approval's receipt
                    details.update({"receipt_refused": cause, "receipt_checked": checked})
                    details.pop("receipt_file", None)
                    done.fail(cause, text)
            else:
                for stale in ("receipt_uploading", "receipt_error", "receipt_refused"):
                    details.pop(stale, None)
                details["receipt_checked"] = checked
            children[item.ID] = self._save_child(child, details)
        self._link(plan, report, children, done, report_hash)
        return done

    def _receipt(
        self, item: ExpenseItem, child: Mapping, details: dict[str, str], done: ReceiptsDone
    ) -> tuple[str, str, bool] | None:
        """Download one receipt and store it unless NetSuite holds the same content; `details` (the item's child
        mapping) is updated in place. Returns None, or (cause, text, worth retrying) when it did not go through.
        The receipt's bytes live only in this call: one receipt in memory at a time."""
        what = f"expense item {item.ID}"
        try:
            content, mime = self._clicktime.download_receipt(
                item.ReceiptURL or "", max_bytes=self._settings.receipts.max_bytes, attempts=DOWNLOAD_ATTEMPTS
            )
        except ReceiptRefused as refused:
            return refused.cause_key, f"{what}: {refused.message}", False
        except TransientError as error:
            return "receipt-download", f"{what}: download failed: {error.message}", True
        except NeedsAttention as error:  # 404 and the like: the receipt is not there to fetch
            return "receipt-download", f"{what}: download refused: {error.message}", False
        file_type = file_type_of(mime, content)
        if file_type is None:
            return (
                "receipt-type",
                f"{what}: its receipt is {mime or 'of no type'} ({len(content)} bytes), not a file type NetSuite takes "
                "as a receipt (PNG, JPEG, GIF, TIFF, BMP, PDF)",
                False,
            )
        sha = hashlib.sha256(content).hexdigest()
        if details.get("receipt_sha") == sha and details.get("receipt_file"):
            return None  # NetSuite holds this content already
        try:
            file_id = self._store(item, child, content, file_type, sha, details)
        except TransientError as error:
            return "receipt-upload", f"{what}: upload failed: {error.message}", True
        except NeedsAttention as error:  # NetSuite refused the file or the folder
            return "receipt-upload", f"{what}: NetSuite refused the receipt: {error.message}", False
        details.update({"receipt_file": file_id, "receipt_sha": sha, "receipt_type": file_type})
        done.stored += 1
        return None

    def _store(
        self, item: ExpenseItem, child: Mapping, content: bytes, file_type: str, sha: str, details: dict[str, str]
    ) -> str:
        """Upload one receipt. Its hash is recorded before the upload: should the worker die between the upload
        and the mapping write, the next attempt reads the file's description and adopts it instead of uploading
        the same content again."""
        if details.get("receipt_uploading") == sha:
            stored = self._cabinet.stored(item.ID)
            if stored is not None and stored.sha256 == sha:
                return stored.id
        details["receipt_uploading"] = sha
        self._save_child(child, details)
        what = f"ClickTime expense item {item.ID} of expense sheet {item.ExpenseSheetID}"
        return self._cabinet.upload(item.ID, content, file_type, sha, what)

    def _save_child(self, child: Mapping, details: dict[str, str]) -> Mapping:
        saved = child.model_copy(update={"details": dict(details)})
        self._mappings.put(saved)  # a child is written only under its sheet's lock
        return saved

    def _link(
        self, plan: ReportPlan, report: str, children: dict[str, Mapping], done: ReceiptsDone, report_hash: str
    ) -> None:
        """Link stored files: the report written once more with every line's file (`line`), and/or each new file
        attached to the report (`attach`). A link NetSuite refuses is reported; the report stays as it is."""
        link = self._settings.receipts.link
        if link in ("line", "both"):
            payload = self.payload(plan, self._linked_files(plan, children))
            digest = content_hash(payload)
            if digest != report_hash:
                try:
                    self._netsuite.upsert_record(RECORD, external_id(plan.sheet.ID), payload, replace=[SUBLIST])
                except (NetSuiteAlreadyBilled, NetSuitePeriodClosed) as refused:
                    done.fail(
                        "expense-report-frozen",
                        f"receipts not linked to the lines of report {report}: NetSuite refused: {refused.detail}",
                    )
                except TransientError as error:
                    done.later(
                        "receipt-link", f"receipts not linked to the lines of report {report} yet: {error.message}"
                    )
                except NeedsAttention as error:
                    done.fail(
                        "receipt-link",
                        f"receipts not linked to the lines of report {report}: NetSuite refused: {error.message}",
                    )
                else:
                    done.linked = True
                    done.link_hash = digest
        if link in ("attach", "both"):
            for line in plan.lines:
                child = children.get(line.item.ID)
                file_id = child.details.get("receipt_file") if child and line.item.ReceiptURL else None
                if not file_id or child is None or child.details.get("receipt_attached") == f"{report}:{file_id}":
                    continue
                try:
                    self._cabinet.attach(RECORD, report, file_id)
                except TransientError as error:
                    done.later(
                        "receipt-link",
                        f"expense item {line.item.ID}: file {file_id} not attached to report {report} yet: {error.message}",
                    )
                    continue
                except NeedsAttention as error:
                    done.fail(
                        "receipt-link",
                        f"expense item {line.item.ID}: NetSuite refused to attach file {file_id} to report {report}: "
                        f"{error.message}",
                    )
                    continue
                children[line.item.ID] = self._save_child(
                    child, {**child.details, "receipt_attached": f"{report}:{file_id}"}
                )
                done.attached += 1

    def _after_receipts(
        self,
        message: WorkMessage,
        plan: ReportPlan,
        report: str,
        mapping: Mapping,
        done: ReceiptsDone,
        *,
        try_number: int,
    ) -> Mapping:
        """Report what failed (per item); the sheet's mapping as it now stands (its hash moves on when the report
        was written again to link files)."""
        settings = self._settings.receipts
        last_try = try_number >= settings.retries
        reported = [*done.failures.items(), *([] if last_try else done.pending.items())]  # the last: raised instead
        for cause, texts in reported:  # one failure per sheet and cause, naming each item
            record_flags(
                self._runlog,
                message,
                ["; ".join(texts)],
                what=f"expense sheet {plan.sheet.ID} (report {report})",
                cause_key=cause,
                fix=_RECEIPT_FIXES.get(cause, ""),
                kind="RECEIPT" if cause.startswith("receipt") else "FLAGGED",
            )
        details = {**mapping.details, "receipts_pending": str(done.retry)}
        mapping = mapping.model_copy(
            update={"details": details, "content_hash": done.link_hash or mapping.content_hash}
        )
        return mapping

    def _retry_receipts(self, message: WorkMessage, version: Any, done: ReceiptsDone, *, try_number: int) -> None:
        """Queue a retry of the receipt step alone, when something may go through later and tries are left (sent
        once the sheet's mapping is recorded, so the retry finds the lock free). Its delay doubles each try."""
        settings = self._settings.receipts
        if not done.retry or try_number >= settings.retries or self._requeue is None:
            return
        retry = message.model_copy(
            update={
                "snapshot": {**message.snapshot, RECEIPTS_ONLY: True, RECEIPT_TRY: try_number + 1},
                "version": version,
            }
        )
        self._requeue(retry, min(900, settings.retry_delay_seconds * 2**try_number))

    def _receipts_again(
        self, lock: Lock, message: WorkMessage, plan: ReportPlan, version: Any, children: dict[str, Mapping]
    ) -> Outcome:
        """A retry of the receipt step alone (a message the worker sent itself): only for the approval it was
        sent for, and only when the report is in NetSuite; the sheet's own messages do everything else."""
        before = lock.mapping
        try_number = int(message.snapshot.get(RECEIPT_TRY, 1))
        same_approval = bool(before and before.source_version) and format_instant(
            before.source_version
        ) == format_instant(version)
        if before is None or before.deleted or not same_approval or plan.problems:
            self._mappings.release(lock)
            return Outcome("skipped", before.target_id if before else None, "receipts retry superseded")
        report = before.target_id
        done = self._receipts(message, plan, report, version, children, before.content_hash)
        mapping = self._after_receipts(message, plan, report, before, done, try_number=try_number)
        self._mappings.commit(lock, mapping)
        self._retry_receipts(message, version, done, try_number=try_number)
        if done.retry and try_number >= self._settings.receipts.retries:
            cause = next(iter(done.pending))
            texts = [text for pending in done.pending.values() for text in pending]
            raise NeedsAttention(
                f"expense sheet {plan.sheet.ID} (report {report}): receipts still fail after {try_number} "
                f"retries: {'; '.join(texts)}",
                code="RECEIPT_RETRIES",
                cause=cause,
                fix=_RECEIPT_FIXES.get(cause, ""),
            )
        if done.retry:
            return Outcome("deferred", report, f"{done.retry} receipt(s) still fail (try {try_number})")
        return Outcome("updated" if done.wrote else "unchanged", report, f"{done.stored} receipt(s) stored")

    # -- withdrawals and frozen reports -----------------------------------------------------------------------
    def _withdraw(self, lock: Lock, message: WorkMessage, status: str) -> Outcome:
        """The sheet is not approved any more: its report leaves NetSuite (or is flagged, by policy)."""
        before = lock.mapping
        if before is None or before.deleted:
            self._mappings.release(lock)
            return Outcome(
                "skipped", before.target_id if before else None, f"expense sheet is {status} and not in NetSuite"
            )
        report = before.target_id
        flags: list[str] = []
        gone = False
        if self._settings.on_unapproved == "flag":
            flags.append(
                f"expense sheet is {status}: its report {report} stays in NetSuite (expenses.on_unapproved = flag)"
            )
        elif frozen := self._frozen(report):
            flags.append(f"expense sheet is {status}, but report {report} {frozen}: not deleted")
        else:
            try:
                self._netsuite.delete_record(RECORD, report)
                gone = True
            except NetSuiteNotFound:
                gone = True  # deleted in NetSuite already
            except (NetSuiteAlreadyBilled, NetSuitePeriodClosed) as refused:
                flags.append(f"expense sheet is {status}: NetSuite refused to delete report {report}: {refused.detail}")
        self._flag(message, flags)
        mapping = before.model_copy(
            update={
                "source_version": max(filter(None, [message.version, before.source_version])),
                "details": {**before.details, "withdrawn": status},
                "deleted": gone,
                "content_hash": "" if gone else before.content_hash,
            }
        )
        self._mappings.commit(lock, mapping)
        return Outcome(
            "updated" if gone else "unchanged",
            report,
            f"expense sheet is {status}: report {'deleted' if gone else 'kept'}",
        )

    def _frozen(self, report: str) -> str | None:
        """Why a report must not change: paid in NetSuite, or in a closed (or A/P-locked) period; None if it may
        (or is gone). One read of the report's status and period."""
        try:
            record = self._netsuite.get_record(RECORD, report, fields=["status", "postingPeriod", "tranDate"])
        except NetSuiteNotFound:
            return None
        if (record.get("status") or {}).get("id") == PAID_IN_FULL:
            return "is paid in NetSuite"
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
            cause_key="expense-report-frozen",
            fix="a paid or closed-period expense report is not changed by the sync: adjust it in NetSuite if needed",
        )


_RECEIPT_FIXES = {
    "receipt-download": "the receipt is retried on its own; if it keeps failing, check the receipt in ClickTime, then "
    "redrive the expenses dead-letter queue",
    "receipt-too-large": "NetSuite takes files up to 10 MB: attach a smaller scan to the item in ClickTime (the "
    "report itself is in NetSuite)",
    "receipt-type": "NetSuite takes PNG, JPEG, GIF, TIFF, BMP and PDF receipts: attach one of those in ClickTime",
    "receipt-upload": "check the integration role's access to the File Cabinet (Documents and Files) and the "
    "receipts folder (expenses.receipts); the receipt is stored again when the sheet is approved anew or redriven",
    "receipt-link": "NetSuite did not take the receipt link (expenses.receipts.link): try attach instead of line",
    "expense-report-frozen": "a paid or closed-period expense report is not changed by the sync",
}


def _total(plan: ReportPlan) -> str:
    if plan.currency is None:
        return ""
    total = sum((line.money.amount for line in plan.lines), Decimal(0))
    return f"{round_money(total, plan.currency.places)} {plan.currency.iso}"


def _id_order(value: str) -> tuple[int, int | str]:
    return (0, int(value)) if value.isdigit() else (1, value)


__all__ = [
    "EXTERNAL_PREFIX",
    "ITEM_KIND",
    "KIND",
    "ExpenseExport",
    "Money",
    "ReportPlan",
    "external_id",
    "line_money",
    "resolve_category",
]
