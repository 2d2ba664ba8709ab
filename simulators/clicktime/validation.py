"""Checks on what a client sends: query names and values, body keys, types and enum values.

Everything refused here is a 400 naming the offending field. Where the real API's tolerance is unknown the
simulator refuses (see the UNVERIFIED notes): a client that passes here sends only what the spec describes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from simulators.clicktime.schema import Endpoint, normalize, schema
from simulators.common.server import HttpError

# Request flags the spec's doc comments mention but its URL templates do not list. `verbose` is how public
# clients send it; `Verbose` is the spelling of the doc comments. UNVERIFIED: both accepted, nothing else.
VERBOSE_FLAGS = ("verbose", "Verbose")
LEGACY_FLAG = "CTLegacyScramble"
PAGING = ("limit", "offset")

DATE_PARAMS = {
    "FromDate",
    "ToDate",
    "StartDate",
    "EndDate",
    "EntryDate",
    "ExpenseDate",
    "FromExpenseSheetDate",
    "ToExpenseSheetDate",
    "FromExpenseDate",
    "ToExpenseDate",
}
DATE_FIELDS = {"StartDate", "EndDate", "Date", "ExpenseDate", "ExpenseSheetDate", "LockDate"}
TIME_FIELDS = {"StartTime", "EndTime"}

# Filters whose values must be enum values, exactly (Timesheet statuses are PascalCase, expense sheet
# statuses lower-case). UNVERIFIED: that Reports/Time's TimesheetStatus takes the Timesheet Status values.
ENUM_FILTERS = {
    ("/timesheets", "Status"): "TimesheetStatus",
    ("/reports/time", "TimesheetStatus"): "TimesheetStatus",
    ("/expensesheets", "Status"): "ExpenseSheetStatus",
    ("/expenseitems", "ExpenseSheetStatus"): "ExpenseItemExpenseSheetStatus",
    ("/users", "SecurityLevel"): "UserSecurityLevel",
}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


# Properties a create cannot do without. UNVERIFIED: the spec marks nothing as required; these follow the
# doc hints and public clients (Pipedream's create-job sends Name, JobNumber and ClientID).
REQUIRED = {
    "Post.JobModel_Root": ("Name", "JobNumber", "ClientID"),
    "Post.TaskModel_Root": ("Name",),
    "Post.ClientModel_Root": ("Name",),
    "Post.TaskAssociationModel_Root": ("TaskID",),
    "Post.TimesheetActionModel_Root": ("Action",),
    "Post.ExpenseSheetActionModel_Root": ("Action",),
}


def bad_request(message: str, field: str = "") -> HttpError:
    return HttpError(400, message, field_name=field)


@dataclass
class Query:
    filters: dict[str, list[Any]]  # typed values by filter name; paging and flags taken out
    verbose: bool
    legacy: bool
    limit: int
    offset: int


def parse_query(
    endpoint: Endpoint, method: str, raw: dict[str, list[str]], *, default_limit: int, max_limit: int
) -> Query:
    # The template's query names are filters of the GET; a write takes the request flags only.
    params = endpoint.params(method) if method == "GET" else {}
    allowed = set(params) | set(VERBOSE_FLAGS) | {LEGACY_FLAG}
    if method == "GET" and endpoint.is_paged:
        # UNVERIFIED: some paged endpoints (e.g. /Timesheets/{id}/TimeEntries) do not list limit/offset in
        # their URL template, yet answer with a page object; the simulator accepts paging on every one of them.
        allowed |= set(PAGING)
    for name in raw:
        if name not in allowed:
            raise bad_request(f"'{name}' is not a valid query parameter for {endpoint.path}", name)
    verbose = _flag(raw, VERBOSE_FLAGS)
    legacy = _flag(raw, (LEGACY_FLAG,))
    limit = _integer(raw, "limit", default_limit)
    offset = _integer(raw, "offset", 0)
    if not 1 <= limit <= max_limit:
        raise bad_request(f"limit must be between 1 and {max_limit}", "limit")
    if offset < 0:
        raise bad_request("offset must not be negative", "offset")
    filters: dict[str, list[Any]] = {}
    for name, values in raw.items():
        if name in PAGING or name in VERBOSE_FLAGS or name == LEGACY_FLAG:
            continue
        param = params[name]
        if len(values) > 1 and not param.multi:
            raise bad_request(f"'{name}' takes a single value", name)
        enum = ENUM_FILTERS.get((normalize(endpoint.path), name))
        filters[name] = [_query_value(name, param.type, v, enum) for v in values]
    return Query(filters, verbose, legacy, limit, offset)


def _flag(raw: dict[str, list[str]], names: tuple[str, ...]) -> bool:
    value = False
    for name in names:
        for v in raw.get(name, []):
            value = _boolean(name, v)
    return value


def _boolean(name: str, value: str) -> bool:
    # UNVERIFIED: only the lower-case words; "True", "1" or "yes" are refused rather than guessed at.
    if value not in {"true", "false"}:
        raise bad_request(f"'{name}' must be true or false", name)
    return value == "true"


def _integer(raw: dict[str, list[str]], name: str, default: int) -> int:
    values = raw.get(name)
    if not values:
        return default
    if len(values) > 1 or not re.fullmatch(r"\d+", values[0]):
        raise bad_request(f"'{name}' must be a non-negative integer", name)
    return int(values[0])


def _query_value(name: str, kind: str, value: str, enum: str | None) -> Any:
    if kind == "boolean":
        return _boolean(name, value)
    if kind == "number":
        return _decimal(name, value)
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", value):
            raise bad_request(f"'{name}' must be an integer", name)
        return int(value)
    if name in DATE_PARAMS:
        return _date(name, value)
    if enum and value not in schema().enum(enum):
        raise bad_request(f"'{value}' is not a valid value for {name}", name)
    return value


def _date(name: str, value: str) -> date:
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise bad_request(f"'{name}' must be a date as YYYY-MM-DD", name) from None


def _decimal(name: str, value: Any) -> Decimal:
    try:
        number = Decimal(value)  # str, int or Decimal: exact in every case
    except (InvalidOperation, TypeError, ValueError):
        raise bad_request(f"'{name}' must be a number", name) from None
    if not number.is_finite():
        raise bad_request(f"'{name}' must be a number", name)
    return number


# -- bodies --------------------------------------------------------------------------------------------


def parse_json(body: bytes) -> Any:
    """JSON with every non-integer number as a Decimal: money and hours never pass through float."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    try:
        return json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=refuse)
    except (UnicodeDecodeError, ValueError):
        raise bad_request("The request body is not valid JSON") from None


