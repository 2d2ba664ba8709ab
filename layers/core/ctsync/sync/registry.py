"""Which syncs exist, and everything the rest of the product needs to know about each: the one place that
defines a sync. The demo, the reports, the reconciliation, the operator CLI and the template tests read the
list from here; a new record type is a module in `ctsync.records`, an entry here and its template block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ctsync.errors import ConfigurationError
from ctsync.sync.definition import SyncDefinition, same_fingerprint
from ctsync.sync.messages import Outcome, WorkMessage

if TYPE_CHECKING:
    from ctsync.reconcile.report import Reconciliation
    from ctsync.runtime import Runtime
    from ctsync.state import Mapping
    from ctsync.sync.messages import Change


@dataclass(frozen=True)
class SyncSpec:
    name: str  # as in the template's schedule input and SYNC_NAME
    mapping_kind: str
    source_system: str  # "netsuite" | "clicktime": names the IDs in logs (netsuite_id / clicktime_id)
    target_system: str
    source_record: str  # what an operator calls one source record
    target_record: str
    build: Callable[[Runtime], SyncDefinition]
    reconcile: Callable[..., Reconciliation] | None = None  # (netsuite, clicktime, mappings, config)
    parts: bool = False  # a record's parts are its child mappings (`SyncDefinition.parts`)


def _netsuite_to_clicktime(
    name: str, kind: str, sync: Any, runtime: Runtime, checked_kinds: tuple[str, ...]
) -> SyncDefinition:
    """A sync whose ClickTime IDs are written back to NetSuite: unchanged means written back too, a record
    that needs no ClickTime record (a closed project never synced) stops at the poller, and the ClickTime records
    of `checked_kinds` a write of unknown outcome left unsettled are looked at again by each run."""
    return SyncDefinition(
        name,
        kind,
        sync.source,
        sync,
        unchanged=sync.write_back.unchanged,
        waits=sync.write_back.waits,
        needs_no_target=sync.needs_no_target,
        checked_kinds=checked_kinds,
        recheck=_clicktime_recheck(runtime),
        current=sync.current_change,
    )


def _clicktime_recheck(runtime: Runtime) -> Callable[[WorkMessage], Outcome]:
    from datetime import timedelta

    from ctsync.records.targets import recheck

    def run(message: WorkMessage) -> Outcome:
        applied = recheck(
            runtime.mappings,
            str(message.snapshot.get("kind") or ""),
            message.source_id,
            read=runtime.clicktime.read_record,
            write=runtime.clicktime.patch_record,
            # Its own owner: the record's work message of the same run may be in progress beside it.
            owner=f"{message.run_id}:check:{message.source_id}",
            settle_after=timedelta(seconds=runtime.config.clicktime.late_write_seconds),
        )
        return Outcome(applied.action, applied.target_id, applied.detail)  # type: ignore[arg-type]

    return run


def _projects(runtime: Runtime) -> SyncDefinition:
    # A project's upsert writes its customer's client too: both kinds are looked at again by this sync.
    return _netsuite_to_clicktime(
        "projects", "project", runtime.project_sync("projects"), runtime, ("customer", "project")
    )


def _tasks(runtime: Runtime) -> SyncDefinition:
    from ctsync.records.tasks import TaskSync

    config = runtime.config
    tasks = TaskSync(
        runtime.netsuite,
        runtime.clicktime,
        runtime.mappings,
        runtime.runlog,
        config.tasks,
        config.netsuite.timezone,
        runtime.project_sync("tasks"),
        cause_open=runtime.cause_open("tasks"),
    )
    return _netsuite_to_clicktime("tasks", "task", tasks, runtime, ("task",))


def _time(runtime: Runtime) -> SyncDefinition:
    from ctsync.records.time_export import TimeExport

    export = TimeExport(
        runtime.netsuite, runtime.clicktime, runtime.mappings, runtime.runlog, runtime.config, runtime.references
    )
    # A timesheet whose bill writes were of unknown outcome is looked at again (`records.time_doubts`).
    return SyncDefinition(
        "time",
        "timesheet",
        export.source,
        export,
        records_at_once=runtime.config.time.sheets_at_once,
        checked_kinds=("timesheet",),
        recheck=export.recheck,
        # The plan reads NetSuite too (a task's nonBillableTask, `time_export.planned_billable`): a backfill plans
        # every timesheet it reads again, so a flag NetSuite changed after the export is written.
        replans_on_reread=True,
    )


def _expenses(runtime: Runtime) -> SyncDefinition:
    from ctsync.records.expense_export import ExpenseExport
    from ctsync.sync.queues import Carried

    def requeue(message: WorkMessage, delay_seconds: int) -> None:
        # A retry the worker sends itself (the receipt step of one sheet): a new message, its history fresh.
        runtime.work_queue.put_back(message.model_dump_json(), Carried(), delay_seconds=delay_seconds)

    export = ExpenseExport(
        runtime.netsuite,
        runtime.clicktime,
        runtime.mappings,
        runtime.runlog,
        runtime.config,
        runtime.references,
        requeue=requeue,
    )
    # A sheet whose report write was of unknown outcome is looked at again (`ExpenseExport.recheck`).
    return SyncDefinition(
        "expenses",
        "expensesheet",
        export.source,
        export,
        unchanged=_unless_follow_up,
        checked_kinds=("expensesheet",),
        recheck=export.recheck,
    )


def _unless_follow_up(change: Change, mapping: Mapping) -> bool:
    from ctsync.records.expense_receipts import is_follow_up

    return not is_follow_up(change.snapshot) and same_fingerprint(change, mapping)


def _not_built(name: str) -> Callable[[Runtime], SyncDefinition]:
    def build(_runtime: Runtime) -> SyncDefinition:
        raise ConfigurationError(f"the {name} sync is not implemented in this version")

    return build


def _reconcile(name: str) -> Callable[..., Reconciliation]:
    def run(*args: object) -> Reconciliation:
        from ctsync import reconcile

        return getattr(reconcile, f"reconcile_{name}")(*args)

    return run


SYNCS: tuple[SyncSpec, ...] = (
    SyncSpec(
        "projects",
        "project",
        "netsuite",
        "clicktime",
        "NetSuite project",
        "ClickTime job",
        _projects,
        _reconcile("projects"),
    ),
    SyncSpec(
        "tasks", "task", "netsuite", "clicktime", "NetSuite project task", "ClickTime task", _tasks, _reconcile("tasks")
    ),
    SyncSpec(
        "time",
        "timesheet",
        "clicktime",
        "netsuite",
        "ClickTime timesheet",
        "NetSuite time bills",
        _time,
        _reconcile("time"),
        parts=True,
    ),
    SyncSpec(
        "expenses",
        "expensesheet",
        "clicktime",
        "netsuite",
        "ClickTime expense sheet",
        "NetSuite expense report",
        _expenses,
        _reconcile("expenses"),
        parts=True,
    ),
)
SYNC_NAMES: tuple[str, ...] = tuple(spec.name for spec in SYNCS)
# Wired in the template, logic still to come: their pollers report that and do nothing.
PLANNED: frozenset[str] = frozenset()
AVAILABLE = tuple(name for name in SYNC_NAMES if name not in PLANNED)


def spec(name: str) -> SyncSpec:
    for candidate in SYNCS:
        if candidate.name == name:
            return candidate
    raise ConfigurationError(f"no sync named {name!r}; the syncs are {', '.join(SYNC_NAMES)}")


class _Refusing:
    """Source and applier of a sync whose definition could not be built: each use raises why."""

    def __init__(self, error: ConfigurationError) -> None:
        self._error = error

    def __getattr__(self, _name: str) -> Any:
        raise self._error


def refusing(name: str, error: ConfigurationError) -> SyncDefinition:
    """The definition of a sync its configuration cannot build (a config document edited badly): its IDs and
    mapping kind as `build` gives them, every record applied raising `error` (systemic), so the worker dead-letters
    each record with that reason, records the cause once and pauses the sync, as for bad credentials."""
    chosen = spec(name)
    refuses = _Refusing(error)

    def refuse(*_: object) -> Any:
        raise error

    # Nothing is judged without the sync's own rules (a receipts follow-up, a write-back still due, a check of a
    # write of unknown outcome would be taken for unchanged, or for a sync that checks nothing): every message meets
    # the error, so one redrive after the fix brings them all back (review of the day's changes, 2026-12-04).
    return SyncDefinition(
        chosen.name,
        chosen.mapping_kind,
        refuses,  # type: ignore[arg-type]
        refuses,  # type: ignore[arg-type]
        source_system=chosen.source_system,
        target_system=chosen.target_system,
        parts=chosen.parts,
        unchanged=lambda _change, _mapping: False,
        recheck=refuse,
        judges_skips=False,
    )


def build(name: str, runtime: Runtime) -> SyncDefinition:
    chosen = spec(name)
    return replace(
        chosen.build(runtime),
        name=chosen.name,
        mapping_kind=chosen.mapping_kind,
        source_system=chosen.source_system,
        target_system=chosen.target_system,
        parts=chosen.parts,
    )
