"""Running a query: filter, group, sort, project, and render every value as NetSuite sends it (a string).

Output rows are keyed by the lower-cased alias (or column name; other unnamed expressions become expr1,
expr2, ...), NULL columns are left out, and each row carries `"links": []`, as the REST SuiteQL service does.
"""

from __future__ import annotations

import heapq
from functools import cmp_to_key
from typing import Any
from zoneinfo import ZoneInfo

from simulators.netsuite.suiteql.ast import (
    AGGREGATES,
    Column,
    Compare,
    Expr,
    Func,
    Literal,
    Query,
    children,
    has_aggregate,
)
from simulators.netsuite.suiteql.catalog import Catalog
from simulators.netsuite.suiteql.compiler import Compiler, Fn, Row
from simulators.netsuite.suiteql.lexer import SuiteQLError
from simulators.netsuite.suiteql.parser import parse
from simulators.netsuite.suiteql.values import compare, render


def run(sql: str, catalog: Catalog, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Every row of the query, rendered."""
    return run_page(sql, catalog, tz, 0, None)[0]


def run_page(sql: str, catalog: Catalog, tz: ZoneInfo, start: int, end: int | None) -> tuple[list[dict[str, Any]], int]:
    """Rows `start` to `end` (exclusive; None: to the last) of the query's result, rendered, and how many rows
    the whole result has. Only the rows up to `end` are put in order and only the page is rendered, so a page of
    1,000 out of 100,000 rows costs one pass over the table, not a sort of all of it (the REST service pages
    every SuiteQL query)."""
    query = parse(sql)
    table = catalog.table(query.table)
    if table is None:
        # UNVERIFIED wording; the "Invalid search query" prefix and INVALID_PARAMETER code are NetSuite's.
        raise SuiteQLError(
            f"Invalid search query. Detailed unprocessed description follows. Search error "
            f"occurred: Record '{query.table}' was not found."
        )
    compiler = Compiler(table, query.alias or query.table, tz)
    joined_rows = _joined(query, table, catalog, compiler, tz) if query.joins else None
    grouped = bool(query.group_by) or any(has_aggregate(e) for e in _select_and_order(query))
    if grouped:
        _check_grouping(query)
    where = compiler.compile(query.where) if query.where is not None else None
    names = _output_names(query)
    items = [compiler.compile(item.expr, aggregates=grouped) for item in query.items]
    order = [(_order_fn(o.expr, query, names, items, compiler, grouped), o.descending) for o in query.order_by]

    rows = [Row(r) for r in (joined_rows if joined_rows is not None else table.rows())]
    if where is not None:
        rows = [row for row in rows if where(row) is True]
    if grouped:
        rows = _groups(rows, [compiler.compile(e) for e in query.group_by])
    total = len(rows)
    rows = _first(rows, order, tz, end)[start:end]

    out = []
    for row in rows:
        result: dict[str, Any] = {}
        for name, fn in zip(names, items, strict=True):
            text = render(fn(row), tz)
            if text is not None:
                result[name] = text
        result["links"] = []
        out.append(result)
    return out, total


def _joined(query: Query, table: Any, catalog: Catalog, compiler: Compiler, tz: ZoneInfo) -> list[dict[str, Any]]:
    """The rows of a query with joins: {alias: record}, a left row kept with None on the right of a LEFT join
    that matched nothing. An ON of the form a.x = b.y is answered through an index of the right table."""
    left = query.alias or query.table
    tables = {}
    for join in query.joins:
        joined_table = catalog.table(join.table)
        if joined_table is None:
            raise SuiteQLError(
                f"Invalid search query. Detailed unprocessed description follows. Search error "
                f"occurred: Record '{join.table}' was not found."
            )
        tables[join.alias] = joined_table
    compiler.with_joins(tables)
    rows: list[dict[str, Any]] = [{left: record} for record in table.rows()]
    for join in query.joins:
        on = compiler.compile(join.on)
        right_rows = list(tables[join.alias].rows())
        index = _equality_index(join, compiler, right_rows)
        combined: list[dict[str, Any]] = []
        for row in rows:
            candidates = index(row) if index else right_rows
            matches = [r for r in candidates if on(Row({**row, join.alias: r})) is True]
            if matches:
                combined.extend({**row, join.alias: r} for r in matches)
            elif join.outer:
                combined.append({**row, join.alias: None})
        rows = combined
    return rows


def _equality_index(join: Any, compiler: Compiler, right_rows: list[Any]) -> Any:
    """For ON a.x = b.y (b the joined table), a lookup of b's rows by y; None for any other condition."""
    condition = join.on
    if not (
        isinstance(condition, Compare)
        and condition.op == "="
        and isinstance(condition.left, Column)
        and isinstance(condition.right, Column)
    ):
        return None
    sides = (condition.left, condition.right)
    right = next((c for c in sides if c.qualifier == join.alias), None)
    other = next((c for c in sides if c.qualifier != join.alias), None)
    if right is None or other is None:
        return None
    right_value = compiler.column(right)
    left_value = compiler.column(other)
    buckets: dict[Any, list[Any]] = {}
    for record in right_rows:
        key = right_value({join.alias: record})
        if key is not None:
            buckets.setdefault(str(key), []).append(record)
    return lambda row: buckets.get(str(left_value(row)), []) if left_value(row) is not None else []


def _select_and_order(query: Query) -> list[Expr]:
    return [i.expr for i in query.items] + [o.expr for o in query.order_by]


def _output_names(query: Query) -> list[str]:
    names, unnamed = [], 0
    for item in query.items:
        if item.alias:
            names.append(item.alias.lower())
        elif isinstance(item.expr, Column):
            names.append(item.expr.name)
        else:
            unnamed += 1
            names.append(f"expr{unnamed}")
    return names


def _order_fn(expr: Expr, query: Query, names: list[str], items: list[Fn], compiler: Compiler, grouped: bool) -> Fn:
    """ORDER BY may name a select alias or a position (ORDER BY 2) as well as an expression."""
    if isinstance(expr, Column) and expr.qualifier is None and expr.name in names:
        return items[names.index(expr.name)]
    if isinstance(expr, Literal) and expr.value is not None and not isinstance(expr.value, str):
        position = int(expr.value)
        if not 1 <= position <= len(items):
            raise SuiteQLError(f"Invalid search query. ORDER BY position {position} is out of range.")
        return items[position - 1]
    return compiler.compile(expr, aggregates=grouped)


def _check_grouping(query: Query) -> None:
    """Outside aggregates, a grouped query may only use columns it groups by (Oracle's ORA-00979)."""
    grouped_columns = {c.name for e in query.group_by for c in _columns(e, inside_aggregates=True)}
    for expr in _select_and_order(query):
        for column in _columns(expr, inside_aggregates=False):
            if column.name not in grouped_columns:
                raise SuiteQLError(f"Invalid search query. '{column.name}' is not a GROUP BY expression.")


def _columns(expr: Expr, *, inside_aggregates: bool) -> list[Column]:
    if isinstance(expr, Column):
        return [expr]
    if not inside_aggregates and isinstance(expr, Func) and expr.name in AGGREGATES:
        return []
    return [c for child in children(expr) for c in _columns(child, inside_aggregates=inside_aggregates)]


def _groups(rows: list[Row], keys: list[Fn]) -> list[Row]:
    if not keys:  # aggregates without GROUP BY: one group, even over no rows
        return [Row(rows[0].record if rows else None, [r.record for r in rows])]
    groups: dict[tuple[Any, ...], list[Any]] = {}
    for row in rows:
        groups.setdefault(tuple(k(row) for k in keys), []).append(row.record)
    return [Row(members[0], members) for members in groups.values()]


def _first(rows: list[Row], order: list[tuple[Fn, bool]], tz: ZoneInfo, count: int | None) -> list[Row]:
    """The first `count` rows (None: all) in the query's order, a stable sort: equal rows keep the table's order.
    NULLs sort as the largest value: last ascending, first descending, as Oracle does."""
    if not order:
        return rows
    keyed = [(row, [fn(row) for fn, _ in order]) for row in rows]

    def cmp(a: tuple[Row, list[Any]], b: tuple[Row, list[Any]]) -> int:
        for i, (_, descending) in enumerate(order):
            x, y = a[1][i], b[1][i]
            if x is None or y is None:
                found = (x is None) - (y is None)
            else:
                found = compare(x, y, tz) or 0
            if found:
                return -found if descending else found
        return 0

    key = cmp_to_key(cmp)
    if count is None or count >= len(keyed):
        keyed.sort(key=key)
    else:
        keyed = heapq.nsmallest(count, keyed, key=key)  # = sorted(...)[:count], stable, in one pass
    return [row for row, _ in keyed]
