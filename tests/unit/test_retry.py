"""Retries with exponential backoff and full jitter (ctsync.retry)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ctsync.errors import BadInput, NeedsAttention, TransientError
from ctsync.retry import RetryPolicy, call_with_retries


class RecordingSleep:
    def __init__(self) -> None:
        self.pauses: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


class Script:
    """An attempt() that raises the given errors in turn, then returns `result`."""

    def __init__(self, *errors: Exception, result: object = "done") -> None:
        self.errors = list(errors)
        self.result = result
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return self.result


def policy(
    max_attempts: int = 6, *, seed: int = 7, base: float = 1.0, cap: float = 30.0
) -> tuple[RetryPolicy, RecordingSleep]:
    sleep = RecordingSleep()
    return RetryPolicy(
        max_attempts=max_attempts, base_seconds=base, cap_seconds=cap, sleep=sleep, rng=random.Random(seed)
    ), sleep


# -- delay --------------------------------------------------------------------------------------------------


@given(
    attempt=st.integers(min_value=1, max_value=40),
    base=st.floats(min_value=0.001, max_value=10, allow_nan=False),
    cap=st.floats(min_value=0.001, max_value=120, allow_nan=False),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_delay_is_full_jitter_within_the_capped_exponential_step(
    attempt: int, base: float, cap: float, seed: int
) -> None:
    p = RetryPolicy(base_seconds=base, cap_seconds=cap, rng=random.Random(seed))
    step = min(cap, base * 2 ** (attempt - 1))
    delay = p.delay(attempt, None)
    assert 0 <= delay <= step


@given(
    attempt=st.integers(min_value=1, max_value=40),
    base=st.floats(min_value=0.001, max_value=10, allow_nan=False),
    cap=st.floats(min_value=0.001, max_value=120, allow_nan=False),
    retry_after=st.floats(min_value=0, max_value=3600, allow_nan=False),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_delay_never_comes_sooner_than_retry_after_capped(
    attempt: int, base: float, cap: float, retry_after: float, seed: int
) -> None:
    p = RetryPolicy(base_seconds=base, cap_seconds=cap, rng=random.Random(seed))
    step = min(cap, base * 2 ** (attempt - 1))
    floor = min(retry_after, cap)
    delay = p.delay(attempt, retry_after)
    assert delay >= floor
    assert delay <= max(step, floor) <= cap  # a huge Retry-After is capped, never obeyed blindly


def test_delay_steps_double_until_the_cap() -> None:
    class Top(random.Random):
        def uniform(self, a: float, b: float) -> float:  # the top of each jitter range
            return b

    p = RetryPolicy(base_seconds=1.0, cap_seconds=30.0, rng=Top())
    assert [p.delay(n, None) for n in range(1, 8)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_delay_jitter_actually_varies() -> None:
    p = RetryPolicy(base_seconds=1.0, cap_seconds=30.0, rng=random.Random(1))
    assert len({p.delay(5, None) for _ in range(20)}) > 1


# -- call_with_retries --------------------------------------------------------------------------------------


def test_success_on_first_attempt_does_not_sleep() -> None:
    p, sleep = policy()
    attempt = Script(result=42)
    assert call_with_retries(attempt, p) == 42
    assert attempt.calls == 1
    assert sleep.pauses == []


def test_transient_errors_are_retried_until_success() -> None:
    p, sleep = policy(max_attempts=5)
    attempt = Script(TransientError("429"), TransientError("503"), result="ok")
    seen: list[tuple[int, str, float]] = []
    result = call_with_retries(attempt, p, on_retry=lambda n, e, pause: seen.append((n, e.message, pause)))
    assert result == "ok"
    assert attempt.calls == 3
    assert [(n, m) for n, m, _ in seen] == [(1, "429"), (2, "503")]
    # the pause reported to on_retry is the pause slept
    assert [pause for _, _, pause in seen] == sleep.pauses
    assert len(sleep.pauses) == 2


def test_the_last_transient_error_is_re_raised_after_max_attempts() -> None:
    p, sleep = policy(max_attempts=4)
    errors = [TransientError(f"try {n}") for n in range(1, 10)]
    attempt = Script(*errors)
    numbers: list[int] = []
    with pytest.raises(TransientError) as raised:
        call_with_retries(attempt, p, on_retry=lambda n, e, pause: numbers.append(n))
    assert raised.value is errors[3]  # the fourth, i.e. the last attempt's own error
    assert attempt.calls == 4
    assert numbers == [1, 2, 3]  # no on_retry (and no sleep) after the last attempt
    assert len(sleep.pauses) == 3


def test_one_attempt_means_no_retry() -> None:
    p, sleep = policy(max_attempts=1)
    attempt = Script(TransientError("x"))
    with pytest.raises(TransientError):
        call_with_retries(attempt, p)
    assert attempt.calls == 1
    assert sleep.pauses == []


@pytest.mark.parametrize(
    "error",
    [NeedsAttention("map the employee"), BadInput("bad", field="Hours", value="x"), ValueError("a bug"), KeyError("k")],
)
def test_anything_but_transient_is_raised_at_once(error: Exception) -> None:
    p, sleep = policy()
    attempt = Script(error)
    calls: list[int] = []
    with pytest.raises(type(error)) as raised:
        call_with_retries(attempt, p, on_retry=lambda n, e, pause: calls.append(n))
    assert raised.value is error
    assert attempt.calls == 1
    assert calls == []
    assert sleep.pauses == []


def test_needs_attention_after_a_transient_error_stops_the_retries() -> None:
    p, sleep = policy()
    attempt = Script(TransientError("503"), NeedsAttention("period closed"), result="never")
    with pytest.raises(NeedsAttention):
        call_with_retries(attempt, p)
    assert attempt.calls == 2
    assert len(sleep.pauses) == 1


def test_retry_after_from_the_error_sets_the_pause() -> None:
    p, sleep = policy(base=0.001, cap=30.0)
    attempt = Script(TransientError("429", retry_after=12.0), result="ok")
    assert call_with_retries(attempt, p) == "ok"
    assert sleep.pauses[0] >= 12.0


def test_a_retry_after_longer_than_the_cap_is_left_to_the_queue() -> None:
    # Sleeping 500 s inside a Lambda would burn its time; the error goes back to the caller (and the queue).
    p, sleep = policy(base=0.001, cap=30.0)
    attempt = Script(TransientError("429", retry_after=12.0), TransientError("429", retry_after=500.0), result="ok")
    with pytest.raises(TransientError):
        call_with_retries(attempt, p)
    assert len(sleep.pauses) == 1


def test_a_retry_after_longer_than_the_cap_marks_an_outage() -> None:
    """The server asks for a longer pause than is slept through: the other system is down for every record."""
    p, _ = policy(cap=30.0)
    with pytest.raises(TransientError) as raised:
        call_with_retries(Script(TransientError("503", retry_after=30.5)), p)
    assert raised.value.outage is True
    assert raised.value.systemic


def test_a_retry_after_of_exactly_the_cap_is_slept_through() -> None:
    p, sleep = policy(base=0.001, cap=30.0)
    attempt = Script(TransientError("429", retry_after=30.0), result="ok")
    assert call_with_retries(attempt, p) == "ok"
    assert sleep.pauses == [30.0]
