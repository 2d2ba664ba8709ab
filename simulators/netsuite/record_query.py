"""The `q` parameter of a record collection (GET /record/v1/{type}?q=...): NetSuite's REST filter syntax.

A useful subset: `<field> <OPERATOR> [value]` conditions joined by AND or OR, e.g.

    entityId IS "P-1042"                       externalId START_WITH ct-
    id ANY_OF [1774, 1775]                     parent ANY_OF [12]
    lastModifiedDate ON_OR_AFTER "11/24/2026"  isInactive IS false
    email EMPTY_NOT                            rate GREATER 100 AND rate LESS 200

Operators per kind of field (Oracle, "Record Collection Filtering"):
  text           IS, IS_NOT, START_WITH, CONTAIN, END_WITH, EMPTY, EMPTY_NOT
  checkbox       IS, IS_NOT (true / false)
  number, id     ANY_OF, EQUAL, GREATER, GREATER_OR_EQUAL, LESS, LESS_OR_EQUAL, EMPTY, EMPTY_NOT
  date, datetime AFTER, BEFORE, ON, ON_OR_AFTER, ON_OR_BEFORE, EMPTY, EMPTY_NOT
  select (ref)   ANY_OF, ANY_OF_NOT, EMPTY, EMPTY_NOT
Everything else (BETWEEN, WITHIN, the other _NOT forms, parentheses, sublist fields) is refused with a 400:
the simulator never ignores a filter it cannot honour.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from simulators.netsuite.errors import NetSuiteError, bad_request
from simulators.netsuite.schema import FieldSpec, RecordType

Predicate = Callable[[dict[str, Any]], bool]

TEXT_OPS = {"IS", "IS_NOT", "START_WITH", "CONTAIN", "END_WITH", "EMPTY", "EMPTY_NOT"}
BOOLEAN_OPS = {"IS", "IS_NOT"}
NUMBER_OPS = {"ANY_OF", "EQUAL", "GREATER", "GREATER_OR_EQUAL", "LESS", "LESS_OR_EQUAL", "EMPTY", "EMPTY_NOT"}
DATE_OPS = {"AFTER", "BEFORE", "ON", "ON_OR_AFTER", "ON_OR_BEFORE", "EMPTY", "EMPTY_NOT"}
SELECT_OPS = {"ANY_OF", "ANY_OF_NOT", "EMPTY", "EMPTY_NOT"}
UNARY = {"EMPTY", "EMPTY_NOT"}
# Documented NetSuite operators the simulator does not implement: named in the refusal, so it is not mistaken
# for a typo.
NOT_IMPLEMENTED = {
    "BETWEEN",
    "BETWEEN_NOT",
    "WITHIN",
    "WITHIN_NOT",
    "EQUAL_NOT",
    "GREATER_NOT",
    "GREATER_OR_EQUAL_NOT",
    "LESS_NOT",
    "LESS_OR_EQUAL_NOT",
    "AFTER_NOT",
    "BEFORE_NOT",
    "ON_NOT",
    "ON_OR_AFTER_NOT",
    "ON_OR_BEFORE_NOT",
    "START_WITH_NOT",
    "CONTAIN_NOT",
    "END_WITH_NOT",
}
_FILTERABLE = {"string", "boolean", "number", "integer", "date", "datetime", "reference", "enum"}

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<punct>[\[\],()])
  | (?P<word>[^\s\[\],()"]+)
    """,
    re.VERBOSE,
)
_USER_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


def invalid(message: str) -> NetSuiteError:
    # UNVERIFIED wording; the code and the query parameter are NetSuite's for a bad q.
    return bad_request(f"Invalid search query: {message}", "INVALID_PARAMETER", query_param="q")


@dataclass(frozen=True)
class _Token:
    kind: str  # string | punct | word | end
    text: str


