"""NetSuiteSimulator: the App that ties TBA, governance, the record store, SuiteQL and the routes together.

Order of events for a request (see App.handle): it is counted in flight, `admit` may refuse it for
concurrency, `authenticate` checks its TBA signature, then the route runs. Every error leaves in NetSuite's
body format.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from simulators.common.server import App, HttpError, Request, Response
from simulators.company import Company
from simulators.netsuite import record_routes, service_routes
from simulators.netsuite.auth import AuthFailure, Credentials, TbaVerifier
from simulators.netsuite.errors import NetSuiteError, error_response
from simulators.netsuite.loader import load_company
from simulators.netsuite.query_tables import QueryCatalog
from simulators.netsuite.records import RecordStore
from simulators.netsuite.schema import RecordSchema
from simulators.netsuite.suiteql import SuiteQLError, run

# The made-up credentials of shared/reference/tba-vectors.json, so known-answer signatures verify as they are.
DEFAULT_CREDENTIALS = Credentials(
    account_id="1234567_SB1",
    consumer_key="ck-9f2b4c1e7a",
    consumer_secret="cs-3d8e1f0a55",
    token_id="tk-71c0aa29be",
    token_secret="ts-e4b90c12d3",
)
DEFAULT_CUSTOM_FIELDS = {"job": {"custentity_ct_job_id": "string"}, "projectTask": {"custevent_ct_task_id": "string"}}


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
    ) -> None:
        """processing_seconds: time each admitted request spends in the route, counted as in flight.

        FaultPlan.latency_seconds is slept before a request is counted, so only this knob makes requests
        overlap in NetSuite's sense (what the concurrency limit counts).
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
        try:
            return run(sql, self._catalog, self.user_timezone)
        except SuiteQLError as error:
            raise NetSuiteError(400, error.message, error.code, query_param="q") from None

    # -- App hooks ---------------------------------------------------------------------------------
    def error_response(self, status: int, message: str, code: str = "", field_name: str = "") -> Response:
        return error_response(status, message, code, errorPath=field_name)

    def admit(self, request: Request) -> Response | None:
        if self.in_flight <= self.concurrency_limit:
            return None
        if self.throttle_as_unauthorized:
            # NetSuite sometimes answers an overload with INVALID_LOGIN (research notes §1.4, §5.2).
            return self.error_response(401, "")
        return self.error_response(429, "")

    def authenticate(self, request: Request) -> None:
        try:
            self._verifier.verify(request)
        except AuthFailure as failure:
            raise HttpError(401, failure.detail, "INVALID_LOGIN") from None

    def is_page_request(self, request: Request) -> bool:
        return request.method == "POST" and request.path.lower() == service_routes.SUITEQL_PATH.lower()

    def dispatch(self, request: Request) -> Response:
        if self.processing_seconds:
            time.sleep(self.processing_seconds)
        try:
            return super().dispatch(request)
        except NetSuiteError as error:
            return error.response()
        except HttpError:
            raise
        except Exception:  # a simulator bug: answer like NetSuite's 500 and keep the evidence for tests
            return self.internal_error()
