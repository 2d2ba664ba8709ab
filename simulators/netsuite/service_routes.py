"""SuiteQL (with NetSuite's paging rules), serverTime and tokeninfo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulators.common.server import Request, Response
from simulators.netsuite import jsonio
from simulators.netsuite.errors import bad_request
from simulators.netsuite.paging import collection, page_links, paging
from simulators.netsuite.writes import iso_instant

if TYPE_CHECKING:
    from simulators.netsuite.app import NetSuiteSimulator

SUITEQL_PATH = "/services/rest/query/v1/suiteql"


def register(app: NetSuiteSimulator) -> None:
    @app.route("POST", SUITEQL_PATH)
    def suiteql(request: Request) -> Response:
        if "transient" not in request.header("Prefer").lower():
            # UNVERIFIED: whether NetSuite refuses a SuiteQL POST without `Prefer: transient`; the docs require
            # the header, so the simulator does.
            raise bad_request(
                "SuiteQL requests must carry the header 'Prefer: transient'.", "INVALID_PARAMETER", query_param="Prefer"
            )
        limit, offset = paging(request, app.row_ceiling)
        query = _query_text(request)
        end = min(offset + limit, app.row_ceiling)
        page, total = app.query_page(query, offset, max(end, offset))
        reachable = min(total, app.row_ceiling)
        has_more = offset + len(page) < reachable
        href = f"http://{request.host}{SUITEQL_PATH}"
        links = page_links(href, [], limit=limit, offset=offset, reachable=reachable, has_more=has_more)
        body = collection(page, links, offset=offset, total=total, has_more=has_more)
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


def _query_text(request: Request) -> str:
    try:
        body: Any = jsonio.loads(request.body) if request.body else None
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("q"), str) or not body["q"].strip():
        raise bad_request('The SuiteQL request body must be {"q": "<query>"}.', "INVALID_PARAMETER")
    return body["q"]