def check_body(
    payload: Any, fields: dict[str, dict[str, Any]], *, what: str, required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The body's values, converted (numbers to Decimal, "" dates to None), or a 400 naming the field."""
    if not isinstance(payload, dict):
        raise bad_request(f"The body of {what} must be a JSON object")
    out: dict[str, Any] = {}
    for name, value in payload.items():
        spec = fields.get(name)
        if spec is None:
            # UNVERIFIED: whether ClickTime ignores unknown properties; refusing them is the strict choice.
            raise bad_request(f"'{name}' is not a valid property for {what}", name)
        out[name] = _field_value(name, spec, value)
    for name in required:
        if out.get(name) in (None, ""):
            raise bad_request(f"'{name}' is required for {what}", name)
    return out


def _field_value(name: str, spec: dict[str, Any], value: Any) -> Any:
    kind = spec.get("type", "string")
    if value is None:
        # UNVERIFIED: whether null clears a field; the simulator asks clients to leave the key out instead.
        raise bad_request(f"'{name}' must not be null", name)
    if kind == "string":
        if not isinstance(value, str):
            raise bad_request(f"'{name}' must be a string", name)
        if spec.get("enum") and value not in schema().enum(spec["enum"]):
            raise bad_request(f"'{value}' is not a valid value for {name}", name)
        if name in DATE_FIELDS and value != "":
            _date(name, value)
        if name in TIME_FIELDS and not _TIME.match(value):
            raise bad_request(f"'{name}' must be a time as HH:MM", name)
        # UNVERIFIED: an empty date string clears the date (null is refused above).
        return None if name in DATE_FIELDS and value == "" else value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise bad_request(f"'{name}' must be true or false", name)
        return value
    if kind == "number":
        # JSON numbers and numeric strings are both accepted: the API itself has sent decimals either way.
        if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
            raise bad_request(f"'{name}' must be a number", name)
        return _decimal(name, value)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise bad_request(f"'{name}' must be an integer", name)
        return value
    if kind == "object":
        if not isinstance(value, dict):
            raise bad_request(f"'{name}' must be an object", name)
        return value
    if kind == "array":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad_request(f"'{name}' must be a list of strings", name)
        return value
    raise bad_request(f"'{name}' has a type the simulator does not accept", name)
