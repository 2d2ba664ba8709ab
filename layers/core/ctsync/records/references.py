"""Reference data both exports need, read in bulk and kept by the execution environment
(`ctsync.references.References`: five minutes; the accounting periods once per run and minute):
who a ClickTime user is in NetSuite, which NetSuite record a ClickTime job or task stands for, the service item
of a project task, the accounting periods; and for expenses the currencies (with their precision), each
subsidiary's currency, the expense categories, NetSuite's exchange rates, and ClickTime's expense and payment
types and company currency.

Every lookup here is a dictionary read after the first: an export never reads a reference once per entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ctsync.clicktime.client import ClickTimeClient
from ctsync.clicktime.models import ExpenseType, Job, PaymentType, Task, User
from ctsync.config import PeopleSettings
from ctsync.digits import is_number
from ctsync.errors import NeedsAttention, cause_part
from ctsync.money import DEFAULT_PLACES, to_decimal
from ctsync.netsuite.client import NetSuiteClient
from ctsync.netsuite.errors import NetSuiteNotFound
from ctsync.records.blocking import Problem
from ctsync.records.netsuite_source import keyset
from ctsync.references import References
from ctsync.state import Mapping, MappingStore


@dataclass(frozen=True)
class Employee:
    id: str
    email: str
    number: str
    subsidiary: str | None
    is_inactive: bool


@dataclass(frozen=True)
class Period:
    id: str
    name: str
    start: date
    end: date
    closed: bool  # closed or all locked: nothing posts
    ap_locked: bool  # A/P locked: expense reports do not post


@dataclass(frozen=True)
class Currency:
    id: str
    iso: str  # NetSuite's currency.symbol is the ISO code (displaySymbol is the "$")
    name: str
    places: int  # currencyPrecision: 2 for USD and EUR, 0 for JPY; 2 where NetSuite does not say
    is_base: bool


@dataclass
class NonBillable:
    """NetSuite's non-billable project tasks as one run reads them (`NetSuiteReferences.non_billable_tasks`)."""

    listed: set[str] = field(default_factory=set)  # the account-wide list's tasks
    complete: bool = True  # whether that list was all of them
    asked: dict[str, bool] = field(default_factory=dict)  # task -> its flag, read by ID (an incomplete list)


@dataclass(frozen=True)
class ExpenseCategory:
    id: str
    name: str
    external_id: str
    is_inactive: bool


# The bulk read of every project task's service item stops after this many SuiteQL pages (a thousand assignee
# lines each): beyond it an account's tasks are read as timesheets need them, so a quiet night on a large
# account does not read all of them.
ASSIGNMENT_PAGES = 3
# The projects' and tasks' mappings are listed at most this many DynamoDB pages (1 MB, some two thousand
# mappings, each) per environment and TTL; a job or task beyond them is asked of the reverse index alone.
LISTED_PAGES = 3
# The accounting periods are read again for each run and, within a run, once this old: a period closed at month
# end while a run exports is seen by the records planned a minute later. (Read once per invocation, they cost a
# NetSuite request per batch, which set how small a batch could be: `make bench`, docs/bench.md.)
PERIODS_FRESH_SECONDS = 60.0
# NetSuite's non-billable project tasks (`nonBillableTask`) are listed, the whole account in one read, at most this
# many SuiteQL pages (a thousand tasks each); beyond it the tasks a timesheet needs are read by ID. Read again for
# each run and, within a run, once a minute (as the periods): a task made non-billable before a run is seen by it.
NON_BILLABLE_PAGES = 3
NON_BILLABLE_FRESH_SECONDS = 60.0


class Unmapped(NeedsAttention):
    code = "UNMAPPED"


def _date(text: Any) -> date:
    """SuiteQL renders a bare date in the user's format (M/D/YYYY); TO_CHAR gives YYYY-MM-DD."""
    value = str(text)
    if "/" in value:
        month, day, year = (int(part) for part in value.split("/"))
        return date(year, month, day)
    return date.fromisoformat(value[:10])


