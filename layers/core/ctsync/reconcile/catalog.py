"""Do projects and tasks agree? Read-only; it checks that every open
NetSuite record has exactly one active ClickTime record carrying its internal ID, that nothing closed is still
active in ClickTime, that the ClickTime ID written back to NetSuite is the mapped one, that no
AccountingPackageID appears twice in ClickTime (a duplicate would mean a create ran twice), and that every synced
record's ClickTime job, client or task holds the fields the sync would write now (`job_payload`, `client_payload`,
`task_fields`: a job's number, name, client and dates; a client's name and number; a task's name, code and billable
flag), whoever changed them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple

from ctsync.clicktime.client import ClickTimeClient
from ctsync.clicktime.models import Company
from ctsync.config import SyncConfig
from ctsync.netsuite.client import NetSuiteClient
from ctsync.reconcile.report import Check, Reconciliation
from ctsync.records import projects as project_records
from ctsync.records import tasks as task_records
from ctsync.records.customers import KIND as CUSTOMER_KIND
from ctsync.records.customers import client_payload
from ctsync.records.netsuite_source import keyset
from ctsync.records.targets import content_hash
from ctsync.state import Mapping, MappingStore

# Compared elsewhere (which records are active: the first two checks) or the record's key (how it is found).
NOT_COMPARED = ("IsActive", "AccountingPackageID")
DATES = ("StartDate", "EndDate")


def _all_rows(netsuite: NetSuiteClient, columns: str, table: str, alias: str, joins: str = "") -> list[dict[str, Any]]:
    """Every row of a table, keyset-paged (records may change while the reconciliation reads)."""
    source = f"{table} {alias} {joins}".rstrip()

    def query(after: str | None) -> str:
        return f"SELECT {columns} FROM {source} WHERE 1 = 1{keyset(alias, after)} ORDER BY {alias}.id"

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


class Named(NamedTuple):
    """A value the sync would write, with what it stands for in NetSuite (said in the difference)."""

    value: Any
    meaning: str

    def __repr__(self) -> str:
        return f"{self.value!r} ({self.meaning})"


def _held(field: str, value: Any) -> Any:
    """A value as compared: a date by its day (ClickTime may send a time with it: UNVERIFIED)."""
    value = value.value if isinstance(value, Named) else value
    return str(value)[:10] if field in DATES and value else value


def _fields_check(
    record: str,
    target: str,
    sync: str,
    compared: list[tuple[str, Any, dict[str, Any], Mapping, str]],
    not_compared: tuple[str, ...] = NOT_COMPARED,
) -> Check:
    """Each synced record's ClickTime `target` holds the fields the sync would write now: `compared` holds per
    record its NetSuite ID, its `target` (a ClickTime record), the fields the sync would write, its mapping and the
    hash of the whole payload the sync would send (as `upsert_target` records it). Where that hash is the mapping's,
    the sync wrote these very values and the target was changed in ClickTime since: the sync does not write it again
    while its NetSuite record is unchanged (a backfill or a redrive skips it as unchanged), so it must be set back
    there. Otherwise NetSuite changed since the sync last wrote it (or that write failed): the next run writes it."""
    wrong: list[str] = []
    differing = 0
    for source_id, held, fields, mapping, digest in compared:
        lines = [
            (field, getattr(held, field, None), wanted)
            for field, wanted in fields.items()
            if field not in not_compared and _held(field, getattr(held, field, None)) != _held(field, wanted)
        ]
        differing += bool(lines)
        written = bool(mapping.content_hash) and mapping.content_hash == digest
        todo = (
            f"changed in ClickTime since the {sync} sync wrote it, which writes it again only when NetSuite changes "
            f"what it holds (`ctns backfill` and `ctns redrive` skip it as unchanged): set it back in ClickTime"
            if written
            else f"NetSuite changed since the {sync} sync last wrote it: its next run writes it "
            f"(`ctns errors {sync}` if that fails)"
        )
        wrong += [
            f"{record} {source_id}: ClickTime {target} {held.ID} has {field} {found!r}, NetSuite gives {wanted!r}; "
            + todo
            for field, found, wanted in lines
        ]
    return Check(
        name=f"synced {record}s whose ClickTime {target} holds what the sync writes",
        expected=len(compared),
        found=len(compared) - differing,
        differences=wrong,
    )


def _projects_fields(
    rows: list[dict[str, Any]], jobs: list[Any], mapped: dict[str, Mapping], mappings: MappingStore, config: SyncConfig
) -> Check:
    """Every synced project's job against `job_payload` with its customer's mapped client (as the sync writes it).
    A project without a customer (which the sync refuses: `ctns errors projects`) has its client left out."""
    by_id = {j.ID: j for j in jobs}
    clients = {m.source_id: m for m in mappings.all_of_kind(CUSTOMER_KIND) if not m.deleted and m.names_a_target}
    compared = []
    for row in rows:
        project = project_records.snapshot_from_row(row)
        mapping = mapped.get(project.id)
        job = by_id.get(mapping.target_id) if mapping is not None else None
        if mapping is None or job is None:
            continue  # never synced, or its job is gone (the checks above name an open project without a job)
        customer = project.customer
        client = clients.get(customer.id) if customer else None
        payload = project_records.job_payload(project, client.target_id if client else "", config.projects)
        digest = content_hash(payload)
        fields: dict[str, Any] = dict(payload)
        if customer is None:
            fields.pop("ClientID")
        elif client is None:
            fields["ClientID"] = Named(None, f"no ClickTime client yet for NetSuite customer {customer.id}")
        else:
            fields["ClientID"] = Named(client.target_id, f"the client of NetSuite customer {customer.id}")
        compared.append((project.id, job, fields, mapping, digest))
    return _fields_check("project", "job", "projects", compared)


def _clients_fields(rows: list[dict[str, Any]], clients: list[Any], mappings: MappingStore) -> Check:
    """Every mapped client of a project's customer against `client_payload` (its Name and ClientNumber, as the
    projects sync writes them on the way to a job). The jobs' check compares only which client a job names, so a
    client renamed or renumbered by hand in ClickTime (its time reported under another customer's name) was not
    seen. Its IsActive too: no other check looks at a client's (a client made inactive by hand hides its jobs)."""
    by_id = {c.ID: c for c in clients}
    mapped = {m.source_id: m for m in mappings.all_of_kind(CUSTOMER_KIND) if not m.deleted and m.names_a_target}
    customers = {c.id: c for row in rows if (c := project_records.customer_of(row)) is not None}
    compared = []
    for customer_id in sorted(customers.keys() & mapped.keys(), key=lambda i: (len(i), i)):
        customer, mapping = customers[customer_id], mapped[customer_id]
        client = by_id.get(mapping.target_id)
        if client is None:
            continue  # gone: a job naming it is the jobs' ClientID difference, and the sync makes the client anew
        payload = client_payload(customer)
        compared.append((customer_id, client, dict(payload), mapping, content_hash(payload)))
    return _fields_check("customer", "client", "projects", compared, not_compared=("AccountingPackageID",))


def reconcile_projects(
    netsuite: NetSuiteClient, clicktime: ClickTimeClient, mappings: MappingStore, config: SyncConfig
) -> Reconciliation:
    settings = config.projects
    # With its customer as the sync reads it (`customer_of`), for the job's client.
    columns = f"{project_records.columns(settings)}, {project_records.CUSTOMER_COLUMNS}"
    rows = _all_rows(netsuite, columns, "job", "j", project_records.CUSTOMER_JOIN)
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
            _projects_fields(rows, jobs, mapped, mappings, config),
            _clients_fields(rows, clicktime.clients(), mappings),
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
    company = clicktime.company()
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
        _tasks_fields(rows, projects, active_ids, tasks, mapped, config, company),
    ]
    if company.restricts_tasks_by_job:
        checks.append(
            _links_check(clicktime, mappings, rows, active_ids & active_in_clicktime.keys(), active_in_clicktime)
        )
    return Reconciliation(record="tasks", checks=checks)


