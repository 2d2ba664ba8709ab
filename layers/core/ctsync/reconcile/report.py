"""Reconciliation results: named checks, each with what was expected, what was found and a sample of the
differences; a reconciliation `matches` when every check does."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

SAMPLE = 10  # differences listed per check; the count is always complete


class Check(BaseModel):
    name: str
    expected: int
    found: int
    differences: list[str] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.expected == self.found and not self.differences


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