class NetSuiteReferences:
    """Employees, periods, service items and record existence, from NetSuite, cached for one invocation."""

    def __init__(self, netsuite: NetSuiteClient, cache: References) -> None:
        self._netsuite = netsuite
        self._cache = cache

    def employees(self) -> dict[str, Employee]:
        def load() -> dict[str, Employee]:
            def query(after: str | None) -> str:
                return (
                    "SELECT e.id AS id, e.email AS email, e.entityid AS entityid, e.subsidiary AS subsidiary, "
                    f"e.isinactive AS isinactive FROM employee e WHERE 1 = 1{keyset('e', after)} ORDER BY e.id"
                )

            return {
                str(row["id"]): Employee(
                    id=str(row["id"]),
                    email=(row.get("email") or "").strip().lower(),
                    number=(row.get("entityid") or "").strip(),
                    subsidiary=str(row["subsidiary"]) if row.get("subsidiary") else None,
                    is_inactive=row.get("isinactive") == "T",
                )
                for row in self._netsuite.rows(query)
            }

        return self._cache.get("netsuite:employees", load)

    def refresh(self) -> bool:
        return self._cache.refresh("netsuite:employees")

    def periods(self) -> list[Period]:
        """Base (monthly) posting periods, earliest first."""

        def load() -> list[Period]:
            def query(after: str | None) -> str:
                return (
                    "SELECT p.id AS id, p.periodname AS periodname, TO_CHAR(p.startdate, 'YYYY-MM-DD') AS startdate, "
                    "TO_CHAR(p.enddate, 'YYYY-MM-DD') AS enddate, p.closed AS closed, p.alllocked AS alllocked, "
                    "p.aplocked AS aplocked FROM accountingperiod p "
                    f"WHERE p.isyear = 'F' AND p.isquarter = 'F' AND p.isadjust = 'F'{keyset('p', after)} ORDER BY p.id"
                )

            periods = [
                Period(
                    id=str(row["id"]),
                    name=row.get("periodname") or str(row["id"]),
                    start=_date(row["startdate"]),
                    end=_date(row["enddate"]),
                    closed=row.get("closed") == "T" or row.get("alllocked") == "T",
                    ap_locked=row.get("aplocked") == "T",
                )
                for row in self._netsuite.rows(query)
            ]
            return sorted(periods, key=lambda p: p.start)

        return self._cache.get("netsuite:periods", load, per_run_within=PERIODS_FRESH_SECONDS)

    def period_of(self, day: date) -> Period | None:
        return next((p for p in self.periods() if p.start <= day <= p.end), None)

    def next_open_period(self, after: Period, *, for_expenses: bool = False) -> Period | None:
        return next(
            (p for p in self.periods() if p.start > after.end and not p.closed and not (for_expenses and p.ap_locked)),
            None,
        )

    # -- for expenses ---------------------------------------------------------------------------------
    def currencies(self) -> dict[str, Currency]:
        """NetSuite currencies by internal id. UNVERIFIED SuiteQL columns (exports addendum §7 U6): the REST
        field names lower-cased, as for the other tables."""

        def load() -> dict[str, Currency]:
            def query(after: str | None) -> str:
                return (
                    "SELECT c.id AS id, c.symbol AS symbol, c.name AS name, c.currencyprecision AS currencyprecision, "
                    f"c.isbasecurrency AS isbasecurrency FROM currency c WHERE 1 = 1{keyset('c', after)} ORDER BY c.id"
                )

            found = {}
            for row in self._netsuite.rows(query):
                precision = row.get("currencyprecision")
                found[str(row["id"])] = Currency(
                    id=str(row["id"]),
                    iso=(row.get("symbol") or "").strip().upper(),
                    name=row.get("name") or "",
                    places=int(precision) if precision is not None and is_number(str(precision)) else DEFAULT_PLACES,
                    is_base=row.get("isbasecurrency") == "T",
                )
            return found

        return self._cache.get("netsuite:currencies", load)

    def currency_by_iso(self, iso: str) -> Currency | None:
        wanted = iso.strip().upper()
        return next((c for c in self.currencies().values() if c.iso == wanted), None)

    def subsidiary_currencies(self) -> dict[str, str]:
        """Subsidiary internal id -> its currency's internal id (what an employee's expense report is kept in)."""

        def load() -> dict[str, str]:
            def query(after: str | None) -> str:
                return f"SELECT s.id AS id, s.currency AS currency FROM subsidiary s WHERE 1 = 1{keyset('s', after)} ORDER BY s.id"

            return {str(r["id"]): str(r["currency"]) for r in self._netsuite.rows(query) if r.get("currency")}

        return self._cache.get("netsuite:subsidiary-currencies", load)

    def expense_categories(self) -> dict[str, ExpenseCategory]:
        def load() -> dict[str, ExpenseCategory]:
            def query(after: str | None) -> str:
                return (
                    "SELECT ec.id AS id, ec.name AS name, ec.externalid AS externalid, ec.isinactive AS isinactive "
                    f"FROM expensecategory ec WHERE 1 = 1{keyset('ec', after)} ORDER BY ec.id"
                )

            return {
                str(r["id"]): ExpenseCategory(
                    id=str(r["id"]),
                    name=(r.get("name") or "").strip(),
                    external_id=(r.get("externalid") or "").strip(),
                    is_inactive=r.get("isinactive") == "T",
                )
                for r in self._netsuite.rows(query)
            }

        return self._cache.get("netsuite:expense-categories", load)

    def refresh_categories(self) -> bool:
        return self._cache.refresh("netsuite:expense-categories")

    def exchange_rate(self, base: str, transaction: str, day: date) -> Decimal | None:
        """NetSuite's rate for `transaction` currency into `base` currency (ids) on `day`: the latest rate
        effective on or before it, from Currency Exchange Rates. UNVERIFIED table and columns (SuiteQL
        `currencyrate`: basecurrency, transactioncurrency, exchangerate, effectivedate)."""

        def load() -> list[tuple[date, Decimal]]:
            def query(after: str | None) -> str:
                return (
                    "SELECT r.id AS id, r.exchangerate AS exchangerate, "
                    "TO_CHAR(r.effectivedate, 'YYYY-MM-DD') AS effectivedate FROM currencyrate r "
                    f"WHERE r.basecurrency = {int(base)} AND r.transactioncurrency = {int(transaction)}"
                    f"{keyset('r', after)} ORDER BY r.id"
                )

            rates = [
                (_date(r["effectivedate"]), to_decimal(r["exchangerate"], field="currencyrate.exchangerate"))
                for r in self._netsuite.rows(query)
                if r.get("effectivedate") and r.get("exchangerate") is not None
            ]
            # Read in internal-id order (the order they were entered); sorted by date alone, so of two rates
            # effective the same day the one entered last wins, not the larger.
            return sorted(rates, key=lambda dated: dated[0])

        rates = self._cache.get(f"netsuite:rates:{base}:{transaction}", load)
        effective = [rate for start, rate in rates if start <= day]
        return effective[-1] if effective else None

    def service_items(self, task_ids: list[str], employee: str | None = None) -> dict[str, str]:
        """The service item of many project tasks for one employee, read in bulk: the item on the employee's own
        assignee line of the task (lines are per resource, each with its item and rate), else the task's first
        line with an item (time by someone the task does not list).

        The first lookup of an execution environment (and again once the TTL has passed) reads every assignee
        line of the account that has a service item, up to `ASSIGNMENT_PAGES` keyset pages: one SuiteQL call
        answers every timesheet the environment exports, so a time bill costs its one write and nothing else.
        When that read was complete, a task it did not list has no service item until the TTL passes (as a
        task read alone and found without one always was). Past the page limit (a large account) the tasks it
        did not cover are read as sheets need them, a thousand per call, and remembered, found or not.

        Read from SuiteQL's `projecttaskassignment` (UNVERIFIED table and column names); where the account does
        not expose it, each task is read over REST once per TTL instead (`assignee_items`).
        """
        wanted_all = [t for t in task_ids if t and is_number(t)]
        lines = self._assignee_lines(wanted_all)
        return {t: found.get(employee or FIRST_LINE, found[FIRST_LINE]) for t, found in lines.items()}

    def _assignee_lines(self, wanted_all: list[str]) -> dict[str, dict[str, str]]:
        """Task -> {resource: item, FIRST_LINE: the first line's item} of the tasks that have a line with an item."""
        # A cached holder, not a cached bool: References.get keeps the first value it loads.
        hidden: set[str] = self._cache.get("netsuite:assignments-hidden", set)
        if hidden:
            return self._items_over_rest(wanted_all)
        try:
            known, complete = self._cache.get("netsuite:task-items", self._every_task_item)
            if complete:
                return {t: known[t] for t in wanted_all if t in known}
            none: set[str] = self._cache.get("netsuite:task-items-none", set)
            wanted = sorted(set(wanted_all) - known.keys() - none)
            lines = self._rows_of_ids(
                wanted,
                lambda ids, after: (
                    f"SELECT {ASSIGNMENT_COLUMNS} FROM projecttaskassignment a "
                    f"WHERE a.projecttask IN ({ids}){keyset('a', after)} ORDER BY a.id"
                ),
            )
            for row in lines:
                _note_line(known, row)
        except NeedsAttention:
            hidden.add("hidden")
            return self._items_over_rest(wanted_all)
        none.update(t for t in wanted if t not in known)
        return {t: known[t] for t in wanted_all if t in known}

    def _rows_of_ids(self, ids: list[str], query: Callable[[str, str | None], str]) -> Iterator[dict[str, Any]]:
        """The rows of `query(ids, after)` (a keyset query whose `IN` list is `ids`, comma separated) over `ids`,
        a thousand IDs per list."""
        for start in range(0, len(ids), IDS_PER_QUERY):
            chunk = ", ".join(ids[start : start + IDS_PER_QUERY])
            yield from self._netsuite.rows(lambda after, chunk=chunk: query(chunk, after))

    def _every_task_item(self) -> tuple[dict[str, dict[str, str]], bool]:
        """Every assignee line with a service item (lines in id order), up to ASSIGNMENT_PAGES pages; and whether
        that was all of them (a partial answer is kept too)."""

        def query(after: str | None) -> str:
            return (
                f"SELECT {ASSIGNMENT_COLUMNS} FROM projecttaskassignment a "
                f"WHERE a.serviceitem IS NOT NULL{keyset('a', after)} ORDER BY a.id"
            )

        known: dict[str, dict[str, str]] = {}
        pages = self._netsuite.keyset_pages(query)
        for number, page in enumerate(pages, start=1):
            for row in page:
                _note_line(known, row)
            if number >= ASSIGNMENT_PAGES and len(page) >= self._netsuite.page_size:
                return known, False  # there may be more: the rest is read task by task
        return known, True

    def _items_over_rest(self, task_ids: list[str]) -> dict[str, dict[str, str]]:
        return {t: lines for t in task_ids if (lines := self.assignee_items(t))}

    def read_projects_of_tasks(self, task_ids: Iterable[str]) -> None:
        """Read the projects of the NetSuite project tasks `task_ids` not held yet, a thousand per SuiteQL call, so
        that `project_of_task` answers each from the cache (a task NetSuite does not list: None). Where the role
        cannot query `projecttask`, nothing is read here and each task is read over REST as it is asked for."""
        wanted = sorted({t for t in task_ids if t and is_number(t) and not self._cache.holds(_task_project(t))})
        if not wanted or self._cache.get("netsuite:projecttask-hidden", set):
            return
        found: dict[str, str | None] = dict.fromkeys(wanted)
        try:
            tasks = self._rows_of_ids(
                wanted,
                lambda ids, after: (
                    f"SELECT t.id AS id, t.project AS project FROM projecttask t "
                    f"WHERE t.id IN ({ids}){keyset('t', after)} ORDER BY t.id"
                ),
            )
            for row in tasks:
                found[str(row["id"])] = str(row.get("project") or "") or None
        except NeedsAttention:
            self._cache.get("netsuite:projecttask-hidden", set).add("hidden")
            return
        for task_id, project in found.items():
            self._cache.get(_task_project(task_id), lambda project=project: project)

    def non_billable_tasks(self, task_ids: Iterable[str]) -> set[str]:
        """Of the NetSuite project tasks `task_ids`, those NetSuite marks non-billable (`nonBillableTask`): time on
        them is never billable (`records.time_export.planned_billable`).

        One SuiteQL read lists every non-billable task of the account (`NON_BILLABLE_PAGES` pages at most) for an
        execution environment's run, and again once it is a minute old (`NON_BILLABLE_FRESH_SECONDS`): a timesheet
        costs no request of its own. Past the page limit, the tasks the list did not reach are read by ID as sheets
        need them (a thousand a call, kept with the list). Where the role cannot query `projecttask`, each task is
        read over REST, once per TTL."""
        wanted = sorted({t for t in task_ids if t and is_number(t)})
        if not wanted:
            return set()
        if not self._cache.get("netsuite:projecttask-hidden", set):
            try:
                found = self._cache.get(
                    "netsuite:non-billable-tasks",
                    self._every_non_billable_task,
                    per_run_within=NON_BILLABLE_FRESH_SECONDS,
                )
                if not found.complete:
                    self._non_billable_by_id(found, [t for t in wanted if t not in found.listed])
                return {t for t in wanted if t in found.listed or found.asked.get(t)}
            except NeedsAttention:
                self._cache.get("netsuite:projecttask-hidden", set).add("hidden")
        return {t for t in wanted if self._non_billable_over_rest(t)}

    def _every_non_billable_task(self) -> NonBillable:
        def query(after: str | None) -> str:
            return (
                f"SELECT t.id AS id FROM projecttask t WHERE t.nonbillabletask = 'T'{keyset('t', after)} ORDER BY t.id"
            )

        found = NonBillable()
        for number, page in enumerate(self._netsuite.keyset_pages(query), start=1):
            found.listed.update(str(row["id"]) for row in page)
            if number >= NON_BILLABLE_PAGES and len(page) >= self._netsuite.page_size:
                found.complete = False  # there may be more: the rest is read by ID
                break
        return found

    def _non_billable_by_id(self, found: NonBillable, task_ids: list[str]) -> None:
        wanted = [t for t in task_ids if t not in found.asked]
        if not wanted:
            return
        flags = dict.fromkeys(wanted, False)
        rows = self._rows_of_ids(
            wanted,
            lambda ids, after: (
                f"SELECT t.id AS id, t.nonbillabletask AS nonbillabletask FROM projecttask t "
                f"WHERE t.id IN ({ids}){keyset('t', after)} ORDER BY t.id"
            ),
        )
        for row in rows:
            flags[str(row["id"])] = row.get("nonbillabletask") in ("T", True)
        found.asked.update(flags)

    def _non_billable_over_rest(self, task_id: str) -> bool:
        def load() -> bool:
            try:
                record = self._netsuite.get_record("projectTask", task_id, fields=["nonBillableTask"])
            except NetSuiteNotFound:
                return False
            return record.get("nonBillableTask") in (True, "T")

        return self._cache.get(f"netsuite:task-non-billable:{task_id}", load)

    def project_of_task(self, task_id: str) -> str | None:
        """The project of NetSuite project task `task_id` (None when NetSuite has no such task): as
        `read_projects_of_tasks` read it, else from the task's record."""

        def load() -> str | None:
            try:
                record = self._netsuite.get_record("projectTask", task_id, fields=["project"])
            except NetSuiteNotFound:
                return None
            return str((record.get("project") or {}).get("id") or "") or None

        return self._cache.get(_task_project(task_id), load)

    def assignee_items(self, task_id: str) -> dict[str, str]:
        """The project task's assignee lines over REST: {resource: item, FIRST_LINE: the first line's item}."""

        def load() -> dict[str, str]:
            try:
                record = self._netsuite.get_record("projectTask", task_id, expand=True)
            except NetSuiteNotFound:
                return {}
            found: dict[str, dict[str, str]] = {}
            for line in (record.get("assignee") or {}).get("items", []):
                row = {
                    "projecttask": task_id,
                    "resource": (line.get("resource") or {}).get("id"),
                    "serviceitem": (line.get("serviceItem") or {}).get("id"),
                }
                _note_line(found, row)
            return found.get(task_id, {})

        return self._cache.get(f"netsuite:task-item:{task_id}", load)


