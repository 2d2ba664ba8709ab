"""JSON with exact numbers: Decimals are written as number text and numbers are read back as Decimal."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def loads(text: str | bytes) -> Any:
    """JSON text (an API's answer), its fractions as Decimal. Every way it cannot be read is a ValueError, which the
    clients take for a malformed answer: nested too deeply for the parser included (a RecursionError otherwise)."""
    try:
        return json.loads(text, parse_float=Decimal)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply to be read") from None


class KeyTwice(ValueError):
    """A JSON object of a document a person wrote gives one key twice: JSON keeps the last, and the first would be
    dropped without a word (two "time" sections: the settings of one are not used)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the key {key!r} is given twice")
        self.key = key


def _keys_once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise KeyTwice(key)
        document[key] = value
    return document


class Unreadable(ValueError):
    """JSON text that cannot be read whole though it may be well formed: nested too deeply for the parser, or a
    number longer than Python converts (4,300 digits). Its message says which, never the text."""


def load_document(text: str | bytes) -> Any:
    """A JSON document a person wrote (a config, a secret), its objects' keys each given once (`KeyTwice`); numbers
    as `json` reads them (the config's models take floats and validate them). Raises json.JSONDecodeError for text
    that is not JSON and `Unreadable` for text too deep or with too long a number (all three are ValueErrors)."""
    try:
        return json.loads(text, object_pairs_hook=_keys_once)
    except (KeyTwice, json.JSONDecodeError):
        raise
    except RecursionError:
        raise Unreadable("is nested too deeply to be read") from None
    except ValueError:
        # The one other ValueError of the decoder: int() refusing a number over sys.get_int_max_str_digits()
        raise Unreadable("holds a number too long to be read (over 4,300 digits)") from None


def dumps(value: Any) -> str:
    """Like json.dumps, but a Decimal becomes a JSON number spelled exactly as the Decimal (no float on the way)."""
    return "".join(_encode(value))


def _encode(value: Any):  # noqa: ANN202 - a generator of string fragments
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot encode {value} as JSON")
        yield format(value, "f")
    elif isinstance(value, dict):
        yield "{"
        for index, (key, item) in enumerate(value.items()):
            if index:
                yield ","
            yield json.dumps(str(key))
            yield ":"
            yield from _encode(item)
        yield "}"
    elif isinstance(value, list | tuple):
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ","
            yield from _encode(item)
        yield "]"
    elif isinstance(value, float):
        raise TypeError(f"refusing to encode float {value!r}: use Decimal for hours and money")
    elif isinstance(value, datetime | date):
        yield json.dumps(value.isoformat())
    else:
        yield json.dumps(value)
