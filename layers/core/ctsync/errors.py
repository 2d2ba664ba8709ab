"""What can go wrong, sorted by what should happen next.

The worker routes on these types alone: a `TransientError` is retried (by the client, then by the queue), a
`NeedsAttention` goes to the dead-letter queue with its reason at once, since retrying cannot fix it.
"""

from __future__ import annotations


class SyncError(Exception):
    """Base of every error the core raises on purpose."""

    retryable = False
    code = "SYNC_ERROR"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class TransientError(SyncError):
    """Throttling, timeouts, 5xx, contention: the same call may succeed later."""

    retryable = True
    code = "TRANSIENT"

    def __init__(self, message: str, *, code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class NeedsAttention(SyncError):
    """A person has to act (map an employee, open a period, grant a permission) before this can go through."""

    code = "NEEDS_ATTENTION"


class BadInput(NeedsAttention):
    """Source data that cannot be synced as it is; names the field and the value."""

    code = "BAD_INPUT"

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        detail = message if field is None else f"{message} (field {field}={value!r})"
        super().__init__(detail)
        self.field = field
        self.value = value


class ConfigurationError(NeedsAttention):
    """The deployment's configuration or credentials are missing or invalid."""

    code = "CONFIGURATION"
