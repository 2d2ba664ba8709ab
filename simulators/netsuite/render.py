"""A stored record as GET /record/v1/{type}/{id} returns it.

References come back as {id, refName, links}; sublists only as a link to themselves unless the client asks
for expandSubResources=true, which is how NetSuite saves work on a plain GET.
"""

from __future__ import annotations

from typing import Any

from simulators.netsuite.names import enum_name
from simulators.netsuite.records import RecordStore
from simulators.netsuite.schema import RecordType


def render_record(
    rtype: RecordType, record: dict[str, Any], store: RecordStore, base: str, *, expand: bool
) -> dict[str, Any]:
    """`base` is `<scheme>://<host>/services/rest/record/v1`."""
    self_href = f"{base}/{rtype.name}/{record['id']}"
    out: dict[str, Any] = {"links": [{"rel": "self", "href": self_href}]}
    for name, value in record.items():
        spec = rtype.fields[name] if name in rtype.fields else None
        if spec is None or name == "links":
            out[name] = value
        elif spec.kind == "sublist":
            out[name] = _sublist(rtype, name, value["items"], store, base, f"{self_href}/{name}", expand)
        elif spec.kind == "reference":
            out[name] = _reference(value, spec.targets, store, base)
        elif spec.kind == "enum":
            out[name] = {"id": value["id"], "refName": enum_name(rtype.name, name, value["id"])}
        elif spec.kind == "refcollection":
            out[name] = {"items": [_reference(v, spec.targets, store, base) for v in value["items"]]}
        else:
            out[name] = value
    for name in rtype.sublists:
        if name not in out:
            out[name] = _sublist(rtype, name, [], store, base, f"{self_href}/{name}", expand)
    return out


def _sublist(
    rtype: RecordType, name: str, lines: list[dict[str, Any]], store: RecordStore, base: str, href: str, expand: bool
) -> dict[str, Any]:
    links = [{"rel": "self", "href": href}]
    if not expand:
        return {"links": links}
    element = rtype.sublists[name]
    items = []
    for line in lines:
        item: dict[str, Any] = {"links": []}
        for key, value in line.items():
            spec = element.get(key)
            item[key] = _reference(value, spec.targets, store, base) if spec and spec.kind == "reference" else value
        items.append(item)
    return {
        "links": links,
        "count": len(items),
        "hasMore": False,
        "items": items,
        "offset": 0,
        "totalResults": len(items),
    }


def _reference(value: dict[str, str], targets: tuple[str, ...], store: RecordStore, base: str) -> dict[str, Any]:
    if "id" not in value:
        return dict(value)
    out: dict[str, Any] = {"id": value["id"]}
    target = store.type_of(targets, value["id"]) if targets else None
    if target is not None:
        name = store.name_of((target,), value["id"])
        if name is not None:
            out["refName"] = name
        out["links"] = [{"rel": "self", "href": f"{base}/{target}/{value['id']}"}]
    return out
