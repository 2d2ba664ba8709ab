"""NetSuite project tasks become ClickTime tasks, linked to their project's job.

ClickTime tasks are one company-wide list, so names carry the project number and the parent path
(`P-1042 · Design › Wireframes`) and the task code is derived from the NetSuite ID. Where the company
restricts tasks by job, a task is linked to its project's job (the link moves when the task moves);
otherwise the link step is skipped and the run log says so.

Which tasks are read: tasks modified since the watermark, their descendants (a parent's new title changes
their names), every task of a project modified since the watermark (a renamed or closed project changes
its tasks), and tasks deleted since the watermark.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel

from ctsync.clicktime.client import ClickTimeClient, task_api_path
from ctsync.clicktime.models import Company, Task
from ctsync.config import TaskSyncSettings
from ctsync.netsuite.client import NetSuiteClient
from ctsync.records.netsuite_source import (
    ADOPT,
    CHANGES,
    DELETIONS,
    SuiteQLChangeSource,
    id_list,
    keyset,
    local_timestamp_column,
    timestamp_literal,
)
from ctsync.records.projects import KIND as PROJECT_KIND
from ctsync.records.projects import ProjectSnapshot, ProjectSync, adoptions, is_open
from ctsync.records.projects import fingerprinted as project_fingerprinted
from ctsync.records.targets import (
    Settled,
    TargetOps,
    content_hash,
    described_holder,
    holder_text,
    moving_aside,
    retire,
    upsert_target,
)
from ctsync.records.writeback import WriteBack
from ctsync.state import Mapping, MappingStore, RunLog
from ctsync.sync.definition import ChangeBatch, Window
from ctsync.sync.messages import Change, Outcome, WorkMessage, snapshot_as
from ctsync.timeutil import earliest_reading, from_local_text, local_readings

KIND = "task"
PROJECTS = "projects"
COMPLETE = "COMPLETE"
PROJECT_PAGE = 200  # projects per batch in the projects phase: their tasks are read in one query

Row = dict[str, Any]


class TaskSnapshot(BaseModel):
    id: str
    title: str
    project_id: str
    parent_id: str | None = None
    path: list[str]  # titles from the top-level ancestor down to this task
    status: str | None = None
    is_inactive: bool = False
    non_billable: bool = False
    clicktime_id: str | None = None
    project: dict[str, Any] | None = None  # the project's snapshot when the task was read
    project_version: datetime | None = None


def columns(settings: TaskSyncSettings) -> str:
    return (
        "t.id AS id, t.title AS title, t.project AS project, t.parent AS parent, t.status AS status, "
        f"t.isinactive AS isinactive, t.nonbillabletask AS nonbillabletask, t.{settings.clicktime_id_field} AS clicktime_id"
    )


def lineage(task_id: str, family: dict[str, Row]) -> list[tuple[str, Row]]:
    """The task's row and its ancestors' (ids with rows), from the task up; stops at a cycle or a parent outside the
    project."""
    chain: list[tuple[str, Row]] = []
    seen: set[str] = set()
    current: str | None = task_id
    while current and current in family and current not in seen:
        seen.add(current)
        chain.append((current, family[current]))
        parent = family[current].get("parent")
        current = str(parent) if parent else None
    return chain


def task_path(task_id: str, family: dict[str, Row]) -> list[str]:
    """Titles from the top ancestor down to the task; stops at a cycle or a parent outside the project."""
    return [row.get("title") or row_id for row_id, row in reversed(lineage(task_id, family))]


def message_version(
    own: datetime, task_id: str, family: dict[str, Row], project_version: datetime | None, zone: str
) -> datetime:
    """The version of a task's message: the latest of the task's own `lastmodifieddate` and those of the other
    records whose data the message carries (its project: number, name, status; its ancestors: the titles in its
    path). Each at its latest reading (`from_local_text`), as the task's own.

    The worker's version fence (`targets._stale`) then holds back a message older than the one applied in any of
    them: SQS delivers twice and in no set order, and an earlier run's message applied after a later one would put
    an older project number, an older parent title, or the task active under a project closed since, back for good
    (no later run reads the task while neither it nor those records change). A message read later is never older:
    every record it carries is at least as new as when an earlier read saw it."""
    versions = [own]
    if project_version is not None:
        versions.append(project_version)
    versions += [
        from_local_text(row["lastmodified"], zone) for _, row in lineage(task_id, family) if row.get("lastmodified")
    ]
    return max(versions)


def descendants(task_ids: set[str], family: dict[str, Row]) -> set[str]:
    children: dict[str, list[str]] = {}
    for row_id, row in family.items():
        if row.get("parent"):
            children.setdefault(str(row["parent"]), []).append(row_id)
    found: set[str] = set()
    pending = list(task_ids)
    while pending:
        for child in children.get(pending.pop(), []):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def task_name(task: TaskSnapshot, project: ProjectSnapshot | None, settings: TaskSyncSettings) -> str:
    return settings.name_template.format(
        project_number=project.number if project else task.project_id,
        project_name=project.name if project else "",
        path=settings.path_separator.join(task.path),
        title=task.title,
    )


def snapshot_of(row: Row, family: dict[str, Row], project: Change | None = None) -> TaskSnapshot:
    """A task row as the poller sends it (`family`: its project's tasks, for its path; `project`: its project as the
    poller read it, carried in the message)."""
    return TaskSnapshot(
        id=str(row["id"]),
        title=row.get("title") or str(row["id"]),
        project_id=str(row.get("project") or ""),
        parent_id=str(row["parent"]) if row.get("parent") else None,
        path=task_path(str(row["id"]), family) or [row.get("title") or str(row["id"])],
        status=row.get("status"),
        is_inactive=row.get("isinactive") == "T",
        non_billable=row.get("nonbillabletask") == "T",
        clicktime_id=row.get("clicktime_id"),
        project=project.snapshot if project else None,
        project_version=project.version if project else None,
    )


def task_fields(
    task: TaskSnapshot, project: ProjectSnapshot | None, active: bool, settings: TaskSyncSettings, company: Company
) -> dict[str, Any]:
    """The fields the sync writes on a task's ClickTime task (its job link aside); the reconciliation compares
    them (`reconcile.catalog`)."""
    fields: dict[str, Any] = {
        "Name": task_name(task, project, settings),
        "TaskCode": settings.task_code_template.format(task_id=task.id),
        "AccountingPackageID": task.id,
        "IsActive": active,
    }
    if (company.BillableSetting or "").lower() == "task":
        fields["IsBillable"] = not task.non_billable
    return fields


def task_payload(fields: dict[str, Any], job_id: str | None, active: bool) -> dict[str, Any]:
    """What `upsert_target` is given for a task (its hash is the mapping's `content_hash`)."""
    return {"fields": fields, "job_id": job_id, "active": active}


def modified_before(row: Row, zone: str, start: datetime) -> bool:
    """Whether a task row's `lastmodified` may be before a window's start: its earliest reading is (so a task the
    changes phase may not have read, in the hour repeated when clocks go back, is read with its family)."""
    return local_readings(row["lastmodified"], zone)[0] < start


class TaskChangeSource:
    """Task changes in four phases: adoption (first run), changed tasks with their descendants, the tasks of
    changed projects, and deletions."""

    phases = (ADOPT, CHANGES, PROJECTS, DELETIONS)

    def __init__(self, netsuite: NetSuiteClient, sync: TaskSync) -> None:
        self._netsuite = netsuite
        self._sync = sync

    def window_end(self) -> datetime:
        return self._sync.tasks_source.window_end()

    def start_margin(self, start: datetime) -> timedelta:
        return self._sync.tasks_source.start_margin(start)

    def read(self, phase: str, window: Window, after: str | None) -> Iterator[ChangeBatch]:
        if phase != PROJECTS:
            yield from self._sync.tasks_source.read(phase, window, after)
            return

        def changed_projects(key: str | None) -> str:
            return (
                f"SELECT j.id AS id FROM job j WHERE j.lastmodifieddate >= "
                f"{timestamp_literal(window.start, self._sync.zone)}{keyset('j', key)} ORDER BY j.id"
            )

        pages = self._netsuite.keyset_pages(
            changed_projects, key="id", after=after, page_size=min(PROJECT_PAGE, self._netsuite.page_size)
        )
        for rows in pages:
            project_ids = [str(row["id"]) for row in rows]
            family = self._sync.family(project_ids)
            # Tasks modified in the window were enqueued by the changes phase already. At their earliest reading
            # (`local_readings`): one of the hour repeated when clocks go back comes here too (twice at worst).
            unchanged = [r for r in family.values() if modified_before(r, self._sync.zone, window.start)]
            yield ChangeBatch(self._sync.changes_for(unchanged, family), last_key=project_ids[-1])


class TaskSync:
    """Both halves of the tasks sync."""

    def __init__(
        self,
        netsuite: NetSuiteClient,
        clicktime: ClickTimeClient,
        mappings: MappingStore,
        runlog: RunLog,
        settings: TaskSyncSettings,
        timezone: str,
        projects: ProjectSync,
        cause_open: Callable[[str], bool] = lambda _key: False,
    ) -> None:
        self._netsuite = netsuite
        self._clicktime = clicktime
        self._mappings = mappings
        self._runlog = runlog
        self._settings = settings
        self.zone = timezone
        self._projects = projects
        self._company: Company | None = None
        self._noted: set[str] = set()  # runs told that links were skipped
        self._names: dict[str, list[Task]] | None = None  # the plan's index of ClickTime task names (`preflight`)
        self.write_back = WriteBack(
            netsuite,
            record_type="projectTask",
            field=settings.clicktime_id_field,
            cause_open=cause_open,
            timezone=timezone,
        )
        self.tasks_source = SuiteQLChangeSource(
            netsuite,
            table="projecttask",
            alias="t",
            columns=columns(settings),
            deleted_type="projecttask",
            timezone=timezone,
            to_changes=self._changed_rows,
            adopter=self._adoptions,
            adopt_when=settings.adopt_existing,
        )
        self.source = TaskChangeSource(netsuite, self)

    # -- poller side --------------------------------------------------------------------------------
    def family(self, project_ids: list[str]) -> dict[str, Row]:
        """Every task of some projects, keyed by id: for paths, descendants and project-wide changes."""
        if not project_ids:
            return {}
        chunk = id_list(sorted(set(project_ids)))
        select = f"{columns(self._settings)}, {local_timestamp_column('t.lastmodifieddate', 'lastmodified')}"

        def query(after: str | None) -> str:
            return f"SELECT {select} FROM projecttask t WHERE t.project IN ({chunk}){keyset('t', after)} ORDER BY t.id"

        return {str(row["id"]): row for row in self._netsuite.rows(query)}

    def _changed_rows(self, rows: list[Row], window: Window) -> list[Change]:
        family = self.family([str(row["project"]) for row in rows if row.get("project")])
        changed = {str(row["id"]) for row in rows}
        # Descendants modified in the window are read by the changes phase on their own.
        extra = [
            family[task_id]
            for task_id in sorted(descendants(changed, family) - changed, key=int)
            if modified_before(family[task_id], self.zone, window.start)
        ]
        return self.changes_for(rows + extra, family)

    def changes_for(self, rows: list[Row], family: dict[str, Row]) -> list[Change]:
        projects = self._projects.current(sorted({str(r["project"]) for r in rows if r.get("project")}))
        changes = []
        for row in rows:
            snapshot = snapshot_of(row, family, projects.get(str(row.get("project"))))
            own = from_local_text(row["lastmodified"], self.zone)
            changes.append(
                Change(
                    source_id=snapshot.id,
                    version=message_version(own, snapshot.id, family, snapshot.project_version, self.zone),
                    snapshot=snapshot.model_dump(mode="json"),
                    fingerprint=fingerprint(snapshot),
                )
            )
        return changes

    def current_change(self, task_id: str) -> Change | None:
        """The task as the poller would read it now, its project and ancestors with it (`SyncDefinition.current`):
        three SuiteQL reads. None when NetSuite has no such task."""
        rows = self.tasks_source.fetch([task_id])
        if not rows:
            return None
        family = self.family([str(rows[0]["project"])]) if rows[0].get("project") else {}
        row = family.get(task_id) or rows[0]
        (change,) = self.changes_for([row], family or {task_id: row})
        return change

    def _adoptions(self, after: str | None) -> Iterator[ChangeBatch]:
        """ClickTime tasks that already carry a NetSuite task ID (one paged read): adopted, never twinned."""
        if after is None:
            yield ChangeBatch(adoptions(self._clicktime.tasks(), KIND), last_key="tasks")

    def needs_no_target(self, change: Change) -> str | None:
        """A task that is not active (or whose project is not open) needs no ClickTime task unless it had one
        (the rule `apply` applies)."""
        try:
            task = TaskSnapshot.model_validate(change.snapshot)
            project = ProjectSnapshot.model_validate(task.project) if task.project else None
        except ValueError:
            return None  # the worker reports what is wrong with it
        if project is None or not is_open(project, self._projects.settings):
            return f"project {task.project_id} is not open in NetSuite (or was deleted) and the task never synced"
        return None if self._is_active(task, project) else "not active in NetSuite and never synced"

    def _is_active(self, task: TaskSnapshot, project: ProjectSnapshot | None) -> bool:
        return (
            (project is not None and is_open(project, self._projects.settings))
            and not task.is_inactive
            and task.status != COMPLETE
        )

    # -- worker side --------------------------------------------------------------------------------
    def preflight(self, message: WorkMessage) -> list[str]:
        """For `ctns plan`: the ClickTime task that would refuse this task's name (ClickTime task names are unique,
        compared case-blind here: UNVERIFIED), when it carries another NetSuite ID or none. One read of every task
        per plan."""
        if message.op != "upsert":
            return []
        task = snapshot_as(TaskSnapshot, message)
        project = snapshot_as(ProjectSnapshot, message, task.project) if task.project else None
        name = task_name(task, project, self._settings)
        if self._names is None:
            self._names = {}
            for held in self._clicktime.tasks():
                self._names.setdefault(held.Name.casefold(), []).append(held)
        holders = self._names.get(name.casefold(), [])
        if not holders or any(held.AccountingPackageID == task.id for held in holders):
            return []
        held = holders[0]
        if self._gives_up(held.AccountingPackageID, name):
            return []
        code = self._settings.task_code_template.format(task_id=task.id)
        return [
            holder_text("task", held.ID, held.Name, "Name", held.Name, held.AccountingPackageID)
            + f": set its Task Code to {code} and its Accounting Package ID to {task.id} if it stands for this task,"
            " else rename one"
        ]

    def _gives_up(self, holder_id: str | None, name: str, applied: str | None = None) -> bool:
        """Whether the NetSuite task `holder_id` (whose ClickTime task holds `name`) would be named otherwise now: the
        run moves its task aside (`records.targets._vacated`), or its own message frees the name. `applied`: the
        fingerprint its mapping applied; when it is the task's now, its own change is done and nothing is given up.
        Three reads."""
        holder = self.current_change(holder_id) if holder_id else None
        if holder is None or (applied and holder.fingerprint == applied):
            return False
        task = TaskSnapshot.model_validate(holder.snapshot)
        project = ProjectSnapshot.model_validate(task.project) if task.project else None
        return task_name(task, project, self._settings).casefold() != name.casefold()

    def apply(self, message: WorkMessage) -> Outcome:
        owner = f"{message.run_id}:{message.source_id}"
        if message.op == "delete":
            return self._deactivate_deleted(message, owner)
        task = snapshot_as(TaskSnapshot, message)
        project = snapshot_as(ProjectSnapshot, message, task.project) if task.project else None
        carried = (
            Change(task.project_id, task.project_version, snapshot=task.project)
            if task.project and task.project_version
            else None
        )
        job_id = self._projects.ensure_job(carried, task.project_id, owner)
        # The carried project (and the ancestors' titles in `task.path`) are applied as the message has them: its
        # version is the latest of theirs and the task's (`message_version`), so the fence of `upsert_target` holds
        # back a late or repeated delivery older than what the task's mapping applied in any of them.
        active = self._is_active(task, project)
        # The task's mapping is read here only when it decides something: a task with no job or not active is
        # skipped if it was never synced (the lock reads it anyway when the task is written).
        mapping = self._mappings.get(KIND, task.id) if job_id is None or not active else None
        if job_id is None:
            if mapping is None:
                self._mappings.note_skipped(KIND, task.id, message.fingerprint)
                return Outcome("skipped", None, f"project {task.project_id} is not in ClickTime")
            job_id = self._job_kept(task, mapping)
        if mapping is None and not active:
            self._mappings.note_skipped(KIND, task.id, message.fingerprint)
            return Outcome("skipped", None, "not active in NetSuite and never synced")
        payload = task_payload(self._fields(task, project, active), job_id, active)
        applied = upsert_target(
            self._mappings,
            self._ops(task, message),
            source_id=task.id,
            version=message.version,
            earliest=earliest_reading(message.version, self.zone),
            payload=payload,
            owner=owner,
            details={"job_id": job_id or "", "active": str(active).lower()},
            fingerprint=message.fingerprint,
        )
        return Outcome(applied.action, applied.target_id, applied.detail)  # type: ignore[arg-type]

    def _job_kept(self, task: TaskSnapshot, mapping: Mapping) -> str | None:
        """The job in the task's mapping, for a task whose project has no job now (deleted in NetSuite, or closed or
        out of scope and never synced): kept only while it is the job of the task's own project (the project was
        deleted, its job made inactive). A task moved to another project leaves its old project's job: None, so
        `_place` unlinks it from that job and the mapping records no job."""
        job_id = mapping.details.get("job_id") or None
        project = self._mappings.get(PROJECT_KIND, task.project_id)
        return job_id if job_id and project is not None and project.target_id == job_id else None

    def _fields(self, task: TaskSnapshot, project: ProjectSnapshot | None, active: bool) -> dict[str, Any]:
        return task_fields(task, project, active, self._settings, self.company())

    def company(self) -> Company:
        if self._company is None:
            self._company = self._clicktime.company()
        return self._company

    def _ops(self, task: TaskSnapshot, message: WorkMessage) -> TargetOps:
        clicktime = self._clicktime
        code = self._settings.task_code_template.format(task_id=task.id)

        def find() -> str | None:
            # No AccountingPackageID filter exists: find by the ID written back, then by the derived task code.
            candidates = clicktime.tasks(ID=task.clicktime_id) if task.clicktime_id else []
            candidates = candidates or clicktime.tasks(TaskCode=code)
            return next((t.ID for t in candidates if t.AccountingPackageID == task.id), None)

        def create(payload: dict[str, Any]) -> str:
            return clicktime.create_task(payload["fields"]).ID

        def update(task_id: str, payload: dict[str, Any], before: Mapping | None) -> None:
            previous_job = before.details.get("job_id") if before else None
            # Links are read only when they can have changed: another job, or the task (de)activated.
            unmoved = (
                before is not None
                and previous_job == payload.get("job_id")
                and before.details.get("active") == str(payload["active"]).lower()
            )
            self._place(
                task_id, payload, previous_job=previous_job or None, run_id=message.run_id, links_unchanged=unmoved
            )

        def vacate(payload: dict[str, Any], holder: Mapping) -> bool:
            # Another task's ClickTime task holds this task's new name: moved aside only when that NetSuite task's
            # own name is another now and its own change is still due (titles swapped), else the name is the
            # holder's by right (or its change was applied meanwhile).
            wanted = payload["fields"].get("Name", "")
            if not wanted or not self._gives_up(holder.source_id, wanted, holder.fingerprint):
                return False
            clicktime.update_task(holder.target_id, {"Name": moving_aside(wanted)})
            return True

        def settle(task_id: str, payload: dict[str, Any], before: Mapping | None, created: bool) -> Settled:
            # A task just created needs its link (a new task has none: nothing to read); one adopted without
            # a mapping may be linked already. If linking fails, the task's mapping is recorded before the error
            # goes up, so the retry links the recorded task, never a new one.
            if before is None:
                self._link_new(task_id, payload, message.run_id, created=created)
            return self.write_back.settle(
                task.id,
                task_id,
                task.clicktime_id,
                message.version,
                before,
                gone=lambda: self._clicktime.update_task(task_id, {"IsActive": False}),
            )

        return TargetOps(
            kind=KIND,
            find=find,
            create=create,
            update=update,
            settle=settle,
            due=lambda mapping: self.write_back.pending(mapping, task.clicktime_id, message.version),
            may_exist=bool(task.clicktime_id),
            path=task_api_path,
            system="ClickTime",
            taken_by=lambda payload: described_holder(
                "task", "Name", payload["fields"].get("Name", ""), task.id, clicktime.tasks
            ),
            # `find` looks by the written-back ID, then by the task code, and accepts only this task's ID
            adopt_by=f"its Task Code to {code} and its Accounting Package ID to {task.id}",
            vacate=vacate,
        )

    def _note_unrestricted(self, run_id: str) -> bool:
        if self.company().restricts_tasks_by_job:
            return False
        if run_id in self._noted:
            return True
        self._noted.add(run_id)
        self._runlog.note(
            run_id,
            "task_links_skipped",
            "ClickTime's task list control is not 'by job' (TaskRestrictionMethod="
            f"{self.company().TaskRestrictionMethod}): tasks were synced without job links",
        )
        return True

    def _link_new(self, task_id: str, payload: dict[str, Any], run_id: str, *, created: bool) -> None:
        """Link a task that has no mapping yet to its job, unless it is linked already (an adopted task)."""
        if self._note_unrestricted(run_id):
            return
        job_id = payload.get("job_id")
        if job_id and payload["active"] and (created or job_id not in self._clicktime.task_job_ids(task_id)):
            self._clicktime.link_task(job_id, task_id)

    def _place(
        self,
        task_id: str,
        payload: dict[str, Any],
        *,
        previous_job: str | None,
        run_id: str,
        links_unchanged: bool = False,
    ) -> None:
        """Bring an existing task's fields and its job link to the desired state.

        An inactive task that other jobs still use (someone shared it in ClickTime) is only unlinked from
        this project's job, so the other jobs keep it.
        """
        fields = dict(payload["fields"])
        job_id, active = payload.get("job_id"), payload["active"]
        if self._note_unrestricted(run_id) or (links_unchanged and active):
            self._clicktime.update_task(task_id, fields)
            return
        linked = set(self._clicktime.task_job_ids(task_id))
        ours = {j for j in (job_id, previous_job) if j}
        shared = bool(linked - ours)
        if not active and shared:
            fields.pop("IsActive")
            for job in ours & linked:
                self._clicktime.unlink_task(job, task_id)
            self._clicktime.update_task(task_id, fields)
            return
        self._clicktime.update_task(task_id, fields)
        if job_id and job_id not in linked:
            self._clicktime.link_task(job_id, task_id)
        if previous_job and previous_job != job_id and previous_job in linked:
            self._clicktime.unlink_task(previous_job, task_id)

    def _deactivate_deleted(self, message: WorkMessage, owner: str) -> Outcome:
        def deactivate(mapping: Mapping) -> None:
            payload = {"fields": {"IsActive": False}, "job_id": mapping.details.get("job_id") or None, "active": False}
            self._place(mapping.target_id, payload, previous_job=None, run_id=message.run_id)

        applied = retire(
            self._mappings,
            KIND,
            message.source_id,
            message.version,
            deactivate,
            owner,
            path=task_api_path,
            system="ClickTime",
        )
        return Outcome(applied.action, applied.target_id, applied.detail)  # type: ignore[arg-type]


def fingerprint(task: TaskSnapshot) -> str:
    """The snapshot without written-back IDs and the project's (and its customer's) version: the write-backs change
    those."""
    dumped = task.model_dump(mode="json", exclude={"clicktime_id", "project_version"})
    if dumped.get("project"):
        dumped["project"] = project_fingerprinted(dumped["project"])
    return content_hash(dumped)
