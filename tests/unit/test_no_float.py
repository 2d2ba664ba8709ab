"""Hours and money never pass through float in the core (layers/core/ctsync), checked statically with `ast`.

Two rules, each failing with the offending file:line:

1. No call to `float(...)` anywhere. The one exception is reading an HTTP `Retry-After` header, a number of
   seconds to wait (a duration, like RetryPolicy's seconds), inside a function named for it (`retry_after…`).
2. No `float` annotation on anything whose name suggests money or hours (hours, amount, rate, price, total,
   cost): arguments, annotated assignments and class fields, and functions returning one.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CORE = REPO / "layers" / "core" / "ctsync"
MONEY_OR_HOURS = re.compile(r"hour|amount|rate|price|total|cost", re.IGNORECASE)
# Parsing the Retry-After header's seconds: a duration, not money or hours.
FLOAT_CALL_ALLOWED_IN = re.compile(r"^_?retry_after(_seconds)?$")


def core_files() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def _nodes_with_function(tree: ast.AST) -> Iterator[tuple[ast.AST, str | None]]:
    """Every node, with the name of the innermost function it is in (None at module or class level)."""

    def visit(node: ast.AST, function: str | None) -> Iterator[tuple[ast.AST, str | None]]:
        for child in ast.iter_child_nodes(node):
            yield child, function
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            yield from visit(child, inner)

    yield from visit(tree, None)


def _mentions_float(annotation: ast.AST | None) -> bool:
    """True for `float`, `float | None`, `Optional[float]`, `list[float]`, and the same written as a string."""
    if annotation is None:
        return False
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return "float" in annotation.value
    return any(isinstance(n, ast.Name) and n.id == "float" for n in ast.walk(annotation))


def _target_name(target: ast.AST) -> str:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return ""


def float_calls(path: Path, root: Path = REPO) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node, function in _nodes_with_function(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "float"):
            continue
        if function is not None and FLOAT_CALL_ALLOWED_IN.match(function):
            continue
        found.append(f"{path.relative_to(root)}:{node.lineno}: float(...) in {function or 'module scope'}")
    return found


def money_annotated_as_float(path: Path, root: Path = REPO) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    where = path.relative_to(root)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            if MONEY_OR_HOURS.search(node.arg) and _mentions_float(node.annotation):
                found.append(f"{where}:{node.lineno}: argument {node.arg!r} is float")
        elif isinstance(node, ast.AnnAssign):
            name = _target_name(node.target)
            if MONEY_OR_HOURS.search(name) and _mentions_float(node.annotation):
                found.append(f"{where}:{node.lineno}: {name!r} is float")
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if MONEY_OR_HOURS.search(node.name) and _mentions_float(node.returns):
                found.append(f"{where}:{node.lineno}: {node.name}() returns float")
    return found


# -- the checks over the core --------------------------------------------------------------------------------
def test_the_core_is_where_the_test_looks():
    files = core_files()
    assert len(files) > 10
    assert CORE / "money.py" in files and CORE / "clicktime" / "models.py" in files


def test_no_float_call_in_the_core():
    offenders = [line for path in core_files() for line in float_calls(path)]
    assert offenders == [], "float() in the core, where hours and money must stay Decimal:\n" + "\n".join(offenders)


def test_no_money_or_hours_annotated_as_float():
    offenders = [line for path in core_files() for line in money_annotated_as_float(path)]
    assert offenders == [], "money or hours typed as float:\n" + "\n".join(offenders)


def test_money_and_hours_fields_of_the_clicktime_models_are_decimal():
    from ctsync.clicktime import models

    checked = 0
    for model in (models.TimeEntry, models.ExpenseItem, models.ExpenseSheet):
        for name, field in model.model_fields.items():
            if MONEY_OR_HOURS.search(name) and not name.endswith("Currency"):  # AmountForeignCurrency is "EUR"
                # Decimal, read through the plain-number check (models.Number), optional or not
                assert field.annotation in (Decimal, models.Number, models.Number | None), (
                    f"{model.__name__}.{name}: {field.annotation}"
                )
                checked += 1
    assert checked >= 6  # Hours, BillingRate, CostRate, Amount, AmountForeign…, TotalAmount


# -- the checker finds what it should, so a green run means something ---------------------------------------
PROBE = """\
from dataclasses import dataclass
def total_hours(rows) -> "float":
    return float(sum(rows))
@dataclass
class Line:
    amount: float | None = None
    timeout_seconds: float = 1.0
def bill(rate: float, pause_seconds: float) -> None:
    self_cost: float = 0
def retry_after_seconds(value):
    return float(value)
x = float("1.5")
"""


def test_the_checker_reports_file_and_line(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    assert float_calls(probe, tmp_path) == [
        "probe.py:3: float(...) in total_hours",
        "probe.py:12: float(...) in module scope",
    ]
    assert sorted(money_annotated_as_float(probe, tmp_path)) == sorted(
        [
            "probe.py:2: total_hours() returns float",
            "probe.py:6: 'amount' is float",
            "probe.py:8: argument 'rate' is float",
            "probe.py:9: 'self_cost' is float",
        ]
    )
