"""Turning a write body (POST/PATCH/PUT, or a test's `add`) into the values the store keeps.

Stored values keep the wire shape so that `get` returns what a client would send: references `{"id": ...}`,
dates `YYYY-MM-DD`, instants `YYYY-MM-DDTHH:MM:SSZ`, durations `H:MM`, sublists `{"items": [...]}`. Money is
Decimal, never float. A `None` value means "clear this field" (PATCH semantics).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from simulators.netsuite.errors import NetSuiteError, bad_request, invalid_value
from simulators.netsuite.schema import (
    REQUIRED_ON_LINE,
    SERVER_FIELDS,
    SERVER_LINE_FIELDS,
    FieldSpec,
    RecordType,
)

# (spec, reference object, JSON path) -> the stored reference ({"id": ...}); raises when it names nothing.
Resolve = Callable[[FieldSpec, dict[str, Any], str], dict[str, str]]

DURATION = re.compile(r"^\d{1,2}:[0-5]\d$")
MAX_FILE_BYTES = 10 * 1024 * 1024  # the document service's 10 MB limit (research notes §4)
_ENVELOPE_KEYS = {"items", "links", "count", "hasMore", "offset", "totalResults"}


def normalize(rtype: RecordType, body: Any, *, strict_names: bool, resolve: Resolve) -> dict[str, Any]:
    """Validate a body against the record type and return {field: stored value or None}."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", "INVALID_CONTENT")
    out: dict[str, Any] = {}
    for key, value in body.items():
        spec = rtype.fields.get(key)
        if spec is None:
            if strict_names:
                raise unknown_property(rtype.name, key, key)
            continue  # the real default (Warning): unknown names are dropped without a word
        if key in SERVER_FIELDS:
            continue
        if value is None:
            out[key] = None
        elif spec.kind == "sublist":
            out[key] = {"items": _lines(rtype, key, value, strict_names, resolve)}
        else:
            out[key] = coerce(spec, value, key, resolve)
    return out


def unknown_property(owner: str, name: str, path: str) -> NetSuiteError:
    # UNVERIFIED: the o:errorCode NetSuite gives an unknown property under PropertyNameValidation: Error.
    return bad_request(
        f"Invalid property name '{name}' for {owner}: it is not a field of this record type "
        f"(names are case-sensitive).",
        "INVALID_PROPERTY",
        path=path,
    )


def _lines(rtype: RecordType, sublist: str, value: Any, strict: bool, resolve: Resolve) -> list[dict[str, Any]]:
    if not isinstance(value, dict) or not isinstance(value.get("items"), list):
        raise invalid_value(sublist, value, 'A sublist is written as {"items": [...]}')
    if strict:
        for key in value:
            if key not in _ENVELOPE_KEYS:
                raise unknown_property(f"sublist {sublist}", key, f"{sublist}.{key}")
    element = rtype.sublists[sublist]
    required = REQUIRED_ON_LINE.get(f"{rtype.name}.{sublist}", ())
    lines = []
    for index, item in enumerate(value["items"]):
        path = f"{sublist}.items[{index}]"
        if not isinstance(item, dict):
            raise invalid_value(sublist, item, "Each sublist line is a JSON object", path=path)
        line: dict[str, Any] = {}
        for key, field_value in item.items():
            spec = element.get(key)
            if spec is None:
                if strict:
                    raise unknown_property(f"{rtype.name}.{sublist} line", key, f"{path}.{key}")
                continue
            # Line ids and numbers are the server's; lines are appended or replaced, never matched.
            if key in SERVER_LINE_FIELDS or field_value is None:
                continue
            line[key] = coerce(spec, field_value, f"{path}.{key}", resolve)
        missing = [name for name in required if name not in line]
        if missing:
            raise missing_values(missing, path)
        lines.append(line)
    return lines


def missing_values(names: list[str], path: str = "") -> NetSuiteError:
    # UNVERIFIED for REST: this is SOAP's USER_ERROR wording for a missing mandatory field.
    return bad_request(f"Please enter value(s) for: {', '.join(names)}", "USER_ERROR", path=path)


