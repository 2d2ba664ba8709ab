"""`ctns check`: is this configuration ready for its first night? Every check reads; none writes.

Configuration and secrets first (their shape, each setting for its use), then NetSuite (TBA works: server time
and the token's role; the project scope is accepted by SuiteQL; the custom fields exist on the right records,
from the record metadata catalog; the role can see deleted records; netsuite.timezone is the zone SuiteQL writes
times in), then ClickTime (the token works and is an
administrator's; the company settings the syncs depend on), each sync's own checks (a hook: the applier's
`check() -> list[str]`, problems with what the config names, such as a service item or expense categories),
and the workers' total concurrency against the account's NetSuite concurrency limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ctns.connections import clicktime_client, explain, netsuite_client
from ctns.inputs import ClickTimeSecret, NetSuiteSecret
from ctns.plan import EmptyTable, runtime_for
from ctsync.config import SyncConfig
from ctsync.errors import ConfigurationError, NeedsAttention, SyncError
from ctsync.records.netsuite_zone import FIX as ZONE_FIX
from ctsync.records.netsuite_zone import read_zone
from ctsync.sync import registry
from ctsync.sync.definition import CheckWarning
from ctsync.sync.registry import SYNC_NAMES
from ctsync.timeutil import utc_now

OK, WARN, FAIL, SKIP = "ok", "warn", "FAIL", "skip"
SCHEMA_JSON = "application/schema+json"
CLOCK_SKEW_WARN_SECONDS = 120


@dataclass
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Inputs:
    config: SyncConfig
    netsuite: NetSuiteSecret
    clicktime: ClickTimeSecret
    concurrency: dict[str, int]  # worker MaximumConcurrency per sync
    concurrency_source: str
    limit: int | None  # the account's NetSuite concurrency limit, when the operator gave it


def run_checks(inputs: Inputs, progress: Callable[[str], None] = lambda _text: None) -> list[Check]:
    checks: list[Check] = []
    config = inputs.config
    netsuite = netsuite_client(config, inputs.netsuite, read_only=True)
    clicktime = clicktime_client(config, inputs.clicktime, read_only=True)

    progress("NetSuite: token-based authentication")
    if _netsuite_login(netsuite, config, checks):
        progress("NetSuite: project scope, custom fields, deleted records")
        _scope(netsuite, config, checks)
        _custom_field(netsuite, "job", "projects.clicktime_id_field", config.projects.clicktime_id_field, checks)
        _custom_field(netsuite, "projectTask", "tasks.clicktime_id_field", config.tasks.clicktime_id_field, checks)
        _deleted_records(netsuite, checks)
        _time_zone(netsuite, config, checks)
    else:
        checks.append(Check("NetSuite records and fields", SKIP, "not checked: the login failed"))

    progress("ClickTime: token, administrator, company settings")
    _clicktime(clicktime, config, checks)

    progress("each sync's own checks")
    _sync_hooks(config, netsuite, clicktime, checks)
    _concurrency(inputs, checks)
    return checks


def _netsuite_login(netsuite: Any, config: SyncConfig, checks: list[Check]) -> bool:
    try:
        server = netsuite.server_time()
    except Exception as error:  # noqa: BLE001 - told as one line
        checks.append(Check("NetSuite login (TBA)", FAIL, explain(error, "netsuite", config)))
        return False
    skew = (server - utc_now()).total_seconds()
    detail = f"server time {server.isoformat()} (this machine's clock is {abs(skew):.0f} s {'behind' if skew > 0 else 'ahead'})"
    status = WARN if abs(skew) > CLOCK_SKEW_WARN_SECONDS else OK
    fix = "set this machine's clock: TBA signatures carry it and NetSuite refuses stale ones" if status == WARN else ""
    checks.append(Check("NetSuite login (TBA)", status, detail, fix))
    try:
        info = netsuite.token_info()
    except Exception as error:  # noqa: BLE001
        checks.append(Check("NetSuite role", WARN, f"tokeninfo did not answer: {explain(error, 'netsuite', config)}"))
        return True
    who = ", ".join(
        f"{label} {info[key]}"
        for key, label in (
            ("companyName", "company"),
            ("roleName", "role"),
            ("entityName", "user"),
            ("accountId", "account"),
        )
        if info.get(key)
    )
    account = str(info.get("accountId") or "")
    if account and account.upper() != config.netsuite.account_id.upper():
        checks.append(
            Check(
                "NetSuite role",
                FAIL,
                f"the token belongs to account {account}, the config names {config.netsuite.account_id}",
                "use a token of the configured account, or fix netsuite.account_id",
            )
        )
    else:
        checks.append(Check("NetSuite role", OK, f"the token acts as {who or 'an unnamed role'}"))
    return True


def _scope(netsuite: Any, config: SyncConfig, checks: list[Check]) -> None:
    query = f"SELECT j.id AS id FROM job j WHERE ({config.projects.scope})"
    try:
        page = netsuite.suiteql_page(query, limit=1)
    except NeedsAttention as error:
        checks.append(
            Check(
                "projects.scope",
                FAIL,
                f"NetSuite refuses the setting projects.scope ({config.projects.scope!r}): {error.message}",
                "correct projects.scope (a SuiteQL condition over alias j), then `ctns config push`",
            )
        )
        return
    except Exception as error:  # noqa: BLE001
        checks.append(Check("projects.scope", FAIL, explain(error, "netsuite", config)))
        return
    count = (
        f"{page.total} project(s)"
        if page.total is not None
        else ("at least one project" if page.rows else "no project")
    )
    status = OK if page.rows else WARN
    fix = "" if page.rows else "no project is in scope: nothing would reach ClickTime; check the condition"
    checks.append(Check("projects.scope", status, f"accepted by NetSuite: {count} in scope", fix))


def _custom_field(netsuite: Any, record: str, setting: str, field_id: str, checks: list[Check]) -> None:
    name = f"{setting} on {record}"
    try:
        # The core client's transport: TBA-signed, retried, errors typed; the catalog wants its own Accept.
        response = netsuite._send(
            "GET", f"{netsuite.base_url}/record/v1/metadata-catalog/{record}", headers={"Accept": SCHEMA_JSON}
        )
        schema = response.json()
    except NeedsAttention as error:
        checks.append(Check(name, FAIL, f"the metadata catalog of {record} cannot be read: {error.message}"))
        return
    except Exception as error:  # noqa: BLE001
        checks.append(Check(name, FAIL, f"the metadata catalog of {record} cannot be read: {error}"))
        return
    properties = schema.get("properties") or {}
    found = properties.get(field_id)
    if found is None:
        near = sorted(p for p in properties if p.startswith(field_id.split("_", 1)[0]))
        others = f" (its custom fields: {', '.join(near[:8])})" if near else ""
        checks.append(
            Check(
                name,
                FAIL,
                f"NetSuite has no field {field_id} on {record}{others}",
                f"create {field_id} as a free-form text field applied to {record} records (and on its form), or fix {setting}",
            )
        )
        return
    kind = found.get("type")
    if kind not in (None, "string"):
        checks.append(
            Check(
                name,
                WARN,
                f"{field_id} exists on {record} but is of type {kind}",
                "it takes a ClickTime ID: make it free-form text",
            )
        )
        return
    checks.append(Check(name, OK, f"{field_id} exists on {record} ({found.get('title', 'no label')})"))


def _deleted_records(netsuite: Any, checks: list[Check]) -> None:
    query = "SELECT d.recordid AS recordid FROM deletedrecord d WHERE d.recordtypeid = 'job'"
    try:
        netsuite.suiteql_page(query, limit=1)
    except NeedsAttention as error:
        checks.append(
            Check(
                "NetSuite deleted records",
                FAIL,
                f"the role cannot read deleted records: {error.message}",
                "grant the role Lists > Deleted Records (View): without it deletions in NetSuite never reach ClickTime",
            )
        )
        return
    except Exception as error:  # noqa: BLE001
        checks.append(Check("NetSuite deleted records", FAIL, str(error)))
        return
    checks.append(
        Check("NetSuite deleted records", OK, "the role can read deleted records (deletions reach ClickTime)")
    )


TIME_ZONE_CHECK = "netsuite.timezone"


def _time_zone(netsuite: Any, config: SyncConfig, checks: list[Check]) -> None:
    """netsuite.timezone against the zone NetSuite writes SuiteQL times in (`ctsync.records.netsuite_zone`, which
    each NetSuite change source also runs as it opens a window)."""
    zone = config.netsuite.timezone
    try:
        found = read_zone(netsuite, zone)
    except Exception as error:  # noqa: BLE001 - told as one line
        checks.append(Check(TIME_ZONE_CHECK, WARN, f"could not check {zone}: {explain(error, 'netsuite', config)}"))
        return
    if found is None:
        checks.append(
            Check(TIME_ZONE_CHECK, SKIP, f"could not check {zone}: NetSuite has no project to compare times on")
        )
    elif found.agrees:
        checks.append(Check(TIME_ZONE_CHECK, OK, found.agreement(utc_now())))
    else:
        checks.append(Check(TIME_ZONE_CHECK, FAIL, found.disagreement(), ZONE_FIX))


def _clicktime(clicktime: Any, config: SyncConfig, checks: list[Check]) -> None:
    try:
        company = clicktime.company()
    except Exception as error:  # noqa: BLE001
        checks.append(Check("ClickTime token", FAIL, explain(error, "clicktime", config)))
        return
    checks.append(Check("ClickTime token", OK, f"company {company.Name} (currency {company.CurrencyISO})"))
    try:
        me = clicktime.send("GET", "/Me").data or {}
    except Exception as error:  # noqa: BLE001
        checks.append(
            Check("ClickTime administrator", WARN, f"/Me did not answer: {explain(error, 'clicktime', config)}")
        )
    else:
        level = str(me.get("SecurityLevel") or "unknown")
        who = me.get("Name") or me.get("Email") or me.get("ID")
        if level.upper() == "ADMIN":
            checks.append(Check("ClickTime administrator", OK, f"the token is {who}'s, an administrator"))
        else:
            checks.append(
                Check(
                    "ClickTime administrator",
                    FAIL,
                    f"the token is {who}'s, whose security level is {level}",
                    "use an administrator's API token: the syncs create jobs, tasks and clients and read every timesheet",
                )
            )
    method = company.TaskRestrictionMethod or "unknown"
    if company.restricts_tasks_by_job:
        checks.append(
            Check("ClickTime task list", OK, "tasks are restricted by job: each task is linked to its project's job")
        )
    else:
        checks.append(
            Check(
                "ClickTime task list",
                WARN,
                f"TaskRestrictionMethod is {method}: the tasks sync cannot link tasks to jobs, so every task shows on every job",
                "set the company's task list control to 'by job' (Company Preferences) if tasks should follow their projects",
            )
        )
    checks.append(
        Check(
            "ClickTime billing",
            OK,
            f"BillableSetting {company.BillableSetting or 'unknown'} (with 'task', a task's billable flag follows NetSuite's)",
        )
    )


def _sync_hooks(config: SyncConfig, netsuite: Any, clicktime: Any, checks: list[Check]) -> None:
    for sync in SYNC_NAMES:
        runtime = runtime_for(sync, config, netsuite, clicktime, EmptyTable())
        try:
            definition = registry.build(sync, runtime)
        except ConfigurationError as error:
            checks.append(Check(f"{sync} sync", SKIP, error.message))
            continue
        hook = getattr(definition.applier, "check", None)
        if hook is None:
            continue
        try:
            problems = list(hook() or [])
        except SyncError as error:  # a refusal, or a system that did not answer: one FAIL line either way
            problems = [error.message]
        if problems:
            checks.extend(
                Check(f"{sync} sync", WARN if isinstance(problem, CheckWarning) else FAIL, problem)
                for problem in problems
            )
        if not any(not isinstance(problem, CheckWarning) for problem in problems):
            checks.append(Check(f"{sync} sync", OK, "what its settings name exists"))


MIN_WORKERS = 2  # an SQS event source mapping's MaximumConcurrency is at least 2
_MIN_WHY = "an SQS event source mapping runs at least 2 workers"


def _pollers_reading_netsuite() -> dict[str, int]:
    """A sync whose source is NetSuite has its poller paging SuiteQL while the workers work what it enqueued."""
    return {s.name: 1 for s in registry.SYNCS if s.source_system == "netsuite"}


def _within(syncs: list[str], target: int, per_worker: dict[str, int]) -> str:
    """What to set so each sync sends at most `target` requests at once, or why no setting can."""
    pollers = _pollers_reading_netsuite()
    if any(target - pollers.get(sync, 0) < MIN_WORKERS for sync in syncs):
        return (
            f"no setting gets below {MIN_WORKERS} ({_MIN_WHY}): raise the account's limit (SuiteCloud Plus), or keep "
            "this stack's syncs off the account's busiest hours"
        )
    steps = []
    for sync in syncs:
        parameter = f"{sync.capitalize()}WorkerMaxConcurrency"
        each = per_worker.get(sync, 1)
        room = target - pollers.get(sync, 0)
        if MIN_WORKERS * each <= room:
            steps.append(f"set {parameter} to {room // each}")
        else:  # time: fewer bills at once per worker, then the workers
            steps.append(f"set time.write_concurrency to {room // MIN_WORKERS} and {parameter} to {MIN_WORKERS}")
    return "; ".join(steps)


def _concurrency(inputs: Inputs, checks: list[Check]) -> None:
    """Each sync's workers against the account's limit, and all of them together. The syncs run on their own
    schedules (the template's at least 30 minutes apart), so only one sync over the limit is a failure; all of
    them over it when runs overlap is a warning (an event source mapping cannot go below 2 workers, so four
    syncs sum to at least 8, over NetSuite's default limit of 5 on every account)."""
    # A time worker writes up to time.write_concurrency bills at once: each of its environments holds that many.
    per_worker = {"time": inputs.config.time.write_concurrency}
    pollers = _pollers_reading_netsuite()
    shares = {sync: n * per_worker.get(sync, 1) + pollers.get(sync, 0) for sync, n in inputs.concurrency.items()}
    total = sum(shares.values())
    busiest = max(shares, key=lambda sync: shares[sync])
    parts = ", ".join(
        (f"{sync} {n} x {per_worker[sync]} (time.write_concurrency)" if per_worker.get(sync, 1) > 1 else f"{sync} {n}")
        + (" + 1 poller" if pollers.get(sync) else "")
        for sync, n in inputs.concurrency.items()
    )
    detail = (
        f"the workers (and pollers) of each sync may send up to this many NetSuite requests at once: {parts}; {total} if every "
        f"sync ran at once ({inputs.concurrency_source})"
    )
    limit = inputs.limit
    if limit is None:
        checks.append(
            Check(
                "NetSuite concurrency",
                WARN,
                detail + "; the account's limit was not given",
                "pass --netsuite-concurrency-limit N (Setup > Integration > Integration Governance shows it)",
            )
        )
    elif shares[busiest] > limit:
        over = sorted(sync for sync, share in shares.items() if share > limit)
        checks.append(
            Check(
                "NetSuite concurrency",
                FAIL,
                f"{' and '.join(f'the {sync} sync alone may send {shares[sync]}' for sync in over)} NetSuite "
                f"requests at once, over the account's limit of {limit}: NetSuite will "
                f"refuse requests (429), and other integrations of the account with them ({detail})",
                _within(over, limit, per_worker),
            )
        )
    elif shares[busiest] == limit:
        whole = sorted(sync for sync, share in shares.items() if share == limit)
        checks.append(
            Check(
                "NetSuite concurrency",
                WARN,
                f"the {' and '.join(whole)} sync{'s' if len(whole) > 1 else ''} alone may send {limit}, the "
                f"account's whole limit of {limit}: nothing left for other integrations while it runs ({detail})",
                _within(whole, limit - 1, per_worker)
                if limit - 1 >= MIN_WORKERS
                else f"it cannot go lower ({_MIN_WHY}): run other integrations apart from it, or raise the account's "
                "limit (SuiteCloud Plus)",
            )
        )
    elif total > limit:
        checks.append(
            Check(
                "NetSuite concurrency",
                WARN,
                f"{detail}: each sync alone stays within the account's limit of {limit}; syncs running at the same "
                "time go over it (NetSuite refuses the extra requests with 429 and the syncs retry them, slower)",
                "keep the syncs' schedules apart, with room for the longest run (the template's are 30 minutes "
                "apart), or lower the <Sync>WorkerMaxConcurrency parameters",
            )
        )
    else:
        checks.append(Check("NetSuite concurrency", OK, f"{detail}, within the account's limit of {limit}"))
