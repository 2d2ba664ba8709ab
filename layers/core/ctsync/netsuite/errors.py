"""NetSuite's error bodies turned into typed exceptions that say whether a retry can help.

Logic keys on `status` and `o:errorCode`, never on `type` (its URL has changed across releases).
"""

from __future__ import annotations

import json
from typing import Any

import requests

from ctsync.errors import NeedsAttention, TransientError


class NetSuiteError(NeedsAttention):
    """A NetSuite answer that a retry will not change: validation, permission, missing record."""

    def __init__(self, status: int, code: str, detail: str, *, path: str | None = None) -> None:
        where = f" at {path}" if path else ""
        super().__init__(f"NetSuite {status} {code}: {detail}{where}", code=code or f"HTTP_{status}")
        self.status = status
        self.detail = detail
        self.path = path


class NetSuiteNotFound(NetSuiteError):
    pass


class NetSuiteValidationError(NetSuiteError):
    pass


class NetSuitePermissionError(NetSuiteError):
    pass


class NetSuiteAuthError(NetSuiteError):
    """INVALID_LOGIN that is not explained by throttling: realm, tokens, role or clock."""

    def __init__(self, status: int, code: str, detail: str, *, path: str | None = None) -> None:
        super().__init__(status, code, detail, path=path)
        self.message += (
            " (check the account ID's case, the token's role permissions and the Login Audit Trail in NetSuite)"
        )


class NetSuiteTransientError(TransientError):
    """429, 5xx, or a 401 right after throttling: worth another signed attempt later."""

    def __init__(self, status: int, code: str, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"NetSuite {status} {code}: {detail}", code=code or f"HTTP_{status}", retry_after=retry_after)
        self.status = status


def parse_error_body(response: requests.Response) -> tuple[str, str, str | None]:
    """(o:errorCode, detail, o:errorPath) of the first error detail, tolerating bodies that are not JSON."""
    try:
        body: Any = response.json()
    except (ValueError, json.JSONDecodeError):
        return "", (response.text or response.reason or "")[:500], None
    details = body.get("o:errorDetails") or [] if isinstance(body, dict) else []
    first = details[0] if details and isinstance(details[0], dict) else {}
    code = first.get("o:errorCode", "")
    detail = first.get("detail") or (body.get("title") if isinstance(body, dict) else "") or ""
    return code, detail, first.get("o:errorPath")


def retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_for(response: requests.Response, *, throttled_recently: bool) -> Exception:
    status = response.status_code
    code, detail, path = parse_error_body(response)
    if status == 429 or status >= 500:
        return NetSuiteTransientError(status, code, detail, retry_after=retry_after_seconds(response))
    if status == 401:
        # NetSuite sometimes answers a concurrency overload with INVALID_LOGIN; straight after a 429 it is
        # more likely load than bad credentials, so it is retried (the client bounds how often).
        if throttled_recently:
            return NetSuiteTransientError(status, code or "INVALID_LOGIN", detail)
        return NetSuiteAuthError(status, code or "INVALID_LOGIN", detail, path=path)
    if status == 403:
        return NetSuitePermissionError(status, code, detail, path=path)
    if status == 404:
        return NetSuiteNotFound(status, code, detail, path=path)
    return NetSuiteValidationError(status, code, detail, path=path)
