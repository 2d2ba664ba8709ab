"""Two ACTIVE NetSuite employees with the ClickTime user's e-mail (a transfer to another subsidiary makes a second
employee record while the old one stays active): both exports picked the lower internal id without a word, so
time and expenses went to the old record, in its subsidiary and currency. An expense type matching two active
categories is refused as ambiguous (`category-ambiguous`); a person now is too (`employee-ambiguous`), until
`people.overrides` names one. A rehire (the old record inactive) still goes to the active one: see
`test_time_export_third_review.py`, J.

Found by a fresh review of the exports (2026-12-02, review 10); failed before the fix
(`records.references._one_active`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.test_expense_export_review import World as ExpenseWorld
from tests.e2e.test_time_export_review import WEEK
from tests.e2e.test_time_export_review import World as TimeWorld

pytestmark = pytest.mark.e2e


def transferred(world) -> str:
    """A second, active employee record with the user's e-mail, in the other subsidiary: its internal ID."""
    old = world.ns.records.get("employee", world.employee)
    new = world.ns.records.add(
        "employee",
        {
            "entityId": "E9001",
            "firstName": old["firstName"],
            "lastName": old["lastName"],
            "email": world.user["Email"],
            "subsidiary": {"id": "2"},
            "isInactive": False,
        },
    )
    return new["id"] if isinstance(new, dict) else str(new)


@pytest.mark.parametrize("export", ["time", "expenses"])
def test_an_email_shared_by_two_active_employees_blocks_the_sheet(open_session, export):
    world = TimeWorld(open_session()) if export == "time" else ExpenseWorld(open_session())
    new = transferred(world)
    sheet = world.sheet()
    if export == "time":
        world.entry(sheet, WEEK, "2")
    else:
        world.item(sheet, "42.50")
    world.approve(sheet)
    world.ct.clock.advance(timedelta(hours=1))
    result = world.run()

    written = world.ns.records.all("timeBill" if export == "time" else "expenseReport")
    causes = [c for c in world.causes() if c.key.startswith("employee-ambiguous")]
    assert not written and causes, (
        f"ClickTime user {world.user['Email']} is both NetSuite employee {world.employee} and {new} (both active): "
        f"the {export} export wrote {[(r['id'], (r.get('employee') or r.get('entity'))) for r in written]} "
        f"with causes {[c.key for c in world.causes()]} (run {result.counts(export)})"
    )
    assert world.employee in causes[0].reason and new in causes[0].reason, causes[0].reason
    assert "people.overrides" in causes[0].fix, causes[0].fix
