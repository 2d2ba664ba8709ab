"""NetSuite's error body, and the exception routes raise to produce one.

Every REST error is `{type, title, status, o:errorDetails: [{detail, o:errorCode, ...}]}`. Clients must key on
`status` + `o:errorCode` (the `type` URI has changed over the years), so the codes here matter more than the
wording; where the real code is not known the constant says so.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from simulators.common.server import HttpError, Response
from simulators.netsuite import jsonio

INVALID_LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)

# UNVERIFIED: the REST o:errorCode for a concurrency rejection is not documented (research notes §5.2);
# SOAP's fault is WS_REQUEST_BLOCKED / ExceededConcurrentRequestLimitFault, RESTlets say SSS_REQUEST_LIMIT_EXCEEDED.
CONCURRENCY_CODE = "CONCURRENCY_LIMIT_EXCEEDED"
CONCURRENCY_DETAIL = "Concurrent request limit exceeded. Request blocked."

# Fallback codes when a route (or the base server) raised without one.
_DEFAULT_CODES = {
    400: "INVALID_PARAMETER",
    401: "INVALID_LOGIN",
    403: "INSUFFICIENT_PERMISSION",
    404: "NONEXISTENT_ID",
    # UNVERIFIED: the code NetSuite gives an unsupported method on a known path.
    405: "INVALID_METHOD",
    429: CONCURRENCY_CODE,
}


def type_uri(status: int) -> str:
    """The RFC link NetSuite puts in `type` (RFC 9110 sections; 429 lives in RFC 6585)."""
    if status == 429:
        return "https://www.rfc-editor.org/rfc/rfc6585.html#section-4"
    sections = {
        400: "15.5.1",
        401: "15.5.2",
        403: "15.5.4",
        404: "15.5.5",
        405: "15.5.6",
        409: "15.5.10",
        500: "15.6.1",
        502: "15.6.3",
        503: "15.6.4",
        504: "15.6.5",
    }
    section = sections.get(status, "15.5.1" if status < 500 else "15.6.1")
    return f"https://www.rfc-editor.org/rfc/rfc9110.html#section-{section}"


def error_body(status: int, detail: str, code: str = "", **extra: str) -> dict[str, Any]:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    if status == 401:
        # Whatever went wrong, NetSuite says the same thing and points at the Login Audit Trail.
        detail, code = INVALID_LOGIN_DETAIL, "INVALID_LOGIN"
    elif status == 429 and code in ("", "TOO_MANY_REQUESTS"):
        detail, code = CONCURRENCY_DETAIL, CONCURRENCY_CODE
    item: dict[str, str] = {"detail": detail, "o:errorCode": code or _DEFAULT_CODES.get(status, "UNEXPECTED_ERROR")}
    item.update({f"o:{key}": value for key, value in extra.items() if value})
    return {"type": type_uri(status), "title": title, "status": status, "o:errorDetails": [item]}


def error_response(status: int, detail: str, code: str = "", **extra: str) -> Response:
    return Response(
        status,
        jsonio.dumps(error_body(status, detail, code, **extra)),
        content_type="application/vnd.oracle.resource+json; type=error",
    )


class NetSuiteError(HttpError):
    """An HttpError that can also say where in the request the problem is.

    path: JSON path into the body (`o:errorPath`); query_param: the query parameter (`o:errorQueryParam`);
    header: the request header (`o:errorHeader`).
    """

    def __init__(
        self, status: int, detail: str, code: str, *, path: str = "", query_param: str = "", header: str = ""
    ) -> None:
        super().__init__(status, detail, code, field_name=path)
        self.query_param = query_param
        self.header = header

    def response(self) -> Response:
        return error_response(
            self.status,
            self.message,
            self.code,
            errorPath=self.field_name,
            errorQueryParam=self.query_param,
            errorHeader=self.header,
        )


def bad_request(detail: str, code: str, *, path: str = "", query_param: str = "") -> NetSuiteError:
    return NetSuiteError(400, detail, code, path=path, query_param=query_param)


def invalid_value(field: str, value: object, why: str = "", *, path: str = "") -> NetSuiteError:
    """NetSuite's wording for a value it will not take (the pattern integrations regex-match)."""
    shown = value if isinstance(value, str) else jsonio.dumps(value).decode()
    detail = f"You have entered an Invalid Field Value {shown} for the following field: {field}"
    if why:
        detail += f". {why}"
    return bad_request(detail, "INVALID_FIELD_VALUE", path=path or field)