def _tokens(q: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(q):
        match = _TOKEN.match(q, pos)
        if match is None:
            raise invalid(f"unterminated string at position {pos}.")
        kind = match.lastgroup or ""
        if kind == "string":
            out.append(_Token("string", re.sub(r"\\(.)", r"\1", match.group()[1:-1])))
        elif kind != "space":
            out.append(_Token(kind, match.group()))
        pos = match.end()
    out.append(_Token("end", ""))
    return out


def compile_query(q: str, rtype: RecordType, tz: ZoneInfo) -> Predicate:
    """A predicate over stored records, or a 400 for a query NetSuite (or the simulator) would not run."""
    parser = _Parser(_tokens(q), rtype, tz)
    return parser.query()


class _Parser:
    def __init__(self, tokens: list[_Token], rtype: RecordType, tz: ZoneInfo) -> None:
        self.tokens = tokens
        self.pos = 0
        self.rtype = rtype
        self.tz = tz

    @property
    def token(self) -> _Token:
        return self.tokens[self.pos]

    def next(self) -> _Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def query(self) -> Predicate:
        if self.token.kind == "end":
            raise invalid("the query is empty.")
        conditions = [self.condition()]
        joins: set[str] = set()
        while self.token.kind == "word" and self.token.text in ("AND", "OR"):
            joins.add(self.next().text)
            conditions.append(self.condition())
        if self.token.kind != "end":
            raise invalid(f"expected AND, OR or the end of the query, found {self.token.text!r}.")
        if len(joins) > 1:
            # UNVERIFIED: how NetSuite groups a query that mixes AND and OR; refused rather than guessed.
            raise invalid("the simulator does not mix AND and OR in one query (the grouping is not documented).")
        if joins == {"OR"}:
            return lambda record: any(c(record) for c in conditions)
        return lambda record: all(c(record) for c in conditions)

    def condition(self) -> Predicate:
        token = self.next()
        if token.kind == "punct" and token.text == "(":
            raise invalid("parentheses are not supported.")
        if token.kind != "word":
            raise invalid(f"expected a field name, found {token.text or 'the end of the query'!r}.")
        spec = self._field(token.text)
        op_token = self.next()
        op = op_token.text
        if op_token.kind != "word" or not re.fullmatch(r"[A-Z_]+", op):
            raise invalid(f"expected an operator after {spec.name}, found {op or 'the end of the query'!r}.")
        kind = "number" if spec.name == "id" else spec.kind
        allowed = _operators(kind)
        if op in NOT_IMPLEMENTED:
            raise invalid(f"the simulator does not support the operator {op}.")
        if op not in allowed:
            raise invalid(
                f"the operator {op} is not valid for the field {spec.name}; use one of {', '.join(sorted(allowed))}."
            )
        getter = _getter(spec, kind, self.tz)
        if op in UNARY:
            return (lambda r: getter(r) is None) if op == "EMPTY" else (lambda r: getter(r) is not None)
        values = self.values(op)
        return _predicate(spec, kind, op, values, getter)

    def values(self, op: str) -> list[str]:
        token = self.next()
        if token.kind == "punct" and token.text == "[":
            if op not in ("ANY_OF", "ANY_OF_NOT"):
                raise invalid(f"{op} takes a single value, not a list.")
            values = [self.value()]
            while self.token.kind == "punct" and self.token.text == ",":
                self.next()
                values.append(self.value())
            closing = self.next()
            if closing.text != "]":
                raise invalid(f"expected ']' to close the list, found {closing.text or 'the end of the query'!r}.")
            return values
        self.pos -= 1
        return [self.value()]

    def value(self) -> str:
        token = self.next()
        if token.kind in ("string", "word"):
            return token.text
        raise invalid(f"expected a value, found {token.text or 'the end of the query'!r}.")

    def _field(self, name: str) -> FieldSpec:
        spec = self.rtype.fields.get(name)
        if spec is None:
            near = [f for f in self.rtype.fields if f.lower() == name.lower()]
            hint = f" (field names are case-sensitive: {near[0]})" if near else ""
            raise bad_request(
                f"Unknown field name '{name}' in the search query. The field does not exist on this record type{hint}.",
                "NONEXISTENT_FIELD",
                query_param="q",
            )
        if spec.name != "id" and spec.kind not in _FILTERABLE:
            raise invalid(f"the field {name} cannot be used in a search query.")
        return spec


def _operators(kind: str) -> set[str]:
    if kind in ("string",):
        return TEXT_OPS
    if kind == "boolean":
        return BOOLEAN_OPS
    if kind in ("number", "integer"):
        return NUMBER_OPS
    if kind in ("date", "datetime"):
        return DATE_OPS
    return SELECT_OPS


def _getter(spec: FieldSpec, kind: str, tz: ZoneInfo) -> Callable[[dict[str, Any]], Any]:
    name = spec.name
    if name == "id":
        return lambda r: Decimal(r["id"]) if r["id"].lstrip("-").isdigit() else None
    if kind in ("reference", "enum"):
        return lambda r: r[name].get("id") if isinstance(r.get(name), dict) else None
    if kind == "boolean":
        return lambda r: r.get(name) is True
    if kind == "date":
        return lambda r: date.fromisoformat(r[name]) if r.get(name) else None
    if kind == "datetime":
        # UNVERIFIED: a date compared with an instant is the instant's day where the user is (the account's
        # zone, addendum / research notes §3.1 "resolves them in the account's own time zone").
        return lambda r: _local_day(r[name], tz) if r.get(name) else None
    if kind in ("number", "integer"):
        return lambda r: None if r.get(name) is None else Decimal(r[name])
    return lambda r: r.get(name) if isinstance(r.get(name), str) and r.get(name) else None


def _local_day(instant: str, tz: ZoneInfo) -> date:
    return datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(tz).date()


def _predicate(
    spec: FieldSpec, kind: str, op: str, values: list[str], getter: Callable[[dict[str, Any]], Any]
) -> Predicate:
    if kind == "boolean":
        wanted = _boolean(spec.name, values[0])
        return (lambda r: getter(r) == wanted) if op == "IS" else (lambda r: getter(r) != wanted)
    if kind == "string":
        # UNVERIFIED: text comparisons ignore case, as NetSuite's search filters do in the UI.
        text = values[0].lower()
        tests: dict[str, Callable[[str], bool]] = {
            "IS": lambda v: v == text,
            "IS_NOT": lambda v: v != text,
            "START_WITH": lambda v: v.startswith(text),
            "CONTAIN": lambda v: text in v,
            "END_WITH": lambda v: v.endswith(text),
        }
        test = tests[op]
        return lambda r: test((getter(r) or "").lower())
    if kind in ("number", "integer"):
        numbers = [_number(spec.name, v) for v in values]
        if op == "ANY_OF":
            return lambda r: getter(r) is not None and getter(r) in numbers
        bound = numbers[0]
        compare: dict[str, Callable[[Decimal], bool]] = {
            "EQUAL": lambda v: v == bound,
            "GREATER": lambda v: v > bound,
            "GREATER_OR_EQUAL": lambda v: v >= bound,
            "LESS": lambda v: v < bound,
            "LESS_OR_EQUAL": lambda v: v <= bound,
        }
        number_test = compare[op]
        return lambda r: getter(r) is not None and number_test(getter(r))
    if kind in ("date", "datetime"):
        day = _user_date(spec.name, values[0])
        days: dict[str, Callable[[date], bool]] = {
            "ON": lambda d: d == day,
            "AFTER": lambda d: d > day,
            "BEFORE": lambda d: d < day,
            "ON_OR_AFTER": lambda d: d >= day,
            "ON_OR_BEFORE": lambda d: d <= day,
        }
        day_test = days[op]
        return lambda r: getter(r) is not None and day_test(getter(r))
    ids = {_select_id(v) for v in values}
    if op == "ANY_OF":
        return lambda r: getter(r) in ids
    return lambda r: getter(r) not in ids


def _boolean(name: str, text: str) -> bool:
    if text.lower() not in ("true", "false"):
        raise invalid(f"the field {name} is a checkbox: compare it with true or false, not {text!r}.")
    return text.lower() == "true"


def _number(name: str, text: str) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise invalid(f"the field {name} is a number: {text!r} is not one.") from None
    if not number.is_finite():
        raise invalid(f"the field {name} is a number: {text!r} is not one.")
    return number


def _select_id(text: str) -> str:
    return str(int(text)) if re.fullmatch(r"-?\d+", text) else text


def _user_date(name: str, text: str) -> date:
    """A date as the user writes it (the simulator's user has the date format M/D/YYYY).

    UNVERIFIED: research notes §3.1 say a record collection filter takes a bare date in the account's date
    format only; a time part, or another format, is refused.
    """
    match = _USER_DATE.match(text.strip())
    if match:
        month, day, year = (int(g) for g in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            pass
    raise invalid(
        f"Unparseable date {text!r} for the field {name}: write the date as M/D/YYYY (the user's date format)."
    )
