"""The one ClickTime API v2 client.

Transport (token header, the `data`/`errors`/`page` envelope, limit/offset paging, retries) first, then the
resources the syncs use, each returning the typed models of `ctsync.clicktime.models`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, SecretStr, ValidationError

from ctsync import jsonutil, unsettled
from ctsync.clicktime.errors import (
    ClickTimeNotFound,
    ClickTimeOutcomeUnknown,
    ClickTimeTransientError,
    ClickTimeValidationError,
    error_for,
)
from ctsync.clicktime.models import (
    Client,
    Company,
    ExpenseItem,
    ExpenseSheet,
    ExpenseType,
    Job,
    PaymentType,
    Task,
    TimeEntry,
    Timesheet,
    User,
)
from ctsync.digits import is_number
from ctsync.errors import BadInput, NeedsAttention, SyncError, TransientError
from ctsync.observability import logger
from ctsync.retry import ANSWER_LOST, RetryPolicy, call_with_retries

DEFAULT_BASE_URL = "https://api.clicktime.com/v2"
PAGE_SIZE = 1000
TIME_ENTRY_PAGE_SIZE = 500  # the spec's documented maximum for time entries
LINK_ATTEMPTS = 3  # a job-task link or unlink whose answer was lost: looked up, then sent again

M = TypeVar("M", bound=BaseModel)
Params = dict[str, Any]


@dataclass(frozen=True)
class Envelope:
    data: Any
    page: dict[str, Any] | None
    date: datetime | None = None  # the answer's HTTP Date header: ClickTime's clock


def job_api_path(job_id: str) -> str:
    return f"/Jobs/{job_id}"


def task_api_path(task_id: str) -> str:
    return f"/Tasks/{task_id}"


def client_api_path(client_id: str) -> str:
    return f"/Clients/{client_id}"


class ReceiptRefused(NeedsAttention):
    """A receipt NetSuite cannot take (over its 10 MB limit, a file type it refuses): retrying will not help."""

    code = "RECEIPT_REFUSED"


class ClickTimeClient:
    def __init__(
        self,
        *,
        token: SecretStr,
        base_url: str = DEFAULT_BASE_URL,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        timeout_seconds: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._session = session or requests.Session()
        self._retry = retry or RetryPolicy()
        self._timeout = timeout_seconds

    # -- transport --------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self._token.get_secret_value()}", "Accept": "application/json"}

    def _receipt_headers(self, receipt_url: str) -> dict[str, str]:
        if _origin(receipt_url) == _origin(self.base_url):
            return self._headers()
        return {"Accept": "*/*"}

    def send(
        self, method: str, path: str, *, params: Params | None = None, body: Any = None, idempotent: bool = True
    ) -> Envelope:
        """One call with retries. A create (idempotent=False) is not resent after an ambiguous failure."""
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        headers = self._headers()
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = jsonutil.dumps(body).encode("utf-8")
        query = _query(params)

        def attempt() -> Envelope:
            try:
                response = self._session.request(
                    method, url, params=query, data=data, headers=headers, timeout=self._timeout
                )
            except ANSWER_LOST as error:
                if not isinstance(error, requests.ConnectTimeout):  # a connect timeout: nothing was sent
                    unsettled.note(method, path, body, doubtful=True)
                if not idempotent:
                    raise ClickTimeOutcomeUnknown(f"ClickTime {method} {path}: {type(error).__name__}") from error
                raise TransientError(
                    f"ClickTime {method} {path}: {type(error).__name__}",
                    code="CONNECTION",
                    cause="clicktime-unreachable",
                ) from error
            payload = _payload(response, f"{method} {path}")
            errors = payload.get("errors") if isinstance(payload, dict) else None
            if response.status_code >= 400:
                if response.status_code in unsettled.DOUBTFUL_STATUSES:
                    unsettled.note(method, path, body, doubtful=True)
                failure = error_for(response.status_code, errors, _retry_after(response))
                if isinstance(failure, ClickTimeNotFound):
                    failure.path = path  # which record is missing: `records.targets` tells its target from others
                if (
                    not idempotent
                    and isinstance(failure, ClickTimeTransientError)
                    and response.status_code not in (429, 503)
                ):
                    raise ClickTimeOutcomeUnknown(failure.message)
                raise failure
            if errors:
                # An error list on a 2xx answer still means the call did not do what was asked.
                failure = error_for(400, errors, None)
                if isinstance(failure, SyncError):
                    failure.message += f" (an error list on a {response.status_code} answer to {method} {path})"
                    failure.args = (failure.message,)
                raise failure
            if not isinstance(payload, dict):
                raise TransientError(f"ClickTime {method} {path}: answer is not an envelope", code="BAD_ENVELOPE")
            unsettled.note(method, path, body, doubtful=False)
            return Envelope(payload.get("data"), payload.get("page"), _http_date(response))

        def log(number: int, error: TransientError, pause: float) -> None:
            logger.warning(
                "ClickTime call will be retried",
                extra={"method": method, "path": path, "attempt": number, "error": error.message, "pause_s": pause},
            )

        return call_with_retries(attempt, self._retry, on_retry=log)

    def iterate(
        self, path: str, params: Params | None = None, *, page_size: int = PAGE_SIZE
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint, page by page (offset += limit until `page.count` is reached)."""
        offset = 0
        while True:
            envelope = self.send("GET", path, params={**(params or {}), "limit": page_size, "offset": offset})
            items = envelope.data or []
            yield from items
            page = envelope.page or {}
            total = page.get("count")
            offset += page_size
            has_next = bool((page.get("links") or {}).get("next"))
            if not items or (total is not None and offset >= int(total)) or (total is None and not has_next):
                return

    def _list(self, model: type[M], path: str, params: Params | None = None, page_size: int = PAGE_SIZE) -> list[M]:
        return [validated(model, item, f"GET {path}") for item in self.iterate(path, params, page_size=page_size)]

    def _one(self, model: type[M], method: str, path: str, body: Any = None, *, idempotent: bool = True) -> M:
        return validated(model, self.send(method, path, body=body, idempotent=idempotent).data, f"{method} {path}")

    # -- one record by its path: a later look at a write of unknown outcome (`records.targets.recheck`) ----
    def read_record(self, path: str) -> dict[str, Any] | None:
        """The record's fields as ClickTime returns them; None when it is gone (404)."""
        try:
            data = self.send("GET", path).data
        except ClickTimeNotFound:
            return None
        return dict(data) if isinstance(data, dict) else {}

    def patch_record(self, path: str, fields: dict[str, Any]) -> None:
        self.send("PATCH", path, body=fields)

    # -- jobs, tasks, clients ---------------------------------------------------------------------
    def jobs(self, **filters: Any) -> list[Job]:
        return self._list(Job, "/Jobs", filters)

    def get_job(self, job_id: str) -> Job:
        return self._one(Job, "GET", job_api_path(job_id))

    def create_job(self, fields: dict[str, Any]) -> Job:
        return self._one(Job, "POST", "/Jobs", fields, idempotent=False)

    def update_job(self, job_id: str, fields: dict[str, Any]) -> Job:
        return self._one(Job, "PATCH", job_api_path(job_id), fields)

    def job_task_ids(self, job_id: str) -> list[str]:
        return list(self.send("GET", f"/Jobs/{job_id}/Tasks").data or [])

    def link_task(self, job_id: str, task_id: str) -> None:
        """Link a task to a job. ClickTime refuses a second link of the same pair, so a link whose answer was lost
        (it may have been made, even after the client gave up on a slow answer) is looked up rather than sent
        again blindly, and any refusal is checked the same way: an earlier attempt (a worker that died before
        recording it, a duplicate delivery) may have made it. Raises the refusal when the link is not there."""
        self._link_call(
            "POST", f"/Jobs/{job_id}/Tasks", {"TaskID": task_id}, lambda: job_id in self.task_job_ids(task_id)
        )

    def unlink_task(self, job_id: str, task_id: str) -> None:
        """Unlink a task from a job; an unlink whose answer was lost is looked up (a second one would be a 404)."""
        self._link_call(
            "DELETE", f"/Jobs/{job_id}/Tasks/{task_id}", None, lambda: job_id not in self.task_job_ids(task_id)
        )

    def _link_call(self, method: str, path: str, body: Any, done: Callable[[], bool]) -> None:
        for _ in range(LINK_ATTEMPTS):
            try:
                self.send(method, path, body=body, idempotent=False)
                return
            except ClickTimeOutcomeUnknown:
                pass  # the answer was lost: it may have been made; looked up below
            except (ClickTimeValidationError, ClickTimeNotFound):
                # Refused: done when the state asked for already holds, else the refusal stands.
                if done():
                    return
                raise
            if done():
                return
        self.send(method, path, body=body, idempotent=False)

    def task_job_ids(self, task_id: str) -> list[str]:
        return list(self.send("GET", f"/Tasks/{task_id}/Jobs").data or [])

    def tasks(self, **filters: Any) -> list[Task]:
        return self._list(Task, "/Tasks", filters)

    def get_task(self, task_id: str) -> Task:
        return self._one(Task, "GET", task_api_path(task_id))

    def create_task(self, fields: dict[str, Any]) -> Task:
        return self._one(Task, "POST", "/Tasks", fields, idempotent=False)

    def update_task(self, task_id: str, fields: dict[str, Any]) -> Task:
        return self._one(Task, "PATCH", task_api_path(task_id), fields)

    def clients(self, **filters: Any) -> list[Client]:
        return self._list(Client, "/Clients", filters)

    def get_client(self, client_id: str) -> Client:
        return self._one(Client, "GET", client_api_path(client_id))

    def create_client(self, fields: dict[str, Any]) -> Client:
        return self._one(Client, "POST", "/Clients", fields, idempotent=False)

    def update_client(self, client_id: str, fields: dict[str, Any]) -> Client:
        return self._one(Client, "PATCH", client_api_path(client_id), fields)

    # -- people and company -----------------------------------------------------------------------
    def users(self, **filters: Any) -> list[User]:
        return self._list(User, "/Users", filters)

    def company(self) -> Company:
        return self._one(Company, "GET", "/Company")

    def server_time(self) -> datetime:
        """ClickTime's clock, from the HTTP Date header of a cheap call (the API has no time endpoint)."""
        envelope = self.send("GET", "/Company")
        if envelope.date is None:
            raise TransientError("ClickTime answered without a Date header", code="NO_DATE")
        return envelope.date

    # -- time -------------------------------------------------------------------------------------
    def timesheets(self, **filters: Any) -> list[Timesheet]:
        return self._list(Timesheet, "/Timesheets", {**filters, "verbose": "true"})

    def timesheet(self, timesheet_id: str) -> Timesheet | None:
        """One timesheet as it is now (verbose), or None when it no longer exists."""
        try:
            path = f"/Timesheets/{timesheet_id}"
            return validated(Timesheet, self.send("GET", path, params={"verbose": "true"}).data, f"GET {path}")
        except ClickTimeNotFound:
            return None

    def timesheet_entries(self, timesheet_id: str) -> list[TimeEntry]:
        return self._list(TimeEntry, f"/Timesheets/{timesheet_id}/TimeEntries", page_size=TIME_ENTRY_PAGE_SIZE)

    def time_entries(self, **filters: Any) -> list[TimeEntry]:
        return self._list(TimeEntry, "/TimeEntries", filters, page_size=TIME_ENTRY_PAGE_SIZE)

    def time_report(self, **filters: Any) -> list[TimeEntry]:
        """Reports/Time rows: the only place a time entry's own billable flag appears."""
        return self._list(TimeEntry, "/Reports/Time", {**filters, "verbose": "true"})

    # -- expenses ---------------------------------------------------------------------------------
    def expense_sheets(self, **filters: Any) -> list[ExpenseSheet]:
        return self._list(ExpenseSheet, "/ExpenseSheets", {**filters, "verbose": "true"})

    def expense_sheet(self, sheet_id: str) -> ExpenseSheet | None:
        """One expense sheet as it is now (verbose), or None when it no longer exists."""
        try:
            path = f"/ExpenseSheets/{sheet_id}"
            return validated(ExpenseSheet, self.send("GET", path, params={"verbose": "true"}).data, f"GET {path}")
        except ClickTimeNotFound:
            return None

    def expense_items(self, **filters: Any) -> list[ExpenseItem]:
        return self._list(ExpenseItem, "/ExpenseItems", filters)

    def expense_types(self) -> list[ExpenseType]:
        return self._list(ExpenseType, "/ExpenseTypes")

    def payment_types(self) -> list[PaymentType]:
        return self._list(PaymentType, "/PaymentTypes")

    def download_receipt(self, receipt_url: str, *, max_bytes: int, attempts: int | None = None) -> tuple[bytes, str]:
        """The receipt's bytes and MIME type, read as a stream and never more than `max_bytes` of it.

        UNVERIFIED whether ReceiptURL needs the token (research notes §3.11): it is sent only to the API's own origin
        (scheme, host and port of `base_url`); a receipt elsewhere (a CDN, pre-signed storage) or over http is
        fetched without it, as the token is the administrator's. A receipt larger than
        `max_bytes` raises ReceiptRefused naming its size, without holding more than `max_bytes` in memory.
        `attempts` caps the client's own retries (the receipt step retries later through the queue instead).
        """

        def attempt() -> tuple[bytes, str]:
            try:
                with self._session.get(
                    receipt_url, headers=self._receipt_headers(receipt_url), timeout=self._timeout, stream=True
                ) as response:
                    if response.status_code >= 400:
                        raise error_for(
                            response.status_code,
                            [{"Message": f"receipt download failed: {response.status_code} {response.reason}"}],
                            _retry_after(response),
                        )
                    mime = response.headers.get("Content-Type", "application/octet-stream").split(";")[0].strip()
                    declared = response.headers.get("Content-Length")
                    if declared and is_number(declared) and int(declared) > max_bytes:
                        raise ReceiptRefused(
                            f"receipt is {int(declared)} bytes; NetSuite takes at most {max_bytes}",
                            cause="receipt-too-large",
                        )
                    content = bytearray()
                    for chunk in response.iter_content(chunk_size=256 * 1024):
                        content.extend(chunk)
                        if len(content) > max_bytes:
                            raise ReceiptRefused(
                                f"receipt is over {max_bytes} bytes; NetSuite takes at most {max_bytes}",
                                cause="receipt-too-large",
                            )
                    return bytes(content), mime
            except ANSWER_LOST as error:
                raise TransientError(
                    f"ClickTime receipt download: {type(error).__name__}", code="CONNECTION", cause="receipt-download"
                ) from error
            except requests.RequestException as error:
                # The ReceiptURL itself cannot be fetched (no usable scheme, a redirect loop): the item's, not an
                # outage's; named by kind alone, since the URL may carry a signature
                raise ReceiptRefused(
                    f"its ReceiptURL cannot be downloaded ({type(error).__name__})", cause="receipt-download"
                ) from error

        policy = self._retry if attempts is None else replace(self._retry, max_attempts=max(1, attempts))
        return call_with_retries(attempt, policy)


