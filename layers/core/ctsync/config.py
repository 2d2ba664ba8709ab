"""The per-customer configuration document, typed.

One JSON document per deployment (kept in SSM Parameter Store, named by the `CONFIG_PARAMETER` environment
variable). It holds no secrets: credentials live in Secrets Manager. It is validated at cold start and by
`ctns config validate` before a deploy, so a typo fails loudly instead of syncing the wrong thing.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from ctsync.digits import is_number

_SCRIPT_ID = re.compile(r"^(custentity|custevent|custbody|custcol|custrecord)[a-z0-9_]+$")


AdoptWhen = Literal["first_run", "every_run", "never"]


# The syncs a config document may name (`windows.per_sync`): the registry's `SYNC_NAMES` (a test keeps them equal;
# the registry imports this module, so it cannot be read from there).
SyncName = Literal["projects", "tasks", "time", "expenses"]


class Strict(BaseModel):
    # A number of seconds or hours that is infinite or NaN is a typo, never a setting.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


def _check_script_id(value: str) -> str:
    if not _SCRIPT_ID.match(value):
        raise ValueError(f"{value!r} is not a NetSuite custom field script ID (custentity_…, custevent_…)")
    return value


ScriptId = Annotated[str, AfterValidator(_check_script_id)]


def _internal_id(value: str, *, negative: bool = False) -> str | None:
    """A NetSuite internal id as the config keeps it: stripped (a space around it would never match an id NetSuite
    returns), ASCII digits only; None when it is not one."""
    stripped = value.strip()
    return stripped if is_number(stripped, negative=negative) else None


def _check_internal_id(value: str) -> str:
    stripped = _internal_id(value)
    if stripped is None:
        raise ValueError(
            f'{value!r} is not a NetSuite internal id (the number NetSuite shows as ID, e.g. "12"; not a name)'
        )
    return stripped


def _distinct_keys(mapping: dict[str, str], normalise: Callable[[str], str], where: str, how: str) -> None:
    """Refuses two keys of a config mapping that are read as one (`normalise`: as the product matches them): one
    entry would be dropped without a word, as with a JSON key given twice."""
    seen: dict[str, str] = {}
    for key in mapping:
        other = seen.setdefault(normalise(key), key)
        if other != key:
            raise ValueError(f"{where} has {other!r} and {key!r}, one key when {how} (one would be dropped): keep one")


# A record's internal id in NetSuite: named by a name instead, every export would be refused at run time.
InternalId = Annotated[str, AfterValidator(_check_internal_id)]


def _check_field_kind(value: str, prefix: str, record: str) -> str:
    """A custom field of the right kind for its record: an entity field (custentity_) on a project, a CRM field
    (custevent_) on a project task. A field of the other kind does not exist on the record: every write-back and
    every SuiteQL read of it fails."""
    if not value.startswith(prefix):
        kind = value.split("_", 1)[0]
        raise ValueError(
            f"{value!r} is a {kind} field; the ClickTime ID of a {record} goes into a {prefix}… field "
            f"(custom fields of a {record} are {prefix}… fields in NetSuite)"
        )
    return value


def _check_url(value: str | None, *, ends_with: str = "", origin_only: bool = False) -> str | None:
    """A base URL the clients can use: https (plain http only on this machine, for the simulators), a host, no
    credentials, query or fragment, and the path NetSuite or ClickTime serve the API under."""
    if value is None:
        return value
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  # raises on a port that is no number or out of range
    except ValueError as error:
        raise ValueError(f"the base URL is not a URL ({error})") from error
    # Shown without what may hold a secret (user info, query, fragment): messages reach logs and terminals.
    shown = repr(f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}")
    if not parts.scheme or not parts.netloc:  # nothing of it is the user's own words to echo: say what it lacks
        raise ValueError("the base URL is not an absolute URL: it must start with https:// and a host name")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{shown} is not an absolute URL (https://host/…)")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"{shown} is not https: credentials and data would cross the network unencrypted")
    if parts.username or parts.password:
        raise ValueError("a base URL carries no user name or password: credentials belong in the secrets")
    if parts.query or parts.fragment or " " in value:
        raise ValueError(
            f"{shown}: a base URL has no query, fragment or spaces (not shown here: they may hold a secret)"
        )
    path = parts.path.rstrip("/")
    if origin_only and path:
        raise ValueError(f"{shown}: give the origin only (https://<account>.restlets.api.netsuite.com)")
    if ends_with and not path.endswith(ends_with):
        raise ValueError(f"{shown} does not end with {ends_with}")
    return value


_ALIAS = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*[A-Za-z_]")


def _check_scope(value: str) -> str:
    """The project scope is spliced into a larger query as `CASE WHEN (<scope>) THEN …` over `job j`: it must
    be one condition that cannot reach outside its parentheses, and it must look at the project."""
    if not value.strip():
        raise ValueError(
            "the project scope is empty: it says which projects belong in ClickTime, e.g. j.isinactive = 'F'"
        )
    if ";" in value or "--" in value or "/*" in value or "*/" in value:
        raise ValueError("the project scope is one SuiteQL condition: no ';' and no comments")
    outside, depth, quoted = [], 0, False
    for char in value:
        if char == "'":
            quoted = not quoted  # a doubled '' inside a literal closes and reopens it: still balanced
            continue
        if quoted:
            continue
        outside.append(char)
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError("the project scope closes a parenthesis it did not open: it would widen the query")
    if quoted:
        raise ValueError("the project scope has an unmatched quote (')")
    if depth:
        raise ValueError("the project scope leaves a parenthesis open")
    # BUILTIN.DF(…) and its kin are SuiteQL functions, not tables.
    aliases = {match.group(1).lower() for match in _ALIAS.finditer("".join(outside))} - {"builtin"}
    others = sorted(aliases - {"j"})
    if others:
        raise ValueError(f"the project scope uses alias {others[0]!r}; the query reads projects as j (j.<column>)")
    if "j" not in aliases:
        raise ValueError(
            "the project scope names no column of the project (alias j, e.g. j.isinactive = 'F'): a condition "
            "that does not look at the project puts every project, or none, in ClickTime"
        )
    return value


_WIDTH = re.compile(r"[<>^]?\d{0,2}")  # the only format spec a template may give: a short width


def _check_template(template: str, *fields: str) -> set[str]:
    """The fields a format string uses, each one of `fields` as it is (no attribute, index, conversion or format
    spec but a width under 100: str.format would run any of them on every record); pydantic reports only
    ValueError."""
    named = ", ".join(sorted(fields))
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as error:
        raise ValueError(f"{template!r} is not a template ({error}); the fields are {named}") from error
    used: set[str] = set()
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in fields:
            raise ValueError(f"{template!r} uses {name!r}; the fields are {named}, each as it is")
        if conversion or not _WIDTH.fullmatch(spec or ""):
            raise ValueError(f"{template!r}: {{{name}}} may carry a width under 100 (e.g. {{{name}:>6}}), nothing else")
        used.add(name)
    return used


class NetSuiteSettings(Strict):
    account_id: str = Field(description="Exactly as NetSuite shows it, e.g. 1234567_SB1 (also the OAuth realm)")
    rest_base_url: str | None = Field(
        default=None, description="…/services/rest; derived from the account ID when absent"
    )
    restlets_base_url: str | None = None
    timezone: str = Field(
        default="America/Los_Angeles",
        description="Time zone preference of the integration user: SuiteQL renders and compares times in it",
    )
    page_size: int = Field(
        default=1000, ge=1, le=1000, description="SuiteQL rows per page (NetSuite's maximum is 1000)"
    )
    late_write_seconds: int = Field(
        default=900,
        ge=0,
        le=7 * 24 * 3600,
        description="How long after a write whose answer was lost NetSuite may still process it: a timesheet with "
        "a time bill write (an expense sheet with a report write) of unknown outcome is looked at by the first run at "
        "least this long after it, which writes its bills (its report) as they should be",
    )

    @field_validator("account_id")
    @classmethod
    def _account_id(cls, value: str) -> str:
        if "_" in value and value != value.upper() and re.fullmatch(r"[0-9A-Za-z]+(_SB\d+|_RP)?", value.upper()):
            raise ValueError(f"{value!r}: a sandbox realm is upper case, e.g. 1234567_SB1")
        if not re.fullmatch(r"[0-9A-Za-z]+(_SB\d+|_RP)?", value):
            raise ValueError(f"{value!r} does not look like a NetSuite account ID (1234567 or 1234567_SB1)")
        return value

    @field_validator("rest_base_url")
    @classmethod
    def _rest_url(cls, value: str | None) -> str | None:
        return _check_url(value, ends_with="/services/rest")

    @field_validator("restlets_base_url")
    @classmethod
    def _restlets_url(cls, value: str | None) -> str | None:
        return _check_url(value, origin_only=True)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        # Files of the machine's zone database that ZoneInfo finds, but whose zone is whatever that machine is set
        # to: the CLI's machine and the functions' would read times in different zones.
        if value.lower() in ("localtime", "posixrules"):
            raise ValueError(
                f"{value!r} names whichever zone the machine reading the config is set to, not one zone: "
                "give an IANA time zone name such as 'America/New_York'"
            )
        if value.lower() == "factory":
            raise ValueError(
                "'Factory' is the zone database's placeholder for a machine whose zone was never set (UTC, labelled "
                "'-00'), not a zone: give an IANA time zone name such as 'America/New_York' (or 'UTC')"
            )
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {value!r}") from error
        return value


class ClickTimeSettings(Strict):
    base_url: str = "https://api.clicktime.com/v2"
    clock_skew_seconds: int = Field(
        default=120,
        ge=0,
        le=3600,
        description="A ClickTime run's window ends this long before ClickTime's HTTP Date: its clock and its "
        "replicas may lag a little, and the overlap of the next window reads the margin again",
    )
    late_write_seconds: int = Field(
        default=900,
        ge=0,
        le=7 * 24 * 3600,
        description="How long after a write whose answer was lost ClickTime may still process it: until a run "
        "looks at the record at least this long after that write and finds it in step, each run looks again",
    )

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _check_url(value, ends_with="/v2") or value


class ProjectSyncSettings(Strict):
    clicktime_id_field: ScriptId = Field(
        default="custentity_ct_job_id", description="Project custom field that receives the ClickTime Job ID"
    )
    scope: str = Field(
        default="j.isinactive = 'F' AND j.allowtime = 'T'",
        description="SuiteQL condition over alias j: which projects belong in ClickTime",
    )
    closed_status_ids: list[str] = Field(
        default_factory=lambda: ["1"], description="job entityStatus ids that mean closed (UNVERIFIED default)"
    )
    adopt_existing: AdoptWhen = Field(
        default="first_run",
        description="when to adopt ClickTime clients and jobs that already carry a NetSuite ID (one paged read)",
    )

    @field_validator("scope")
    @classmethod
    def _scope(cls, value: str) -> str:
        return _check_scope(value)

    @field_validator("clicktime_id_field")
    @classmethod
    def _project_field(cls, value: str) -> str:
        return _check_field_kind(value, "custentity", "project")

    @field_validator("closed_status_ids")
    @classmethod
    def _status_ids(cls, value: list[str]) -> list[str]:
        stripped = []
        for status in value:
            status_id = _internal_id(status)
            if status_id is None:
                raise ValueError(f'{status!r} is not a project status internal id (a number, e.g. "1")')
            stripped.append(status_id)
        return stripped


class TaskSyncSettings(Strict):
    clicktime_id_field: ScriptId = Field(
        default="custevent_ct_task_id", description="Project task custom field that receives the ClickTime Task ID"
    )
    name_template: str = Field(
        default="{project_number} · {path}",
        description="ClickTime task name; fields: project_number, project_name, path, title",
    )
    path_separator: str = " › "
    task_code_template: str = Field(default="NS-{task_id}", description="ClickTime TaskCode; fields: task_id")
    adopt_existing: AdoptWhen = Field(
        default="first_run", description="when to adopt ClickTime tasks that already carry a NetSuite task ID"
    )

    @field_validator("clicktime_id_field")
    @classmethod
    def _task_field(cls, value: str) -> str:
        return _check_field_kind(value, "custevent", "project task")

    @field_validator("name_template")
    @classmethod
    def _name_template(cls, value: str) -> str:
        used = _check_template(value, "project_number", "project_name", "path", "title")
        if not used & {"path", "title"}:
            raise ValueError(
                f"{value!r} names no task ({{path}} or {{title}}): every task of a project would get one name"
            )
        return value

    @field_validator("task_code_template")
    @classmethod
    def _code_template(cls, value: str) -> str:
        if "task_id" not in _check_template(value, "task_id"):
            raise ValueError(f"{value!r} has no {{task_id}}: every task would get the same task code")
        return value


class WindowSettings(Strict):
    """How a sync's poller reads: the defaults of every sync, overridden per sync in `windows.per_sync`."""

    overlap_minutes: int = Field(
        default=60,
        ge=1,
        le=60 * 24 * 60,
        description="each run reads again this much before the last watermark (changes that were in flight)",
    )
    first_run_days: int = Field(
        default=3650,
        ge=1,
        le=36500,
        description="with no watermark yet, read changes this many days back (never 'since 1970')",
    )
    lease_seconds: int = Field(default=900, ge=60)
    stop_margin_seconds: int = Field(
        default=60, ge=5, description="poller hands over to a fresh invocation when this close to its timeout"
    )


