"""Jobs, Tasks, Clients and the Job-Task links: what the projects and tasks syncs write.

The create/update functions are shared by the HTTP handlers and the test helpers (`seed_jobs_and_tasks`), so
both paths obey the same rules: references must exist, business keys must be unique, records in use cannot
be deleted.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulators.clicktime.context import Call, any_permission, field_in, found
from simulators.clicktime.store import Record, Store, brief, sort_records
from simulators.clicktime.validation import bad_request
from simulators.common.server import HttpError, Response

JOB_DEFAULTS: Record = {
    "JobNumber": "",
    "IsActive": True,
    "IsBillable": True,
    "BillingRate": Decimal("0.00"),
    "UseCompanyBillingRate": True,
    "SecondaryBillingRateMode": "INHERIT",
    "AccountingPackageID": None,
    "CustomFields": {},
    "StartDate": None,
    "EndDate": None,
    "Notes": "",
    "ProjectManagerID": None,
    "TimeRequiresApproval": False,
    "IncludeInRM": False,
    "IsEligibleTimeOffAllocation": False,
    "LifetimeBudget": None,
}
TASK_DEFAULTS: Record = {
    "TaskCode": "",
    "IsActive": True,
    "IsBillable": True,
    "BillingRate": Decimal("0.00"),
    "UseCompanyBillingRate": True,
    "AccountingPackageID": None,
    "CustomFields": {},
    "Notes": "",
}
CLIENT_DEFAULTS: Record = {
    "ShortName": "",
    "ClientNumber": "",
    "IsActive": True,
    "AccountingPackageID": None,
    "BillingRate": Decimal("0.00"),
    "SecondaryBillingRateMode": "INHERIT",
    "CustomFields": {},
    "Notes": "",
    "IsEligibleTimeOffAllocation": False,
}


# -- state changes (shared by HTTP and helpers) ----------------------------------------------------------


def create_client(store: Store, fields: Record) -> Record:
    _unique(store.clients, "ClientNumber", fields.get("ClientNumber"))
    client = {
        "ID": store.mint_id(),
        **_fresh(CLIENT_DEFAULTS),
        **fields,
        "CreatedDate": store.now(),
        "_seq": store.next_sequence(),
    }
    client["ListDisplayText"] = client["Name"]  # UNVERIFIED: the display text of a client is its name
    store.clients[client["ID"]] = client
    return client


def update_client(store: Store, client: Record, fields: Record) -> Record:
    _unique(store.clients, "ClientNumber", fields.get("ClientNumber"), but=client["ID"])
    _merge(client, fields)
    client["ListDisplayText"] = client["Name"]
    return client


def create_job(store: Store, fields: Record) -> Record:
    _check_job_references(store, fields)
    _unique(store.jobs, "JobNumber", fields.get("JobNumber"))
    job = {"ID": store.mint_id(), **_fresh(JOB_DEFAULTS), **fields, "_seq": store.next_sequence()}
    _check_approval_manager(job)
    _job_display(job)
    store.jobs[job["ID"]] = job
    store.job_tasks[job["ID"]] = []
    return job


def update_job(store: Store, job: Record, fields: Record) -> Record:
    _check_job_references(store, fields)
    _unique(store.jobs, "JobNumber", fields.get("JobNumber"), but=job["ID"])
    _check_approval_manager({**job, **fields})
    _merge(job, fields)
    _job_display(job)
    return job


def create_task(store: Store, fields: Record, *, unique_names: bool) -> Record:
    if unique_names:
        _unique(store.tasks, "Name", fields.get("Name"))
    _unique(store.tasks, "TaskCode", fields.get("TaskCode"))
    task = {"ID": store.mint_id(), **_fresh(TASK_DEFAULTS), **fields, "_seq": store.next_sequence()}
    _task_display(task)
    store.tasks[task["ID"]] = task
    return task


def update_task(store: Store, task: Record, fields: Record, *, unique_names: bool) -> Record:
    if unique_names:
        _unique(store.tasks, "Name", fields.get("Name"), but=task["ID"])
    _unique(store.tasks, "TaskCode", fields.get("TaskCode"), but=task["ID"])
    _merge(task, fields)
    _task_display(task)
    return task


def link_task(store: Store, job_id: str, task_id: str) -> list[str]:
    require_tasks_by_job(store)
    linked = store.job_tasks[found(store.jobs, job_id, "Job")["ID"]]
    if task_id not in store.tasks:
        raise bad_request(f"Task '{task_id}' does not exist", "TaskID")
    if task_id in linked:
        # UNVERIFIED: whether linking twice is an error or a no-op; strict until seen, so clients look first.
        raise bad_request(f"Task '{task_id}' is already associated with this job", "TaskID")
    linked.append(task_id)
    return newest_first(linked)


def unlink_task(store: Store, job_id: str, task_id: str) -> None:
    require_tasks_by_job(store)
    linked = store.job_tasks[found(store.jobs, job_id, "Job")["ID"]]
    if task_id not in linked:
        raise HttpError(404, f"Task '{task_id}' is not associated with job '{job_id}'")
    linked.remove(task_id)


def require_tasks_by_job(store: Store) -> None:
    if store.settings.task_restriction_method != "byjob":
        raise bad_request(
            "Task List Control must be restricted by Job for this request; this company's task "
            f"list control is '{store.settings.task_restriction_method}', not restricted by job"
        )


def newest_first(ids: list[str]) -> list[str]:
    return list(reversed(ids))  # the spec's sort order for association lists: "Newest to Oldest"


def _check_job_references(store: Store, fields: Record) -> None:
    if "ClientID" in fields and fields["ClientID"] not in store.clients:
        raise bad_request(f"Client '{fields['ClientID']}' does not exist", "ClientID")
    manager = fields.get("ProjectManagerID")
    if manager and manager not in store.users:
        raise bad_request(f"User '{manager}' does not exist", "ProjectManagerID")


def _check_approval_manager(job: Record) -> None:
    if job.get("TimeRequiresApproval") and not job.get("ProjectManagerID"):
        raise bad_request("ProjectManagerID is required if TimeRequiresApproval is true", "ProjectManagerID")


def _unique(table: dict[str, Record], field: str, value: Any, but: str | None = None) -> None:
    # UNVERIFIED: ClickTime's uniqueness rules are not documented; the simulator keeps business keys (and task
    # names, which people pick tasks by in a company-wide list) unique, so duplicate creates are caught.
    if not value:
        return
    for record in table.values():
        if record["ID"] != but and str(record.get(field, "")).lower() == str(value).lower():
            raise bad_request(f"{field} '{value}' is already in use", field)


def _merge(record: Record, fields: Record) -> None:
    for name, value in fields.items():
        if name == "CustomFields":
            record["CustomFields"] = {**record.get("CustomFields", {}), **value}
        else:
            record[name] = value


def _fresh(defaults: Record) -> Record:
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in defaults.items()}


def _job_display(job: Record) -> None:
    # UNVERIFIED: how ClickTime composes the display texts; number and name is what its job lists show.
    job["ListDisplayName"] = job["Name"]
    job["ListDisplayText"] = f"{job['JobNumber']} - {job['Name']}" if job.get("JobNumber") else job["Name"]


def _task_display(task: Record) -> None:
    task["ListDisplayText"] = f"{task['TaskCode']} - {task['Name']}" if task.get("TaskCode") else task["Name"]


def _in_use(store: Store, field: str, record_id: str) -> bool:
    rows = list(store.time_entries.values()) + list(store.expense_items.values())
    return any(r.get(field) == record_id for r in rows)


# -- views -----------------------------------------------------------------------------------------------


def job_view(store: Store, job: Record) -> Record:
    return {
        **job,
        "Client": brief(store.clients.get(job["ClientID"])),
        "ProjectManager": brief(store.users.get(job.get("ProjectManagerID") or "")),
    }


# -- handlers --------------------------------------------------------------------------------------------


def list_jobs(call: Call) -> Response:
    rows = call.filtered(
        list(call.store.jobs.values()),
        {
            "ID": field_in("ID"),
            "ClientID": field_in("ClientID"),
            "Name": field_in("Name"),
            "JobNumber": field_in("JobNumber"),
            "IsActive": field_in("IsActive"),
            "ProjectManagerID": field_in("ProjectManagerID"),
            "WithPermission": any_permission,
            # With JobRestrictionMethod "none" (the simulator's company) every user may use every job.
            "UserID": any_permission,
        },
    )
    rows = sort_records(rows, ("ListDisplayText", False), ("ID", False))
    return call.page("Job", rows, lambda job: job_view(call.store, job))


def get_job(call: Call) -> Response:
    return call.one("Job", job_view(call.store, found(call.store.jobs, call.params["jobID"], "Job")))


def post_job(call: Call) -> Response:
    # UNVERIFIED: 201 for a create (a public client's test expects it); clients should accept any 2xx.
    return call.one("Job", job_view(call.store, create_job(call.store, call.body)), status=201)


def patch_job(call: Call) -> Response:
    job = found(call.store.jobs, call.params["jobID"], "Job")
    return call.one("Job", job_view(call.store, update_job(call.store, job, call.body)))


def delete_job(call: Call) -> Response:
    job = found(call.store.jobs, call.params["jobID"], "Job")
    # UNVERIFIED: ClickTime's answer to deleting a job with time; refusing it is the strict choice.
    if _in_use(call.store, "JobID", job["ID"]):
        raise bad_request("The job has time or expenses and cannot be deleted; deactivate it instead")
    del call.store.jobs[job["ID"]]
    call.store.job_tasks.pop(job["ID"], None)
    return Response(204)  # UNVERIFIED: the spec defines no response body for this DELETE


def list_job_tasks(call: Call) -> Response:
    require_tasks_by_job(call.store)
    job = found(call.store.jobs, call.params["jobID"], "Job")
    tasks = ids_as_records(call.store.tasks, newest_first(call.store.job_tasks[job["ID"]]))
    tasks = call.filtered(tasks, {"IsActive": field_in("IsActive")})
    return call.bare_list([t["ID"] for t in tasks])


def post_job_task(call: Call) -> Response:
    # The association answers with the job's task ID list, 200 (UNVERIFIED status: nothing is created).
    return call.bare_list(link_task(call.store, call.params["jobID"], call.body["TaskID"]))


def delete_job_task(call: Call) -> Response:
    unlink_task(call.store, call.params["jobID"], call.params["taskID"])
    return call.bare_list(newest_first(call.store.job_tasks[call.params["jobID"]]))


def list_task_jobs(call: Call) -> Response:
    require_tasks_by_job(call.store)
    task = found(call.store.tasks, call.params["taskID"], "Task")
    jobs = [call.store.jobs[j] for j, tasks in call.store.job_tasks.items() if task["ID"] in tasks]
    jobs = call.filtered(sorted(jobs, key=lambda j: j["_seq"], reverse=True), {"IsActive": field_in("IsActive")})
    return call.bare_list([j["ID"] for j in jobs])


def delete_task_job(call: Call) -> Response:
    task = found(call.store.tasks, call.params["taskID"], "Task")
    unlink_task(call.store, call.params["jobID"], task["ID"])
    jobs = [j for j, tasks in call.store.job_tasks.items() if task["ID"] in tasks]
    return call.bare_list(list(reversed(jobs)))


def ids_as_records(table: dict[str, Record], ids: list[str]) -> list[Record]:
    return [table[i] for i in ids if i in table]


def list_tasks(call: Call) -> Response:
    rows = call.filtered(
        list(call.store.tasks.values()),
        {
            "ID": field_in("ID"),
            "IsActive": field_in("IsActive"),
            "Name": field_in("Name"),
            "TaskCode": field_in("TaskCode"),
            "TaskName": field_in("Name"),  # UNVERIFIED: the spec lists TaskName beside Name with no description
        },
    )
    return call.page("Task", sort_records(rows, ("Name", False), ("ID", False)))


def get_task(call: Call) -> Response:
    return call.one("Task", found(call.store.tasks, call.params["taskID"], "Task"))


def post_task(call: Call) -> Response:
    return call.one("Task", create_task(call.store, call.body, unique_names=call.store.unique_task_names), status=201)


def patch_task(call: Call) -> Response:
    task = found(call.store.tasks, call.params["taskID"], "Task")
    return call.one("Task", update_task(call.store, task, call.body, unique_names=call.store.unique_task_names))


def delete_task(call: Call) -> Response:
    task = found(call.store.tasks, call.params["taskID"], "Task")
    if _in_use(call.store, "TaskID", task["ID"]):
        raise bad_request("The task has time or expenses and cannot be deleted; deactivate it instead")
    del call.store.tasks[task["ID"]]
    for linked in call.store.job_tasks.values():
        if task["ID"] in linked:
            linked.remove(task["ID"])
    return Response(204)  # UNVERIFIED: as for DELETE /Jobs/{jobID}


def list_clients(call: Call) -> Response:
    rows = call.filtered(
        list(call.store.clients.values()),
        {
            "ID": field_in("ID"),
            "IsActive": field_in("IsActive"),
            "Name": field_in("Name"),
            "ShortName": field_in("ShortName"),
            "ClientNumber": field_in("ClientNumber"),
        },
    )
    return call.page("Client", sort_records(rows, ("ListDisplayText", False), ("ID", False)))


def get_client(call: Call) -> Response:
    return call.one("Client", found(call.store.clients, call.params["clientID"], "Client"))


def post_client(call: Call) -> Response:
    return call.one("Client", create_client(call.store, call.body), status=201)


def patch_client(call: Call) -> Response:
    client = found(call.store.clients, call.params["clientID"], "Client")
    return call.one("Client", update_client(call.store, client, call.body))


ROUTES = [
    ("GET", "/Jobs", list_jobs),
    ("POST", "/Jobs", post_job),
    ("GET", "/Jobs/{jobID}", get_job),
    ("PATCH", "/Jobs/{jobID}", patch_job),
    ("DELETE", "/Jobs/{jobID}", delete_job),
    ("GET", "/Jobs/{jobID}/Tasks", list_job_tasks),
    ("POST", "/Jobs/{jobID}/Tasks", post_job_task),
    ("DELETE", "/Jobs/{jobID}/Tasks/{taskID}", delete_job_task),
    ("GET", "/Tasks", list_tasks),
    ("POST", "/Tasks", post_task),
    ("GET", "/Tasks/{taskID}", get_task),
    ("PATCH", "/Tasks/{taskID}", patch_task),
    ("DELETE", "/Tasks/{taskID}", delete_task),
    ("GET", "/Tasks/{taskID}/Jobs", list_task_jobs),
    ("DELETE", "/Tasks/{taskID}/Jobs/{jobID}", delete_task_job),
    ("GET", "/Clients", list_clients),
    ("POST", "/Clients", post_client),
    ("GET", "/Clients/{clientID}", get_client),
    ("PATCH", "/Clients/{clientID}", patch_client),
]
