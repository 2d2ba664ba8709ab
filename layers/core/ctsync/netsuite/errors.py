"""NetSuite's error bodies turned into typed exceptions that say whether a retry can help.

Logic keys on `status` and `o:errorCode`, never on `type` (its URL has changed across releases). Each error
carries a cause key (see `ctsync.errors`): what a person must fix, not which record failed.
"""

from __future__ import annotations

import json
import re
from typing import Any

import requests

from ctsync.errors import NeedsAttention, TransientError, cause_part

# NetSuite's own words for a closed or locked posting period (seen on transaction exports; research notes
# exports-addendum §1.4). UNVERIFIED for time bills; the text is matched case-insensitively.
CLOSED_PERIOD = re.compile(
    r"not within the date range of your accounting period|period is closed|period is locked", re.I
)
# UNVERIFIED texts for a billed or posted time bill and a paid expense report (exports-addendum §7 U2).
ALREADY_BILLED = re.compile(r"already been billed|has been billed|posted time|already posted", re.I)
ALREADY_PAID = re.compile(r"has been paid|paid in full|already paid", re.I)
# SuiteQL's answer for a table the role may not see (it names the table as if it did not exist).
TABLE_NOT_VISIBLE = re.compile(r"Record '([A-Za-z_]+)' was not found", re.I)
# "Field 'x' for record 'job' was not found": a column that does not exist (a misspelt setting such as
# projects.scope), not a table the role cannot see, though the same words end it.
FIELD_NOT_FOUND = re.compile(r"Field '([A-Za-z0-9_]+)' for record '([A-Za-z0-9_]+)' was not found", re.I)
# The permission a role needs to see a SuiteQL table, where it is not the record type's own.
TABLE_PERMISSIONS = {"deletedrecord": "Lists > Deleted Records (View)"}


class NetSuiteError(NeedsAttention):
    """A NetSuite answer that a retry will not change: validation, permission, missing record."""

    def __init__(
        self, status: int, code: str, detail: str, *, path: str | None = None, cause: str | None = None
    ) -> None:
        where = f" at {path}" if path else ""
        code = code or f"HTTP_{status}"
        super().__init__(
            f"NetSuite {status} {code}: {detail}{where}",
            code=code,
            cause=cause or f"netsuite-{cause_part(code)}:{cause_part(path or '-')}",
        )
        self.status = status
        self.detail = detail
        self.path = path


class NetSuiteNotFound(NetSuiteError):
    pass


class NetSuiteValidationError(NetSuiteError):
    pass


class NetSuitePeriodClosed(NetSuiteValidationError):
    """The posting period of the transaction's date is closed or locked."""

    fix = "reopen the period in NetSuite (Setup > Accounting > Manage Accounting Periods) or set on_closed_period"


class NetSuiteAlreadyBilled(NetSuiteValidationError):
    """A time bill NetSuite has billed or posted, or an expense report it has paid: never changed by the sync."""


class NetSuitePermissionError(NetSuiteError):
    """The integration role lacks a permission: every record of the sync meets it."""

    systemic = True
    fix = "grant the integration role the permission NetSuite names (Setup > Users/Roles > Manage Roles)"


class NetSuiteAuthError(NetSuiteError):
    """INVALID_LOGIN that kept coming after fresh signatures: most often a token revoked or rotated in NetSuite (a
    sandbox refresh deletes the sandbox's tokens) or a wrong one in the secret; else the realm, the role or the clock.

    `secret_name`: the Secrets Manager secret the credentials were read from, as the function is configured with it
    (NETSUITE_SECRET_ID): named in the reason and the fix so a person knows which secret to correct. Never its value.
    """

    systemic = True

    def __init__(
        self, status: int, code: str, detail: str, *, path: str | None = None, secret_name: str | None = None
    ) -> None:
        super().__init__(status, code, detail, path=path, cause="netsuite-login")
        secret = f"the NetSuite secret {secret_name}" if secret_name else "the NetSuite secret"
        self.message += (
            f" (the token in {secret} is refused: revoked, rotated or deleted in NetSuite, or wrong in the secret;"
            " else check the account ID's case, the token's role permissions and the Login Audit Trail in NetSuite)"
        )
        self.fix = (
            "create a new access token for the integration's user and role in NetSuite (Setup > Users/Roles > Access"
            " Tokens > New; a sandbox refresh deletes the sandbox's tokens), put its token ID and token secret (and the"
            f" integration's consumer key and secret, if they changed) into {secret} in Secrets Manager, then run"
            " `ctns redrive` (the functions read the secret again within five minutes)"
        )


