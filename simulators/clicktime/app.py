"""ClickTimeSimulator: ClickTime REST API v2 on loopback, served by `SimulatorServer`.

Base URL `<server.url>/v2` stands for `https://api.clicktime.com/v2`. Every API route is registered against
its endpoint in `schemas/clicktime-models.json`, so query names, body properties and enum values are checked
from the same data the product's payloads must match. The routes live in the resource modules (catalog,
people, timesheets, expenses; approval state machines in approvals); this module holds auth, the error
format, faults and the helpers tests and the demo use.

Module map: schema (the JSON data) -> validation (query/body checks) -> context.Call (what a handler gets)
-> render (envelope, page, exact decimals); store (state and its lock); seeding (load a generated Company);
admin (an administrator's edits and the receipt knobs, without HTTP).
"""

from __future__ import annotations

import hmac
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from simulators.clicktime import admin, approvals, catalog, expenses, people, seeding, timesheets
from simulators.clicktime.context import Call
from simulators.clicktime.render import DecimalsAs, EnvelopeResponse, api_error, envelope
from simulators.clicktime.schema import Endpoint, schema
from simulators.clicktime.store import Record, Store, public
from simulators.clicktime.validation import REQUIRED, check_body, parse_json, parse_query
from simulators.common.server import App, HttpError, Request, Response
from simulators.company import ClickTimeSettings, Company

API_PREFIX = "/v2"
TIME_ENTRY_LIST = "ResponseBodyListGet.TimeEntryModel_Root"
ApiHandler = Callable[[Call], Response]


