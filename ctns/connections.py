"""NetSuite and ClickTime clients for the operator's commands, and their failures in words.

The clients are the core's own (same signing, paging and error types as the functions). Commands that must
write nothing (`plan`, `check`) get clients whose HTTP session refuses anything but reads: SuiteQL is a POST
that reads, every other POST, PUT, PATCH or DELETE is refused before it leaves the machine.
"""

from __future__ import annotations

from typing import Any

import requests

from ctns.inputs import ClickTimeSecret, NetSuiteSecret
from ctsync.clicktime.client import ClickTimeClient
from ctsync.clicktime.errors import ClickTimeAuthError, ClickTimeError
from ctsync.config import SyncConfig
from ctsync.errors import SyncError, TransientError
from ctsync.netsuite.client import NetSuiteClient
from ctsync.netsuite.errors import NetSuiteAuthError, NetSuiteError
from ctsync.retry import RetryPolicy

# Three attempts: NetSuite answers a few 401s under load before the client believes the credentials are wrong.
QUICK = RetryPolicy(max_attempts=3, base_seconds=0.1, cap_seconds=0.5)
TIMEOUT_SECONDS = 20.0


class WriteRefused(RuntimeError):
    """A read-only command tried to write: a bug in ctns, never sent."""


class ReadOnlySession(requests.Session):
    # `send`, not `request`: every request passes through it, including those a client prepares and signs itself
    # (the NetSuite client signs each attempt afresh and sends it with `Session.send`)
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        verb = (request.method or "").upper()
        address = request.url or ""
        suiteql = verb == "POST" and address.split("?", 1)[0].rstrip("/").endswith("/query/v1/suiteql")
        if verb not in ("GET", "HEAD") and not suiteql:
            raise WriteRefused(f"refused to send {verb} {address}: this command writes nothing")
        return super().send(request, **kwargs)


def netsuite_client(
    config: SyncConfig, secret: NetSuiteSecret, *, read_only: bool = False, retry: RetryPolicy | None = QUICK
) -> NetSuiteClient:
    settings = config.netsuite
    return NetSuiteClient(
        account_id=settings.account_id,
        credentials=secret.credentials(),
        base_url=settings.rest_base_url,
        restlets_url=settings.restlets_base_url,
        page_size=settings.page_size,
        session=ReadOnlySession() if read_only else None,
        retry=retry,
        timeout_seconds=TIMEOUT_SECONDS,
    )


def clicktime_client(
    config: SyncConfig, secret: ClickTimeSecret, *, read_only: bool = False, retry: RetryPolicy | None = QUICK
) -> ClickTimeClient:
    return ClickTimeClient(
        token=secret.api_token,
        base_url=config.clicktime.base_url,
        session=ReadOnlySession() if read_only else None,
        retry=retry,
        timeout_seconds=TIMEOUT_SECONDS,
    )


def explain(error: BaseException, system: str, config: SyncConfig) -> str:
    """One line saying what went wrong talking to NetSuite or ClickTime, and what to check."""
    if system == "netsuite":
        where = config.netsuite.rest_base_url or f"the address derived from account {config.netsuite.account_id}"
        if isinstance(error, NetSuiteAuthError) or getattr(error, "status", None) == 401:
            return (
                f"NetSuite refused the credentials (INVALID_LOGIN) for account {config.netsuite.account_id}: check the "
                "account ID exactly as NetSuite shows it (e.g. 1234567_SB1), the four TBA values in the NetSuite secret, "
                "and that the token's role may log in with access tokens (Login Audit Trail in NetSuite)"
            )
        if isinstance(error, TransientError) and getattr(error, "cause_key", "") == "netsuite-unreachable":
            return f"NetSuite did not answer at {where} ({_why(error)}): check netsuite.account_id / rest_base_url and the network"
    else:
        where = config.clicktime.base_url
        if isinstance(error, ClickTimeAuthError):
            return "ClickTime refused the API token (401): put a valid administrator's token into the ClickTime secret"
        if isinstance(error, TransientError) and getattr(error, "cause_key", "") == "clicktime-unreachable":
            return f"ClickTime did not answer at {where} ({_why(error)}): check clicktime.base_url and the network"
    name = "NetSuite" if system == "netsuite" else "ClickTime"
    if isinstance(error, NetSuiteError | ClickTimeError | SyncError):
        return f"{name}: {getattr(error, 'message', None) or error}"
    return f"{name}: {type(error).__name__}: {error}"


def _why(error: BaseException) -> str:
    cause = error.__cause__
    return type(cause).__name__ if cause else "no answer"


def system_of(error: BaseException) -> str:
    """Which system an error came from: its cause key or its type says."""
    key = str(getattr(error, "cause_key", ""))
    if key.startswith("clicktime") or isinstance(error, ClickTimeError) or "ClickTime" in str(error)[:12]:
        return "clicktime"
    return "netsuite"
