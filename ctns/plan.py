"""A dry run: what a run of a sync would do now, read from both systems and the mapping store, writing nothing.

It reads what the poller would read (each phase's window from its watermark, the sync's own change source)
and judges every change as the worker would: create, update, inactivate, delete, adopt, unchanged, skip or
fail. Nothing is written: the NetSuite and ClickTime clients refuse any request but a read, the state table
is read through a wrapper that refuses writes, and no lease, cursor, watermark or queue is touched.

**Pre-flight hook.** A sync's applier may offer `preflight(message: WorkMessage) -> list[str]`: the problems
that would make the target system refuse the message (an unmapped employee, a closed period, an inactive
project). It must only read. `plan` calls it for every message a run would send and reports each problem as
a failure to come, early enough for someone to fix it.

**Verdict hook.** Or, where the record itself can change the action, `verdict(message, mapping) -> (action,
detail) | None`: what the worker would do, "fail" with the problems included (an approved expense sheet with no
items is skipped, or its report removed). Reads only; None keeps the plan's judgement.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from ctsync.config import SyncConfig
from ctsync.errors import ConfigurationError, NeedsAttention
from ctsync.records.projects import ProjectSnapshot, is_open, no_customer
from ctsync.records.tasks import COMPLETE, TaskSnapshot
from ctsync.runtime import Environment, Runtime
from ctsync.state import Mapping
from ctsync.state.runlog import failed_phase, phase_source_id
from ctsync.sync import registry
from ctsync.sync.definition import ADOPT, SyncDefinition, Window, start_margin
from ctsync.sync.messages import Change, WorkMessage

ACTIONS = ("create", "update", "inactivate", "delete", "adopt", "unchanged", "skip", "fail")
PLAN_RUN_ID = "plan"


class ReadOnlyTable:
    """The state table, for reading only: a plan that tried to write would be a bug, and is refused."""

    _READS = ("get_item", "query", "scan", "name", "meta", "table_name")

    def __init__(self, table: Any) -> None:
        self._table = table

    def __getattr__(self, name: str) -> Any:
        if name in self._READS:
            return getattr(self._table, name)
        raise PermissionError(f"the plan refused to call {name} on the state table: it writes nothing")


class EmptyTable:
    """No state at all (a plan from config and secrets files, before a deployment): every record is new."""

    name = "no-state"
    meta = SimpleNamespace(client=SimpleNamespace(batch_get_item=lambda **_: {"Responses": {}}))

    def get_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def query(self, **_: Any) -> dict[str, Any]:
        return {"Items": []}

    def scan(self, **_: Any) -> dict[str, Any]:
        return {"Items": []}


@dataclass
class Step:
    action: str
    source_id: str
    label: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"action": self.action, "source_id": self.source_id, "label": self.label, "detail": self.detail}


@dataclass
class SyncPlan:
    sync: str
    skipped_reason: str = ""
    window_start: dict[str, str] = field(default_factory=dict)
    first_run: bool = False
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Records per action: a phase that cannot be read is no record (`unreadable`)."""
        found = Counter(step.action for step in self.steps if not failed_phase(step.source_id))
        return {action: found.get(action, 0) for action in ACTIONS}

    def unreadable(self) -> list[Step]:
        """The phases a run could not read (each a step `fail` of `phase:<name>`)."""
        return [step for step in self.steps if failed_phase(step.source_id)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "sync": self.sync,
            "skipped_reason": self.skipped_reason,
            "window_start": self.window_start,
            "first_run": self.first_run,
            "counts": self.counts(),
            "unreadable_phases": [failed_phase(step.source_id) for step in self.unreadable()],
            "unreadable_reasons": {failed_phase(step.source_id): step.detail for step in self.unreadable()},
            "steps": [
                step.as_dict() for step in self.steps if step.action != "unchanged" and not failed_phase(step.source_id)
            ],
            "notes": self.notes,
        }


def runtime_for(sync: str, config: SyncConfig, netsuite: Any, clicktime: Any, table: Any) -> Runtime:
    """The core's runtime as a function would build it, but with the given (read-only) clients and table."""
    env = Environment(
        SYNC_NAME=sync,
        STATE_TABLE="plan",
        IDEMPOTENCY_TABLE="plan",
        WORK_QUEUE_URL="plan",
        DEAD_LETTER_QUEUE_URL="plan",
        CONFIG_PARAMETER="plan",
        NETSUITE_SECRET_ID="plan",
        CLICKTIME_SECRET_ID="plan",
    )
    runtime = Runtime(env)
    # cached_property values: the runtime uses these instead of reading SSM, Secrets Manager or DynamoDB.
    runtime.__dict__.update(config=config, netsuite=netsuite, clicktime=clicktime, _table=table)
    return runtime