def _tasks_fields(
    rows: list[dict[str, Any]],
    projects: dict[str, project_records.ProjectSnapshot],
    active_ids: set[str],
    tasks: list[Any],
    mapped: dict[str, Mapping],
    config: SyncConfig,
    company: Company,
) -> Check:
    """Every synced task's ClickTime task against `task_fields` (its name from its project's number and name and its
    ancestors' titles, its code, its billable flag), as the sync writes it. The job link is the links check's."""
    by_id = {t.ID: t for t in tasks}
    families: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        families.setdefault(str(row.get("project") or ""), {})[str(row["id"])] = row
    compared = []
    for row in rows:
        task = task_records.snapshot_of(row, families[str(row.get("project") or "")])
        mapping = mapped.get(task.id)
        held = by_id.get(mapping.target_id) if mapping is not None else None
        if mapping is None or held is None:
            continue  # never synced, or gone (the checks above name an open task without an active ClickTime task)
        active = task.id in active_ids
        fields = task_records.task_fields(task, projects.get(task.project_id), active, config.tasks, company)
        # The payload as the sync sends it, with the job it last linked (a task moved since differs by its job too).
        payload = task_records.task_payload(fields, mapping.details.get("job_id") or None, active)
        compared.append((task.id, held, fields, mapping, content_hash(payload)))
    return _fields_check("task", "task", "tasks", compared)


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
