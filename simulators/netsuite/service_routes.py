"""SuiteQL (with NetSuite's paging rules), serverTime and tokeninfo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulators.common.server import Request, Response
from simulators.netsuite import jsonio
from simulators.netsuite.errors import bad_request
from simulators.netsuite.writes import iso_instant

if TYPE_CHECKING:
    from simulators.netsuite.app import NetSuiteSimulator

SUITEQL_PATH = "/services/rest/query/v1/suiteql"
MAX_LIMIT = 1000


def register(app: NetSuiteSimulator) -> None:
    @app.route("POST", SUITEQL_PATH)
    def suiteql(request: Request) -> Response:
        if "transient" not in request.header("Prefer").lower():
            # UNVERIFIED: whether NetSuite refuses a SuiteQL POST without `Prefer: transient`; the docs require
            # the header, so the simulator does.
            raise bad_request(
                "SuiteQL requests must carry the header 'Prefer: transient'.", "INVALID_PARAMETER", query_param="Prefer"
            )
        limit, offset = _paging(request, app.row_ceiling)
        query = _query_text(request)
        rows = app.query(query)
        total = len(rows)
        end = min(offset + limit, app.row_ceiling)
        page = rows[offset:end]
        has_more = offset + len(page) < min(total, app.row_ceiling)
        href = f"http://{request.host}{SUITEQL_PATH}"
        links = [{"rel": "self", "href": f"{href}?limit={limit}&offset={offset}"}]
        if has_more:
            links.append({"rel": "next", "href": f"{href}?limit={limit}&offset={offset + limit}"})
        body = {
            "links": links,
            "count": len(page),
            "hasMore": has_more,
            "items": page,
            "offset": offset,
            "totalResults": total,
        }
        return Response(200, jsonio.dumps(body), content_type="application/vnd.oracle.resource+json; type=collection")

    @app.route("GET", "/services/rest/system/v1/serverTime")
    def server_time(request: Request) -> Response:
        return Response(200, jsonio.dumps({"serverTime": iso_instant(app.clock())}))

    @app.route("GET", "/rest/tokeninfo")
    def token_info(request: Request) -> Response:
        # UNVERIFIED shape: taken from what jacobsvante/netsuite reads out of it (company, account, role, user).
        body = {
            "companyName": app.company_name,
            "accountId": app.account_id,
            "roleName": "ClickTime Integration",
            "roleId": "1031",
            "entityName": "ClickTime Integration User",
        }
        return Response(200, jsonio.dumps(body))


def _paging(request: Request, row_ceiling: int) -> tuple[int, int]:
    limit = _integer(request, "limit", MAX_LIMIT)
    offset = _integer(request, "offset", 0)
    # UNVERIFIED wording of the three refusals below; the rules themselves are documented (research notes §3.1).
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request(
            f"Invalid 'limit' value {limit}: it must be between 1 and {MAX_LIMIT}.",
            "INVALID_PARAMETER",
            query_param="limit",
        )
    if offset % limit:
        raise bad_request(
            f"Invalid 'offset' value {offset}: it must be a multiple of the limit ({limit}).",
            "INVALID_PARAMETER",
            query_param="offset",
        )
    if offset >= row_ceiling:
        raise bad_request(
            f"Invalid 'offset' value {offset}: a SuiteQL query returns at most {row_ceiling} "
            f"results; page by key (WHERE id > last ORDER BY id) instead.",
            "INVALID_PARAMETER",
            query_param="offset",
        )
    return limit, offset


def _integer(request: Request, name: str, default: int) -> int:
    values = request.query.get(name)
    if not values:
        return default
    text = values[-1].strip()
    if not text.isdigit():
        raise bad_request(
            f"Invalid '{name}' value {text!r}: it must be a non-negative integer.",
            "INVALID_PARAMETER",
            query_param=name,
        )
    return int(text)


def _query_text(request: Request) -> str:
    try:
        body: Any = jsonio.loads(request.body) if request.body else None
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("q"), str) or not body["q"].strip():
        raise bad_request('The SuiteQL request body must be {"q": "<query>"}.', "INVALID_PARAMETER")
    return body["q"]