# -- judging one change as the worker would ------------------------------------------------------------------

Judge = Callable[[Change, Mapping | None, bool, SyncConfig], tuple[str, str]]


def _judge_project(change: Change, mapping: Mapping | None, unchanged: bool, config: SyncConfig) -> tuple[str, str]:
    if change.op == "delete":
        return (
            ("inactivate", "deleted in NetSuite")
            if mapping and not mapping.deleted
            else ("skip", "deleted, never synced")
        )
    project = ProjectSnapshot.model_validate(change.snapshot)
    open_ = is_open(project, config.projects)
    if mapping is None and not open_:
        return "skip", "not open in NetSuite and never synced"
    if project.customer is None:
        return "fail", f"{no_customer(project)} (field parent)"
    if mapping is None:
        return "create", "a ClickTime job (and its client, if new), then its ID written back"
    if unchanged:
        return "unchanged", ""
    if not open_:
        return "inactivate", "closed, inactive or out of scope in NetSuite"
    if mapping.fingerprint and mapping.fingerprint == change.fingerprint:
        return "update", "writes the ClickTime job ID back into NetSuite"
    return "update", ""


def _judge_task(change: Change, mapping: Mapping | None, unchanged: bool, config: SyncConfig) -> tuple[str, str]:
    if change.op == "delete":
        return (
            ("inactivate", "deleted in NetSuite")
            if mapping and not mapping.deleted
            else ("skip", "deleted, never synced")
        )
    task = TaskSnapshot.model_validate(change.snapshot)
    project = ProjectSnapshot.model_validate(task.project) if task.project else None
    active = bool(project and is_open(project, config.projects)) and not task.is_inactive and task.status != COMPLETE
    if mapping is None and not active:
        return "skip", "not active in NetSuite (or its project is not open) and never synced"
    if mapping is None:
        if project is not None and project.customer is None:
            return "fail", f"its project {project.number} has no customer, so it cannot get a ClickTime job"
        return "create", "a ClickTime task linked to its project's job, then its ID written back"
    if unchanged:
        return "unchanged", ""
    return ("update", "") if active else ("inactivate", "completed, inactive, or its project closed")


def _judge_generic(change: Change, mapping: Mapping | None, unchanged: bool, config: SyncConfig) -> tuple[str, str]:
    if change.op == "delete":
        return ("delete", "withdrawn or deleted in the source") if mapping else ("skip", "withdrawn, never exported")
    if mapping is None or mapping.deleted:  # withdrawn before and approved again: the run makes it anew
        return "create", ""
    return ("unchanged", "") if unchanged else ("update", "")


JUDGES: dict[str, Judge] = {"projects": _judge_project, "tasks": _judge_task}


def label(sync: str, change: Change) -> str:
    snapshot = change.snapshot or {}
    if sync == "projects" and snapshot:
        return f"NetSuite project {change.source_id} ({snapshot.get('number')} {snapshot.get('name')})"
    if sync == "tasks" and snapshot:
        project = (snapshot.get("project") or {}).get("number") or snapshot.get("project_id")
        return f"NetSuite project task {change.source_id} ({project} · {' › '.join(snapshot.get('path') or [])})"
    spec = registry.spec(sync)
    name = snapshot.get("name") or snapshot.get("number") or ""
    return f"{spec.source_record} {change.source_id}" + (f" ({name})" if name else "")


# -- the plan of one sync ------------------------------------------------------------------------------------