class WindowOverride(Strict):
    overlap_minutes: int | None = Field(default=None, ge=1, le=60 * 24 * 60)
    first_run_days: int | None = Field(default=None, ge=1, le=36500)


# Per-sync defaults, below anything the document sets: approvals arrive late and can be undone, so the
# exports start a few weeks back on their first run rather than ten years. Expenses read their whole look-back
# (expenses.lookback_days): an expense sheet is approved days after its date, and the first night's
# reconciliation then compares the same sheets the export read.
SYNC_WINDOW_DEFAULTS: dict[str, dict[str, int]] = {
    "time": {"first_run_days": 35},
    "expenses": {"first_run_days": 42},
}


class Windows(WindowSettings):
    per_sync: dict[SyncName, WindowOverride] = Field(default_factory=dict)

    def for_sync(self, sync: str) -> WindowSettings:
        """Window settings of one sync: its own override, else the document's setting, else its default."""
        explicit = {name: getattr(self, name) for name in self.model_fields_set if name != "per_sync"}
        values = {**SYNC_WINDOW_DEFAULTS.get(sync, {}), **explicit}
        override = self.per_sync.get(sync)
        if override:
            values.update(override.model_dump(exclude_none=True))
        base = WindowSettings().model_dump()
        return WindowSettings(**{**base, **{k: v for k, v in values.items() if k in base}})


