"""Found by a review of the 2026-12-02 changes, fixed since (the test failed before the fix): a look (`op="check"`) whose receipt step fails for a moment queues the receipt retry as a copy of ITSELF
(`requeue_retry` copies the message: op stays "check"). The copy is taken for a look: `receipts_only` is ignored for
looks, and the look just finished and unlisted the sheet, so it answers "nothing left to look at". The receipt is
never stored nor linked and nothing queues the sheet again."""

from __future__ import annotations

import pytest

from ctsync.records.receipts import file_external_id
from tests.e2e.support import run
from tests.e2e.test_expense_export import (  # noqa: F401
    REPORTS,
    activity,
    external_id,
    files_by_external_id,
    receipt_items,
    sheet_with_receipts,
)
from tests.e2e.test_expense_late_writes import after_the_wait, clock, links, wanted_links  # noqa: F401

pytestmark = pytest.mark.e2e


def test_a_receipt_that_fails_for_a_moment_during_a_look_is_still_stored_and_linked(activity, clock):  # noqa: F811
    session = activity
    ct, ns = session.simulators.clicktime, session.simulators.netsuite
    sheet = sheet_with_receipts(session)
    item = receipt_items(session, [sheet])[0]
    path = f"{REPORTS}eid:{external_id(sheet['ID'])}"
    ns.faults.inject("late", times=1, method="PUT", path=f"{path}$")  # the sheet is listed for a look
    ct.faults.inject(status=500, times=1000, method="GET", path=rf"/receipts/{item['ID']}$")  # down all night
    run(session, "expenses")
    assert ns.faults.fired["late"] == 1
    ct.faults.clear()
    assert ns.process_held() == 1

    ct.faults.inject(status=500, times=2, method="GET", path=rf"/receipts/{item['ID']}$")  # a moment, at the look
    after_the_wait(session, clock)
    looked = run(session, "expenses")
    for _ in range(2):
        after_the_wait(session, clock)
        run(session, "expenses")

    stored = [
        i["ID"] for i in receipt_items(session, [sheet]) if file_external_id(i["ID"]) in files_by_external_id(session)
    ]
    linked = set(links(session, sheet["ID"]).values())
    assert item["ID"] in stored and len(linked) == len(receipt_items(session, [sheet])), (
        f"receipt of expense item {item['ID']} failed for a moment during the look at sheet {sheet['ID']}: its retry "
        f"was taken for a second look and dropped; stored {stored}, {len(linked)} line(s) linked, the auditor finds no "
        f"receipt ({looked.counts('expenses')})"
    )
