"""The parsed form of a SuiteQL query. Frozen, so equal expressions compare equal (GROUP BY checks rely on it)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


class Expr:
    """Base of every expression node."""


@dataclass(frozen=True)
class Literal(Expr):
    value: str | Decimal | None


@dataclass(frozen=True)
class Column(Expr):
    qualifier: str | None  # the table alias as written, or None
    name: str  # lower-cased


@dataclass(frozen=True)
class Star(Expr):
    """The * in COUNT(*)."""


@dataclass(frozen=True)
class Func(Expr):
    name: str  # upper-cased, BUILTIN.DF included
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Case(Expr):
    operand: Expr | None  # CASE x WHEN v ... (simple form) when set
    whens: tuple[tuple[Expr, Expr], ...]
    default: Expr | None


@dataclass(frozen=True)
class Compare(Expr):
    op: str  # = <> < <= > >=   (!= is read as <>)
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Logical(Expr):
    op: str  # AND | OR
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Not(Expr):
    operand: Expr


@dataclass(frozen=True)
class In(Expr):
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool


@dataclass(frozen=True)
class IsNull(Expr):
    operand: Expr
    negated: bool


@dataclass(frozen=True)
class Like(Expr):
    operand: Expr
    pattern: Expr
    negated: bool


@dataclass(frozen=True)
class SelectItem:
    expr: Expr
    alias: str | None


@dataclass(frozen=True)
class OrderItem:
    expr: Expr
    descending: bool


@dataclass(frozen=True)
class Join:
    table: str  # lower-cased
    alias: str
    on: Expr
    outer: bool  # LEFT [OUTER] JOIN keeps left rows without a match


@dataclass(frozen=True)
class Query:
    items: tuple[SelectItem, ...]
    table: str  # lower-cased
    alias: str | None
    where: Expr | None
    group_by: tuple[Expr, ...]
    order_by: tuple[OrderItem, ...]
    joins: tuple[Join, ...] = ()


AGGREGATES = frozenset({"COUNT", "SUM", "MIN", "MAX"})


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions, for walks (aggregate detection, GROUP BY checks)."""
    match expr:
        case Func(args=args):
            return args
        case Case(operand=operand, whens=whens, default=default):
            parts = [operand, *(e for pair in whens for e in pair), default]
            return tuple(p for p in parts if p is not None)
        case Compare(left=left, right=right) | Logical(left=left, right=right):
            return (left, right)
        case Not(operand=operand) | IsNull(operand=operand):
            return (operand,)
        case In(operand=operand, items=items):
            return (operand, *items)
        case Like(operand=operand, pattern=pattern):
            return (operand, pattern)
    return ()


def has_aggregate(expr: Expr) -> bool:
    if isinstance(expr, Func) and expr.name in AGGREGATES:
        return True
    return any(has_aggregate(child) for child in children(expr))