IDS_PER_QUERY = 1000  # as many IDs as one SuiteQL `IN` list carries here (a page holds 1,000 rows)


def _task_project(task_id: str) -> str:
    return f"netsuite:task-project:{task_id}"


FIRST_LINE = ""  # the key of a task's first assignee line with an item, beside the resources' own
ASSIGNMENT_COLUMNS = "a.id AS id, a.projecttask AS projecttask, a.resource AS resource, a.serviceitem AS serviceitem"


def _note_line(known: dict[str, dict[str, str]], row: dict[str, Any]) -> None:
    item = row.get("serviceitem")
    if not item:
        return
    lines = known.setdefault(str(row["projecttask"]), {})
    lines.setdefault(FIRST_LINE, str(item))
    if row.get("resource"):
        lines.setdefault(str(row["resource"]), str(item))


class ClickTimeReferences:
    """ClickTime users, jobs and tasks (one paged read each per invocation)."""

    def __init__(self, clicktime: ClickTimeClient, cache: References) -> None:
        self._clicktime = clicktime
        self._cache = cache

    def refresh(self) -> bool:
        return self._cache.refresh("clicktime:users")

    def users(self) -> dict[str, User]:
        return self._cache.get("clicktime:users", lambda: {u.ID: u for u in self._clicktime.users()})

    def jobs(self) -> dict[str, Job]:
        return self._cache.get("clicktime:jobs", lambda: {j.ID: j for j in self._clicktime.jobs()})

    def tasks(self) -> dict[str, Task]:
        return self._cache.get("clicktime:tasks", lambda: {t.ID: t for t in self._clicktime.tasks()})

    def expense_types(self) -> dict[str, ExpenseType]:
        return self._cache.get("clicktime:expense-types", lambda: {t.ID: t for t in self._clicktime.expense_types()})

    def refresh_expense_types(self) -> bool:
        return self._cache.refresh("clicktime:expense-types")

    def payment_types(self) -> dict[str, PaymentType]:
        return self._cache.get("clicktime:payment-types", lambda: {t.ID: t for t in self._clicktime.payment_types()})

    def company_currency(self) -> str:
        """ClickTime's company currency (ISO): the currency of an expense item's Amount."""
        return self._cache.get("clicktime:currency", lambda: (self._clicktime.company().CurrencyISO or "").upper())


