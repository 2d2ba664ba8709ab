"""Reconciliation results: named checks, each with what was expected, what was found and a sample of the
differences; a reconciliation `matches` when every check does."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, Field

Group = TypeVar("Group", bound=tuple[str, ...])
Amount = TypeVar("Amount")

SAMPLE = 10  # differences listed per check; the count is always complete


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


class Reconciliation(BaseModel):
    record: str
    checks: list[Check]
    totals: dict[str, str] = Field(default_factory=dict)  # the figures compared, for the report
    notes: list[str] = Field(default_factory=list)  # what was left out of the comparison, and why

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_report(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "matches": self.ok,
            "checks": [
                {
                    "name": c.name,
                    "expected": c.expected,
                    "found": c.found,
                    "ok": c.ok,
                    "differences": c.differences[:SAMPLE],
                }
                for c in self.checks
            ],
            "totals": self.totals,
            "notes": self.notes[:SAMPLE],
        }