@dataclass
class _EnvelopeFault:
    message: str
    remaining: int
    method: str | None
    pattern: re.Pattern[str] | None
    after_handler: bool

    def matches(self, request: Request) -> bool:
        if self.method and self.method != request.method:
            return False
        return not self.pattern or bool(self.pattern.search(request.path))


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ClickTimeSimulator(App):
    """ClickTime API v2: token auth, envelope, paging, validation from the schema, resources, receipts.

    decimals_as: how Decimal fields go out: "number" (exact JSON numbers), "string", or "mixed" (alternating),
        since the API has answered both ways.
    max_limit / time_entry_max_limit: the largest `limit` accepted. Time entries: "Up to 500" in the spec.
        UNVERIFIED: no maximum is documented elsewhere; 1000 is what public clients use successfully.
    default_limit: page size when `limit` is left out. UNVERIFIED: ClickTime does not document it.
    seed: for the opaque IDs the simulator mints and for random envelope errors.
    clock: returns an aware UTC datetime; stamps ApprovedDate and friends.
    errors_on_success_rate: probability that an API call answers 200 with a non-empty `errors` list instead
        of doing anything (see `inject_envelope_error` for the scripted form).
    unique_task_names: refuse a second task with the same name (UNVERIFIED, see catalog._unique).
    """

    def __init__(
        self,
        *,
        token: str = "ct-demo-token",
        settings: ClickTimeSettings | None = None,
        decimals_as: DecimalsAs = "number",
        max_limit: int = 1000,
        time_entry_max_limit: int = 500,
        default_limit: int = 100,
        seed: int = 0,
        clock: Callable[[], datetime] | None = None,
        errors_on_success_rate: float = 0.0,
        unique_task_names: bool = True,
    ) -> None:
        super().__init__()
        if decimals_as not in ("number", "string", "mixed"):
            raise ValueError(f"decimals_as must be number, string or mixed, not {decimals_as!r}")
        if settings is not None:
            people.check_settings(settings)
        self.token = token
        self.decimals_as: DecimalsAs = decimals_as
        self.max_limit = max_limit
        self.time_entry_max_limit = time_entry_max_limit
        self.default_limit = default_limit
        self.errors_on_success_rate = errors_on_success_rate
        self.store = Store(seed, clock or _utc_now, settings or ClickTimeSettings())
        self.store.token = token
        self.store.unique_task_names = unique_task_names
        self._keep_settings = settings is not None  # explicit settings win over the loaded company's
        self._keys = seeding.Keys()
        self._paged: list[re.Pattern[str]] = []
        self._envelope_faults: list[_EnvelopeFault] = []
        self._envelope_random = random.Random(seed)
        self._envelope_lock = threading.Lock()
        # The token belongs to a dedicated admin user, as ClickTime's own integrations require.
        admin = people.create_user(
            self.store, "Integration Admin", "integration.admin@clicktime.invalid", "", security_level="ADMIN"
        )
        admin["_token_created"] = self.store.now()
        self.store.admin_id = admin["ID"]
        for method, template, handler in catalog.ROUTES + people.ROUTES + timesheets.ROUTES + expenses.ROUTES:
            self._register(method, template, handler)
        self.route("GET", "/receipts/{itemID}")(self._receipt)

    # -- App hooks ------------------------------------------------------------------------------------------
    def authenticate(self, request: Request) -> None:
        scheme, _, token = request.header("authorization").strip().partition(" ")
        # The scheme word is case-insensitive: ClickTime's own MCP client sends "token <token>".
        if scheme.lower() != "token" or not hmac.compare_digest(token.strip().encode(), self.token.encode()):
            raise HttpError(401, "Invalid Credentials")

    def error_response(self, status: int, message: str, code: str = "", field_name: str = "") -> Response:
        if status == 401:
            # The body public clients were written against (a mocked test, UNVERIFIED): two keys, no Field.
            return Response(401, {"data": None, "errors": [{"Message": "Invalid Credentials"}]})
        return EnvelopeResponse(
            status, envelope(None, errors=[api_error(message, field_name)]), decimals_as=self.decimals_as
        )

    def is_page_request(self, request: Request) -> bool:
        return request.method == "GET" and any(p.match(request.path) for p in self._paged)

    def dispatch(self, request: Request) -> Response:
        fault = self._draw_envelope_fault(request)
        if fault is None:
            return super().dispatch(request)
        self.faults.record("envelope_error_after" if fault.after_handler else "envelope_error")
        if not fault.after_handler:
            return EnvelopeResponse(
                200, envelope(None, errors=[api_error(fault.message)]), decimals_as=self.decimals_as
            )
        response = super().dispatch(request)
        if isinstance(response, EnvelopeResponse) and response.status < 300:
            response.body["errors"] = [api_error(fault.message)]
        return response

    # -- routing --------------------------------------------------------------------------------------------
    def _register(self, method: str, template: str, handler: ApiHandler) -> None:
        endpoint = schema().endpoint(template)  # fails at start-up if a route is not a real endpoint
        if method not in endpoint.methods:
            raise ValueError(f"{method} {template} is not in the ClickTime schema")
        path = API_PREFIX + template
        if method == "GET" and endpoint.is_paged:
            self._paged.append(re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", path) + "$", re.IGNORECASE))

        def run(request: Request) -> Response:
            call = self._call(request, endpoint, method)
            with self.store.lock:
                return handler(call)

        self.route(method, path)(run)

    def _call(self, request: Request, endpoint: Endpoint, method: str) -> Call:
        is_time = endpoint.response("GET") == TIME_ENTRY_LIST
        query = parse_query(
            endpoint,
            method,
            request.query,
            default_limit=self.default_limit,
            max_limit=self.time_entry_max_limit if is_time else self.max_limit,
        )
        body: dict[str, Any] = {}
        if method in {"POST", "PATCH"}:
            if not request.header("content-type").lower().startswith("application/json"):
                # UNVERIFIED status: the docs say JSON is the only content type supported.
                raise HttpError(415, "The only supported content type is application/json")
            model = endpoint.request_body(method)
            body = check_body(
                parse_json(request.body),
                schema().request_fields(model),
                what=f"{method} {endpoint.path}",
                required=REQUIRED.get(model, ()),
            )
        return Call(request, endpoint, query, body, self.store, self.decimals_as)

    def _receipt(self, request: Request) -> Response:
        with self.store.lock:
            return expenses.get_receipt(self.store, request)

    # -- envelope errors ------------------------------------------------------------------------------------
    def inject_envelope_error(
        self,
        times: int = 1,
        *,
        path: str | None = None,
        method: str | None = None,
        message: str = "An unexpected error has occurred.",
        after_handler: bool = False,
    ) -> None:
        """The next `times` matching calls answer 200 with `errors` set (clients must treat that as failure).

        By default the call is not carried out (data is null); with after_handler=True it is carried out and
        its data returned, errors added: the case where a retry would do the work twice.
        """
        pattern = re.compile(path) if path else None
        with self._envelope_lock:
            self._envelope_faults.append(_EnvelopeFault(message, times, method, pattern, after_handler))

    def _draw_envelope_fault(self, request: Request) -> _EnvelopeFault | None:
        with self._envelope_lock:
            for fault in self._envelope_faults:
                if fault.remaining > 0 and fault.matches(request):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._envelope_faults.remove(fault)
                    return fault
            if (
                self.errors_on_success_rate
                and request.path.startswith(API_PREFIX)
                and self._envelope_random.random() < self.errors_on_success_rate
            ):
                return _EnvelopeFault("An unexpected error has occurred.", 1, None, None, False)
        return None

    # -- helpers for tests and the demo (no HTTP) ----------------------------------------------------------
    @property
    def settings(self) -> ClickTimeSettings:
        return self.store.settings

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.store.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        self.store.clock = clock

    def load(self, company: Company) -> None:
        """Users, expense types, payment types, company settings and currencies of a generated company.

        The company's ClickTime settings apply unless the simulator was built with explicit `settings`.
        """
        with self.store.lock:
            seeding.load(self.store, self._keys, company, keep_settings=self._keep_settings)

    def load_activity(
        self, company: Company, job_for_project: Callable[[str], str | None], task_for_task: Callable[[str], str | None]
    ) -> dict[str, int]:
        """Timesheets, time entries, expense sheets and items of the company's plan.

        job_for_project / task_for_task map a NetSuite project / task id to the ClickTime Job / Task ID (None
        when it has none yet). Entries that do not resolve (or whose task is not linked to the job while
        tasks are restricted by job) are skipped. Returns counts: timesheets, time_entries,
        time_entries_skipped, expense_sheets, expense_items, expense_items_skipped.
        """
        with self.store.lock:
            return seeding.load_activity(self.store, self._keys, company, job_for_project, task_for_task)

    def seed_jobs_and_tasks(self, company: Company) -> seeding.SeededIds:
        """Clients, jobs, leaf tasks and links for the company, as the syncs would create them."""
        with self.store.lock:
            return seeding.seed_jobs_and_tasks(self.store, company, unique_task_names=self.store.unique_task_names)

    def _all(self, table: dict[str, Record]) -> list[Record]:
        with self.store.lock:
            return [public(r) for r in sorted(table.values(), key=lambda r: r.get("_seq", 0))]

    def jobs(self) -> list[Record]:
        return self._all(self.store.jobs)

    def tasks(self) -> list[Record]:
        return self._all(self.store.tasks)

    def clients(self) -> list[Record]:
        return self._all(self.store.clients)

    def users(self) -> list[Record]:
        return self._all(self.store.users)

    def timesheets(self) -> list[Record]:
        return self._all(self.store.timesheets)

    def time_entries(self) -> list[Record]:
        return self._all(self.store.time_entries)

    def expense_sheets(self) -> list[Record]:
        return self._all(self.store.expense_sheets)

    def expense_items(self) -> list[Record]:
        return self._all(self.store.expense_items)

    def job_tasks(self, job_id: str) -> list[str]:
        """Task IDs linked to the job, oldest link first."""
        with self.store.lock:
            return list(self.store.job_tasks.get(job_id, []))

    def timesheet_for_entry(self, entry_id: str) -> str:
        with self.store.lock:
            return str(self.store.time_entries[entry_id]["_timesheet"])

    def user_id_for_email(self, email: str) -> str | None:
        with self.store.lock:
            return next((u["ID"] for u in self.store.users.values() if u["Email"].lower() == email.lower()), None)

    def user_id_for_key(self, key: str) -> str | None:
        return self._keys.users.get(key)

    def expense_type_id(self, key: str) -> str | None:
        return self._keys.expense_types.get(key)

    def payment_type_id(self, key: str) -> str | None:
        return self._keys.payment_types.get(key)

    @property
    def admin_user_id(self) -> str:
        return self.store.admin_id

    def receipt(self, item_id: str) -> tuple[bytes, str] | None:
        """The stored receipt (content, MIME type), whether or not its download is made to fail."""
        with self.store.lock:
            return self.store.receipts.get(item_id)

    def set_receipt(self, item_id: str, content: bytes, mime: str) -> None:
        """Give an item this receipt (any size, any MIME type: an 11 MB scan, an image/heic, a text/html page)."""
        with self.store.lock:
            admin.set_receipt(self.store, item_id, content, mime)

    def fail_receipt(self, item_id: str, status: int = 500) -> None:
        """The item's receipt download answers `status` (in ClickTime's error envelope) until heal_receipt."""
        with self.store.lock:
            admin.fail_receipt(self.store, item_id, status)

    def heal_receipt(self, item_id: str) -> None:
        with self.store.lock:
            self.store.receipt_failures.pop(item_id, None)

    def failing_receipts(self) -> dict[str, int]:
        """Expense item ID -> the status its receipt download answers."""
        with self.store.lock:
            return dict(self.store.receipt_failures)

    # An administrator's edits between two export runs (see admin.py): sheets in any status, Approved included;
    # status and approval stamps are left alone (use timesheet_action / expense_sheet_action for those).
    def add_time_entry(
        self,
        timesheet_id: str,
        date: date | str,
        hours: Decimal | int | str,
        job_id: str,
        task_id: str,
        comment: str = "",
    ) -> Record:
        with self.store.lock:
            return public(admin.add_time_entry(self.store, timesheet_id, date, hours, job_id, task_id, comment))

    def edit_time_entry(self, entry_id: str, **fields: Any) -> Record:
        """Wire names: Date, Hours, JobID, TaskID, Comment, BillingRate, CostRate, BreakTime, StartTime, EndTime,
        CustomFields."""
        with self.store.lock:
            return public(admin.edit_time_entry(self.store, entry_id, fields))

    def delete_time_entry(self, entry_id: str) -> None:
        with self.store.lock:
            admin.delete_time_entry(self.store, entry_id)

    def delete_timesheet(self, timesheet_id: str) -> None:
        with self.store.lock:
            admin.delete_timesheet(self.store, timesheet_id)

    def add_expense_item(
        self,
        sheet_id: str,
        expense_date: date | str,
        expense_type_id: str,
        payment_type_id: str,
        amount: Decimal | int | str,
        **options: Any,
    ) -> Record:
        """options: description, comment, job_id, task_id, billable, foreign_amount, foreign_currency,
        exchange_rate, receipt (bytes), receipt_type (MIME)."""
        with self.store.lock:
            item = admin.add_expense_item(
                self.store, sheet_id, expense_date, expense_type_id, payment_type_id, amount, **options
            )
            return public(item)

    def edit_expense_item(self, item_id: str, **fields: Any) -> Record:
        """Wire names: ExpenseDate, Amount, Description, Comment, Billable, ExpenseTypeID, PaymentTypeID, JobID,
        TaskID, Quantity, Rate, AmountForeign, AmountForeignCurrency, AmountForeignExchangeRate."""
        with self.store.lock:
            return public(admin.edit_expense_item(self.store, item_id, fields))

    def delete_expense_item(self, item_id: str) -> None:
        with self.store.lock:
            admin.delete_expense_item(self.store, item_id)

    def delete_expense_sheet(self, sheet_id: str) -> None:
        with self.store.lock:
            admin.delete_expense_sheet(self.store, sheet_id)

    def entries_of(self, timesheet_id: str) -> list[Record]:
        """The timesheet's time entries, oldest first."""
        with self.store.lock:
            entries = [e for e in self.store.time_entries.values() if e["_timesheet"] == timesheet_id]
            return [public(e) for e in sorted(entries, key=lambda e: e["_seq"])]

    def items_of(self, sheet_id: str) -> list[Record]:
        """The expense sheet's items, oldest first."""
        with self.store.lock:
            items = [i for i in self.store.expense_items.values() if i["ExpenseSheetID"] == sheet_id]
            return [public(i) for i in sorted(items, key=lambda i: i["_seq"])]

    def timesheet_action(self, timesheet_id: str, action: str, comment: str | None = None) -> Record:
        """Apply a timesheet action as the admin would (same rules as POST .../Actions)."""
        with self.store.lock:
            sheet = self.store.timesheets[timesheet_id]
            return public(approvals.timesheet_action(self.store, sheet, action, comment))

    def expense_sheet_action(
        self, sheet_id: str, action: str, comment: str | None = None, check: str | None = None
    ) -> Record:
        with self.store.lock:
            sheet = self.store.expense_sheets[sheet_id]
            return public(approvals.expense_sheet_action(self.store, sheet, action, comment, check))
