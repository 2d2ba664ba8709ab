"""Retries with exponential backoff and full jitter, shared by both API clients.

Each attempt is a fresh call of `attempt()`: for NetSuite that means a freshly signed request (new nonce and
timestamp), which is why retries are not left to urllib3, which would re-send the same signed headers.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import requests

from ctsync.errors import TransientError

T = TypeVar("T")

# What `requests` raises when a request got no whole answer: no connection, no answer in time, or an answer that
# broke off while its body was read (a connection reset mid-body, a body shorter than its Content-Length, a
# compressed body cut short). The last two are not ConnectionErrors: caught as ConnectionError alone, a download
# or a write whose answer broke off escaped both clients untranslated (review 2026-12-03).
ANSWER_LOST: tuple[type[Exception], ...] = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    base_seconds: float = 1.0
    cap_seconds: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Full jitter (uniform up to the exponential step), but never sooner than the server asked, up to the
        cap: a longer Retry-After is not slept through in a Lambda, it is left to the queue (see below)."""
        step = min(self.cap_seconds, self.base_seconds * (2 ** (attempt - 1)))
        jittered = self.rng.uniform(0, step)
        if retry_after is not None:
            return max(jittered, min(retry_after, self.cap_seconds))
        return jittered


def call_with_retries(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    on_retry: Callable[[int, TransientError, float], None] | None = None,
) -> T:
    """Run `attempt` until it returns or raises something not retryable, or attempts run out.

    Transient errors are the only ones retried; the last one is re-raised when attempts run out, so the
    caller (the queue) can decide whether to try again later. It leaves marked as an outage: the other system
    kept failing or throttling for the whole retry budget, which every other record of the sync would meet too.
    """
    number = 1
    while True:
        try:
            return attempt()
        except TransientError as error:
            if number >= policy.max_attempts:
                error.outage = True
                raise
            if error.retry_after is not None and error.retry_after > policy.cap_seconds:
                error.outage = True
                raise  # the server wants a longer pause than is worth sleeping through here
            pause = policy.delay(number, error.retry_after)
            if on_retry:
                on_retry(number, error, pause)
            policy.sleep(pause)
            number += 1