@dataclass
class People:
    """ClickTime users as NetSuite employees: by an explicit override, then e-mail, then employee number.

    One way to map people, for the time and the expense export alike.
    """

    settings: PeopleSettings
    netsuite: NetSuiteReferences
    clicktime: ClickTimeReferences
    _resolved: dict[str, Employee] = field(default_factory=dict)

    def employee_of(self, user_id: str, *, inactive_too: bool = False) -> Employee:
        """The user's NetSuite employee; Unmapped (cause `employee-unmapped:<email or id>`) when there is none, or
        (`employee-inactive:<id>`) when it is inactive, unless `inactive_too`: the reconciliation compares the work
        of someone who left after it was exported on the employee it went to.

        A miss reads the users and employees again (once per invocation) before it is believed: the cached
        lists may predate the fix a person made since.
        """
        if user_id in self._resolved:
            return self._resolved[user_id]
        try:
            return self._resolve(user_id, inactive_too)
        except Unmapped:
            if self.netsuite.refresh() | self.clicktime.refresh():
                return self._resolve(user_id, inactive_too)
            raise

    def exported_to(self, user_id: str) -> str | None:
        """The NetSuite employee ID a sheet exported whole went to, inactive or not (`employee_of(inactive_too=True)`);
        None when the user maps to no employee now."""
        try:
            return self.employee_of(user_id, inactive_too=True).id
        except Unmapped:
            return None

    def _resolve(self, user_id: str, inactive_too: bool = False) -> Employee:
        user = self.clicktime.users().get(user_id)
        email = (user.Email or "").strip().lower() if user else ""
        number = (user.EmployeeNumber or "").strip() if user else ""
        label = email or (user.Name if user else "") or user_id
        employees = self.netsuite.employees()
        found: Employee | None = None
        for rule in self.settings.match:
            if rule == "override":
                target = self.settings.overrides.get(user_id) or (email and self.settings.overrides.get(email))
                found = employees.get(str(target)) if target else None
                if target and found is None:
                    # The operator named this user's employee: another rule's match would put the time or the
                    # expenses on someone they did not choose (before, the e-mail match took it, silently).
                    raise Unmapped(
                        f"people.overrides maps ClickTime user {label} to NetSuite employee {target}, which NetSuite "
                        "does not have",
                        cause=f"employee-override-missing:{cause_part(str(target))}",
                        fix=f"correct people.overrides for ClickTime user {user_id} to an existing NetSuite employee "
                        "ID (`ctns check` lists every override NetSuite lacks), then `ctns config push`",
                    )
            elif rule == "email" and email:
                found = _one_active([e for e in employees.values() if e.email == email], f"e-mail {email}", user_id)
            elif rule == "employee_number" and number:
                found = _one_active(
                    [e for e in employees.values() if e.number == number], f"employee number {number}", user_id
                )
            if found:
                break
        if found is None:
            raise Unmapped(
                f"ClickTime user {label} has no NetSuite employee (matched by {', '.join(self.settings.match)})",
                cause=f"employee-unmapped:{cause_part(label)}",
                fix=f"give the NetSuite employee the e-mail {email or '(none in ClickTime)'} or employee number "
                f"{number or '(none)'}, or map ClickTime user {user_id} in people.overrides",
            )
        if found.is_inactive:
            if inactive_too:
                return found  # not kept in `_resolved`: the export must still refuse it
            raise Unmapped(
                f"ClickTime user {label} is NetSuite employee {found.id}, which is inactive",
                cause=f"employee-inactive:{found.id}",
                fix=f"reactivate NetSuite employee {found.id} or map the user to another in people.overrides",
            )
        self._resolved[user_id] = found
        return found

    def check(self) -> list[str]:
        """For `ctns check`: each employee `people.overrides` names, if NetSuite does not have it (read only)."""
        employees = self.netsuite.employees()
        return [
            f"people.overrides[{user!r}] names employee {employee}, which NetSuite does not have"
            for user, employee in self.settings.overrides.items()
            if str(employee) not in employees
        ]


