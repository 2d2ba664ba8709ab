"""ClickTime's `errors` list turned into typed exceptions.

An `errors` list is an error even on a 2xx answer: some ClickTime clients have been bitten by treating such
responses as success.
"""

from __future__ import annotations

from typing import Any

from ctsync.errors import ConfigurationError, NeedsAttention, SyncError, TransientError


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
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"ClickTime {status}: {message}", code=f"CLICKTIME_{status}")
        self.status = status


class ClickTimeValidationError(ClickTimeError):
    pass


class ClickTimeNotFound(ClickTimeError):
    pass


class ClickTimePermissionError(ClickTimeError):
    pass


class ClickTimeAuthError(ConfigurationError):
    def __init__(self, message: str) -> None:
        super().__init__(f"ClickTime 401: {message} (the API token in Secrets Manager is missing, wrong or reset)")
        self.status = 401


class ClickTimeTransientError(TransientError):
    def __init__(self, status: int, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"ClickTime {status}: {message}", code=f"CLICKTIME_{status}", retry_after=retry_after)
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
    if status == 403:
        return ClickTimePermissionError(status, message)
    if status == 404:
        return ClickTimeNotFound(status, message)
    return ClickTimeValidationError(status, message)