def coerce(spec: FieldSpec, value: Any, path: str, resolve: Resolve) -> Any:
    kind = spec.kind
    if kind == "boolean":
        if not isinstance(value, bool):
            raise invalid_value(spec.name, value, "A checkbox takes a JSON boolean (true/false)", path=path)
        return value
    if kind == "number":
        return to_decimal(spec.name, value, path)
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid_value(spec.name, value, "An integer field takes a JSON integer", path=path)
        return value
    if kind in ("reference", "enum"):
        return _reference(spec, value, path, resolve)
    if kind == "refcollection":
        if not isinstance(value, dict) or not isinstance(value.get("items"), list):
            raise invalid_value(spec.name, value, 'A multi-select is written as {"items": [{"id": ...}]}', path=path)
        return {"items": [_reference(spec, v, f"{path}.items[{i}]", resolve) for i, v in enumerate(value["items"])]}
    if kind in ("subrecord", "object"):
        if not isinstance(value, dict):
            raise invalid_value(spec.name, value, "This field takes a JSON object", path=path)
        return value
    if kind == "array":
        if not isinstance(value, list):
            raise invalid_value(spec.name, value, "This field takes a JSON array", path=path)
        return value
    if not isinstance(value, str):
        raise invalid_value(spec.name, value, "This field takes a JSON string", path=path)
    return _text(spec, value, path)


def _text(spec: FieldSpec, value: str, path: str) -> str:
    if spec.kind == "duration":
        # UNVERIFIED whether NetSuite also takes decimal hours here; the documented form is hours:minutes.
        if not DURATION.match(value):
            raise invalid_value(
                spec.name,
                value,
                "A Duration is written as hours:minutes, 'H:MM' or 'HH:MM' (e.g. '1:45'), not decimal hours",
                path=path,
            )
        return value
    if spec.kind == "date":
        if not _is_iso_date(value):
            raise invalid_value(spec.name, value, "A date is written YYYY-MM-DD", path=path)
        return value
    if spec.kind == "datetime":
        try:
            return iso_instant(parse_instant(value))
        except ValueError:
            raise invalid_value(
                spec.name, value, "An instant is written in ISO 8601 with a zone, e.g. 2026-11-25T17:47:38Z", path=path
            ) from None
    if spec.kind == "base64":
        try:
            size = len(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            raise invalid_value(spec.name, value[:40], "File content must be base64", path=path) from None
        if size > MAX_FILE_BYTES:
            raise bad_request(f"The file is {size} bytes; the limit is 10 MB.", "INVALID_FIELD_VALUE", path=path)
    return value


def _is_iso_date(text: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _reference(spec: FieldSpec, value: Any, path: str, resolve: Resolve) -> dict[str, str]:
    if not isinstance(value, dict) or not ("id" in value or "externalId" in value):
        raise invalid_value(
            spec.name, value, 'A reference is written {"id": "<internal id>"} or {"externalId": "..."}', path=path
        )
    for key in ("id", "externalId"):
        # UNVERIFIED strictness: NetSuite may coerce a JSON number id; the documented form is a string.
        if key in value and not isinstance(value[key], str):
            raise invalid_value(spec.name, value, f'The reference "{key}" is a JSON string', path=path)
    if spec.kind == "enum":
        chosen = value.get("id")
        if chosen is None or (spec.enum is not None and chosen not in spec.enum):
            raise invalid_value(spec.name, chosen, f"Valid values: {', '.join(spec.enum or ())}", path=path)
        return {"id": chosen}
    return resolve(spec, value, path)


def to_decimal(name: str, value: Any, path: str) -> Decimal:
    """JSON numbers arrive as int or Decimal (parse_float=Decimal); numeric strings are accepted too."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise invalid_value(name, value, "A number field takes a JSON number", path=path)
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise invalid_value(name, value, "Not a number", path=path) from None
    if not number.is_finite():
        raise invalid_value(name, value, "Not a finite number", path=path)
    return number


def parse_instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("an instant needs a zone")
    return moment.astimezone(UTC)


def iso_instant(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
