"""What records and select values are called: refName on GET, BUILTIN.DF in SuiteQL, deletedrecord.name."""

from __future__ import annotations

from typing import Any

from simulators.company import PROJECT_STATUSES

# The first of these a record has is its name.
NAME_FIELDS = ("entityId", "companyName", "title", "name", "itemId", "tranId", "symbol", "periodName")

# Display names of fixed select values, keyed "type.field". Others show their id.
ENUM_NAMES: dict[str, dict[str, str]] = {
    "job.entityStatus": PROJECT_STATUSES,
    "projectTask.status": {"NOTSTART": "Not Started", "PROGRESS": "In Progress", "COMPLETE": "Completed"},
    # The transaction status list (exports addendum §2.2); J and V are UNVERIFIED.
    "expenseReport.status": {
        "A": "In Progress",
        "B": "Pending Supervisor Approval",
        "C": "Pending Accounting Approval",
        "D": "Rejected by Supervisor",
        "E": "Rejected by Accounting",
        "F": "Approved by Accounting",
        "G": "Approved (Overridden) by Accounting",
        "H": "Rejected (Overridden) by Accounting",
        "I": "Paid In Full",
    },
}


def display_name(record: dict[str, Any]) -> str | None:
    return next((record[f] for f in NAME_FIELDS if isinstance(record.get(f), str) and record[f]), None)


def enum_name(rtype: str, field: str, value: str) -> str:
    return ENUM_NAMES.get(f"{rtype}.{field}", {}).get(value, value)
