"""DynamoDB at DynamoDB's cost, for the benchmark's moto server: a `Query` reads the items of one partition, and a
`TransactWriteItems` keeps aside the items it writes, not the whole table.

Moto answers every `Query` by sorting all of the table's items and testing each one: O(n log n) in the table's
size, under the server's one-request-at-a-time lock. Real DynamoDB reads one partition of the table or of a
global secondary index. With a few thousand mappings in the table a `Query` took moto 9 ms (50 ms at 5,000 time
entries) and kept the one server busy, which set the time export's pace rather than NetSuite's bound.

`install()` hands moto's own `Table.query` only the candidates of the partition asked for:
- on the table: `items[hash_key]`, moto's own storage;
- on an index: an index of the table's items by that index's hash attribute, built on the first query and kept up
  to date by the writes (`Table.put_item`, `Table.delete_item`, the backend's in-place `update_item`). A
  transaction that is rolled back puts back moto's deep copy of the table, which carries the index as it stood.

Everything else (key conditions, sort order, filters, paging, projections, errors) is still moto's: it runs its
query over those candidates.

Moto keeps a deep copy of every table a transaction writes, once per item of the transaction, to put back if it
fails: seconds per transaction once the table holds tens of thousands of items (the benchmark's 20,000 time
entries). Here the copy shares the items the transaction does not write (nothing changes them meanwhile: one
request at a time) and copies only those it does; put back, it builds its index again on its next query.

`tests/integration/test_bench_dynamodb_cost.py` checks the answers against moto's own over random writes, and
the table a transaction leaves (committed or rolled back) against what moto's own leaves.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import inspect
import threading
from collections.abc import Callable
from typing import Any

INDEX = "_ctns_partitions"  # on a moto Table: {attribute: Partitions}


class Partitions:
    """A table's item keys by the value of one attribute (an index's hash key)."""

    def __init__(self) -> None:
        self.by_value: dict[Any, dict[Any, None]] = {}
        self.by_key: dict[Any, Any] = {}

    def forget(self, key: Any) -> None:
        value = self.by_key.pop(key, None)
        if value is not None:
            self.by_value[value].pop(key, None)

    def note(self, key: Any, item: Any, attribute: str) -> None:
        self.forget(key)
        value = item.attrs.get(attribute) if item is not None else None
        if value is not None:
            self.by_key[key] = value
            self.by_value.setdefault(value, {})[key] = None


def _key(item: Any) -> tuple[Any, Any]:
    return (item.hash_key, item.range_key)


def _partitions(table: Any, attribute: str) -> Partitions:
    indexes: dict[str, Partitions] = table.__dict__.setdefault(INDEX, {})
    if attribute not in indexes:
        partitions = Partitions()
        for item in _every_item(table):
            partitions.note(_key(item), item, attribute)
        indexes[attribute] = partitions
    return indexes[attribute]


def _every_item(table: Any) -> list[Any]:
    if table.range_key_attr:
        return [item for by_range in table.items.values() for item in by_range.values()]
    return list(table.items.values())


def _reindex(table: Any, hash_key: Any, range_key: Any) -> None:
    indexes: dict[str, Partitions] = table.__dict__.get(INDEX, {})
    if not indexes:
        return
    item = table.get_item(hash_key, range_key) if (range_key is not None or not table.range_key_attr) else None
    for attribute, partitions in indexes.items():
        partitions.note((hash_key, range_key), item, attribute)


def _candidates(table: Any, hash_key: Any, index_name: str | None, conditions: Any) -> list[Any] | None:
    """The items the query can match, or None when this module cannot tell (moto then tests every item)."""
    if not index_name:
        if hash_key is None:
            return None
        found = table.items.get(hash_key)
        if found is None:
            return []
        return list(found.values()) if table.range_key_attr else [found]
    if not conditions or len(conditions) != 1:
        return None
    attribute, value = conditions[0]
    keys = list(_partitions(table, attribute).by_value.get(value, {}))
    items = [table.get_item(h, r) if table.range_key_attr else table.items.get(h) for h, r in keys]
    return [i for i in items if i is not None and i.attrs.get(attribute) == value]


_written = threading.local()  # during a transaction: {table name: keys of the items it writes}


def _snapshot(table: Any, memo: dict[int, Any]) -> Any:
    """A copy of `table` to put back if the transaction fails: the item maps copied, the items it writes deep
    copied, the rest shared."""
    keys = getattr(_written, "by_table", {}).get(table.name)
    if keys is None:  # any other deep copy: the usual, whole one
        clone = table.__class__.__new__(table.__class__)
        memo[id(table)] = clone
        for name, value in table.__dict__.items():
            setattr(clone, name, copy.deepcopy(value, memo))
        return clone
    clone = copy.copy(table)
    clone.__dict__ = dict(table.__dict__)
    clone.__dict__.pop(INDEX, None)
    items = type(table.items)(dict)
    for hash_key, value in table.items.items():
        items[hash_key] = dict(value) if table.range_key_attr else value
    for hash_key, range_key in keys:
        if table.range_key_attr:
            if range_key in items.get(hash_key, {}):
                items[hash_key][range_key] = copy.deepcopy(items[hash_key][range_key])
        elif hash_key in items:
            items[hash_key] = copy.deepcopy(items[hash_key])
    clone.items = items
    return clone


def _keys_written(backend: Any, transact_items: list[dict[str, Any]]) -> dict[str, set[tuple[Any, Any]]]:
    written: dict[str, set[tuple[Any, Any]]] = {}
    for entry in transact_items:
        for kind, op in entry.items():
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Item") if kind == "Put" else op.get("Key")
            with contextlib.suppress(Exception):  # a malformed key: moto refuses the transaction
                written.setdefault(table.name, set()).add(backend.get_keys_value(table, key or {}))
    return written


def install() -> Callable[[], None]:
    """Patch moto's DynamoDB models in this process; returns what puts moto's own methods back (an index built
    meanwhile is then no longer kept: install it again only on tables nothing wrote to since)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if getattr(Table.query, "_ctns", False):
        return lambda: None
    query, put_item, delete_item = Table.query, Table.put_item, Table.delete_item
    update_item, transact_write_items = DynamoDBBackend.update_item, DynamoDBBackend.transact_write_items

    signature = inspect.signature(query)

    @functools.wraps(query)
    def partition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        asked = signature.bind(self, hash_key, *args, **kwargs).arguments
        candidates = _candidates(self, hash_key, asked.get("index_name"), asked.get("hash_key_conditions"))
        if candidates is None:
            return query(self, hash_key, *args, **kwargs)
        # moto's query, over the partition's items (sorted as its all_items would hand them over)
        self.all_items = lambda: sorted(
            candidates, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key
        )
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    @functools.wraps(put_item)
    def indexed_put_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = put_item(self, *args, **kwargs)
        _reindex(self, *_key(item))
        return item

    @functools.wraps(delete_item)
    def indexed_delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        try:
            return delete_item(self, hash_key, range_key)
        finally:
            _reindex(self, hash_key, range_key)

    @functools.wraps(update_item)
    def indexed_update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return update_item(self, table_name, key, *args, **kwargs)
        finally:
            table = self.tables.get(table_name)
            with contextlib.suppress(Exception):  # a malformed key: moto refused it, nothing changed
                _reindex(table, *self.get_keys_value(table, key))

    @functools.wraps(transact_write_items)
    def lighter_transaction(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        _written.by_table = _keys_written(self, transact_items)
        try:
            return transact_write_items(self, transact_items)
        finally:
            _written.by_table = {}

    partition_query._ctns = True  # type: ignore[attr-defined]
    Table.query = partition_query  # type: ignore[method-assign]
    Table.put_item = indexed_put_item  # type: ignore[method-assign]
    Table.delete_item = indexed_delete_item  # type: ignore[method-assign]
    DynamoDBBackend.update_item = indexed_update_item  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = lighter_transaction  # type: ignore[method-assign]
    Table.__deepcopy__ = _snapshot  # type: ignore[attr-defined]

    def uninstall() -> None:
        Table.query, Table.put_item, Table.delete_item = query, put_item, delete_item  # type: ignore[method-assign]
        DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        del Table.__deepcopy__  # type: ignore[attr-defined]

    return uninstall
