"""NetSuite projects become ClickTime jobs.

A project in scope (by default: active and allowing time entry) and not closed becomes an active job; a
project that leaves scope, closes or is deleted makes its job inactive (never deleted: time may be logged
against it). The job's ID goes back into a custom field on the project, and the hash check means that
write-back, which bumps the project's last-modified date, does not come back as a change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from ctsync.clicktime.client import ClickTimeClient, job_api_path
from ctsync.clicktime.errors import ClickTimeValidationError
from ctsync.config import ProjectSyncSettings
from ctsync.digits import is_number
from ctsync.errors import BadInput
from ctsync.netsuite.client import NetSuiteClient
from ctsync.records.customers import KIND as CUSTOMER_KIND
from ctsync.records.customers import CustomerSnapshot, ensure_client, forget_gone_client, refused_client
from ctsync.records.netsuite_source import SuiteQLChangeSource
from ctsync.records.targets import (
    Applied,
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
from ctsync.references import References
from ctsync.state import Mapping, MappingStore
from ctsync.sync.definition import ChangeBatch, Window
from ctsync.sync.messages import Change, Outcome, WorkMessage, snapshot_as
from ctsync.timeutil import earliest_reading, from_local_text, local_timestamp_column, utc_now

KIND = "project"


class ProjectSnapshot(BaseModel):
    id: str
    number: str
    name: str
    customer: CustomerSnapshot | None
    status_id: str | None = None
    is_inactive: bool = False
    in_scope: bool = True
    start_date: date | None = None
    end_date: date | None = None
    clicktime_id: str | None = None  # what the project's custom field holds now


def columns(settings: ProjectSyncSettings) -> str:
    return (
        "j.id AS id, j.entityid AS entityid, j.companyname AS companyname, j.parent AS parent, "
        "j.entitystatus AS entitystatus, j.isinactive AS isinactive, "
        "TO_CHAR(j.startdate, 'YYYY-MM-DD') AS startdate, TO_CHAR(j.projectedenddate, 'YYYY-MM-DD') AS enddate, "
        f"j.{settings.clicktime_id_field} AS clicktime_id, "
        f"CASE WHEN ({settings.scope}) THEN 'T' ELSE 'F' END AS inscope"
    )


# The project's customer comes in the same read (one SuiteQL page per thousand projects, not two), and a customer
# modified in the window makes its projects changes of that read too: the client is kept in step through them.
# A project's parent is its customer, or a project (a sub-project, "Acme : Website : Phase 2"): then the customer is
# that project's, up to `SUBPROJECT_LEVELS` projects up. (Customers and projects share NetSuite's entity IDs, so a
# parent that is a customer joins no project.)
SUBPROJECT_LEVELS = 2
CUSTOMER_JOIN = (
    "LEFT OUTER JOIN job p1 ON j.parent = p1.id LEFT OUTER JOIN job p2 ON p1.parent = p2.id "
    "LEFT OUTER JOIN customer c ON c.id = NVL(p2.parent, NVL(p1.parent, j.parent))"
)
CUSTOMER_COLUMNS = (
    "c.id AS customerid, c.entityid AS customernumber, c.companyname AS customername, "
    "c.isinactive AS customerinactive, " + local_timestamp_column("c.lastmodifieddate", "customerlastmodified")
)


def customer_of(row: dict[str, Any], zone: str | None = None) -> CustomerSnapshot | None:
    """The customer a joined row carries; None when the parent is not a customer (or there is none). `zone`: the
    zone SuiteQL writes times in, to read the customer's version (without it, or without the column, None)."""
    parent = row.get("customerid") or row.get("parent")  # (rows read before the customer's own ID was a column)
    if not parent or not (row.get("customernumber") or row.get("customername")):
        return None
    modified = row.get("customerlastmodified")
    return CustomerSnapshot(
        id=str(parent),
        number=row.get("customernumber") or str(parent),
        name=row.get("customername") or row.get("customernumber") or str(parent),
        is_inactive=row.get("customerinactive") == "T",
        version=from_local_text(modified, zone) if modified and zone else None,
    )


