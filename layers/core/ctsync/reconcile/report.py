"""Reconciliation results: named checks, each with what was expected, what was found and a sample of the
differences; a reconciliation `matches` when every check does."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, Field

Group = TypeVar("Group", bound=tuple[str, ...])
Amount = TypeVar("Amount")

SAMPLE = 10  # differences listed per check, and notes listed; a last line counts the rest
MORE = " (`ctns reconcile --all` lists them)"  # where the rest are: a month's close must name every record


class Check(BaseModel):
    name: str
    expected: int
    found: int
    differences: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.expected == self.found and not self.differences


def groups_check(
    name: str,
    expected: Mapping[Group, Amount],
    found: Mapping[Group, Amount],
    zero: Amount,
    difference: Callable[[Group, Amount, Amount], str],
) -> Check:
    """Each group holds the same amount on both sides (a group missing on one side holds `zero`): one difference
    line per group that differs, `difference(group, expected, found)`; `found` counts the expected groups that
    match."""
    differing = sorted(g for g in expected.keys() | found.keys() if expected.get(g, zero) != found.get(g, zero))
    return Check(
        name=name,
        expected=len(expected),
        found=len(expected) - len([g for g in differing if g in expected]),
        differences=[difference(g, expected.get(g, zero), found.get(g, zero)) for g in differing],
    )


HOURS_UNKNOWN = "hours unknown: the sheet cannot be read"
AMOUNT_UNKNOWN = "amount unknown: the sheet cannot be read"


def unreadable(sheet: str, error: Exception, approved: str) -> str:
    """The note for a sheet ClickTime sends unreadable (`BadInput`, a record its model refuses): the export refuses
    that sheet alone (its dead letter names it), so the reconciliation names it, with what it holds approved as far
    as the sheet's own figures tell (`approved`: its hours or amount, or `HOURS_UNKNOWN` / `AMOUNT_UNKNOWN`), counts
    that as left out like a blocked sheet's (approved, not in NetSuite), and compares the others."""
    first = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"{sheet} ({approved}) cannot be read, so it is not compared: {first}"


def left_out_unknown(sheets: list[str]) -> str:
    """The `blocked_unknown` total: the sheets left out whose hours or amount nothing read tells ("none")."""
    return ", ".join(sheets) or "none"


class Reconciliation(BaseModel):
    record: str
    checks: list[Check]
    totals: dict[str, str] = Field(default_factory=dict)  # the figures compared, for the report
    notes: list[str] = Field(default_factory=list)  # what was left out of the comparison, and why

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_report(self, *, every: bool = False) -> dict[str, Any]:
        """The report: a sample of each list (`_sample`), or `every` line of them (`ctns reconcile --all`)."""
        cut = (lambda lines: list(lines)) if every else _sample
        return {
            "ok": self.ok,
            "matches": self.ok,
            "checks": [
                {
                    "name": c.name,
                    "expected": c.expected,
                    "found": c.found,
                    "ok": c.ok,
                    "differences": cut(c.differences),
                }
                for c in self.checks
            ],
            "totals": self.totals,
            "notes": cut(self.notes),
        }


def _sample(lines: list[str]) -> list[str]:
    """The first SAMPLE lines, and how many more there are: a check's expected and found need not count its
    differences (a group only NetSuite holds counts in neither), and nothing counts the notes."""
    rest = len(lines) - SAMPLE
    return lines[:SAMPLE] + ([f"and {rest} more{MORE}"] if rest > 0 else [])