def plan_sync(
    sync: str, runtime: Runtime, config: SyncConfig, progress: Callable[[str], None] = lambda _text: None
) -> SyncPlan:
    result = SyncPlan(sync=sync)
    try:
        definition: SyncDefinition = registry.build(sync, runtime)
    except ConfigurationError as error:
        result.skipped_reason = error.message
        return result
    source, applier = definition.source, definition.applier
    judge = JUDGES.get(sync, _judge_generic)
    windows = config.windows.for_sync(sync)
    marks = runtime.progress.watermarks(sync)
    # The phases whose watermark a person set back (`ctns backfill`, `reset-watermark --to`): the run re-plans what
    # they read where its sync asks for that (`Cursor.reread`), and so does the plan (it said "unchanged" for a
    # timesheet the backfill then updated: review, day 2)
    reset = runtime.progress.run_state(sync, source.phases)[3] if definition.replans_on_reread else set()
    cursor = runtime.progress.cursor(sync)
    if cursor:
        result.notes.append(f"run {cursor.run_id} is in progress (phase {cursor.phase}); the plan is of a new run")
    end = source.window_end()
    adopted: set[tuple[str, str]] = set()
    judged: dict[str, Step] = {}
    for phase in source.phases:
        mark = marks.get(phase) or marks.get("*")
        start = (
            end - timedelta(days=windows.first_run_days)
            if mark is None
            else mark - timedelta(minutes=windows.overlap_minutes)
        )
        start -= start_margin(source, start)  # as the poller opens it
        result.window_start[phase] = start.isoformat()
        result.first_run = result.first_run or mark is None
        window = Window(start=start, end=end, first_run=mark is None)
        read = 0
        try:
            reread = mark is not None and (phase if phase in marks else "*") in reset
            for batch in source.read(phase, window, None):
                read += len(batch.changes)
                progress(f"{sync}: {phase} phase, {read} change(s) read")
                changes = batch.changes
                if reread:  # as the poller queues them (`Poller._enqueue`)
                    changes = [replace(c, judged_by_worker=True) if c.op == "upsert" else c for c in changes]
                _judge_batch(sync, runtime, definition, judge, applier, config, changes, adopted, judged, result)
        except NeedsAttention as error:
            result.steps.append(
                Step("fail", phase_source_id(phase), f"the {phase} phase of {sync}", f"cannot be read: {error.message}")
            )
            if phase == ADOPT:
                result.notes.append("a run reads nothing else while adoption fails (it could create twins)")
                break
    result.steps.extend(judged.values())
    return result


def _judge_batch(
    sync: str,
    runtime: Runtime,
    definition: SyncDefinition,
    judge: Judge,
    applier: Any,
    config: SyncConfig,
    changes: list[Change],
    adopted: set[tuple[str, str]],
    judged: dict[str, Step],
    result: SyncPlan,
) -> None:
    adoptions = [c for c in changes if c.op == "adopt"]
    for change in adoptions:
        kind = str(change.snapshot.get("kind") or definition.mapping_kind)
        if runtime.mappings.get(kind, change.source_id) is None:
            adopted.add((kind, change.source_id))
            result.steps.append(
                Step(
                    "adopt",
                    change.source_id,
                    f"{kind} {change.source_id}",
                    f"ClickTime {change.snapshot.get('target_id')} already carries its ID",
                )
            )
    preflight: Callable[[WorkMessage], list[str]] | None = getattr(applier, "preflight", None)
    verdict: Callable[[WorkMessage, Mapping | None], tuple[str, str] | None] | None = getattr(applier, "verdict", None)
    work = [c for c in changes if c.op != "adopt"]
    known = runtime.mappings.get_many(definition.mapping_kind, [c.source_id for c in work])
    for change in work:
        mapping = known.get(change.source_id)
        if mapping is not None and not mapping.target_id:
            # A skip marker: this record needs no target; judged as never synced (its snapshot decides again).
            mapping = None
        if mapping is None and (definition.mapping_kind, change.source_id) in adopted:
            # Adopted by this run before its changes are applied: updated, not created.
            mapping = Mapping(kind=definition.mapping_kind, source_id=change.source_id, target_id="adopted")
        unchanged = (
            bool(mapping)
            and change.op == "upsert"
            and not change.judged_by_worker
            and definition.unchanged(change, mapping)
        )
        action, detail = judge(change, mapping, unchanged, config)
        if action not in ("unchanged", "skip", "fail") and (preflight or verdict):
            message = WorkMessage(
                sync=sync,
                run_id=PLAN_RUN_ID,
                source_id=change.source_id,
                version=change.version,
                op=change.op,  # type: ignore[arg-type]
                snapshot=change.snapshot,
                fingerprint=change.fingerprint,
                judged_by_worker=change.judged_by_worker,
            )
            decided = verdict(message, known.get(change.source_id)) if verdict else None
            problems = [] if decided or preflight is None else list(preflight(message) or [])
            if decided:
                action, detail = decided
            elif problems:
                action, detail = "fail", "; ".join(problems)
        previous = judged.get(change.source_id)
        if previous is None or change.op == "delete" or previous.action == "unchanged":
            judged[change.source_id] = Step(action, change.source_id, label(sync, change), detail)
