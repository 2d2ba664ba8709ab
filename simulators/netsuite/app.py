"""NetSuiteSimulator: the App that ties TBA, governance, the record store, SuiteQL and the routes together.

Order of events for a request (see App.handle): it is counted in flight, `admit` may refuse it for
concurrency, `authenticate` checks its TBA signature, then the route runs. Every error leaves in NetSuite's
body format.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from simulators.common.server import App, HttpError, Request, Response
from simulators.company import Company
from simulators.netsuite import record_routes, service_routes
from simulators.netsuite.accounting import PAID_IN_FULL, AccountingRules, is_base, local_today
from simulators.netsuite.auth import AuthFailure, Credentials, TbaVerifier
from simulators.netsuite.errors import NetSuiteError, error_response
from simulators.netsuite.loader import load_company
from simulators.netsuite.query_tables import QueryCatalog
from simulators.netsuite.records import RecordStore
from simulators.netsuite.schema import RecordSchema
from simulators.netsuite.suiteql import SuiteQLError, run_page

# The made-up credentials of shared/reference/tba-vectors.json, so known-answer signatures verify as they are.
DEFAULT_CREDENTIALS = Credentials(
    account_id="1234567_SB1",
    consumer_key="ck-9f2b4c1e7a",
    consumer_secret="cs-3d8e1f0a55",
    token_id="tk-71c0aa29be",
    token_secret="ts-e4b90c12d3",
)
DEFAULT_CUSTOM_FIELDS = {"job": {"custentity_ct_job_id": "string"}, "projectTask": {"custevent_ct_task_id": "string"}}
# Folders every account has. UNVERIFIED: -15 is the SuiteScripts folder's well-known id; others are not seeded.
STANDARD_FOLDERS = ({"id": "-15", "name": "SuiteScripts"},)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class NetSuiteSimulator(App):
    def __init__(
        self,
        *,
        account_id: str = DEFAULT_CREDENTIALS.account_id,
        consumer_key: str = DEFAULT_CREDENTIALS.consumer_key,
        consumer_secret: str = DEFAULT_CREDENTIALS.consumer_secret,
        token_id: str = DEFAULT_CREDENTIALS.token_id,
        token_secret: str = DEFAULT_CREDENTIALS.token_secret,
        custom_fields: dict[str, dict[str, str]] | None = None,
        user_timezone: str = "America/Los_Angeles",
        concurrency_limit: int = 5,
        throttle_as_unauthorized: bool = False,
        row_ceiling: int = 100_000,
        timestamp_tolerance_seconds: int = 300,
        clock: Callable[[], datetime] = _utc_now,
        processing_seconds: float = 0.0,
        company_name: str = "Simulated NetSuite Account",
        closed_period_blocks_time: bool = True,
    ) -> None:
        """processing_seconds: time each admitted request spends in NetSuite, counted as in flight from its
        arrival, its own work (signature check, route) included: the rest of it is slept after the work, so a
        request takes this long unless its work alone takes longer.

        FaultPlan.latency_seconds is slept before a request is counted, so only this knob makes requests
        overlap in NetSuite's sense (what the concurrency limit counts).

        Knobs settable at any time (see the properties): unkept_fields, denied_tables, closed_period_blocks_time.
        """
        super().__init__()
        self.account_id = account_id
        self.company_name = company_name
        self.custom_fields = DEFAULT_CUSTOM_FIELDS if custom_fields is None else custom_fields
        self.user_timezone = ZoneInfo(user_timezone)
        self.concurrency_limit = concurrency_limit
        self.throttle_as_unauthorized = throttle_as_unauthorized
        self.row_ceiling = row_ceiling
        self.processing_seconds = processing_seconds
        self.clock = clock
        self.login_audit: list[tuple[str, str]] = []
        self.schema = RecordSchema(self.custom_fields)
        self.records = RecordStore(self.schema, clock)
        self._rules = AccountingRules(self.records, lambda: local_today(self.clock, self.user_timezone))
        self._rules.closed_period_blocks_time = closed_period_blocks_time
        self.records.policies.append(self._rules)
        for folder in STANDARD_FOLDERS:
            self.records.add("folder", dict(folder))
        self._catalog = QueryCatalog(self.schema, self.records, self.user_timezone)
        credentials = Credentials(account_id, consumer_key, consumer_secret, token_id, token_secret)
        self._verifier = TbaVerifier(
            credentials, tolerance_seconds=timestamp_tolerance_seconds, clock=clock, audit=self.login_audit
        )
        record_routes.register(self)
        service_routes.register(self)

    # -- for tests and the demo --------------------------------------------------------------------
    def load(self, company: Company) -> None:
        self.company_name = company.name
        load_company(self.records, company)

    def query(self, sql: str) -> list[dict[str, Any]]:
        """Every row of a SuiteQL query, rendered as the REST service renders them (no paging)."""
        return self.query_page(sql, 0, None)[0]

    def query_page(self, sql: str, start: int, end: int | None) -> tuple[list[dict[str, Any]], int]:
        """Rows `start` to `end` of a SuiteQL query, rendered, and the number of rows in the whole result."""
        try:
            return run_page(sql, self._catalog, self.user_timezone, start, end)
        except SuiteQLError as error:
            raise NetSuiteError(400, error.message, error.code, query_param="q") from None

    # -- knobs -----------------------------------------------------------------------------------------
    @property
    def unkept_fields(self) -> dict[str, set[str]]:
        """Record type -> custom fields that do not keep what a client writes, e.g.
        `sim.unkept_fields["job"] = {"custentity_ct_job_id"}`: the field is not on the form, or a workflow
        clears it. The write answers 204 as usual and bumps lastModifiedDate; the stored value stays."""
        return self.records.unkept_fields

    @unkept_fields.setter
    def unkept_fields(self, value: dict[str, set[str]]) -> None:
        self.records.unkept_fields = value

    @property
    def denied_tables(self) -> set[str]:
        """SuiteQL tables the integration role has no permission for, e.g. {"deletedrecord"}: a query over one
        answers 400 INVALID_SEARCH "... Record '<table>' was not found."."""
        return self._catalog.denied_tables

    @denied_tables.setter
    def denied_tables(self, value: set[str]) -> None:
        self._catalog.denied_tables = value

    @property
    def closed_period_blocks_time(self) -> bool:
        """Whether a closed (or all-locked) period refuses time bill writes, as it refuses expense reports.
        UNVERIFIED (addendum §1.4); True by default, the strict reading."""
        return self._rules.closed_period_blocks_time

    @closed_period_blocks_time.setter
    def closed_period_blocks_time(self, value: bool) -> None:
        self._rules.closed_period_blocks_time = value

    # -- accounting periods, billing, payment (test helpers: an administrator's actions) ----------------
    def accounting_period(self, period: str | date) -> dict[str, Any]:
        """A period by name ("Oct 2026", "Q4 2026", "FY 2026") or the base period holding a date."""
        if isinstance(period, str):
            found = next(
                (p for p in self.records.snapshot("accountingPeriod") if p["periodName"].lower() == period.lower()),
                None,
            )
        else:
            found = self._rules.base_period(period.date() if isinstance(period, datetime) else period)
        if found is None:
            raise KeyError(f"no accounting period {period!r}")
        return dict(found)

    def close_period(self, period: str | date) -> str:
        """Close a period (closed and all locked), with its subperiods; returns its id."""
        return self._set_period(period, {"closed": True, "allLocked": True, "closedOnDate": self._today()})

    def lock_ap_period(self, period: str | date) -> str:
        """Lock a period for A/P only (expense reports post to A/P; time bills do not); returns its id."""
        return self._set_period(period, {"apLocked": True})

    def reopen_period(self, period: str | date) -> str:
        """Open a period again and lift every lock; returns its id."""
        flags = {"closed": False, "allLocked": False, "apLocked": False, "arLocked": False, "closedOnDate": None}
        return self._set_period(period, flags)

    def _set_period(self, period: str | date, fields: dict[str, Any]) -> str:
        target = self.accounting_period(period)
        changed = [target["id"]]
        if not is_base(target):  # a quarter or year takes its subperiods with it
            children = {target["id"]}
            for candidate in self.records.snapshot("accountingPeriod"):
                parent = (candidate.get("parent") or {}).get("id")
                if parent in children:
                    children.add(candidate["id"])
                    changed.append(candidate["id"])
        for period_id in changed:
            self.records.update("accountingPeriod", period_id, fields)
        return target["id"]

    def _today(self) -> str:
        return local_today(self.clock, self.user_timezone).isoformat()

    def mark_time_billed(self, timebill_id: str) -> None:
        """The time bill has been invoiced: it reads posted 'T' and isbilled 'T' in SuiteQL, and a client's
        PATCH, PUT or DELETE of it answers 400 USER_ERROR (BILLED_TIME_DETAIL)."""
        if self.records.get("timeBill", timebill_id) is None:
            raise KeyError(f"no timeBill {timebill_id}")
        self.records.update("timeBill", timebill_id, {"posted": True})
        self.records.billed_time.add(timebill_id)

    def mark_expense_report_paid(self, report_id: str) -> None:
        """The report has been paid: status I (Paid In Full), and a client's write of it answers 400 USER_ERROR."""
        if self.records.get("expenseReport", report_id) is None:
            raise KeyError(f"no expenseReport {report_id}")
        self.records.update("expenseReport", report_id, {"status": {"id": PAID_IN_FULL}})

    def set_exchange_rate(self, base: str, transaction: str, rate: Decimal | str, effective: date) -> None:
        """A Currency Exchange Rates row: one `transaction` currency unit is `rate` of `base` from `effective` on
        (currencies by ISO code or internal id). SuiteQL reads them from table currencyrate."""
        ids = {c["symbol"]: c["id"] for c in self.records.snapshot("currency")}
        rows = self.records.exchange_rates
        rows.append(
            {
                "id": str(len(rows) + 1),
                "basecurrency": ids.get(base, base),
                "transactioncurrency": ids.get(transaction, transaction),
                "exchangerate": Decimal(rate),
                "effectivedate": effective.isoformat(),
            }
        )

    # -- the File Cabinet ----------------------------------------------------------------------------------
    def files(self) -> list[dict[str, Any]]:
        """Every stored file: id, name, folder (id), fileType, size (decoded bytes), sha256 (of the decoded
        content, hex) and externalId."""
        out = []
        for record in self.records.snapshot("file"):
            content = base64.b64decode(record.get("content", ""))
            out.append(
                {
                    "id": record["id"],
                    "name": record.get("name"),
                    "folder": (record.get("folder") or {}).get("id"),
                    "fileType": record.get("fileType"),
                    "size": len(content),
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "externalId": record.get("externalId"),
                }
            )
        return out

    def file_content(self, file_id: str) -> bytes:
        record = self.records.get("file", file_id)
        if record is None:
            raise KeyError(f"no file {file_id}")
        return base64.b64decode(record.get("content", ""))

    def attachments(self, rtype: str, record_id: str) -> list[str]:
        """Ids of the files attached to a record (POST .../!attach/file/{id}), in the order they were attached."""
        return self.records.attachments(rtype, record_id)

    # -- App hooks ---------------------------------------------------------------------------------
    def error_response(self, status: int, message: str, code: str = "", field_name: str = "") -> Response:
        return error_response(status, message, code, errorPath=field_name)

    def admit(self, request: Request) -> Response | None:
        if self.in_flight <= self.concurrency_limit:
            return None
        if self.throttle_as_unauthorized:
            # NetSuite sometimes answers an overload with INVALID_LOGIN (research notes §1.4, §5.2).
            self.faults.record("401_under_load")
            return self.error_response(401, "")
        self.faults.record("429_under_load")
        return self.error_response(429, "")

    def authenticate(self, request: Request) -> None:
        try:
            self._verifier.verify(request)
        except AuthFailure as failure:
            raise HttpError(401, failure.detail, "INVALID_LOGIN") from None

    def is_page_request(self, request: Request) -> bool:
        return request.method == "POST" and request.path.lower() == service_routes.SUITEQL_PATH.lower()

    def dispatch(self, request: Request) -> Response:
        try:
            return super().dispatch(request)
        except NetSuiteError as error:
            return error.response()
        except HttpError:
            raise
        except Exception:  # a simulator bug: answer like NetSuite's 500 and keep the evidence for tests
            return self.internal_error()
        finally:
            self._take_the_rest_of_processing_time(request)

    def _take_the_rest_of_processing_time(self, request: Request) -> None:
        # NetSuite's time per request is L whatever part of it the simulator's own work (on the benchmark's
        # shared cores) took: sleeping L after the work made a request take L plus that work (52-57 ms at L=50).
        if not self.processing_seconds or not request.arrived:
            return
        remaining = self.processing_seconds - (time.perf_counter() - request.arrived)
        if remaining > 0:
            time.sleep(remaining)
