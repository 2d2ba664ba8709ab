"""The record service: /services/rest/record/v1.

    GET    /{type}                       a collection: ids and links, paged (limit/offset), filtered by q
    POST   /{type}                       create (204 + Location)
    GET    /{type}/{id|eid:x}            read (expandSubResources=true inlines sublists; fields=a,b trims)
    PATCH  /{type}/{id|eid:x}            update (204; ?replace=<sublist>)
    PUT    /{type}/eid:x                 upsert by external id (204 + Location)
    DELETE /{type}/{id|eid:x}            delete (204, and a deletedrecord row for SuiteQL)
    POST   /{type}/{id}/!attach/file/{f} attach a file (204); DELETE the same path detaches it
    GET    /metadata-catalog[/{type}]    the record types, and each one's JSON schema or OpenAPI document

Record type names are case-insensitive (timebill, timeBill and TIMEBILL name one type), as NetSuite's are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulators.common.server import Request, Response
from simulators.netsuite import jsonio, metadata
from simulators.netsuite.errors import NetSuiteError, bad_request
from simulators.netsuite.paging import collection, page_links, paging
from simulators.netsuite.record_query import compile_query
from simulators.netsuite.render import render_record
from simulators.netsuite.schema import RecordType

if TYPE_CHECKING:
    from simulators.netsuite.app import NetSuiteSimulator

RECORD_BASE = "/services/rest/record/v1"
SINGULAR = "application/vnd.oracle.resource+json; type=singular"
COLLECTION = "application/vnd.oracle.resource+json; type=collection"


def register(app: NetSuiteSimulator) -> None:
    store = app.records

    # The catalog first: "metadata-catalog" would otherwise read as a record type.
    @app.route("GET", RECORD_BASE + "/metadata-catalog")
    def catalog(request: Request) -> Response:
        select = [n.strip() for n in _query(request, "select").split(",") if n.strip()]
        rtypes = [_type(app, n, query_param="select") for n in select] if select else list(app.schema.types.values())
        base = _origin(request) + RECORD_BASE
        accept = _accept(request, schema_allowed=False)
        if accept == metadata.SWAGGER_JSON:  # one OpenAPI document for the selected types (all by default)
            return Response(200, jsonio.dumps(metadata.swagger(base, rtypes)), content_type=metadata.SWAGGER_JSON)
        body = metadata.catalog(base, [t.name for t in rtypes])
        return Response(200, jsonio.dumps(body), content_type="application/json")

    @app.route("GET", RECORD_BASE + "/metadata-catalog/{type}")
    def describe(request: Request) -> Response:
        rtype = _type(app, request.params["type"])
        base = _origin(request) + RECORD_BASE
        accept = _accept(request, schema_allowed=True)
        if accept == metadata.SCHEMA_JSON:
            return Response(200, jsonio.dumps(metadata.json_schema(rtype)), content_type=metadata.SCHEMA_JSON)
        if accept == metadata.SWAGGER_JSON:
            return Response(200, jsonio.dumps(metadata.swagger(base, [rtype])), content_type=metadata.SWAGGER_JSON)
        return Response(200, jsonio.dumps(metadata.catalog_item(base, rtype.name)), content_type="application/json")

    @app.route("GET", RECORD_BASE + "/{type}")
    def listing(request: Request) -> Response:
        rtype = _type(app, request.params["type"])
        limit, offset = paging(request)
        q = _query(request, "q")
        records = store.snapshot(rtype.name)
        if q.strip():
            test = compile_query(q, rtype, app.user_timezone)
            records = [r for r in records if test(r)]
        total = len(records)
        page = records[offset : offset + limit]
        has_more = offset + len(page) < total
        base = _origin(request) + RECORD_BASE
        items = [{"links": [{"rel": "self", "href": f"{base}/{rtype.name}/{r['id']}"}], "id": r["id"]} for r in page]
        params = [("q", q)] if q else []
        links = page_links(
            f"{base}/{rtype.name}", params, limit=limit, offset=offset, reachable=total, has_more=has_more
        )
        body = collection(items, links, offset=offset, total=total, has_more=has_more)
        return Response(200, jsonio.dumps(body), content_type=COLLECTION)

    @app.route("POST", RECORD_BASE + "/{type}")
    def create(request: Request) -> Response:
        rtype = _type(app, request.params["type"])
        record_id = store.create(rtype.name, _body(request), strict_names=_strict(request))
        return _located(request, rtype.name, record_id)

    @app.route("GET", RECORD_BASE + "/{type}/{key}")
    def read(request: Request) -> Response:
        rtype = _type(app, request.params["type"])
        record = store.find(rtype.name, request.params["key"])
        expand = _query(request, "expandSubResources").lower() == "true"
        body = render_record(rtype, record, store, _origin(request) + RECORD_BASE, expand=expand)
        fields = _query(request, "fields")
        if fields:
            body = _only(rtype, body, fields)
        return Response(200, jsonio.dumps(body), content_type=SINGULAR)

    @app.route("PATCH", RECORD_BASE + "/{type}/{key}")
    def patch(request: Request) -> Response:
        rtype = _type(app, request.params["type"])
        record_id = store.patch(
            rtype.name,
            request.params["key"],
            _body(request),
            strict_names=_strict(request),
            replace=_replace(request, rtype),
        )
        return _located(request, rtype.name, record_id)

    @app.route("PUT", RECORD_BASE + "/{type}/{key}")
    def upsert(request: Request) -> Response:
        rtype, key = _type(app, request.params["type"]), request.params["key"]
        if not key.startswith("eid:") or len(key) == 4:
            # UNVERIFIED: what NetSuite answers a PUT on an internal id; the documented PUT is eid: only.
            raise bad_request(
                f"PUT on a single record is an upsert by external ID: use {RECORD_BASE}/{rtype.name}/eid:<externalId>.",
                "INVALID_PARAMETER",
            )
        record_id, _ = store.upsert(
            rtype.name, key[4:], _body(request), strict_names=_strict(request), replace=_replace(request, rtype)
        )
        return _located(request, rtype.name, record_id)

    @app.route("DELETE", RECORD_BASE + "/{type}/{key}")
    def delete(request: Request) -> Response:
        rtype = _type(app, request.params["type"])
        store.remove(rtype.name, request.params["key"], client=True)
        return Response(204)

    # UNVERIFIED on expenseReport (addendum §3: the 2026.1 browser lists !attach on job only); the simulator
    # allows it on every record type. Only files are attached here: the simulator holds no contacts.
    @app.route("POST", RECORD_BASE + "/{type}/{key}/!attach/{target}/{attached}")
    def attach(request: Request) -> Response:
        rtype = _type(app, request.params["type"])
        _file_target(request)
        store.attach(rtype.name, request.params["key"], request.params["attached"])
        return Response(204)

    @app.route("DELETE", RECORD_BASE + "/{type}/{key}/!attach/{target}/{attached}")
    def detach(request: Request) -> Response:
        # UNVERIFIED: detaching a file that is not attached is answered 204, like a second attach.
        rtype = _type(app, request.params["type"])
        _file_target(request)
        store.detach(rtype.name, request.params["key"], request.params["attached"])
        return Response(204)


def _type(app: NetSuiteSimulator, name: str, *, query_param: str = "") -> RecordType:
    rtype = app.schema.get(name)
    if rtype is None:
        if query_param:
            raise bad_request(f"Record type '{name}' does not exist.", "INVALID_PARAMETER", query_param=query_param)
        raise NetSuiteError(404, f"Record type '{name}' does not exist.", "NONEXISTENT_ID")
    return rtype


def _accept(request: Request, *, schema_allowed: bool) -> str:
    """The catalog's media type: schema+json, swagger+json, or application/json (also for */* or no Accept)."""
    accept = request.header("Accept").lower()
    if metadata.SCHEMA_JSON in accept and schema_allowed:
        return metadata.SCHEMA_JSON
    if metadata.SWAGGER_JSON in accept:
        return metadata.SWAGGER_JSON
    if not accept or "application/json" in accept or "*/*" in accept:
        return "application/json"
    # UNVERIFIED: what NetSuite answers another Accept type (or a JSON schema of the whole catalog).
    where = "" if schema_allowed else " (the JSON schema is per record type: metadata-catalog/<type>)"
    raise NetSuiteError(
        400,
        f"Unsupported Accept type {request.header('Accept')!r} for the metadata catalog; use "
        f"{metadata.SWAGGER_JSON} or {metadata.SCHEMA_JSON}{where}.",
        "INVALID_PARAMETER",
        header="Accept",
    )


