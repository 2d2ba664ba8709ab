"""ClickTime's `errors` list turned into typed exceptions.

An `errors` list is an error even on a 2xx answer: some ClickTime clients have been bitten by treating such
responses as success.
"""

from __future__ import annotations

import re
from typing import Any

from ctsync.errors import ConfigurationError, NeedsAttention, SyncError, TargetNotFound, TransientError, cause_part

# How ClickTime refuses a second record with a unique value (a ClientNumber, a task name): another worker won
# the race to create it, so the record is looked up and adopted instead.
ALREADY_EXISTS = re.compile(r"already in use|already exists|must be unique|duplicate", re.I)


def describe(errors: list[dict[str, Any]] | None) -> str:
    parts = []
    for error in errors or []:
        field = error.get("Field")
        message = error.get("Message") or "error"
        details = "; ".join(str(d) for d in error.get("MessageDetail") or [])
        text = f"{field}: {message}" if field else message
        parts.append(f"{text} ({details})" if details else text)
    return "; ".join(parts) or "no error detail"


class ClickTimeError(NeedsAttention):
    def __init__(self, status: int, message: str, *, field: str | None = None) -> None:
        super().__init__(
            f"ClickTime {status}: {message}",
            code=f"CLICKTIME_{status}",
            cause=f"clicktime-{status}:{cause_part(field or '-')}",
        )
        self.status = status
        self.field = field


class ClickTimeValidationError(ClickTimeError):
    pass


class ClickTimeAlreadyExists(ClickTimeValidationError):
    """A create refused because a unique value is taken: usually another worker created the same record."""


class ClickTimeNotFound(ClickTimeError, TargetNotFound):
    """A 404: still a NeedsAttention for every caller; `path` (set by the client) says which call met it."""


class ClickTimePermissionError(ClickTimeError):
    """The token's user lacks a permission: every record of the sync meets it."""

    systemic = True
    fix = "give the API token's ClickTime user the permission named (an administrator's token is expected)"


class ClickTimeAuthError(ConfigurationError):
    def __init__(self, message: str) -> None:
        super().__init__(
            f"ClickTime 401: {message} (the API token in Secrets Manager is missing, wrong or reset)",
            cause="clicktime-login",
            fix="put a valid ClickTime API token (an administrator's) into the ClickTime secret",
        )
        self.status = 401


class ClickTimeTransientError(TransientError):
    def __init__(self, status: int, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(
            f"ClickTime {status}: {message}",
            code=f"CLICKTIME_{status}",
            retry_after=retry_after,
            cause=f"clicktime-unavailable:{status}",
            throttled=status == 429,
        )
        self.status = status


class ClickTimeOutcomeUnknown(SyncError):
    """A create whose answer was lost: it may exist now. Not a TransientError, so the client does not send it
    again; the worker returns the message to the queue, and the next attempt's find-or-create finds it."""

    code = "OUTCOME_UNKNOWN"


def error_for(status: int, errors: list[dict[str, Any]] | None, retry_after: float | None) -> Exception:
    message = describe(errors)
    if status == 429 or status >= 500:
        return ClickTimeTransientError(status, message, retry_after=retry_after)
    if status == 401:
        return ClickTimeAuthError(message)
    field = next((e.get("Field") for e in errors or [] if e.get("Field")), None)
    if status == 403:
        return ClickTimePermissionError(status, message, field=field)
    if status == 404:
        return ClickTimeNotFound(status, message, field=field)
    if ALREADY_EXISTS.search(message):
        return ClickTimeAlreadyExists(status, message, field=field)
    return ClickTimeValidationError(status, message, field=field)