def snapshot_from_row(
    row: dict[str, Any], customers: dict[str, CustomerSnapshot] | None = None, zone: str | None = None
) -> ProjectSnapshot:
    customer_id = row.get("customerid") or row.get("parent")
    customer = customers.get(str(customer_id)) if customers is not None and customer_id else customer_of(row, zone)
    return ProjectSnapshot(
        id=str(row["id"]),
        number=row.get("entityid") or str(row["id"]),
        name=row.get("companyname") or row.get("entityid") or str(row["id"]),
        customer=customer,
        status_id=row.get("entitystatus"),
        is_inactive=row.get("isinactive") == "T",
        in_scope=row.get("inscope") == "T",
        start_date=row.get("startdate"),
        end_date=row.get("enddate"),
        clicktime_id=row.get("clicktime_id"),
    )


NEVER_SYNCED = "not open in NetSuite and never synced"


def no_customer(project: ProjectSnapshot) -> str:
    """Why a project gets no job: the reason its dead letter (and `ctns plan`) gives."""
    return (
        f"project {project.number} has no customer (its parent is no customer, nor a project of one up to "
        f"{SUBPROJECT_LEVELS} levels up); a ClickTime job needs a client"
    )


def is_open(project: ProjectSnapshot, settings: ProjectSyncSettings) -> bool:
    """Whether the project's job should be active: in scope, active and not closed."""
    return project.in_scope and not project.is_inactive and project.status_id not in settings.closed_status_ids


def job_payload(project: ProjectSnapshot, client_id: str, settings: ProjectSyncSettings) -> dict[str, Any]:
    active = is_open(project, settings)
    payload: dict[str, Any] = {
        "Name": project.name,
        "JobNumber": project.number,
        "ClientID": client_id,
        "IsActive": active,
        "AccountingPackageID": project.id,
    }
    # Absent dates are left out rather than sent as null: ClickTime's handling of null is UNVERIFIED.
    if project.start_date:
        payload["StartDate"] = project.start_date.isoformat()
    if project.end_date:
        payload["EndDate"] = project.end_date.isoformat()
    return payload


