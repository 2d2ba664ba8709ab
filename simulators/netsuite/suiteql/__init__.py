"""A small SuiteQL engine: lexer -> parser (AST) -> compiler (closures over one table) -> engine (rows)."""

from simulators.netsuite.suiteql.catalog import Catalog, ColumnDef, ListTable, Table
from simulators.netsuite.suiteql.engine import run, run_page
from simulators.netsuite.suiteql.lexer import SuiteQLError

__all__ = ["Catalog", "ColumnDef", "ListTable", "SuiteQLError", "Table", "run", "run_page"]
