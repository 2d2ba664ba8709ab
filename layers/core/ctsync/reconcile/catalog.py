"""Do projects and tasks agree? Read-only; it checks that every open
NetSuite record has exactly one active ClickTime record carrying its internal ID, that nothing closed is still
active in ClickTime, that the ClickTime ID written back to NetSuite is the mapped one, and that no
AccountingPackageID appears twice in ClickTime (a duplicate would mean a create ran twice).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ctsync.clicktime.client import ClickTimeClient
from ctsync.config import SyncConfig
from ctsync.netsuite.client import NetSuiteClient
from ctsync.reconcile.report import Check, Reconciliation
from ctsync.records import projects as project_records
from ctsync.records import tasks as task_records
from ctsync.records.netsuite_source import keyset
from ctsync.state import MappingStore


def _all_rows(netsuite: NetSuiteClient, columns: str, table: str, alias: str) -> list[dict[str, Any]]:
    """Every row of a table, keyset-paged (records may change while the reconciliation reads)."""

    def query(after: str | None) -> str:
        return f"SELECT {columns} FROM {table} {alias} WHERE 1 = 1{keyset(alias, after)} ORDER BY {alias}.id"

    return list(netsuite.rows(query))


def _duplicates_check(target: str, carried_ids: list[str | None]) -> Check:
    duplicated = sorted(i for i, n in Counter(i for i in carried_ids if i).items() if n > 1)
    return Check(
        name=f"NetSuite IDs carried by more than one ClickTime {target}",
        expected=0,
        found=len(duplicated),
        differences=[f"AccountingPackageID {d} on several {target}s" for d in duplicated],
    )


def _write_back_check(record: str, mapped: dict[str, Any], written: dict[str, str | None]) -> Check:
    """The ClickTime ID in the NetSuite custom field is the mapped one, for every mapped record still there."""
    present = {source_id: m for source_id, m in mapped.items() if source_id in written}
    wrong = [
        f"{record} {source_id} holds {written[source_id]!r}, mapped to {m.target_id}"
        for source_id, m in present.items()
        if written[source_id] != m.target_id
    ]
    return Check(
        name=f"ClickTime IDs written back to NetSuite {record}s",
        expected=len(present),
        found=len(present) - len(wrong),
        differences=wrong,
    )


def reconcile_projects(
    netsuite: NetSuiteClient, clicktime: ClickTimeClient, mappings: MappingStore, config: SyncConfig
) -> Reconciliation:
    settings = config.projects
    rows = _all_rows(netsuite, project_records.columns(settings), "job", "j")
    snapshots = {str(r["id"]): project_records.snapshot_from_row(r, {}) for r in rows}
    open_ids = {pid for pid, p in snapshots.items() if project_records.is_open(p, settings)}
    jobs = clicktime.jobs()
    active_by_project = {j.AccountingPackageID: j for j in jobs if j.IsActive and j.AccountingPackageID}
    mapped = {m.source_id: m for m in mappings.all_of_kind(project_records.KIND) if not m.deleted}
    return Reconciliation(
        record="projects",
        checks=[
            Check(
                name="open projects with an active ClickTime job",
                expected=len(open_ids),
                found=len(open_ids & active_by_project.keys()),
                differences=[
                    f"project {pid} has no active job" for pid in sorted(open_ids - active_by_project.keys(), key=int)
                ],
            ),
            Check(
                name="active jobs whose project is not open",
                expected=0,
                found=len(active_by_project.keys() - open_ids),
                differences=[
                    f"job {active_by_project[pid].ID} (project {pid}) is still active"
                    for pid in sorted(active_by_project.keys() - open_ids)
                ],
            ),
            _write_back_check("project", mapped, {pid: p.clicktime_id for pid, p in snapshots.items()}),
            _duplicates_check("job", [j.AccountingPackageID for j in jobs]),
        ],
    )


def reconcile_tasks(
    netsuite: NetSuiteClient, clicktime: ClickTimeClient, mappings: MappingStore, config: SyncConfig
) -> Reconciliation:
    rows = _all_rows(netsuite, task_records.columns(config.tasks), "projecttask", "t")
    project_rows = _all_rows(netsuite, project_records.columns(config.projects), "job", "j")
    projects = {str(r["id"]): project_records.snapshot_from_row(r, {}) for r in project_rows}
    open_projects = {pid for pid, p in projects.items() if project_records.is_open(p, config.projects)}
    active_ids = {
        str(r["id"])
        for r in rows
        if str(r.get("project")) in open_projects
        and r.get("isinactive") != "T"
        and r.get("status") != task_records.COMPLETE
    }
    tasks = clicktime.tasks()
    active_in_clicktime = {t.AccountingPackageID: t for t in tasks if t.IsActive and t.AccountingPackageID}
    mapped = {m.source_id: m for m in mappings.all_of_kind(task_records.KIND) if not m.deleted}
    written_back = {str(r["id"]): r.get("clicktime_id") for r in rows}
    checks = [
        Check(
            name="open tasks with an active ClickTime task",
            expected=len(active_ids),
            found=len(active_ids & active_in_clicktime.keys()),
            differences=[
                f"task {t} has no active ClickTime task"
                for t in sorted(active_ids - active_in_clicktime.keys(), key=int)
            ],
        ),
        Check(
            name="active ClickTime tasks whose NetSuite task is not open",
            expected=0,
            found=len(active_in_clicktime.keys() - active_ids),
            differences=[f"task {t} is still active" for t in sorted(active_in_clicktime.keys() - active_ids)],
        ),
        _write_back_check("task", mapped, written_back),
        _duplicates_check("task", [t.AccountingPackageID for t in tasks]),
    ]
    if clicktime.company().restricts_tasks_by_job:
        checks.append(
            _links_check(clicktime, mappings, rows, active_ids & active_in_clicktime.keys(), active_in_clicktime)
        )
    return Reconciliation(record="tasks", checks=checks)


def _links_check(
    clicktime: ClickTimeClient,
    mappings: MappingStore,
    rows: list[dict[str, Any]],
    task_ids: set[str],
    active_in_clicktime: dict[str | None, Any],
) -> Check:
    """Each open task linked to its project's job: one call per job, not per task."""
    project_jobs = {m.source_id: m.target_id for m in mappings.all_of_kind(project_records.KIND)}
    project_of = {str(r["id"]): str(r.get("project")) for r in rows}
    linked: dict[str, set[str]] = {}
    wrong = []
    for task_id in sorted(task_ids, key=int):
        job_id = project_jobs.get(project_of[task_id])
        if job_id is None:
            wrong.append(f"task {task_id}: project {project_of[task_id]} has no mapped job")
            continue
        if job_id not in linked:
            linked[job_id] = set(clicktime.job_task_ids(job_id))
        if active_in_clicktime[task_id].ID not in linked[job_id]:
            wrong.append(f"task {task_id} is not linked to job {job_id} of project {project_of[task_id]}")
    return Check(
        name="open tasks linked to their project's job",
        expected=len(task_ids),
        found=len(task_ids) - len(wrong),
        differences=wrong,
    )
