"""End-to-end fixtures: the local runner over the full stack (template wiring, moto, both simulators)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ctns.session import Session
from ctsync.state import MappingStore
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


@pytest.fixture
def lock_owners(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str, str]]:
    """(kind, source_id, owner) of every record lock taken, in order."""
    taken: list[tuple[str, str, str]] = []
    lock = MappingStore.lock

    def spy(self: MappingStore, kind: str, source_id: str, owner: str, **kwargs: Any) -> Any:
        taken.append((kind, source_id, owner))
        return lock(self, kind, source_id, owner, **kwargs)

    monkeypatch.setattr(MappingStore, "lock", spy)
    return taken


@pytest.fixture
def world_factory(open_session: Callable[..., Session], request: pytest.FixtureRequest) -> Callable[..., Any]:
    """Worlds of the test module's `World` (a `tests.e2e.support.SheetWorld`), each on a session of its own with
    config overrides."""
    world = request.module.World
    return lambda config=None, **kw: world(open_session(config, **kw))


@pytest.fixture
def world(world_factory: Callable[..., Any]) -> Any:
    return world_factory()


@pytest.fixture
def time_world(open_session: Callable[..., Session]) -> Any:
    """The time export's review world (`tests.e2e.test_time_export_review.World`) on a session of its own."""
    from tests.e2e.test_time_export_review import World

    return World(open_session())


@pytest.fixture
def expense_world(open_session: Callable[..., Session]) -> Any:
    """The expense export's review world (`tests.e2e.test_expense_export_review.World`) on a session of its own."""
    from tests.e2e.test_expense_export_review import World

    return World(open_session())


@pytest.fixture
def small_stack(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A local stack of its own (`ctns serve`'s, in this process) on the small company, no failures seeded."""
    from tests.e2e.cli_support import start_local_stack

    started = start_local_stack(tmp_path, monkeypatch, with_failures=False)
    yield started
    started.stop()


@pytest.fixture
def stack_with_failures(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A local stack of its own on the small company, with `ctns serve --with-failures`' seeded failures."""
    from tests.e2e.cli_support import start_local_stack

    started = start_local_stack(tmp_path, monkeypatch, with_failures=True)
    yield started
    started.stop()


@pytest.fixture
def serve_stack(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A local stack of its own (`ctns serve`'s, in this process) on `ctns serve`'s own company, no failures seeded."""
    from tests.e2e.cli_support import start_local_stack

    started = start_local_stack(tmp_path, monkeypatch, with_failures=False, small=False)
    yield started
    started.stop()