def _origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in; an unreadable URL matches nothing."""
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower())
    except ValueError:
        return ("", url, None)
    return (parts.scheme.lower(), (parts.hostname or "").lower(), port)


def validated(model: type[M], item: Any, where: str) -> M:
    """A ClickTime record as its model; one with a field missing, malformed or of the wrong type is bad input
    naming the record (its kind and ID), the field and the value, never a validation traceback."""
    try:
        return model.model_validate(item)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or "record"
        record_id = item.get("ID") if isinstance(item, dict) else None
        what = _RECORD_NAMES.get(model.__name__, model.__name__)
        missing = first.get("type") == "missing"
        why = str(first.get("msg") or "invalid").removeprefix("Value error, ")
        problem = f"has no {field}" if missing else f"has an unreadable {field} ({why})"
        more = f" (and {error.error_count() - 1} more field(s))" if error.error_count() > 1 else ""
        raise BadInput(
            f"ClickTime {what} {record_id or '(no ID)'} {problem}{more}, as read by {where}",
            field=field,
            value=None if missing else first.get("input"),
        ) from None


_RECORD_NAMES = {
    "TimeEntry": "time entry",
    "Timesheet": "timesheet",
    "ExpenseSheet": "expense sheet",
    "ExpenseItem": "expense item",
    "ExpenseType": "expense type",
    "PaymentType": "payment type",
}


def _http_date(response: requests.Response) -> datetime | None:
    value = response.headers.get("Date")
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _payload(response: requests.Response, call: str) -> Any:
    """The JSON body; an error page that is not JSON (a proxy's 502) becomes an error list naming the status. A
    2xx body that is not JSON (cut short, a proxy's HTML page) is retried: the next answer may be whole."""
    if not response.content:
        return {}
    try:
        return jsonutil.loads(response.content)
    except ValueError:
        if response.status_code < 400:
            kind = response.headers.get("Content-Type", "no content type")
            raise TransientError(
                f"ClickTime answered {response.status_code} to {call} with a body that is not JSON ({kind}, "
                f"{len(response.content)} bytes: cut short, or an error page)",
                code="BAD_ENVELOPE",
                cause="clicktime-bad-body",
            ) from None
        return {"errors": [{"Message": f"{response.status_code} {response.reason}: {response.text[:200]}"}]}


def _query(params: Params | None) -> list[tuple[str, str]]:
    """Query pairs; a list value becomes repeated keys (ClickTime's multi-valued filters)."""
    pairs: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            pairs.append((key, _text(item)))
    return pairs


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None
