"""HTTP answers turned into typed errors that say whether a retry can help (NetSuite and ClickTime)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from ctsync.clicktime import errors as ct
from ctsync.errors import ConfigurationError, NeedsAttention, TransientError
from ctsync.netsuite import errors as ns


def response(
    status: int, body: Any = None, *, headers: dict[str, str] | None = None, reason: str | None = None
) -> requests.Response:
    r = requests.models.Response()
    r.status_code = status
    if body is None:
        r._content = b""
    elif isinstance(body, bytes):
        r._content = body
    elif isinstance(body, str):
        r._content = body.encode("utf-8")
    else:
        r._content = json.dumps(body).encode("utf-8")
    r.encoding = "utf-8"
    r.headers.update(headers or {})
    r.reason = reason  # type: ignore[assignment]
    r.url = "https://1234567.suitetalk.api.netsuite.com/services/rest/record/v1/job/42"
    return r


def netsuite_body(code: str, detail: str, *, path: str | None = None, title: str = "Error") -> dict[str, Any]:
    error: dict[str, Any] = {"detail": detail, "o:errorCode": code}
    if path:
        error["o:errorPath"] = path
    return {
        "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.1",
        "title": title,
        "status": 400,
        "o:errorDetails": [error],
    }


# -- NetSuite -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_throttling_and_server_errors_are_transient_with_retry_after(status: int) -> None:
    error = ns.error_for(
        response(status, netsuite_body("CONCURRENCY_LIMIT_EXCEEDED", "Too many requests"), headers={"Retry-After": "7"})
    )
    assert isinstance(error, ns.NetSuiteTransientError)
    assert isinstance(error, TransientError) and not isinstance(error, NeedsAttention)
    assert error.retryable
    assert error.status == status
    assert error.retry_after == 7.0
    assert error.code == "CONCURRENCY_LIMIT_EXCEEDED"
    assert "Too many requests" in error.message
    assert str(status) in error.message


@pytest.mark.parametrize(("status", "throttled"), [(429, True), (401, True), (500, False), (503, False), (504, False)])
def test_a_refusal_for_load_is_throttled_and_a_server_error_is_not(status: int, throttled: bool) -> None:
    # A 429, or NetSuite's INVALID_LOGIN under a full concurrency limit, was refused before it ran; a 5xx may have
    # run (or may be this record's fault), so only the refusals are marked
    error = ns.error_for(response(status, netsuite_body("", "busy")))
    assert isinstance(error, TransientError) and error.throttled is throttled


@pytest.mark.parametrize(("status", "throttled"), [(429, True), (500, False), (503, False)])
def test_clicktime_throttling_is_marked_and_its_server_errors_are_not(status: int, throttled: bool) -> None:
    error = ct.error_for(status, [{"Message": "busy"}], None)
    assert isinstance(error, TransientError) and error.throttled is throttled


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("0", 0.0), ("2.5", 2.5), ("-3", 0.0), ("Wed, 21 Oct 2026 07:28:00 GMT", None), ("soon", None)],
)
def test_retry_after_header_forms(header: str | None, expected: float | None) -> None:
    headers = {"Retry-After": header} if header is not None else {}
    error = ns.error_for(response(429, netsuite_body("", "slow down"), headers=headers))
    assert isinstance(error, ns.NetSuiteTransientError)
    assert error.retry_after == expected


def test_transient_error_without_code_gets_an_http_code() -> None:
    error = ns.error_for(response(503, "", reason="Service Unavailable"))
    assert isinstance(error, ns.NetSuiteTransientError)
    assert error.code == "HTTP_503"
    assert "Service Unavailable" in error.message


def test_a_401_is_transient_first_since_netsuite_answers_load_with_invalid_login() -> None:
    error = ns.error_for(response(401, netsuite_body("INVALID_LOGIN", "Invalid login attempt.")))
    assert isinstance(error, ns.NetSuiteTransientError)
    assert not isinstance(error, NeedsAttention)
    assert error.code == "INVALID_LOGIN"
    assert error.status == 401


def test_a_401_believed_is_a_systemic_auth_error_with_a_hint() -> None:
    error = ns.auth_error(response(401, netsuite_body("INVALID_LOGIN", "Invalid login attempt.", title="Unauthorized")))
    assert isinstance(error, ns.NetSuiteAuthError)
    assert isinstance(error, NeedsAttention) and not isinstance(error, TransientError)
    assert error.code == "INVALID_LOGIN" and error.status == 401
    assert error.systemic and error.cause_key == "netsuite-login"
    assert "Invalid login attempt." in error.message
    assert "account ID's case" in error.message  # what to check


def test_a_401_believed_names_the_secret_and_a_fix_without_its_value() -> None:
    body = netsuite_body("INVALID_LOGIN", "Invalid login attempt.", title="Unauthorized")
    error = ns.auth_error(response(401, body), secret_name="ctsync/netsuite-prod")
    # The reason names the likely fault (a token revoked, rotated or wrong) and the secret that holds it, by name
    assert "revoked" in error.message and "rotated" in error.message
    assert "ctsync/netsuite-prod" in error.message
    assert "account ID's case" in error.message and "Login Audit Trail" in error.message  # what else to check
    # The cause's fix says what to do: a new token for the integration role, put into that secret
    assert "ctsync/netsuite-prod" in error.fix and "Secrets Manager" in error.fix
    assert "token" in error.fix and "sandbox refresh" in error.fix
    # Without a name (a caller that read the credentials elsewhere), the fix still says which secret
    unnamed = ns.auth_error(response(401, body))
    assert "NetSuite secret" in unnamed.fix and "NetSuite secret" in unnamed.message


def test_401_without_a_code_is_still_invalid_login() -> None:
    assert ns.auth_error(response(401, "")).code == "INVALID_LOGIN"


@pytest.mark.parametrize(
    ("detail", "cls", "cause"),
    [
        (
            "The transaction date you specified is not within the date range of your accounting period.",
            ns.NetSuitePeriodClosed,
            "period-closed",
        ),
        (
            "This time entry has already been billed and cannot be modified.",
            ns.NetSuiteAlreadyBilled,
            "netsuite-already-billed",
        ),
        (
            "This expense report has been paid and cannot be modified.",
            ns.NetSuiteAlreadyBilled,
            "netsuite-already-billed",
        ),
    ],
)
def test_known_refusals_get_their_own_type_and_cause(detail: str, cls: type, cause: str) -> None:
    error = ns.error_for(response(400, netsuite_body("USER_ERROR", detail)))
    assert type(error) is cls and error.cause_key == cause and not error.systemic


def test_a_table_the_role_cannot_see_names_the_permission() -> None:
    detail = "Invalid search query. Detailed unprocessed description follows. Search error occurred: Record 'deletedrecord' was not found."
    error = ns.error_for(response(400, netsuite_body("INVALID_SEARCH", detail)))
    assert isinstance(error, ns.NetSuitePermissionError)
    assert error.cause_key == "netsuite-permission:deletedrecord"
    assert "Lists > Deleted Records" in error.message


def test_a_column_that_does_not_exist_is_not_taken_for_a_table_the_role_cannot_see() -> None:
    """Found by a new user's trial (2026-12-02): a misspelt column in projects.scope was reported as a missing
    permission on the job table (the same words end NetSuite's message)."""
    detail = (
        "Invalid search query. Detailed unprocessed description follows. Search error occurred: Field "
        "'nosuchcolumn' for record 'job' was not found."
    )
    error = ns.error_for(response(400, netsuite_body("INVALID_SEARCH", detail)))
    assert type(error) is ns.NetSuiteValidationError
    assert error.cause_key == "netsuite-unknown-column:job.nosuchcolumn"
    assert "has no column nosuchcolumn" in error.message and error.fix == "correct nosuchcolumn in projects.scope"


def test_an_unknown_column_of_the_products_own_query_is_not_blamed_on_projects_scope() -> None:
    """Found by the review of the fix above (2026-12-02): the time export reads timebill.isbilled and timebill.rate
    (their names unverified); no setting names a timebill column."""
    detail = (
        "Invalid search query. Detailed unprocessed description follows. Search error occurred: Field "
        "'isbilled' for record 'timebill' was not found."
    )
    error = ns.error_for(response(400, netsuite_body("INVALID_SEARCH", detail)))
    assert "projects.scope" not in f"{error.message} {error.fix}" and "timebill.isbilled" in error.fix


@pytest.mark.parametrize(
    ("status", "cls", "code", "detail", "path"),
    [
        (
            403,
            ns.NetSuitePermissionError,
            "INSUFFICIENT_PERMISSION",
            "Permission Violation: You need the 'Lists -> Projects' permission.",
            None,
        ),
        (
            404,
            ns.NetSuiteNotFound,
            "NONEXISTENT_ID",
            "The record instance does not exist. Provide a valid record instance ID.",
            None,
        ),
        (
            400,
            ns.NetSuiteValidationError,
            "USER_ERROR",
            "Invalid value for the resource or sub-resource field 'custentity_x'.",
            "custentity_x",
        ),
        (409, ns.NetSuiteValidationError, "", "Conflict", None),
        (422, ns.NetSuiteValidationError, "INVALID_VALUE", "bad", "items[0].quantity"),
    ],
)
def test_client_errors_are_typed_needs_attention_with_code_and_detail(
    status: int, cls: type, code: str, detail: str, path: str | None
) -> None:
    error = ns.error_for(response(status, netsuite_body(code, detail, path=path)))
    assert type(error) is cls
    assert isinstance(error, NeedsAttention) and not isinstance(error, TransientError)
    assert not error.retryable
    assert error.status == status
    assert error.detail == detail
    assert error.path == path
    assert error.code == (code or f"HTTP_{status}")
    assert detail in error.message
    if path:
        assert f"at {path}" in error.message


def test_only_the_first_error_detail_is_used() -> None:
    body = {
        "title": "Bad Request",
        "o:errorDetails": [
            {"detail": "first problem", "o:errorCode": "USER_ERROR"},
            {"detail": "second problem", "o:errorCode": "OTHER"},
        ],
    }
    error = ns.error_for(response(400, body))
    assert error.code == "USER_ERROR"
    assert error.detail == "first problem"


def test_title_is_used_when_there_are_no_details() -> None:
    error = ns.error_for(response(400, {"title": "Bad Request", "status": 400}))
    assert isinstance(error, ns.NetSuiteValidationError)
    assert error.detail == "Bad Request"
    assert error.code == "HTTP_400"


@pytest.mark.parametrize(
    ("status", "body", "reason", "expected"),
    [
        (
            502,
            b"<html><body>Bad Gateway from the load balancer</body></html>",
            "Bad Gateway",
            "Bad Gateway from the load balancer",
        ),
        (400, b"plain text failure", None, "plain text failure"),
        (404, b"", "Not Found", "Not Found"),
        (400, b"\xff\xfe not utf-8 \x00", "Bad Request", "not utf-8"),
    ],
)
def test_a_body_that_is_not_json_still_gives_a_readable_message(
    status: int, body: bytes, reason: str | None, expected: str
) -> None:
    error = ns.error_for(response(status, body, reason=reason))
    assert expected in error.message
    assert error.message.startswith(f"NetSuite {status}")


def test_a_huge_non_json_body_is_truncated() -> None:
    error = ns.error_for(response(500, "x" * 10_000))
    assert isinstance(error, ns.NetSuiteTransientError)
    assert len(error.message) < 700


@pytest.mark.parametrize(
    "body", [[1, 2], "just a string", 42, None, {"o:errorDetails": "not a list"}, {"o:errorDetails": ["text"]}]
)
def test_odd_json_bodies_do_not_crash_classification(body: Any) -> None:
    r = response(400, json.dumps(body).encode())
    error = ns.error_for(r)
    assert isinstance(error, ns.NetSuiteValidationError)
    assert error.message.startswith("NetSuite 400")


# -- ClickTime ----------------------------------------------------------------------------------------------


ERRORS = [{"Field": "Name", "Message": "is required", "MessageDetail": ["Name cannot be empty"]}]


@pytest.mark.parametrize(
    ("status", "cls", "needs_attention"),
    [
        (429, ct.ClickTimeTransientError, False),
        (500, ct.ClickTimeTransientError, False),
        (503, ct.ClickTimeTransientError, False),
        (401, ct.ClickTimeAuthError, True),
        (403, ct.ClickTimePermissionError, True),
        (404, ct.ClickTimeNotFound, True),
        (400, ct.ClickTimeValidationError, True),
        (409, ct.ClickTimeValidationError, True),
        (422, ct.ClickTimeValidationError, True),
    ],
)
def test_clicktime_status_table(status: int, cls: type, needs_attention: bool) -> None:
    error = ct.error_for(status, ERRORS, 3.0)
    assert type(error) is cls
    assert isinstance(error, NeedsAttention) is needs_attention
    assert isinstance(error, TransientError) is (not needs_attention)
    assert error.status == status
    assert "Name: is required (Name cannot be empty)" in error.message
    assert f"ClickTime {status}" in error.message


def test_clicktime_transient_keeps_retry_after() -> None:
    error = ct.error_for(429, None, 12.5)
    assert isinstance(error, ct.ClickTimeTransientError)
    assert error.retry_after == 12.5
    assert error.code == "CLICKTIME_429"


def test_clicktime_401_is_a_configuration_problem_naming_the_secret() -> None:
    error = ct.error_for(401, [{"Message": "Invalid token"}], None)
    assert isinstance(error, ConfigurationError)
    assert "Secrets Manager" in error.message
    assert "Invalid token" in error.message


def test_clicktime_client_error_codes() -> None:
    assert ct.error_for(404, None, None).code == "CLICKTIME_404"
    assert ct.error_for(400, None, None).code == "CLICKTIME_400"


@pytest.mark.parametrize(
    ("errors", "text"),
    [
        (None, "no error detail"),
        ([], "no error detail"),
        ([{"Message": "Something failed"}], "Something failed"),
        ([{"Field": "JobNumber", "Message": "must be unique"}], "JobNumber: must be unique"),
        (
            [{"Field": "Hours", "Message": "invalid", "MessageDetail": ["too many", "negative"]}],
            "Hours: invalid (too many; negative)",
        ),
        ([{"Field": "X"}], "X: error"),
        ([{}], "error"),
        ([{"Message": "m", "MessageDetail": []}], "m"),
        ([{"Message": "m", "MessageDetail": None}], "m"),
        ([{"Message": "a"}, {"Field": "F", "Message": "b", "MessageDetail": [1]}], "a; F: b (1)"),
    ],
)
def test_describe_formats_field_message_and_details(errors: list[dict[str, Any]] | None, text: str) -> None:
    assert ct.describe(errors) == text


def _unknown(field, table):
    detail = (
        "Invalid search query. Detailed unprocessed description follows. Search error occurred: Field "
        f"'{field}' for record '{table}' was not found."
    )
    return ns.error_for(response(400, netsuite_body("INVALID_SEARCH", detail)))


def test_a_missing_task_id_custom_field_names_the_setting_that_names_it():
    # tasks.clicktime_id_field (default custevent_ct_task_id) is read as t.<field> FROM projecttask t
    error = _unknown("custevent_ct_task_id", "projecttask")
    text = f"{error.message} {error.fix}"
    assert "no setting of yours names it" not in text and "clicktime_id_field" in text, text


def test_a_missing_project_id_custom_field_is_not_blamed_on_projects_scope():
    # projects.clicktime_id_field (default custentity_ct_job_id) is read as j.<field> FROM job j
    error = _unknown("custentity_ct_job_id", "job")
    assert error.fix != "correct custentity_ct_job_id in projects.scope", error.fix
