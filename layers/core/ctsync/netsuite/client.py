"""The one NetSuite client: SuiteQL reads, record API writes, server time and a connection check.

Every request is signed with TBA on its own attempt (fresh nonce and timestamp), and every write asks
NetSuite to reject misspelled properties (`X-NetSuite-PropertyNameValidation: Error`) instead of silently
dropping them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from ctsync import jsonutil, unsettled
from ctsync.digits import is_number
from ctsync.errors import NeedsAttention, TransientError
from ctsync.netsuite.auth import TbaCredentials, rest_base_url, restlets_base_url, tba_auth
from ctsync.netsuite.errors import NetSuiteValidationError, auth_error, error_for, parse_error_body
from ctsync.observability import count, logger, observe_ms
from ctsync.retry import ANSWER_LOST, RetryPolicy, call_with_retries
from ctsync.timeutil import parse_instant

MAX_PAGE_SIZE = 1000
# A 401 is retried, signed afresh, this many times before the credentials are believed wrong: NetSuite answers
# INVALID_LOGIN instead of 429 when the account's concurrency limit is full (research notes §1.4, §5.2).
MAX_UNAUTHORIZED_RETRIES = 2
# Then a signed probe (GET serverTime) is tried this many times, with the retry policy's pauses, before the
# credentials are believed wrong: one that goes through proves them good, and the 401s were load.
CREDENTIAL_PROBES = 3
# A 401 within this long of a request NetSuite accepted from this client (same token) is load, not a login that
# went bad: under a full concurrency limit the probes can be refused as well.
CREDENTIALS_PROVEN_SECONDS = 600.0


# A caller that shares its part of NetSuite's account concurrency limit among threads (a time worker's
# invocation: `time.write_concurrency` slots for every timesheet it has in progress) sets this; each attempt's
# request, read or write, is then sent through it, which sends it on a free slot, and a pause before a retry
# holds none.
Sender = Callable[[Callable[[], requests.Response]], requests.Response]
_request_sender: ContextVar[Sender | None] = ContextVar("netsuite_request_sender", default=None)


@contextmanager
def requests_sent_by(send: Sender) -> Iterator[None]:
    """Within it (and in threads that copy this context), every NetSuite request is sent by `send(request)`,
    which calls `request()` (the HTTP exchange, signed already) on a slot and returns its answer."""
    token = _request_sender.set(send)
    try:
        yield
    finally:
        _request_sender.reset(token)


class NetSuiteOutcomeUnknown(NeedsAttention):
    """A create whose answer was lost: it may exist now, so it is not blindly sent again."""

    code = "OUTCOME_UNKNOWN"


@dataclass(frozen=True)
class SuiteQLPage:
    rows: list[dict[str, Any]]
    has_more: bool
    offset: int
    total: int | None


QueryBuilder = Callable[[str | None], str]


class NetSuiteClient:
    def __init__(
        self,
        *,
        account_id: str,
        credentials: TbaCredentials,
        base_url: str | None = None,
        restlets_url: str | None = None,
        session: requests.Session | None = None,
        retry: RetryPolicy | None = None,
        timeout_seconds: float = 60.0,
        page_size: int = MAX_PAGE_SIZE,
        monotonic: Callable[[], float] = time.monotonic,
        secret_name: str | None = None,
    ) -> None:
        self.account_id = account_id
        self._secret_name = secret_name  # where the credentials came from (its name, never its value): told on a 401
        self.base_url = (base_url or rest_base_url(account_id)).rstrip("/")
        # One configured base serves every URL: a proxy, a sandbox gateway or the simulator answers both.
        self.restlets_url = (restlets_url or _origin_of(base_url) or restlets_base_url(account_id)).rstrip("/")
        self._auth = tba_auth(credentials, account_id)
        # Shared by the threads of a time worker writing bills at once (time.write_concurrency): urllib3's pool is
        # thread-safe and keeps 10 connections per host, and every call signs and retries on its own.
        self._session = session or requests.Session()
        self._retry = retry or RetryPolicy()
        self._timeout = timeout_seconds
        self.page_size = page_size
        self._monotonic = monotonic
        self._accepted_at: float | None = None  # when NetSuite last accepted this client's signature

    # -- transport --------------------------------------------------------------------------------
    def _send(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = True,
        json_body: bool = False,
    ) -> requests.Response:
        """Send with retries. A non-idempotent request (a POST create) is retried only when NetSuite says it
        refused it outright (429, 503, 401); after a timeout or a 500 it may have been applied, so it is not resent.

        `json_body`: the answer must be NetSuite's JSON (read it from `response.payload`). A 2xx answer that is not
        (cut short, a proxy's HTML page) is retried like a 5xx; one carrying NetSuite's error list is an error."""
        all_headers = {"Accept": "application/json", "X-NetSuite-PropertyNameValidation": "Error"}
        data = None
        if body is not None:
            all_headers["Content-Type"] = "application/json"
            data = jsonutil.dumps(body).encode("utf-8")
        all_headers.update(headers or {})
        unauthorized = 0
        # A record write is noted for the engine (`ctsync.unsettled`): one whose answer was lost may land later.
        record_path = url[len(self.base_url) :] if url.startswith(f"{self.base_url}/record/") else None

        def note(doubtful: bool) -> None:
            if record_path is not None:
                unsettled.note(method, record_path, body, doubtful=doubtful)

        def attempt() -> requests.Response:
            nonlocal unauthorized
            started = self._monotonic()
            try:
                response = self._on_the_wire(self._signed(method, url, params=params, data=data, headers=all_headers))
            except ANSWER_LOST as error:
                if not isinstance(error, requests.ConnectTimeout):  # a connect timeout: nothing was sent
                    note(doubtful=True)
                failure = TransientError(
                    f"NetSuite {method} {url}: {type(error).__name__}", code="CONNECTION", cause="netsuite-unreachable"
                )
                if not idempotent:
                    raise NetSuiteOutcomeUnknown(failure.message) from error
                raise failure from error
            observe_ms("NetSuiteLatency", (self._monotonic() - started) * 1000)
            if response.status_code < 400:
                self._accepted_at = self._monotonic()
                note(doubtful=False)
                if json_body:
                    response.payload = _json_payload(response, method, url)  # type: ignore[attr-defined]
                return response
            if response.status_code in unsettled.DOUBTFUL_STATUSES:
                note(doubtful=True)
            if response.status_code in (401, 429):
                count("NetSuiteThrottled")
            if response.status_code == 401:
                unauthorized += 1
                if unauthorized > MAX_UNAUTHORIZED_RETRIES:
                    if not (self._recently_accepted() or self._credentials_accepted()):
                        raise auth_error(response, secret_name=self._secret_name)
                    # The same token signs a request NetSuite accepts: the account is busy, not the login wrong.
                    raise TransientError(
                        f"NetSuite {method} {url}: 401 INVALID_LOGIN while the same token is accepted: "
                        "the account's concurrency limit is full",
                        code="NETSUITE_BUSY",
                        cause="netsuite-concurrency",
                        throttled=True,
                    )
            error = error_for(response)
            if not idempotent and isinstance(error, TransientError) and response.status_code not in (401, 429, 503):
                raise NetSuiteOutcomeUnknown(error.message)
            raise error

        return call_with_retries(attempt, self._retry, on_retry=self._log_retry(method, url))

    def _signed(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.PreparedRequest:
        """One attempt's request, signed with a fresh nonce and timestamp (what `Session.request` would send)."""
        return self._session.prepare_request(
            requests.Request(method, url, params=params, data=data, headers=headers, auth=self._auth)
        )

    def _on_the_wire(self, prepared: requests.PreparedRequest) -> requests.Response:
        """Send a signed request, through the caller's sender when there is one (`requests_sent_by`: on a slot of
        the caller's share of NetSuite's limit). Signing happens before: a slot is a share of NetSuite's
        concurrency limit, and an attempt waits for one only as long as the requests ahead of it take (seconds),
        far within the TBA timestamp's tolerance."""
        settings = self._session.merge_environment_settings(prepared.url, {}, None, None, None)
        send = _request_sender.get()

        def exchange() -> requests.Response:
            return self._session.send(prepared, timeout=self._timeout, **settings)

        return send(exchange) if send is not None else exchange()

    def _recently_accepted(self) -> bool:
        accepted = self._accepted_at
        return accepted is not None and self._monotonic() - accepted < CREDENTIALS_PROVEN_SECONDS

    def _credentials_accepted(self) -> bool:
        """Whether a freshly signed probe goes through: a 401 that keeps coming under load is not bad credentials.
        Only a success counts; a 401, a throttle or no answer to every probe leaves the credentials in doubt."""
        for attempt in range(1, CREDENTIAL_PROBES + 1):
            self._retry.sleep(self._retry.delay(attempt, None))
            try:
                probe = self._on_the_wire(
                    self._signed("GET", f"{self.base_url}/system/v1/serverTime", headers={"Accept": "application/json"})
                )
            except ANSWER_LOST:
                continue
            if probe.status_code < 400:
                self._accepted_at = self._monotonic()
                return True
        return False

    @staticmethod
    def _log_retry(method: str, url: str) -> Callable[[int, TransientError, float], None]:
        def log(attempt: int, error: TransientError, pause: float) -> None:
            logger.warning(
                "NetSuite call will be retried",
                extra={"method": method, "url": url, "attempt": attempt, "error": error.message, "pause_s": pause},
            )

        return log

    # -- SuiteQL ----------------------------------------------------------------------------------
    def suiteql_page(self, query: str, *, limit: int = MAX_PAGE_SIZE, offset: int = 0) -> SuiteQLPage:
        if not 0 < limit <= MAX_PAGE_SIZE or offset % limit:
            raise ValueError(f"SuiteQL paging needs 0 < limit <= {MAX_PAGE_SIZE} and offset a multiple of it")
        url = f"{self.base_url}/query/v1/suiteql"
        payload = self._send(
            "POST",
            url,
            params={"limit": limit, "offset": offset},
            body={"q": query},
            headers={"Prefer": "transient"},
            json_body=True,
        ).payload  # type: ignore[attr-defined]
        items = payload.get("items") if isinstance(payload, dict) else None
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise TransientError(
                f"NetSuite answered POST {_path_of(url)} without a list of rows (items): {_snippet(payload)}",
                code="BAD_BODY",
                cause="netsuite-bad-body",
            )
        rows = [{k: v for k, v in item.items() if k != "links"} for item in items]
        return SuiteQLPage(
            rows, _flag(payload.get("hasMore")), int(payload.get("offset", offset)), payload.get("totalResults")
        )

    def keyset_pages(
        self,
        build_query: QueryBuilder,
        *,
        key: str = "id",
        after: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of a query ordered by `key`, each read afresh from the last key seen.

        `build_query(after)` must return SQL that selects rows with key > after (all rows when None), ordered by
        that key. Every page is that query at offset 0: an offset would shift when rows are deleted or leave the
        filter between two pages (and NetSuite stops offsets at a row ceiling), losing records without a word.
        Each page's last key is a safe resume point for a later invocation.
        """
        page_size = page_size or self.page_size
        while True:
            page = self.suiteql_page(build_query(after), limit=page_size)
            if not page.rows:
                return
            yield page.rows
            last = str(page.rows[-1][key])
            if after is not None and _key_order(last) <= _key_order(after):
                raise ValueError(f"SuiteQL keyset did not advance past {after!r}: is the query ordered by {key}?")
            after = last
            if not page.has_more:
                return

    def rows(
        self, build_query: QueryBuilder, *, key: str = "id", page_size: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every row of a keyset query (see keyset_pages), one by one."""
        for page in self.keyset_pages(build_query, key=key, page_size=page_size):
            yield from page

    # -- records ----------------------------------------------------------------------------------
    def _record_url(self, record_type: str, record_id: str) -> str:
        return f"{self.base_url}/record/v1/{record_type}/{record_id}"

    def get_record(
        self, record_type: str, record_id: str, *, expand: bool = False, fields: list[str] | None = None
    ) -> dict[str, Any]:
        params: dict[str, str] = {}
        if expand:
            params["expandSubResources"] = "true"
        if fields:
            params["fields"] = ",".join(fields)
        response = self._send("GET", self._record_url(record_type, record_id), params=params or None, json_body=True)
        return response.payload  # type: ignore[attr-defined]

    def create_record(self, record_type: str, body: dict[str, Any]) -> str:
        response = self._send("POST", f"{self.base_url}/record/v1/{record_type}", body=body, idempotent=False)
        return _id_from_location(response)

    def update_record(
        self, record_type: str, record_id: str, body: dict[str, Any], *, replace: list[str] | None = None
    ) -> None:
        params = {"replace": ",".join(replace)} if replace else None
        self._send("PATCH", self._record_url(record_type, record_id), params=params, body=body)

    def upsert_record(
        self, record_type: str, external_id: str, body: dict[str, Any], *, replace: list[str] | None = None
    ) -> str:
        """PUT on `eid:<externalId>`: creates or updates, so a retried write never makes a second record.

        `replace` names sublists whose lines are replaced rather than appended to (NetSuite appends the lines of
        a non-keyed sublist, such as an expense report's `expense`, on every update otherwise).
        """
        params = {"replace": ",".join(replace)} if replace else None
        response = self._send("PUT", self._record_url(record_type, f"eid:{external_id}"), params=params, body=body)
        return _id_from_location(response)

    def attach_file(self, record_type: str, record_id: str, file_id: str) -> None:
        """Attach a File Cabinet file to a record (`!attach/file`); UNVERIFIED on expense reports."""
        self._send("POST", f"{self._record_url(record_type, record_id)}/!attach/file/{file_id}")

    def detach_file(self, record_type: str, record_id: str, file_id: str) -> None:
        """Detach a file from a record (DELETE on the `!attach/file` path); UNVERIFIED on expense reports."""
        self._send("DELETE", f"{self._record_url(record_type, record_id)}/!attach/file/{file_id}")

    def delete_record(self, record_type: str, record_id: str) -> None:
        self._send("DELETE", self._record_url(record_type, record_id))

    # -- system -----------------------------------------------------------------------------------
    def server_time(self) -> datetime:
        """NetSuite's clock (UTC): the watermark is taken from it, never from ours."""
        url = f"{self.base_url}/system/v1/serverTime"
        payload = self._send("GET", url, json_body=True).payload  # type: ignore[attr-defined]
        text = payload.get("serverTime") if isinstance(payload, dict) else None
        try:
            return parse_instant(str(text))
        except ValueError:
            raise TransientError(
                f"NetSuite answered GET {_path_of(url)} without a readable serverTime: {_snippet(payload)}",
                code="BAD_BODY",
                cause="netsuite-bad-body",
            ) from None

    def token_info(self) -> dict[str, Any]:
        """Which company, role and user the token acts as: the operator's connection check."""
        return self._send("GET", f"{self.restlets_url}/rest/tokeninfo", json_body=True).payload  # type: ignore[attr-defined]


def _json_payload(response: requests.Response, method: str, url: str) -> Any:
    """The JSON of a 2xx answer. One that is not JSON was cut short or came from something in between (a proxy's
    HTML page): retried, since the next answer may be whole. NetSuite's error list on a 2xx is not a success."""
    try:
        payload = jsonutil.loads(response.content) if response.content else {}
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type")
        raise TransientError(
            f"NetSuite answered {response.status_code} to {method} {_path_of(url)} with a body that is not JSON "
            f"({kind}, {len(response.content)} bytes: cut short, or an error page): {_snippet(response.text)}",
            code="BAD_BODY",
            cause="netsuite-bad-body",
        ) from None
    if isinstance(payload, dict) and payload.get("o:errorDetails"):
        code, detail, path = parse_error_body(response)
        raise NetSuiteValidationError(
            response.status_code,
            code,
            f"{detail} (an error list on a {response.status_code} answer to {method} {_path_of(url)})",
            path=path,
        )
    return payload


def _flag(value: Any) -> bool:
    """A JSON boolean, also when it came as text (\"false\" is not true)."""
    return value.strip().lower() == "true" if isinstance(value, str) else bool(value)


def _path_of(url: str) -> str:
    return urlsplit(url).path


def _snippet(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return repr(text[:120] + ("..." if len(text) > 120 else ""))


def _origin_of(base_url: str | None) -> str | None:
    if not base_url:
        return None
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def _key_order(key: str) -> tuple[int, int | str]:
    return (0, int(key)) if is_number(key, negative=True) else (1, key)


def _id_from_location(response: requests.Response) -> str:
    location = response.headers.get("Location", "")
    record_id = location.rstrip("/").rsplit("/", 1)[-1]
    if not location or not record_id:
        raise NeedsAttention(f"NetSuite answered {response.status_code} without a Location header", code="NO_LOCATION")
    return record_id
