"""The record service's metadata catalog: GET /record/v1/metadata-catalog[/{type}].

The catalog lists every record type with links to its descriptions; a type's description comes as a JSON
schema (`Accept: application/schema+json`) or an OpenAPI document (`Accept: application/swagger+json`), and
both include the account's custom fields: that is how a client confirms `custentity_ct_job_id` exists on
`job` before it relies on it (research notes §2.1, jacobsvante/netsuite `jsonschema`/`openapi`).

UNVERIFIED details: the exact shape of the catalog items, the `x-ns-*` annotations, which keywords the
schemas use, and what NetSuite answers another Accept type (the simulator: a 400). The property names,
kinds and labels come from the same schema data the record routes validate with, so what the catalog says
exists is exactly what a write may send.
"""

from __future__ import annotations

from typing import Any

from simulators.netsuite.schema import FieldSpec, RecordType

SCHEMA_JSON = "application/schema+json"
SWAGGER_JSON = "application/swagger+json"
_CUSTOM_TYPES = {
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "number": {"type": "number"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}
_REFERENCE = {
    "type": "object",
    "properties": {
        "id": {"title": "Internal identifier", "type": "string"},
        "externalId": {"title": "External identifier", "type": "string"},
        "refName": {"title": "Reference Name", "type": "string"},
        "links": {"title": "Links", "type": "array", "readOnly": True, "items": {"$ref": "#/definitions/nsLink"}},
    },
}
_NS_LINK = {
    "type": "object",
    "properties": {"rel": {"type": "string", "readOnly": True}, "href": {"type": "string", "readOnly": True}},
}


def catalog_item(base: str, name: str) -> dict[str, Any]:
    """`base` is `<origin>/services/rest/record/v1`."""
    href = f"{base}/metadata-catalog/{name}"
    return {
        "name": name,
        "links": [
            {"rel": "canonical", "href": href, "mediaType": "application/json"},
            {"rel": "alternate", "href": href, "mediaType": SWAGGER_JSON},
            {"rel": "alternate", "href": href, "mediaType": SCHEMA_JSON},
            {"rel": "describes", "href": f"{base}/{name}", "mediaType": "application/json"},
        ],
    }


def catalog(base: str, names: list[str]) -> dict[str, Any]:
    return {
        "items": [catalog_item(base, n) for n in names],
        "links": [{"rel": "self", "href": f"{base}/metadata-catalog"}],
    }


def json_schema(rtype: RecordType) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name, spec in rtype.fields.items():
        if spec.kind == "sublist":
            properties[name] = _sublist(rtype, name)
        else:
            properties[name] = _property(spec, rtype.definitions.get(name, {}))
    return {
        "$schema": "https://json-schema.org/draft-06/schema#",
        "type": "object",
        "title": rtype.name,
        "properties": properties,
        "definitions": {"nsLink": _NS_LINK},
    }


def swagger(base: str, rtypes: list[RecordType]) -> dict[str, Any]:
    """One OpenAPI document for the record types (the catalog answers it for one type, or for a `select`)."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"nsLink": _NS_LINK}
    no_content = {"204": {"description": "No Content"}}
    for rtype in rtypes:
        document = json_schema(rtype)
        schemas[rtype.name] = {k: v for k, v in document.items() if k not in ("$schema", "definitions")}
        ref = {"$ref": f"#/components/schemas/{rtype.name}"}
        body = {"content": {"application/json": {"schema": ref}}}
        paths[f"/{rtype.name}"] = {
            "get": {"responses": {"200": {"description": "OK"}}},
            "post": {"requestBody": body, "responses": no_content},
        }
        paths[f"/{rtype.name}/{{id}}"] = {
            "get": {"responses": {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}},
            "patch": {"requestBody": body, "responses": no_content},
            "put": {"requestBody": body, "responses": no_content},
            "delete": {"responses": no_content},
        }
    return {
        "openapi": "3.0.1",
        "info": {"title": "NetSuite REST Record API", "version": "v1"},
        "servers": [{"url": base}],
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _property(spec: FieldSpec, definition: dict[str, Any]) -> dict[str, Any]:
    title = definition.get("label") or spec.name
    if spec.custom:
        shape = dict(_REFERENCE) if spec.kind == "reference" else dict(_CUSTOM_TYPES.get(spec.kind, {"type": "string"}))
        return {"title": title, **shape, "nullable": True, "x-ns-custom-field": True}
    if spec.kind in ("reference", "refcollection"):
        shape = dict(_REFERENCE)
        if spec.kind == "refcollection":
            shape = {"type": "object", "properties": {"items": {"type": "array", "items": _REFERENCE}}}
        out = {"title": title, **shape, "nullable": True}
        if spec.targets:
            out["x-ns-record-type"] = spec.targets[0]
        return out
    if spec.kind == "enum":
        enum_id: dict[str, Any] = {"title": "Internal identifier", "type": "string"}
        if spec.enum:
            enum_id["enum"] = list(spec.enum)
        return {
            "title": title,
            "type": "object",
            "properties": {"id": enum_id, "refName": {"title": "Reference Name", "type": "string"}},
            "nullable": True,
        }
    out = {"title": title, "type": definition.get("type", "string"), "nullable": True}
    if definition.get("format") and definition["format"] != "base64":
        out["format"] = definition["format"]
    if spec.kind == "duration":
        out["format"] = "duration"  # UNVERIFIED keyword; the value is written "H:MM"
    if definition.get("readOnly"):
        out["readOnly"] = True
    return out


def _sublist(rtype: RecordType, name: str) -> dict[str, Any]:
    definitions = rtype.sublist_definitions.get(name, {})
    element = {n: _property(spec, definitions.get(n, {})) for n, spec in rtype.sublists[name].items()}
    return {
        "title": name,
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "object", "properties": element}},
            "links": {"type": "array", "readOnly": True, "items": {"$ref": "#/definitions/nsLink"}},
        },
        "x-ns-sublist": True,
    }