class ProjectSync:
    """Both halves of the projects sync: the change source and the applier."""

    def __init__(
        self,
        netsuite: NetSuiteClient,
        clicktime: ClickTimeClient,
        mappings: MappingStore,
        settings: ProjectSyncSettings,
        timezone: str,
        cause_open: Callable[[str], bool] = lambda _key: False,
        cache: References | None = None,
    ) -> None:
        self._netsuite = netsuite
        self._clicktime = clicktime
        self._mappings = mappings
        self._cache = cache
        self._settings = settings
        self._zone = timezone
        self._holders: dict[str, dict[str, list[Any]]] = {}  # the plan's index of ClickTime numbers (`preflight`)
        self.write_back = WriteBack(
            netsuite, record_type="job", field=settings.clicktime_id_field, cause_open=cause_open, timezone=timezone
        )
        self.source = SuiteQLChangeSource(
            netsuite,
            table="job",
            alias="j",
            columns=f"{columns(settings)}, {CUSTOMER_COLUMNS}",
            deleted_type="job",
            timezone=timezone,
            to_changes=self._to_changes,
            adopter=self._adoptions,
            adopt_when=settings.adopt_existing,
            joins=CUSTOMER_JOIN,
            parents_modified=("c", "p1", "p2"),  # a parent project moved to another customer moves its sub-projects
        )

    @property
    def settings(self) -> ProjectSyncSettings:
        return self._settings

    # -- poller side ------------------------------------------------------------------------------
    def _to_changes(self, rows: list[dict[str, Any]], _window: Window | None = None) -> list[Change]:
        changes = []
        for row in rows:
            snapshot = snapshot_from_row(row, zone=self._zone)
            changes.append(
                Change(
                    source_id=snapshot.id,
                    version=from_local_text(row["lastmodified"], self._zone),
                    snapshot=snapshot.model_dump(mode="json"),
                    fingerprint=fingerprint(snapshot),
                )
            )
        return changes

    def _adoptions(self, after: str | None) -> Iterator[ChangeBatch]:
        """Clients and jobs already in ClickTime that carry a NetSuite ID (made by hand or by an earlier
        integration): one paged read of each, so the first run updates them instead of creating twins."""
        if after is None:
            yield ChangeBatch(adoptions(self._clicktime.clients(), CUSTOMER_KIND), last_key="clients")
        if after in (None, "clients"):
            yield ChangeBatch(adoptions(self._clicktime.jobs(), KIND), last_key="jobs")

    def needs_no_target(self, change: Change) -> str | None:
        """A project that is not open needs no job unless it had one (the rule `upsert` applies first)."""
        try:
            project = ProjectSnapshot.model_validate(change.snapshot)
        except ValueError:
            return None  # the worker reports what is wrong with it
        return None if is_open(project, self._settings) else NEVER_SYNCED

    # -- plan side (`ctns plan`) ---------------------------------------------------------------------------
    def preflight(self, message: WorkMessage) -> list[str]:
        """What ClickTime would refuse of this project's job or client: its JobNumber (or its customer's
        ClientNumber) held, in any letters, by a ClickTime record that carries another NetSuite ID or none (made by
        hand before the sync; the run adopts only a record carrying this ID). One read of every job and client per
        plan."""
        if message.op != "upsert":
            return []
        project = snapshot_as(ProjectSnapshot, message)
        problems = []
        job = _held_by_another(self._number_holders("jobs"), project.number, project.id)
        if job is not None and not self._gives_up(job.AccountingPackageID, project.number):
            problems.append(
                holder_text("job", job.ID, job.Name, "JobNumber", job.JobNumber, job.AccountingPackageID)
                + f": set its Accounting Package ID to {project.id} if it stands for this project, else renumber one"
            )
        customer = project.customer
        client = _held_by_another(self._number_holders("clients"), customer.number, customer.id) if customer else None
        if client is not None and customer is not None:
            problems.append(
                holder_text(
                    "client", client.ID, client.Name, "ClientNumber", client.ClientNumber, client.AccountingPackageID
                )
                + f": set its Accounting Package ID to {customer.id} (NetSuite customer {customer.number}) if it stands"
                " for that customer, else renumber one"
            )
        return problems

    def _gives_up(self, holder_id: str | None, number: str, applied: str | None = None) -> bool:
        """Whether the NetSuite project `holder_id` (whose job holds `number`) has another number now: the run moves
        its job aside (`records.targets._vacated`), or its own message frees the number. `applied`: the fingerprint
        its mapping applied; when it is the project's now, its own change is done (no message will write its job
        again) and nothing is given up. One read per holder."""
        if not holder_id:
            return False
        holder = self.current_change(holder_id)
        if holder is None or (applied and holder.fingerprint == applied):
            return False
        return _number_of(holder).casefold() != number.casefold()

    def _number_holders(self, what: str) -> dict[str, list[Any]]:
        """ClickTime's jobs by JobNumber (or clients by ClientNumber), case-blind, read once."""
        if what not in self._holders:
            records = self._clicktime.jobs() if what == "jobs" else self._clicktime.clients()
            index: dict[str, list[Any]] = {}
            for record in records:
                number = record.JobNumber if what == "jobs" else record.ClientNumber
                if number:
                    index.setdefault(number.casefold(), []).append(record)
            self._holders[what] = index
        return self._holders[what]

    # -- worker side ------------------------------------------------------------------------------
    def apply(self, message: WorkMessage) -> Outcome:
        if message.op == "delete":
            return self._deactivate_deleted(message)
        project = snapshot_as(ProjectSnapshot, message)
        return self.upsert(
            project, message.version, owner=f"{message.run_id}:{message.source_id}", fingerprint=message.fingerprint
        )

    def upsert(self, project: ProjectSnapshot, version: datetime | None, owner: str, fingerprint: str = "") -> Outcome:
        # Only a project that should have no job needs its mapping read here (to skip it when it never had one).
        if not is_open(project, self._settings) and self._mappings.get(KIND, project.id) is None:
            # A closed or out-of-scope project gets a job only if it had one before (to deactivate it).
            self._mappings.note_skipped(KIND, project.id, fingerprint)
            return Outcome("skipped", None, NEVER_SYNCED)
        if project.customer is None:
            mapping = self._mappings.get(KIND, project.id)
            # The version fence of `upsert_target` (`targets._stale`): its latest reading against the one applied.
            if mapping and version and mapping.source_version and version < mapping.source_version:
                # Before judging the snapshot: a redriven dead letter whose record was corrected (and applied)
                # since must not fail again on the data it carried.
                return Outcome("skipped", mapping.target_id, f"stale: {version.isoformat()} is older than applied")
            raise BadInput(
                no_customer(project),
                field="parent",
                value=None,
                cause="project-without-customer",
            )
        customer = project.customer
        # Fenced by the customer's own version: a message older than the customer's last applied edit leaves the
        # client as it is (the job's fence, below, judges the project).
        customer_version = customer.version
        earliest = earliest_reading(customer_version, self._zone) if customer_version else None
        client = ensure_client(self._clicktime, self._mappings, customer, owner, earliest=earliest)
        try:
            applied = self._upsert_job(project, client.target_id or "", version, owner, fingerprint)
        except ClickTimeValidationError as error:
            # The client's mapping is read first and left alone while the customer is unchanged, so a client a
            # person deleted in ClickTime is met here: the job refused for its ClientID. Once ClickTime says the
            # client is not found, it is looked for or made anew and the job written again, once.
            if not (
                refused_client(error)
                and client.target_id
                and forget_gone_client(self._clicktime, self._mappings, customer, client.target_id, owner)
            ):
                raise
            client = ensure_client(self._clicktime, self._mappings, customer, owner, earliest=earliest)
            applied = self._upsert_job(project, client.target_id or "", version, owner, fingerprint)
        return Outcome(applied.action, applied.target_id, applied.detail)  # type: ignore[arg-type]

    def _upsert_job(
        self, project: ProjectSnapshot, client_id: str, version: datetime | None, owner: str, fingerprint: str
    ) -> Applied:
        return upsert_target(
            self._mappings,
            self._job_ops(project, version),
            source_id=project.id,
            version=version,
            earliest=earliest_reading(version, self._zone) if version else None,
            payload=job_payload(project, client_id, self._settings),
            owner=owner,
            fingerprint=fingerprint,
        )

    def _job_ops(self, project: ProjectSnapshot, version: datetime | None) -> TargetOps:
        clicktime = self._clicktime

        def find() -> str | None:
            # The real API has no AccountingPackageID filter: look up by the ID written back to NetSuite, then
            # by job number, and accept only a job that carries this project's internal ID.
            if project.clicktime_id:
                for job in clicktime.jobs(ID=project.clicktime_id):
                    if job.AccountingPackageID == project.id:
                        return job.ID
            for job in clicktime.jobs(JobNumber=project.number):
                if job.AccountingPackageID == project.id:
                    return job.ID
            return None

        def create(payload: dict[str, Any]) -> str:
            return clicktime.create_job(payload).ID

        def update(job_id: str, payload: dict[str, Any], _before: object) -> None:
            clicktime.update_job(job_id, payload)

        def vacate(_payload: dict[str, Any], holder: Mapping) -> bool:
            # The job of another project holds this project's new number: moved aside only when that project no
            # longer has the number in NetSuite and its own change is still due, else it is the holder's by right
            # (or its change was applied meanwhile: its job no longer holds the number).
            if not self._gives_up(holder.source_id, project.number, holder.fingerprint):
                return False
            clicktime.update_job(holder.target_id, {"JobNumber": moving_aside(project.number)})
            return True

        def settle(job_id: str, _payload: dict[str, Any], before: Mapping | None, _created: bool) -> Settled:
            return self.write_back.settle(
                project.id,
                job_id,
                project.clicktime_id,
                version,
                before,
                gone=lambda: clicktime.update_job(job_id, {"IsActive": False}),
            )

        return TargetOps(
            kind=KIND,
            find=find,
            create=create,
            update=update,
            settle=settle,
            due=lambda mapping: self.write_back.pending(mapping, project.clicktime_id, version),
            may_exist=bool(project.clicktime_id),
            path=job_api_path,
            system="ClickTime",
            taken_by=lambda _payload: described_holder("job", "JobNumber", project.number, project.id, clicktime.jobs),
            adopt_by=f"its Accounting Package ID to {project.id} (NetSuite project {project.number})",
            vacate=vacate,
        )

    def _deactivate_deleted(self, message: WorkMessage) -> Outcome:
        def deactivate(mapping: Mapping) -> None:
            self._clicktime.update_job(mapping.target_id, {"IsActive": False})

        applied = retire(
            self._mappings,
            KIND,
            message.source_id,
            message.version,
            deactivate,
            f"{message.run_id}:{message.source_id}",
            path=job_api_path,
            system="ClickTime",
        )
        return Outcome(applied.action, applied.target_id, applied.detail)  # type: ignore[arg-type]

    # -- on demand ------------------------------------------------------------------------------------
    def current(self, project_ids: list[str]) -> dict[str, Change]:
        """Fresh snapshots of some projects, as the poller would enqueue them."""
        return {change.source_id: change for change in self._to_changes(self.source.fetch(project_ids))}

    def current_change(self, project_id: str) -> Change | None:
        """The project as the poller would read it now (`SyncDefinition.current`); None when NetSuite has no such
        project."""
        return self.current([project_id]).get(project_id)

    def ensure_job(self, project: Change | None, project_id: str, owner: str) -> str | None:
        """The ClickTime job of a project, syncing the project now if it never was (a task arrived first).

        `project` is the snapshot the task's message carries; without one the project is read from NetSuite.
        None when the project does not belong in ClickTime (out of scope and never synced).
        """
        # Within one invocation a project's job is read once (`cache`): the tasks of a batch mostly share a few
        # projects, and each would read the same mapping again. Only a job found or made is kept.
        jobs: dict[str, str] = self._cache.get("projects:job-of", dict, per_invocation=True) if self._cache else {}
        if project_id in jobs:
            return jobs[project_id]
        mapping = self._mappings.get(KIND, project_id)
        if mapping and not mapping.deleted:
            jobs[project_id] = mapping.target_id
            return mapping.target_id
        change = project or self.current([project_id]).get(project_id)
        if change is None:
            return None
        outcome = self.upsert(ProjectSnapshot.model_validate(change.snapshot), change.version, owner)
        if outcome.target_id and outcome.action != "skipped":
            jobs[project_id] = outcome.target_id
        return outcome.target_id