class RetrySettings(Strict):
    """Client retries (exponential backoff with full jitter); the queue retries again after these run out."""

    max_attempts: int = Field(default=6, ge=1, le=15)
    base_seconds: float = Field(default=1.0, gt=0)
    cap_seconds: float = Field(default=30.0, gt=0)
    systemic_pause_seconds: int = Field(
        default=300,
        ge=1,
        le=900,
        description="how long a systemic failure (bad credentials, an outage) pauses a sync's workers before one "
        "record tries again",
    )


def _user_key(key: str) -> str:
    """A people.overrides key as users are looked up: a ClickTime user ID as written, an e-mail in lower case."""
    return key.strip().lower() if "@" in key else key.strip()


class PeopleSettings(Strict):
    """How a ClickTime user becomes a NetSuite employee, for the time and the expense export alike."""

    match: list[Literal["override", "email", "employee_number"]] = Field(
        default_factory=lambda: ["override", "email", "employee_number"],
        min_length=1,
        description="rules tried in order: an explicit override, the e-mail, ClickTime EmployeeNumber = entityId",
    )
    overrides: dict[str, str] = Field(
        default_factory=dict,
        description="ClickTime user ID or e-mail (lower case) -> NetSuite employee internal id",
    )

    @field_validator("overrides")
    @classmethod
    def _employee_ids(cls, value: dict[str, str]) -> dict[str, str]:
        employees = {}
        for key, employee in value.items():
            employee_id = _internal_id(employee)
            if employee_id is None:
                raise ValueError(f"people.overrides[{key!r}] = {employee!r} is not a NetSuite internal id")
            employees[key] = employee_id
        _distinct_keys(value, _user_key, "people.overrides", "an e-mail's case and surrounding spaces are ignored")
        return {_user_key(key): employee for key, employee in employees.items()}

    @model_validator(mode="after")
    def _overrides_used(self) -> PeopleSettings:
        if self.overrides and "override" not in self.match:
            raise ValueError(
                'people.overrides is set but people.match leaves out "override", so every override would be '
                'ignored: add "override" to people.match (first, to win over the other rules) or remove the overrides'
            )
        return self


