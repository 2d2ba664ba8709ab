"""The SuiteQL view of the record store: one table per record type, plus deletedrecord.

Columns are the lower-cased REST field names (and custom field script ids). The values are what SuiteQL
returns rather than what REST does: references are the referenced id, checkboxes 'T'/'F', internal ids
numbers, dates and instants datetimes (shown in the user's zone), and timebill.hours decimal hours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from simulators.netsuite.names import enum_name
from simulators.netsuite.records import RecordStore
from simulators.netsuite.schema import FieldSpec, RecordSchema, RecordType
from simulators.netsuite.suiteql import ColumnDef, ListTable, SuiteQLError, Table

_NOT_COLUMNS = {"sublist", "subrecord", "refcollection", "array", "object"}


class QueryCatalog:
    """denied_tables: tables the integration role cannot see (NetSuiteSimulator.denied_tables)."""

    def __init__(self, schema: RecordSchema, store: RecordStore, tz: ZoneInfo) -> None:
        self.denied_tables: set[str] = set()
        self._tables: dict[str, Table] = {}
        for rtype in schema.types.values():
            self._tables[rtype.table] = RecordTable(rtype, store, tz)
        self._tables["deletedrecord"] = ListTable(
            "deletedrecord",
            ("recordid", "recordtypeid", "deleteddate", "name"),
            lambda: (_deleted_row(row) for row in store.deleted_rows()),
        )

        # UNVERIFIED table and column names: the assignee lines of project tasks, as SuiteAnalytics exposes them
        # (ODBC's project_task_assignments has project_task_id, resource_id, item_id); one row per line.
        self._tables["projecttaskassignment"] = ListTable(
            "projecttaskassignment",
            ("id", "projecttask", "resource", "serviceitem"),
            lambda: _assignments(store.snapshot("projectTask")),
        )

        # UNVERIFIED table and column names: NetSuite's Currency Exchange Rates as SuiteAnalytics exposes them (the
        # CurrencyRate record's baseCurrency, transactionCurrency, exchangeRate, effectiveDate; exports brief).
        self._tables["currencyrate"] = ListTable(
            "currencyrate",
            ("id", "basecurrency", "transactioncurrency", "exchangerate", "effectivedate"),
            lambda: (_rate_row(row, tz) for row in store.exchange_rates),
        )

    def table(self, name: str) -> Table | None:
        if name in {t.lower() for t in self.denied_tables}:
            # How NetSuite answers a table the role has no permission for: as if it did not exist, but with
            # INVALID_SEARCH. UNVERIFIED: the exact code (addendum §7 U5/U6).
            raise SuiteQLError(
                f"Invalid search query. Detailed unprocessed description follows. Search error occurred: "
                f"Record '{name}' was not found.",
                "INVALID_SEARCH",
            )
        return self._tables.get(name)


class RecordTable:
    def __init__(self, rtype: RecordType, store: RecordStore, tz: ZoneInfo) -> None:
        self.name = rtype.table
        self._rtype = rtype
        self._store = store
        self._columns: dict[str, ColumnDef] = {}
        for spec in rtype.fields.values():
            if spec.kind not in _NOT_COLUMNS:
                self._columns.setdefault(spec.name.lower(), self._column(spec, tz))
        if self.name == "item":
            # UNVERIFIED value: the item table's type column; every item the simulator holds is a service item.
            self._columns["itemtype"] = ColumnDef(lambda record: "Service")
        if self.name == "timebill":
            # UNVERIFIED name: a billed indicator for time that has been invoiced (NetSuiteSimulator.mark_time_billed).
            self._columns["isbilled"] = ColumnDef(lambda record: "T" if record["id"] in store.billed_time else "F")

    def column(self, name: str) -> ColumnDef | None:
        return self._columns.get(name)

    def rows(self) -> Iterable[Any]:
        return self._store.snapshot(self._rtype.name)

    def _column(self, spec: FieldSpec, tz: ZoneInfo) -> ColumnDef:
        name, kind = spec.name, spec.kind
        if name == "id":
            return ColumnDef(lambda record: _id(record.get("id")))
        if kind == "reference":
            return ColumnDef(lambda r: _id(_ref_id(r.get(name))), self._display(spec))
        if kind == "enum":
            return ColumnDef(lambda r: _id(_ref_id(r.get(name))), self._enum_display(name))
        if kind == "boolean":
            # A checkbox is never NULL in NetSuite: unset reads as 'F'.
            return ColumnDef(lambda r: "T" if r.get(name) is True else "F")
        if kind == "date":
            return ColumnDef(lambda r: _local_midnight(r.get(name), tz))
        if kind == "datetime":
            return ColumnDef(lambda r: _instant(r.get(name)))
        if kind in ("number", "integer"):
            return ColumnDef(lambda r: None if r.get(name) is None else Decimal(r[name]))
        if kind == "duration":
            return ColumnDef(lambda r: _hours(r.get(name)))
        return ColumnDef(lambda r: r.get(name) if isinstance(r.get(name), str) and r.get(name) else None)

    def _enum_display(self, name: str) -> Callable[[dict[str, Any]], Any]:
        rtype = self._rtype.name

        def display(record: dict[str, Any]) -> Any:
            value = _ref_id(record.get(name))
            return None if value is None else enum_name(rtype, name, value)

        return display

    def _display(self, spec: FieldSpec) -> Callable[[dict[str, Any]], Any]:
        store, name, targets = self._store, spec.name, spec.targets

        def display(record: dict[str, Any]) -> Any:
            ref = _ref_id(record.get(name))
            if ref is None:
                return None
            return (store.name_of(targets, ref) if targets else None) or ref

        return display


def _ref_id(value: Any) -> str | None:
    return value.get("id") if isinstance(value, dict) else None


def _id(value: str | None) -> Decimal | str | None:
    """Internal ids are numbers in SuiteQL (so `id > 1774` and ORDER BY id are numeric)."""
    if value is None:
        return None
    return Decimal(value) if value.isdigit() else value


def _hours(duration: str | None) -> Decimal | None:
    if duration is None:
        return None
    hours, minutes = duration.split(":")
    # UNVERIFIED: the precision SuiteQL gives timebill.hours; two decimals, so 0:20 reads 0.33.
    return (Decimal(hours) + Decimal(minutes) / 60).quantize(Decimal("0.01"), ROUND_HALF_UP)


@lru_cache(maxsize=65536)
def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@lru_cache(maxsize=65536)
def _local_midnight(text: str | None, tz: ZoneInfo) -> datetime | None:
    """A date field is midnight of that day where the user is (Oracle DATE, read in the user's zone)."""
    if text is None:
        return None
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=tz)


def _assignments(tasks: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for task in tasks:
        for number, line in enumerate((task.get("assignee") or {}).get("items", []), start=1):
            yield {
                "id": _id(f"{task['id']}{number:03d}"),
                "projecttask": _id(task["id"]),
                "resource": _id(_ref_id(line.get("resource"))),
                "serviceitem": _id(_ref_id(line.get("serviceItem"))),
            }


def _rate_row(row: dict[str, Any], tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": _id(row["id"]),
        "basecurrency": _id(row["basecurrency"]),
        "transactioncurrency": _id(row["transactioncurrency"]),
        "exchangerate": row["exchangerate"],
        "effectivedate": _local_midnight(row["effectivedate"], tz),
    }


def _deleted_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "recordid": _id(row["recordid"]), "deleteddate": _instant(row["deleteddate"])}