def fingerprint(project: ProjectSnapshot) -> str:
    """The snapshot without the written-back ID (the write-back changes that field, not the project) and without
    the customer's version (an edit of the customer that changes nothing the client holds is no change)."""
    return content_hash(fingerprinted(project.model_dump(mode="json")))


def fingerprinted(dumped: dict[str, Any]) -> dict[str, Any]:
    """A dumped project snapshot as its fingerprint sees it (also inside a task's: `records.tasks.fingerprint`)."""
    kept = {k: v for k, v in dumped.items() if k != "clicktime_id"}
    if kept.get("customer"):
        kept["customer"] = {k: v for k, v in kept["customer"].items() if k != "version"}
    return kept


def adoptions(records: Iterable[Any], kind: str) -> list[Change]:
    """Adopt changes for ClickTime records that carry a NetSuite internal ID, the active one where two do."""
    chosen: dict[str, Any] = {}
    for record in records:
        source_id = (record.AccountingPackageID or "").strip()
        if not is_number(source_id):
            continue
        if source_id not in chosen or (record.IsActive and not chosen[source_id].IsActive):
            chosen[source_id] = record
    now = utc_now()
    return [
        Change(source_id=source_id, version=now, op="adopt", snapshot={"kind": kind, "target_id": record.ID})
        for source_id, record in sorted(chosen.items(), key=lambda item: int(item[0]))
    ]


def _number_of(project: Change) -> str:
    return ProjectSnapshot.model_validate(project.snapshot).number


def _held_by_another(holders: dict[str, list[Any]], number: str, source_id: str) -> Any | None:
    """The ClickTime record holding `number` (case-blind) when none holding it carries `source_id` (which the run
    would adopt)."""
    held = holders.get(number.casefold(), [])
    if any(record.AccountingPackageID == source_id for record in held):
        return None
    return held[0] if held else None
