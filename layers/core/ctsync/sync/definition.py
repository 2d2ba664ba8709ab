"""The two halves every sync provides; a new record type implements these and is listed in the registry.

A sync is a `ChangeSource` (reads changes in resumable batches) and an `Applier` (applies one message). The
engine owns everything else: windows and watermarks, leases, queues, retries, failure routing, causes.

Rules every source keeps (the change-source contract, tested for each source in `tests/`):
- **Window end** is the source's own notion of "now" (`window_end()`), by a written rule: NetSuite's
  `serverTime`; ClickTime's HTTP `Date` minus a skew margin. Every change whose version is at or before the
  window end and at or after the window start is read; the next window starts at this end minus an overlap,
  so the watermark never passes a change that was not read.
- **Resume keys are opaque** to the engine: a batch's `last_key` is handed back as `after` to continue the
  same phase later (in another invocation), and the reader never pages by offset over data that can change.
- **Deletions** (and withdrawals: an approval undone) come as changes with `op="delete"`.
- **Adoption**: a target that already carries the source's ID comes as `op="adopt"` before any change of that
  record, so the worker updates it instead of creating a twin.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from ctsync.sync import record_ids
from ctsync.sync.messages import Change, Outcome, WorkMessage

if TYPE_CHECKING:
    from ctsync.errors import NeedsAttention
    from ctsync.state import Mapping


ADOPT = "adopt"  # the phase that adopts existing targets; when it fails, the run reads nothing else


class CheckWarning(str):
    """A finding of an applier's `check()` hook that does not fail `ctns check`: it matters only when a record
    uses what it names (an expense type no sheet may ever carry). A plain `str` finding fails the check."""


@dataclass(frozen=True)
class Window:
    """What one run reads: changes at or after `start`, up to the source's `end` when the run started."""

    start: datetime
    end: datetime
    first_run: bool = False  # no watermark existed for this phase: onboarding work (adoption) happens now


@dataclass(frozen=True)
class ChangeBatch:
    changes: list[Change]
    last_key: str  # resume point: the phase continues after this key


class ChangeSource(Protocol):
    """Reads what changed in the source system in a window, in keyed, resumable batches."""

    phases: tuple[str, ...]  # e.g. ("adopt", "changes", "deletions"): read in this order

    def window_end(self) -> datetime: ...

    def read(self, phase: str, window: Window, after: str | None) -> Iterator[ChangeBatch]: ...


def start_margin(source: ChangeSource, start: datetime) -> timedelta:
    """How much earlier than `start` (watermark less overlap) the source asks a window to start, after
    `window_end`: a NetSuite source whose zone comparison cannot prove the zone for this season
    (`records.netsuite_zone`) asks for the most its literal could be read late. Optional (`start_margin(start)`
    on the source); zero without it."""
    hook = getattr(source, "start_margin", None)
    return hook(start) if hook is not None else timedelta(0)


class Applier(Protocol):
    """Applies one work message to the target system and records the mapping."""

    def apply(self, message: WorkMessage) -> Outcome: ...


def same_fingerprint(change: Change, mapping: Mapping) -> bool:
    """The default test of an unchanged record: the source snapshot is the one last applied in full."""
    return bool(change.fingerprint) and change.fingerprint == mapping.fingerprint and not mapping.deleted


