"""The two halves every sync provides; a new record type implements these and is wired in the registry."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ctsync.sync.messages import Change, Outcome, WorkMessage


@dataclass(frozen=True)
class ChangeBatch:
    changes: list[Change]
    last_key: str  # resume point: the phase continues after this key


class ChangeSource(Protocol):
    """Reads what changed in the source system since an instant, in keyed, resumable batches."""

    phases: tuple[str, ...]  # e.g. ("changes", "deletions"): read in this order

    def server_time(self) -> datetime: ...

    def read(self, phase: str, since: datetime, after: str | None) -> Iterator[ChangeBatch]: ...


class Applier(Protocol):
    """Applies one work message to the target system and records the mapping."""

    def apply(self, message: WorkMessage) -> Outcome: ...


@dataclass(frozen=True)
class SyncDefinition:
    name: str
    mapping_kind: str  # the kind its mappings are stored under ("project", "task", …)
    source: ChangeSource
    applier: Applier
    source_system: str = "netsuite"  # names the IDs in logs: netsuite_id / clicktime_id
    target_system: str = "clicktime"

    def ids(self, source_id: str | None, target_id: str | None) -> dict[str, str | None]:
        """Log keys naming both systems' IDs, so a search for either finds the line."""
        return {
            "source_id": source_id,
            "target_id": target_id,
            f"{self.source_system}_id": source_id,
            f"{self.target_system}_id": target_id,
        }
