"""What a ClickTime answer looks like on the wire: the envelope, the page object, decimals.

Records are kept as dicts keyed by wire names (plus internal keys starting with "_"); `project` turns one into
the response shape of a model, leaving out verbose-only fields unless the request asked for them.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import urlencode

from simulators.common.server import Response

DecimalsAs = Literal["number", "string", "mixed"]


@dataclass
class EnvelopeResponse(Response):
    """A JSON response whose Decimals are written exactly, as numbers or strings (the API has sent both)."""

    decimals_as: DecimalsAs = "number"

    def encode(self) -> bytes:
        return dumps(self.body, self.decimals_as).encode("utf-8")


def dumps(value: Any, decimals_as: DecimalsAs = "number") -> str:
    """JSON text; Decimals are written digit for digit, never through float. "mixed" alternates per value."""
    parts: list[str] = []
    counter = itertools.count()

    def write(v: Any) -> None:
        if isinstance(v, Decimal):
            text = format(v, "f")  # plain notation, every digit kept: 1.25, 12.30, 100
            as_string = decimals_as == "string" or (decimals_as == "mixed" and next(counter) % 2 == 1)
            parts.append(json.dumps(text) if as_string else text)
        elif isinstance(v, float):
            # Money and hours are Decimal end to end; a float here is a bug to find, not to round.
            raise TypeError(f"float {v!r} in a ClickTime response")
        elif isinstance(v, dict):
            parts.append("{")
            for i, (key, item) in enumerate(v.items()):
                if i:
                    parts.append(", ")
                parts.append(json.dumps(str(key)) + ": ")
                write(item)
            parts.append("}")
        elif isinstance(v, (list, tuple)):
            parts.append("[")
            for i, item in enumerate(v):
                if i:
                    parts.append(", ")
                write(item)
            parts.append("]")
        else:
            parts.append(json.dumps(v))

    write(value)
    return "".join(parts)


def project(
    fields: dict[str, dict[str, Any]], record: dict[str, Any], *, verbose: bool, legacy: bool = False
) -> dict[str, Any]:
    """The record in the model's response shape: the model's fields in schema order, nothing else."""
    out: dict[str, Any] = {}
    for name, spec in fields.items():
        if spec.get("verbose_only") and not verbose:
            continue
        if spec.get("legacy_scramble_only") and not legacy:
            continue
        value = record.get(name)
        nested = spec.get("properties")
        if isinstance(value, dict) and nested:
            value = project(nested, value, verbose=verbose, legacy=legacy)
        elif isinstance(value, list) and spec.get("items", {}).get("properties"):
            value = [project(spec["items"]["properties"], v, verbose=verbose, legacy=legacy) for v in value]
        out[name] = value
    return out


def envelope(
    data: Any, page: dict[str, Any] | None = None, errors: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"data": data, "errors": errors or [], "jsonapi": {}, "meta": {}}
    if page is not None:
        body["page"] = page
    return body


def api_error(message: str, field: str = "", details: list[str] | None = None) -> dict[str, Any]:
    return {"Field": field or None, "Message": message, "MessageDetail": details or []}


def page_object(
    base_url: str, raw_path: str, query: dict[str, list[str]], *, count: int, limit: int, offset: int
) -> dict[str, Any]:
    """page {count, limit, offset, links}; next/previous are left out where there is no such page.

    UNVERIFIED: links are absolute URLs on the server that answered, and a missing next page is a missing
    key (clients in the wild test `links.next` for emptiness, which covers both).
    """
    path = raw_path.split("?", 1)[0]
    kept = [(k, v) for k, values in query.items() if k not in {"limit", "offset"} for v in values]

    def link(at: int) -> str:
        return f"{base_url}{path}?{urlencode([*kept, ('limit', limit), ('offset', at)])}"

    last = max(0, (count - 1) // limit * limit)
    links = {"self": link(offset), "first": link(0), "last": link(last)}
    if offset + limit < count:
        links["next"] = link(offset + limit)
    if offset > 0:
        links["previous"] = link(max(0, offset - limit))
    return {"count": count, "limit": limit, "offset": offset, "links": links}
