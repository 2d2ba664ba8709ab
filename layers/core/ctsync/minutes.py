"""Decimal hours to NetSuite's whole minutes, without drift.

NetSuite keeps a time bill's duration in whole minutes; ClickTime keeps hours as decimals (0.33 h is 19.8
minutes). Rounding each entry on its own drifts: three entries of 0.33 h would be 3 x 20 = 60 minutes for
0.99 h (59.4 minutes). The rule, per timesheet, project and day (one group; the export writes one timesheet at a
time, so two ClickTime users mapped to one NetSuite employee have their days rounded apart):

1. the group's total is its exact hours x 60, rounded to the minute half up (59.4 -> 59);
2. each entry first gets the whole minutes of its own exact value, rounded down (19.8 -> 19);
3. the minutes left (59 - 57 = 2) go one each to the entries with the largest fractional parts, ties to the
   earlier entry in the group's order (the caller's order: `records.time_export.bill_minutes` orders by date,
   then ClickTime ID, for the export and the reconciliation alike).

So the group's total in NetSuite equals ClickTime's total rounded to the minute, every entry is within one
minute of its exact value, and the result never depends on anything but the entries themselves and that order.

Bills NetSuite will not let change (billed, posted, in a closed period) are `fixed`: such an entry keeps the minutes
its bill holds when they are still the floor or the ceiling of its exact value (its entry did not change beyond
rounding), and the group's total less those minutes is shared by the others by the same rule (step 2, then step 3
with what is left), each still within one minute of its exact value. So a minute never moves onto or off a bill
that cannot change, and the group's total stays exact whenever the others can make it up; when they cannot (a
fixed bill off by a minute the others cannot absorb) it is as near as that allows. A fixed entry whose minutes are
no longer within a minute of its exact value (its entry changed) is allocated as any other: its bill is to change,
and the export flags it (finance review, 2026-12-04).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

MINUTES_PER_HOUR = 60


@dataclass(frozen=True)
class Timed:
    key: str  # the entry's identity (ClickTime time entry ID)
    group: Hashable  # entries of one group share a rounded total (employee, project, day)
    hours: Decimal


def group_total_minutes(hours: Sequence[Decimal]) -> int:
    """A group's total minutes: its exact total, rounded to the minute half up."""
    exact = sum(hours, Decimal(0)) * MINUTES_PER_HOUR
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocate(entries: Sequence[Timed], fixed: Mapping[str, int] | None = None) -> dict[str, int]:
    """Whole minutes per entry key, by the rule in the module docstring. Hours must not be negative. `fixed`: entry
    key -> the minutes of its bill that cannot change (kept while within a minute of the entry's exact value)."""
    fixed = fixed or {}
    groups: dict[Hashable, list[Timed]] = {}
    for entry in entries:
        if entry.hours < 0:
            raise ValueError(f"negative hours {entry.hours} on {entry.key}")
        groups.setdefault(entry.group, []).append(entry)
    minutes: dict[str, int] = {}
    for members in groups.values():
        exact = [entry.hours * MINUTES_PER_HOUR for entry in members]
        floors = [int(value.to_integral_value(rounding=ROUND_FLOOR)) for value in exact]
        kept = {
            i: fixed[entry.key]
            for i, entry in enumerate(members)
            if entry.key in fixed and floors[i] <= fixed[entry.key] <= _ceiling(exact[i])
        }
        free = [i for i in range(len(members)) if i not in kept]
        total = group_total_minutes([entry.hours for entry in members])
        left = total - sum(kept.values()) - sum(floors[i] for i in free)
        # Each free entry gets at most one minute more than its floor, and only one with a fractional part: what the
        # fixed bills hold beyond (or short of) their share the others make up only that far.
        rounding_up = [i for i in free if exact[i] > floors[i]]
        left = max(0, min(left, len(rounding_up)))
        # Largest fractional part first; ties keep the caller's order (sorted is stable).
        order = sorted(rounding_up, key=lambda i: -(exact[i] - floors[i]))
        for i in order[:left]:
            floors[i] += 1
        for i, entry in enumerate(members):
            minutes[entry.key] = kept.get(i, floors[i])
    return minutes


def _ceiling(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def duration(minutes: int) -> str:
    """NetSuite's `H:MM` duration text of whole minutes (119 -> "1:59")."""
    if minutes < 0:
        raise ValueError(f"negative minutes {minutes}")
    return f"{minutes // MINUTES_PER_HOUR}:{minutes % MINUTES_PER_HOUR:02d}"


def hours_to_minutes(hours: Decimal) -> int:
    """NetSuite's decimal hours (SuiteQL's `timebill.hours`, two places) back to whole minutes."""
    return int((hours * MINUTES_PER_HOUR).quantize(Decimal(1), rounding=ROUND_HALF_UP))