@dataclass
class Projects:
    """Which NetSuite project and task a ClickTime job and task stand for: the mappings the projects and tasks
    syncs keep, else the NetSuite ID ClickTime holds in AccountingPackageID."""

    mappings: MappingStore
    clicktime: ClickTimeReferences
    cache: References
    netsuite: NetSuiteReferences

    def project_of_job(self, job_id: str) -> str | None:
        return self._source_of("project", job_id, self.clicktime.jobs, "clicktime:jobs")

    def task_of(self, task_id: str) -> str | None:
        return self._source_of("task", task_id, self.clicktime.tasks, "clicktime:tasks")

    def project_of_task(self, task_id: str, netsuite_task: str) -> str | None:
        """The NetSuite project of `netsuite_task`, the project task ClickTime task `task_id` stands for: from the
        job the tasks sync linked the task to, else (a task linked by AccountingPackageID alone) from NetSuite, read
        once per task and TTL (with the sheet's other tasks: `read_projects_of_tasks`). None when neither says."""
        mapping = self._mapping_of("task", task_id)
        if mapping is not None:
            job = mapping.details.get("job_id")
            return self.project_of_job(job) if job else None
        return self.netsuite.project_of_task(netsuite_task)

    def read_projects_of_tasks(self, task_ids: Iterable[str]) -> None:
        """Before a sheet is planned: the NetSuite projects of its ClickTime tasks that the tasks sync did not link
        (`project_of_task` would read each from NetSuite), read together."""
        unmapped = {t for t in task_ids if t and self._mapping_of("task", t) is None}
        self.netsuite.read_projects_of_tasks(task for t in unmapped if (task := self.task_of(t)))

    def _mapping_of(self, kind: str, target_id: str) -> Mapping | None:
        def listed() -> dict[str, Mapping | None]:
            return self.mappings.live_by_target(kind, max_pages=LISTED_PAGES)

        def mapped() -> Mapping | None:
            mapping = self.mappings.by_target(kind, target_id)
            return mapping if mapping and not mapping.deleted else None

        # One listing of the kind per environment and TTL answers most; the reverse index, what it does not hold.
        live = self.cache.get(f"{kind}-by-target", listed)
        return live[target_id] if target_id in live else self.cache.get(f"{kind}-of:{target_id}", mapped)

    def _source_of(self, kind: str, target_id: str, listing: Callable[[], dict[str, Any]], name: str) -> str | None:
        """The NetSuite ID behind a ClickTime record: its mapping, else its AccountingPackageID. A miss reads
        the ClickTime list again (once per invocation): the record may be newer than the cached list."""
        mapping = self._mapping_of(kind, target_id)
        if mapping is not None:
            return mapping.source_id
        for attempt in range(2):
            record = listing().get(target_id)
            apid = (record.AccountingPackageID or "").strip() if record else ""
            if is_number(apid):
                return apid
            if attempt == 0 and not self.cache.refresh(name):
                break
        return None

    def task_label(self, task_id: str) -> str:
        task = self.clicktime.tasks().get(task_id)
        name = getattr(task, "Name", None) if task else None
        return f"{name} ({task_id})" if name else task_id

    def job_label(self, job_id: str) -> str:
        job = self.clicktime.jobs().get(job_id)
        return f"{job.JobNumber or job.Name} ({job_id})" if job else job_id


