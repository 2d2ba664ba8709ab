"""What can go wrong, sorted by what should happen next.

The worker routes on these types alone:
- a `TransientError` is retried (by the client, then by the queue);
- a `NeedsAttention` goes to the dead-letter queue with its reason at once, since retrying cannot fix it;
- a `systemic` error (credentials, permissions, configuration, the other system down) affects every record
  of the sync, so it stops the batch and is reported once, as one cause, instead of once per record.

Every error carries a **cause key**: a stable name for what a person must fix (`employee-unmapped:<email>`,
`field-not-kept:job.custentity_ct_job_id`), never the message text, which names records. Failures are grouped
by it, so a hundred time entries blocked by one unmapped employee are one cause listing a hundred records.
"""

from __future__ import annotations

import re

_KEY_TEXT = re.compile(r"[^a-z0-9@._:/+-]+")


def cause_part(value: object) -> str:
    """A piece of a cause key: lower case, no spaces; long values are cut (keys are DynamoDB sort keys)."""
    return _KEY_TEXT.sub("-", str(value).strip().lower()).strip("-")[:120] or "unknown"


class SyncError(Exception):
    """Base of every error the core raises on purpose."""

    retryable = False
    systemic = False
    code = "SYNC_ERROR"

    def __init__(self, message: str, *, code: str | None = None, cause: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self._cause = cause

    @property
    def cause_key(self) -> str:
        """What a person must fix, as a stable key; by default the error's code."""
        return self._cause or cause_part(self.code.replace("_", "-"))


class TargetNotFound(SyncError):
    """The other system says the record addressed does not exist (a 404): deleted there, or never made.

    `path` is the API path that answered so, where the client knows it: a sync keeping a target in step
    (`records.targets.upsert_target`) takes a not-found of its target's own path to mean that the target was deleted
    in the other system, and makes it anew. Derived from by a system's own not-found error, next to its other base
    (`ClickTimeNotFound` is also a `NeedsAttention`): routing is unchanged for every other caller.
    """

    path: str | None = None


class TransientError(SyncError):
    """Throttling, timeouts, 5xx, contention: the same call may succeed later."""

    retryable = True
    code = "TRANSIENT"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retry_after: float | None = None,
        cause: str | None = None,
        outage: bool = False,
        throttled: bool = False,
    ) -> None:
        super().__init__(message, code=code, cause=cause)
        self.retry_after = retry_after
        # Refused for load before it ran (a 429; NetSuite's INVALID_LOGIN while its concurrency limit is full):
        # nothing about the record caused it, so a record refused until the retries ran out keeps its attempts.
        self.throttled = throttled
        # The other system answered with 5xx, timeouts, resets or throttling until the client gave up: every
        # record of the sync would meet the same, so the worker pauses the sync instead of burning retries.
        self.outage = outage

    @property
    def systemic(self) -> bool:  # type: ignore[override]
        return self.outage


class NeedsAttention(SyncError):
    """A person has to act (map an employee, open a period, grant a permission) before this can go through."""

    code = "NEEDS_ATTENTION"
    fix = ""  # one sentence saying what to do, where the error knows it

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        cause: str | None = None,
        fix: str | None = None,
        systemic: bool | None = None,
    ) -> None:
        super().__init__(message, code=code, cause=cause)
        if fix:
            self.fix = fix
        if systemic is not None:
            self.systemic = systemic


class BadInput(NeedsAttention):
    """Source data that cannot be synced as it is; names the field and the value."""

    code = "BAD_INPUT"

    def __init__(
        self, message: str, *, field: str | None = None, value: object = None, cause: str | None = None
    ) -> None:
        detail = message if field is None else f"{message} (field {field}={value!r})"
        super().__init__(detail, cause=cause or f"bad-input:{cause_part(field or 'record')}")
        self.field = field
        self.value = value


class ConfigurationError(NeedsAttention):
    """The deployment's configuration or credentials are missing or invalid: every record meets it."""

    code = "CONFIGURATION"
    systemic = True