class NetSuiteTransientError(TransientError):
    """429, 5xx, or a 401 that may be load: worth another signed attempt later."""

    def __init__(self, status: int, code: str, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(
            f"NetSuite {status} {code}: {detail}",
            code=code or f"HTTP_{status}",
            retry_after=retry_after,
            cause=f"netsuite-unavailable:{status}",
            throttled=status in (401, 429),
        )
        self.status = status


def parse_error_body(response: requests.Response) -> tuple[str, str, str | None]:
    """(o:errorCode, detail, o:errorPath) of the first error detail, tolerating bodies that are not JSON."""
    try:
        body: Any = response.json()
    except (ValueError, json.JSONDecodeError):
        return "", (response.text or response.reason or "")[:500], None
    details = body.get("o:errorDetails") or [] if isinstance(body, dict) else []
    first = details[0] if details and isinstance(details[0], dict) else {}
    code = first.get("o:errorCode", "")
    detail = first.get("detail") or (body.get("title") if isinstance(body, dict) else "") or ""
    return code, detail, first.get("o:errorPath")


def retry_after_seconds(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_for(response: requests.Response) -> Exception:
    """The typed error of a NetSuite answer >= 400.

    A 401 comes back as transient: NetSuite answers INVALID_LOGIN when the account's concurrency limit is full
    (other integrations share it), so the client tries again, signed afresh, a bounded number of times before it
    believes the credentials are wrong (see NetSuiteClient).
    """
    status = response.status_code
    code, detail, path = parse_error_body(response)
    if status == 429 or status >= 500:
        return NetSuiteTransientError(status, code, detail, retry_after=retry_after_seconds(response))
    if status == 401:
        return NetSuiteTransientError(status, code or "INVALID_LOGIN", detail)
    if status == 403:
        return NetSuitePermissionError(
            status, code, detail, path=path, cause=f"netsuite-permission:{cause_part(path or code or '-')}"
        )
    if status == 404:
        return NetSuiteNotFound(status, code, detail, path=path)
    unknown = FIELD_NOT_FOUND.search(detail)
    if unknown:
        field, table = unknown.group(1), unknown.group(2).lower()
        # The operator's SuiteQL: the project scope (over `job j`) and the custom fields the config names (where the
        # ClickTime IDs are written back); any other column is the product's own query
        if field.lower().startswith(("custentity", "custevent", "custbody", "custcol", "custrecord")):
            why = "a custom field the config names (projects.clicktime_id_field, tasks.clicktime_id_field) is not there"
            fix = f"create the custom field {field} on {table} in NetSuite (docs/deploy.md), or name the one you have"
        elif table == "job":
            why, fix = "projects.scope names a column NetSuite does not have", f"correct {field} in projects.scope"
        else:
            why = "a query of this product reads a column this NetSuite account does not have (its edition or features)"
            fix = f"report it with the table and column ({table}.{field}): no setting of yours names it"
        error = NetSuiteValidationError(
            status,
            code,
            f"{detail} (the {table} table has no column {field}: {why})",
            path=path,
            cause=f"netsuite-unknown-column:{cause_part(table)}.{cause_part(field)}",
        )
        error.fix = fix
        return error
    hidden = TABLE_NOT_VISIBLE.search(detail)
    if hidden:
        table = hidden.group(1).lower()
        permission = TABLE_PERMISSIONS.get(table, f"the permission to view {table} records")
        return NetSuitePermissionError(
            status,
            code,
            f"{detail} (the integration role cannot see the {table} table: grant it {permission})",
            path=path,
            cause=f"netsuite-permission:{table}",
        )
    if CLOSED_PERIOD.search(detail):
        return NetSuitePeriodClosed(status, code, detail, path=path, cause="period-closed")
    if ALREADY_BILLED.search(detail) or ALREADY_PAID.search(detail):
        return NetSuiteAlreadyBilled(status, code, detail, path=path, cause="netsuite-already-billed")
    return NetSuiteValidationError(status, code, detail, path=path)


def auth_error(response: requests.Response, *, secret_name: str | None = None) -> NetSuiteAuthError:
    status = response.status_code
    code, detail, path = parse_error_body(response)
    return NetSuiteAuthError(status, code or "INVALID_LOGIN", detail, path=path, secret_name=secret_name)
