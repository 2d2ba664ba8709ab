"""The record service: /services/rest/record/v1/{type}[/{id} | /eid:{externalId}].

POST creates (204 + Location), GET reads, PATCH updates (204), PUT upserts by external id (204 + Location),
DELETE deletes (204, and a deletedrecord row for SuiteQL).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulators.common.server import Request, Response
from simulators.netsuite import jsonio
from simulators.netsuite.errors import bad_request
from simulators.netsuite.render import render_record

if TYPE_CHECKING:
    from simulators.netsuite.app import NetSuiteSimulator

RECORD_BASE = "/services/rest/record/v1"


def register(app: NetSuiteSimulator) -> None:
    store = app.records

    @app.route("POST", RECORD_BASE + "/{type}")
    def create(request: Request) -> Response:
        rtype = request.params["type"]
        record_id = store.create(rtype, _body(request), strict_names=_strict(request))
        return _located(request, rtype, record_id)

    @app.route("GET", RECORD_BASE + "/{type}/{key}")
    def read(request: Request) -> Response:
        rtype, key = request.params["type"], request.params["key"]
        record = store.find(rtype, key)
        expand = _query(request, "expandSubResources").lower() == "true"
        body = render_record(app.schema.types[rtype], record, store, _origin(request) + RECORD_BASE, expand=expand)
        return Response(200, jsonio.dumps(body), content_type="application/vnd.oracle.resource+json; type=singular")

    @app.route("PATCH", RECORD_BASE + "/{type}/{key}")
    def patch(request: Request) -> Response:
        rtype, key = request.params["type"], request.params["key"]
        record_id = store.patch(
            rtype, key, _body(request), strict_names=_strict(request), replace=_replace(app, request, rtype)
        )
        return _located(request, rtype, record_id)

    @app.route("PUT", RECORD_BASE + "/{type}/{key}")
    def upsert(request: Request) -> Response:
        rtype, key = request.params["type"], request.params["key"]
        if not key.startswith("eid:") or len(key) == 4:
            # UNVERIFIED: what NetSuite answers a PUT on an internal id; the documented PUT is eid: only.
            raise bad_request(
                f"PUT on a single record is an upsert by external ID: use {RECORD_BASE}/{rtype}/eid:<externalId>.",
                "INVALID_PARAMETER",
            )
        record_id, _ = store.upsert(
            rtype, key[4:], _body(request), strict_names=_strict(request), replace=_replace(app, request, rtype)
        )
        return _located(request, rtype, record_id)

    @app.route("DELETE", RECORD_BASE + "/{type}/{key}")
    def delete(request: Request) -> Response:
        store.remove(request.params["type"], request.params["key"])
        return Response(204)


def _origin(request: Request) -> str:
    return f"http://{request.host}"


def _located(request: Request, rtype: str, record_id: str) -> Response:
    return Response(204, headers={"Location": f"{_origin(request)}{RECORD_BASE}/{rtype}/{record_id}"})


def _query(request: Request, name: str) -> str:
    values = request.query.get(name)
    return values[-1] if values else ""


def _strict(request: Request) -> bool:
    """X-NetSuite-PropertyNameValidation: Error refuses unknown names; Warning (the default) and Ignore drop them."""
    return request.header("X-NetSuite-PropertyNameValidation").strip().lower() == "error"


def _replace(app: NetSuiteSimulator, request: Request, rtype: str) -> set[str]:
    names = {n.strip() for n in _query(request, "replace").split(",") if n.strip()}
    record_type = app.schema.get(rtype)
    if record_type is not None:
        for name in names:
            if name not in record_type.sublists:
                raise bad_request(
                    f"Invalid 'replace' value: {name!r} is not a sublist of {rtype}.",
                    "INVALID_PARAMETER",
                    query_param="replace",
                )
    return names


def _body(request: Request) -> Any:
    if not request.body:
        return {}
    try:
        return jsonio.loads(request.body)
    except ValueError as error:
        # UNVERIFIED: the o:errorCode for a body that is not JSON.
        raise bad_request(f"The request body is not valid JSON: {error}.", "INVALID_CONTENT") from None
