"""Expressions to Python closures, resolved against one table.

Compiling first means an unknown column or function fails the query even when no row would have reached it,
as NetSuite fails it. Each closure takes a `Row`: the record being looked at and, in a grouped query, the
records of its group (what the aggregates run over).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from simulators.netsuite.suiteql import formats
from simulators.netsuite.suiteql.ast import (
    AGGREGATES,
    Case,
    Column,
    Compare,
    Expr,
    Func,
    In,
    IsNull,
    Like,
    Literal,
    Logical,
    Not,
    Star,
    children,
)
from simulators.netsuite.suiteql.catalog import Table
from simulators.netsuite.suiteql.lexer import SuiteQLError
from simulators.netsuite.suiteql.values import compare, number_text, render, user_date


@dataclass
class Row:
    record: Any  # None for the single group of an aggregate over no rows
    group: list[Any] | None = None


Fn = Callable[[Row], Any]
_ARITY = {
    "TO_CHAR": (1, 2),
    "TO_DATE": (1, 2),
    "TO_TIMESTAMP": (1, 2),
    "NVL": (2, 2),
    "BUILTIN.DF": (1, 1),
    "UPPER": (1, 1),
    "LOWER": (1, 1),
    "COUNT": (1, 1),
    "SUM": (1, 1),
    "MIN": (1, 1),
    "MAX": (1, 1),
}
_TESTS = {
    "=": lambda c: c == 0,
    "<>": lambda c: c != 0,
    "<": lambda c: c < 0,
    "<=": lambda c: c <= 0,
    ">": lambda c: c > 0,
    ">=": lambda c: c >= 0,
}


class Compiler:
    def __init__(self, table: Table, qualifier: str, tz: ZoneInfo) -> None:
        self.table = table
        self.qualifier = qualifier
        self.tz = tz
        # With joins, a row's record is {alias: record or None} and every column names its table's alias.
        self.joined: dict[str, Table] | None = None

    def with_joins(self, tables: dict[str, Table]) -> Compiler:
        self.joined = {self.qualifier: self.table, **tables}
        return self

    def compile(self, expr: Expr, *, aggregates: bool = False) -> Fn:
        fn = self._compile(expr, aggregates)
        if _is_constant(expr):
            value = fn(Row(None))  # fold constants now, so a bad mask or date fails the query up front
            return lambda row: value
        return fn

    def column(self, expr: Column) -> Callable[[Any], Any]:
        if self.joined is not None:
            return self._joined_column(expr, lambda definition: definition.getter)
        if expr.qualifier is not None and expr.qualifier != self.qualifier:
            raise SuiteQLError(
                f"Invalid search query. Unknown table alias '{expr.qualifier}' "
                f"(the table is '{self.table.name}' as '{self.qualifier}')."
            )
        definition = self.table.column(expr.name)
        if definition is None:
            # UNVERIFIED wording after the "Search error occurred" message NetSuite gives unknown fields.
            raise SuiteQLError(
                f"Invalid search query. Detailed unprocessed description follows. Search error "
                f"occurred: Field '{expr.name}' for record '{self.table.name}' was not found.",
                "NONEXISTENT_FIELD",
            )
        return definition.getter

    def _joined_column(self, expr: Column, part: Callable[[Any], Any]) -> Callable[[Any], Any]:
        assert self.joined is not None
        if expr.qualifier is None or expr.qualifier not in self.joined:
            raise SuiteQLError(
                f"Invalid search query. Column '{expr.name}' needs one of the table aliases {', '.join(self.joined)}."
            )
        alias, table = expr.qualifier, self.joined[expr.qualifier]
        definition = table.column(expr.name)
        if definition is None:
            raise SuiteQLError(
                f"Invalid search query. Detailed unprocessed description follows. Search error "
                f"occurred: Field '{expr.name}' for record '{table.name}' was not found.",
                "NONEXISTENT_FIELD",
            )
        getter = part(definition)
        return lambda record: None if record.get(alias) is None else getter(record[alias])

    # -- the node kinds --------------------------------------------------------------------------
    def _compile(self, expr: Expr, aggregates: bool) -> Fn:
        sub = lambda e: self._compile(e, aggregates)  # noqa: E731 - a local shorthand
        match expr:
            case Literal(value=value):
                constant = None if value == "" else value  # Oracle: the empty string is NULL
                return lambda row: constant
            case Column():
                getter = self.column(expr)
                return lambda row: None if row.record is None else getter(row.record)
            case Compare(op=op, left=left, right=right):
                lf, rf, test, tz = sub(left), sub(right), _TESTS[op], self.tz
                return lambda row: _maybe(compare(lf(row), rf(row), tz), test)
            case Logical(op="AND", left=left, right=right):
                lf, rf = sub(left), sub(right)
                return lambda row: _and(lf(row), lambda: rf(row))
            case Logical(left=left, right=right):
                lf, rf = sub(left), sub(right)
                return lambda row: _or(lf(row), lambda: rf(row))
            case Not(operand=operand):
                of = sub(operand)
                return lambda row: _not(of(row))
            case IsNull(operand=operand, negated=negated):
                of = sub(operand)
                return lambda row: (of(row) is None) != negated
            case In(operand=operand, items=items, negated=negated):
                return self._in(sub(operand), [sub(i) for i in items], negated)
            case Like(operand=operand, pattern=pattern, negated=negated):
                return self._like(sub(operand), sub(pattern), negated)
            case Case():
                return self._case(expr, sub)
            case Func(name=name) if name in AGGREGATES:
                if not aggregates:
                    raise SuiteQLError(f"Invalid search query. Group function {name} is not allowed here.")
                return self._aggregate(expr)
            case Func():
                return self._function(expr, sub)
            case Star():
                raise SuiteQLError("Invalid search query. '*' is only allowed in COUNT(*).")
        raise SuiteQLError(f"Invalid search query. Unsupported expression {expr!r}.")

    def _in(self, of: Fn, item_fns: list[Fn], negated: bool) -> Fn:
        tz = self.tz

        def test(row: Row) -> bool | None:
            value = of(row)
            results = [compare(value, f(row), tz) for f in item_fns]
            found = True if 0 in results else (None if None in results else False)
            return _not(found) if negated else found

        return test

    def _like(self, of: Fn, pf: Fn, negated: bool) -> Fn:
        tz = self.tz

        def test(row: Row) -> bool | None:
            value, pattern = render(of(row), tz), render(pf(row), tz)
            if value is None or pattern is None:
                return None
            regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
            return bool(re.fullmatch(regex, value, re.DOTALL)) != negated

        return test

    def _case(self, expr: Case, sub: Callable[[Expr], Fn]) -> Fn:
        operand = sub(expr.operand) if expr.operand is not None else None
        whens = [(sub(c), sub(v)) for c, v in expr.whens]
        default = sub(expr.default) if expr.default is not None else (lambda row: None)
        tz = self.tz

        def evaluate(row: Row) -> Any:
            subject = operand(row) if operand else None
            for condition, value in whens:
                hit = compare(subject, condition(row), tz) == 0 if operand else condition(row) is True
                if hit:
                    return value(row)
            return default(row)

        return evaluate

    def _aggregate(self, expr: Func) -> Fn:
        _check_arity(expr)
        name, (arg,) = expr.name, expr.args
        if isinstance(arg, Star):
            if name != "COUNT":
                raise SuiteQLError(f"Invalid search query. {name}(*) is not valid.")
            return lambda row: Decimal(len(row.group or []))
        inner = self._compile(arg, aggregates=False)
        tz = self.tz

        def evaluate(row: Row) -> Any:
            values = [v for v in (inner(Row(r)) for r in row.group or []) if v is not None]
            if name == "COUNT":
                return Decimal(len(values))
            if not values:
                return None
            if name == "SUM":
                return sum((_number(v) for v in values), Decimal(0))
            best = values[0]
            for value in values[1:]:
                if (compare(value, best, tz) < 0) == (name == "MIN"):
                    best = value
            return best

        return evaluate

    def _function(self, expr: Func, sub: Callable[[Expr], Fn]) -> Fn:
        _check_arity(expr)
        name, tz = expr.name, self.tz
        if name == "BUILTIN.DF" and isinstance(expr.args[0], Column) and self.joined is not None:
            display = self._joined_column(expr.args[0], lambda d: d.display or d.getter)
            return lambda row: None if row.record is None else display(row.record)
        if name == "BUILTIN.DF" and isinstance(expr.args[0], Column):
            self.column(expr.args[0])
            definition = self.table.column(expr.args[0].name)
            display = definition.display or definition.getter
            return lambda row: None if row.record is None else display(row.record)
        args = [sub(a) for a in expr.args]
        if name == "BUILTIN.DF":
            return args[0]
        if name == "NVL":
            return lambda row: _first_not_null(args[0](row), lambda: args[1](row))
        if name in ("UPPER", "LOWER"):
            return lambda row: _case_of(render(args[0](row), tz), name)
        if name == "TO_CHAR":
            mask = args[1] if len(args) == 2 else None
            return lambda row: _to_char(args[0](row), mask(row) if mask else None, tz)
        parse = args[0]
        mask = args[1] if len(args) == 2 else None
        return lambda row: _to_datetime(parse(row), mask(row) if mask else None, tz)


def _check_arity(expr: Func) -> None:
    if expr.name not in _ARITY:
        raise SuiteQLError(f"Invalid search query. Unknown function {expr.name}.")
    low, high = _ARITY[expr.name]
    if not low <= len(expr.args) <= high:
        raise SuiteQLError(f"Invalid search query. {expr.name} takes {low}..{high} arguments, got {len(expr.args)}.")


def _is_constant(expr: Expr) -> bool:
    if isinstance(expr, (Column, Star)) or (isinstance(expr, Func) and expr.name in AGGREGATES):
        return False
    return all(_is_constant(c) for c in children(expr))


def _maybe(result: int | None, test: Callable[[int], bool]) -> bool | None:
    return None if result is None else test(result)


def _and(left: bool | None, right: Callable[[], bool | None]) -> bool | None:
    if left is False:
        return False
    other = right()
    if other is False:
        return False
    return True if left is True and other is True else None


def _or(left: bool | None, right: Callable[[], bool | None]) -> bool | None:
    if left is True:
        return True
    other = right()
    if other is True:
        return True
    return False if left is False and other is False else None


def _not(value: bool | None) -> bool | None:
    return None if value is None else not value


def _first_not_null(value: Any, fallback: Callable[[], Any]) -> Any:
    return fallback() if value is None else value


def _case_of(text: str | None, name: str) -> str | None:
    if text is None:
        return None
    return text.upper() if name == "UPPER" else text.lower()


def _number(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value))
    except ArithmeticError:
        raise SuiteQLError(f"Invalid search query. Invalid number: {value!r}.") from None


def _to_char(value: Any, mask: Any, tz: ZoneInfo) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        local = value.astimezone(tz)
        return formats.format_datetime(local, mask) if mask else user_date(local, tz)
    if mask is not None:
        raise SuiteQLError("Invalid search query. Number format masks are not supported by the simulator.")
    return number_text(value) if isinstance(value, Decimal) else render(value, tz)


def _to_datetime(text: Any, mask: Any, tz: ZoneInfo) -> datetime | None:
    if text is None:
        return None
    if not isinstance(text, str):
        raise SuiteQLError(f"Invalid search query. TO_DATE/TO_TIMESTAMP take text, got {text!r}.")
    # Literals are read in the user's time zone: that is the zone SuiteQL compares and renders in.
    naive = formats.parse_datetime(text, mask if mask is not None else "MM/DD/YYYY")
    return naive.replace(tzinfo=tz)
