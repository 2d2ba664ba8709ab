"""What the engine needs from the data it queries: tables by name, each with its columns and rows.

The engine knows nothing of records: a column is a getter from a row (whatever the table's rows are) to a
SuiteQL value, plus, for references, a getter for the display name BUILTIN.DF returns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class ColumnDef:
    getter: Callable[[Any], Any]
    display: Callable[[Any], Any] | None = None  # BUILTIN.DF; None: the value itself


class Table(Protocol):
    name: str

    def column(self, name: str) -> ColumnDef | None: ...

    def rows(self) -> Iterable[Any]: ...


class Catalog(Protocol):
    def table(self, name: str) -> Table | None: ...


class ListTable:
    """A table over a list of dicts already holding SuiteQL values, keyed by column name."""

    def __init__(self, name: str, columns: Iterable[str], rows: Callable[[], Iterable[Mapping[str, Any]]]) -> None:
        self.name = name
        self._columns = {c: ColumnDef(lambda row, c=c: row.get(c)) for c in columns}
        self._rows = rows

    def column(self, name: str) -> ColumnDef | None:
        return self._columns.get(name)

    def rows(self) -> Iterable[Any]:
        return self._rows()