def _file_target(request: Request) -> None:
    target = request.params["target"]
    if target.lower() != "file":
        # Only contact and file records can be attached (Oracle); the simulator has no contacts.
        raise bad_request(
            f"Cannot attach a '{target}': only file records can be attached in the simulator (NetSuite also "
            f"attaches contacts).",
            "INVALID_PARAMETER",
        )


def _only(rtype: RecordType, body: dict[str, Any], fields: str) -> dict[str, Any]:
    """?fields=a,b: those fields (as GET shows them), plus id and links."""
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    for name in wanted:
        if name not in rtype.fields:
            # UNVERIFIED: NetSuite's answer to an unknown name in `fields`; the simulator refuses it.
            raise bad_request(
                f"Invalid 'fields' value: '{name}' is not a field of {rtype.name} (names are case-sensitive).",
                "INVALID_PARAMETER",
                query_param="fields",
            )
    keep = {"id", "links", *wanted}
    return {k: v for k, v in body.items() if k in keep}


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


def _replace(request: Request, rtype: RecordType) -> set[str]:
    names = {n.strip() for n in _query(request, "replace").split(",") if n.strip()}
    for name in names:
        if name not in rtype.sublists:
            raise bad_request(
                f"Invalid 'replace' value: {name!r} is not a sublist of {rtype.name}.",
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