def task_on_job(
    projects: Projects, task_id: str, job_id: str, project: str, record_id: str, policy: str
) -> tuple[str | None, Problem | str | None]:
    """The NetSuite project task of an entry or expense item on ClickTime task `task_id` and job `job_id` (whose
    NetSuite project, `project`, is the record's), and what to say when there is none to use: a ClickTime task
    that stands for no NetSuite project task, or for one of another project (ClickTime's task list is
    company-wide, and a task may be made available on another job). By `accounting.tasks_not_from_netsuite`:
    the problem that blocks the record's sheet ("fail"), else the words for the note that it went without."""
    task = projects.task_of(task_id)
    elsewhere = projects.project_of_task(task_id, task) if task else None
    if task and (elsewhere is None or elsewhere == project):
        return task, None
    label = projects.task_label(task_id)
    if task:
        key = "task-of-other-project"
        what = (
            f"ClickTime task {label} stands for NetSuite project task {task} of project {elsewhere}, not of "
            f"project {project} (job {projects.job_label(job_id)})"
        )
        fix = "move the entries to a task of their own job in ClickTime"
    else:
        key, what = "task-unlinked", f"ClickTime task {label} is not linked to a NetSuite project task"
        fix = (
            "link the ClickTime task to its NetSuite project task (AccountingPackageID) or let the tasks sync create it"
        )
    if policy == "fail":
        return None, Problem(
            f"{key}:{cause_part(task_id)}",
            what,
            f"{fix}; or set accounting.tasks_not_from_netsuite to project_only",
            (record_id,),
        )
    return None, what


def _one_active(matches: list[Employee], by: str, user_id: str) -> Employee | None:
    """Of the employees a rule matches, the active one before any inactive (a rehire has a new record beside the
    old, inactive one, which keeps the same e-mail); the first by internal id when all are inactive. Two active
    ones (a transfer to another subsidiary that left the old record active) are Unmapped, cause
    `employee-ambiguous:<by>`: picking one would post time and expenses to a person's other record, in its
    subsidiary and currency, without a word."""
    active = [e for e in matches if not e.is_inactive]
    if len(active) > 1:
        ids = ", ".join(e.id for e in active)
        raise Unmapped(
            f"ClickTime user {user_id}: {len(active)} active NetSuite employees have the {by} ({ids})",
            cause=f"employee-ambiguous:{cause_part(by)}",
            fix=f"map ClickTime user {user_id} to one of them in people.overrides, or make the other inactive",
        )
    return active[0] if active else (matches[0] if matches else None)
