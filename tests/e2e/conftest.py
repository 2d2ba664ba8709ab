"""End-to-end fixtures: the local runner over the full stack (template wiring, moto, both simulators)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ctns.session import Session
from tests.e2e.support import FAST_RETRIES


@pytest.fixture
def open_session() -> Iterator[Callable[..., Session]]:
    """Open a simulated session with config overrides (merged over fast client retries); closed after the test."""
    opened: list[Session] = []

    def factory(config: dict[str, Any] | None = None, **kwargs: Any) -> Session:
        overrides = {**FAST_RETRIES, **(config or {})}
        session = Session.simulated(seed=kwargs.pop("seed", 7), config_overrides=overrides, **kwargs)
        opened.append(session)
        return session

    yield factory
    for session in opened:
        session.close()


@pytest.fixture
def session(open_session: Callable[..., Session]) -> Session:
    return open_session()