class Classification(Strict):
    """Defaults for the classifications NetSuite may require on exported records (internal ids)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)

    subsidiary: InternalId | None = None
    department: InternalId | None = None
    class_: InternalId | None = Field(default=None, alias="class")
    location: InternalId | None = None

    def refs(self) -> dict[str, dict[str, str]]:
        values = {
            "subsidiary": self.subsidiary,
            "department": self.department,
            "class": self.class_,
            "location": self.location,
        }
        return {name: {"id": value} for name, value in values.items() if value}


class AccountingSettings(Strict):
    on_closed_period: Literal["fail", "next_open_period"] = Field(
        default="fail",
        description="an exported record dated in a closed period: fail and report it, or post it to the next open "
        "period (saying so in its memo and the report); records already in a closed period are never changed",
    )
    tasks_not_from_netsuite: Literal["fail", "project_only"] = Field(
        default="fail",
        description="time or an expense on a ClickTime task that stands for no NetSuite project task (made in "
        "ClickTime, not by the tasks sync), or for one of another project than the entry's job: fail the sheet until "
        "the task is linked (or the entry moved), or post it to its project without a task and the default service "
        "item (saying so in the run's notes)",
    )


class TimeExportSettings(Strict):
    lookback_days: int = Field(
        default=42, ge=7, le=366, description="timesheet periods read each night (approvals arrive late)"
    )
    late_approval_days: int = Field(
        default=120,
        ge=7,
        le=366,
        description="timesheets this many days old are listed each night as well, so one approved (or corrected "
        "and approved again, or un-approved) after it left lookback_days is still exported (or withdrawn); only "
        "approvals since the last run become work",
    )
    service_item_id: InternalId | None = Field(
        default=None, description="the service item of time whose project task names none (NetSuite internal id)"
    )
    rate: Literal["price_level", "clicktime_billing_rate"] = Field(
        default="price_level",
        description="leave the rate to NetSuite's price level, or send ClickTime's billing rate (locked)",
    )
    on_unapproved: Literal["delete", "flag"] = Field(
        default="delete", description="the time bills of a timesheet no longer approved: delete them, or flag them"
    )
    jobs_not_from_netsuite: Literal["skip", "fail"] = Field(
        default="skip", description="time on a ClickTime job with no NetSuite project: skip it (one note per job)"
    )
    max_hours_per_day: int = Field(default=24, ge=1, le=24)
    write_concurrency: int = Field(
        default=2,
        ge=1,
        le=10,  # the connections the NetSuite client's session keeps per host
        description="NetSuite requests a time worker has in flight at once (bill writes, and its reads beside them): "
        "times TimeWorkerMaxConcurrency, the share of the account's NetSuite concurrency limit (5, more with "
        "SuiteCloud Plus) the time sync may use (2 x 2 = 4 of 5)",
    )
    sheets_at_once: int = Field(
        default=3,  # measured (make bench, 2 x 2 and 5 x 1): 1 -> 2 -> 3 gains, 4 no more
        ge=1,
        le=10,  # a batch holds at most ten messages
        description="timesheets of a batch a time worker has in progress at once: while one's bills are written the "
        "next is read and planned; their NetSuite requests share the worker's time.write_concurrency, so the share "
        "stays TimeWorkerMaxConcurrency x time.write_concurrency",
    )
    classification: Classification = Classification()


RECEIPT_LIMIT_BYTES = 10 * 1024 * 1024  # NetSuite's File Cabinet takes at most 10 MB per file (every path found)


class ReceiptSettings(Strict):
    """How receipts go to NetSuite: a separate step after the report, retried on its own (never blocking it)."""

    enabled: bool = True
    link: Literal["line", "attach", "both"] = Field(
        default="line",
        description="line: the expense line's expmediaitem (and its Receipt box), in the report's own write; "
        "attach: !attach/file on the report, one call per file; both. Each is UNVERIFIED over REST: try it on a "
        "sandbox (research notes §4, exports addendum §7 U4)",
    )
    folder_name: str = Field(
        default="ClickTime receipts",
        min_length=1,
        max_length=100,
        description="the integration's File Cabinet folder (found or created by its external ID ctns-receipts)",
    )
    folder_parent: str | None = Field(
        default=None, description="internal id of the folder it lives in; none: a top-level folder"
    )
    max_bytes: int = Field(
        default=RECEIPT_LIMIT_BYTES,
        ge=1024,
        le=RECEIPT_LIMIT_BYTES,
        description="a larger receipt is not stored (reported with its size): NetSuite refuses files over 10 MB",
    )
    retries: int = Field(
        default=3,
        ge=1,
        le=20,
        description="times a receipt that failed to download is tried again on its own before its message waits "
        "in the dead-letter queue for a person (and a redrive)",
    )
    retry_delay_seconds: int = Field(
        default=300,
        ge=0,
        le=900,
        description="wait before the first retry; doubled for each later one, at most 900 s (SQS's longest delay)",
    )

    @field_validator("folder_parent")
    @classmethod
    def _folder_id(cls, value: str | None) -> str | None:
        if value is None:
            return value
        # NetSuite's own folders have negative internal ids (SuiteScripts is -15)
        folder_id = _internal_id(value, negative=True)
        if folder_id is None:
            raise ValueError(f"receipts.folder_parent {value!r} is not a NetSuite internal id")
        return folder_id


ApprovalBox = Literal["complete", "supervisorapproval", "accountingapproval"]


class ExpenseExportSettings(Strict):
    lookback_days: int = Field(
        default=42, ge=7, le=366, description="expense sheets (by sheet date) read each night (approvals arrive late)"
    )
    late_approval_days: int = Field(
        default=120,
        ge=7,
        le=366,
        description="expense sheets this many days old (by sheet date) are listed each night as well, so one "
        "approved (or rejected) after it left lookback_days is still exported (or withdrawn); only approvals since "
        "the last run become work",
    )
    tran_date: Literal["sheet", "approval"] = Field(
        default="sheet",
        description="the report's date: the expense sheet's date, or the day it was approved (in netsuite.timezone)",
    )
    on_unapproved: Literal["delete", "flag"] = Field(
        default="delete", description="the report of a sheet no longer approved: delete it, or flag it"
    )
    categories: dict[str, str] = Field(
        default_factory=dict,
        description="ClickTime expense type ID or name -> NetSuite expense category internal id; decides before the "
        "type's AccountingPackageID and before a category of the same name",
    )
    exchange_rates: Literal["netsuite", "fail"] = Field(
        default="netsuite",
        description="an item whose currency ClickTime gives no rate for into the report's currency (a USD item on a "
        "EUR employee's report): use NetSuite's Currency Exchange Rates on the expense date, or block the sheet",
    )
    approval: dict[ApprovalBox, bool] = Field(
        default_factory=dict,
        description="approval boxes to set on the report, e.g. {'supervisorapproval': true}; none by default: their "
        "effect depends on the account's approval routing (UNVERIFIED, exports addendum §7 U3)",
    )
    classification: Classification = Classification()
    receipts: ReceiptSettings = ReceiptSettings()

    @field_validator("categories")
    @classmethod
    def _category_ids(cls, value: dict[str, str]) -> dict[str, str]:
        category_ids = {}
        for key, category in value.items():
            category_id = _internal_id(category)
            if category_id is None:
                raise ValueError(f"expenses.categories[{key!r}] = {category!r} is not a NetSuite internal id")
            category_ids[key] = category_id
        # A key is a type's ID or its name; names are matched case-insensitively (expense_lines.resolve_category)
        _distinct_keys(
            value, lambda key: key.strip().lower(), "expenses.categories", "case and surrounding spaces are ignored"
        )
        return {key.strip(): category for key, category in category_ids.items()}


class SyncConfig(Strict):
    netsuite: NetSuiteSettings
    clicktime: ClickTimeSettings = ClickTimeSettings()
    projects: ProjectSyncSettings = ProjectSyncSettings()
    tasks: TaskSyncSettings = TaskSyncSettings()
    people: PeopleSettings = PeopleSettings()
    accounting: AccountingSettings = AccountingSettings()
    time: TimeExportSettings = TimeExportSettings()
    expenses: ExpenseExportSettings = ExpenseExportSettings()
    windows: Windows = Windows()
    retry: RetrySettings = RetrySettings()