@dataclass(frozen=True)
class SyncDefinition:
    name: str
    mapping_kind: str  # the kind its mappings are stored under ("project", "task", …)
    source: ChangeSource
    applier: Applier
    # Records of one batch the worker may have in progress at once (each in a thread of its own); 1: one after
    # another. More only where the applier is safe for it (the time export: `time.sheets_at_once`).
    records_at_once: int = 1
    source_system: str = "netsuite"  # names the IDs in logs: netsuite_id / clicktime_id
    target_system: str = "clicktime"
    # Whether the target already holds what a change carries, judged against the mapping by the poller (so an
    # unchanged record never reaches the queue) and by the worker (one that reached it anyway: a redelivery, a
    # record queued by two runs).
    unchanged: Callable[[Change, Mapping], bool] = same_fingerprint
    # Why a record the poller holds back as unchanged still fails when it reaches the worker (redriven while the
    # cause that holds it back is open), or None: the worker reports it with that cause again rather than
    # dropping it from the dead-letter queue.
    waits: Callable[[Mapping], NeedsAttention | None] | None = None
    # Why a record's snapshot alone shows it needs no target unless it already has one (a closed project never
    # synced), or None: the applier's own rule, so the poller marks such a record skipped instead of queueing a
    # message that would only do the same. Unset: every change goes to the worker.
    needs_no_target: Callable[[Change], str | None] | None = None
    # Mapping kinds whose records a write of unknown outcome left unsettled are looked at again at the end of each
    # run of this sync (`op="check"` messages), and how (`records.targets.recheck`, bound to the target system).
    checked_kinds: tuple[str, ...] = ()
    recheck: Callable[[WorkMessage], Outcome] | None = None
    # The record as its source holds it now (None: no longer there), as the poller would read it: asked about a
    # message that would change what its target holds when a later run may have read the record since
    # (`ProgressStore.read_since`). That run queued nothing when it found the target holding the record's newer
    # state (a record brought back to an earlier value: P-A, P-B, P-A), so the late message is applied only if the
    # source still holds its snapshot. Unset: every such message is applied (a sync whose applier reads the source
    # itself, as the exports do).
    current: Callable[[str], Change | None] | None = None
    # Whether a deliberate re-read (`ctns backfill`: `Cursor.reread`) queues every record it reads, unchanged in
    # the source or not, for the applier to plan again: for a sync whose plan also reads the target system (the
    # time export: a NetSuite task made non-billable after its time was exported). Off: the fingerprint judges.
    replans_on_reread: bool = False
    judges_skips: bool = True  # off: a skip marker says nothing (`registry.refusing`: no rule can be applied)
    # Whether a record's parts are its child mappings (a timesheet's time entries and bills, an expense sheet's
    # items): the worker names them on a line about the record when its applier noted none (`record_ids`).
    parts: bool = False

    def holds(self, change: Change, mapping: Mapping | None) -> bool:
        """Whether the target side already reflects `change` (nothing to do): judged by `unchanged`, or, for a
        record never synced, by the skip marker of this very snapshot (unless `judges_skips` is off)."""
        if mapping is None or change.judged_by_worker:
            return False
        if not mapping.target_id:  # a skip marker: this very snapshot was judged to need no target
            return self.judges_skips and bool(change.fingerprint) and change.fingerprint == mapping.fingerprint
        return self.unchanged(change, mapping)

    def ids(self, source_id: str | None, target_id: str | None) -> dict[str, str | int | None]:
        """Log keys naming both systems' IDs, so a search for either finds the line: the record's own
        (`source_id`, `target_id`, `<system>_id`: empty rather than a placeholder or a `kind:id` form) and every
        ID of either system the record concerns (`<system>_ids`: its parts as the applier noted them,
        `record_ids`), capped, with `ids_left_out` counting the IDs a long list left out."""
        source = source_id if record_ids.is_record_id(source_id) else None
        target = target_id if record_ids.is_record_id(target_id) else None
        noted = record_ids.current()
        sources, left_sources = record_ids.joined([source, *(noted.source if noted else ())])
        targets, left_targets = record_ids.joined([target, *(noted.target if noted else ())])
        keys: dict[str, str | int | None] = {
            "source_id": source,
            "target_id": target,
            f"{self.source_system}_id": source,
            f"{self.target_system}_id": target,
            f"{self.source_system}_ids": sources or None,
            f"{self.target_system}_ids": targets or None,
        }
        if left_sources or left_targets:
            keys["ids_left_out"] = left_sources + left_targets
        return keys
