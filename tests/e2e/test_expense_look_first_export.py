"""Found by a review of the 2026-12-02 changes, fixed since (the test failed before the fix): a first export of an expense sheet whose report PUT's answer was lost, and whose attempt then failed
(its retries refused), records no doubt: the sheet has no mapping yet and `_keep_doubts` says "its redelivery writes
the report again by its external ID". The time export records a mapping for exactly this case
(`_record_doubts_of_failure`, test_time_late_writes::..._failed_and_succeeded_on_redelivery_is_still_looked_at)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.support import run
from tests.e2e.test_expense_export import REPORTS, activity, external_id, reports, sheet_with_receipts  # noqa: F401
from tests.e2e.test_expense_late_writes import after_the_wait, clock  # noqa: F401

pytestmark = pytest.mark.e2e


def test_a_late_put_of_a_first_export_that_failed_and_succeeded_on_redelivery_is_still_looked_at(activity, clock):  # noqa: F811
    session = activity
    ct, ns = session.simulators.clicktime, session.simulators.netsuite
    sheet = sheet_with_receipts(session)
    path = f"{REPORTS}eid:{external_id(sheet['ID'])}"
    attempts = session.runtime().config.retry.max_attempts
    ns.faults.inject("late", times=1, method="PUT", path=f"{path}$")
    ns.faults.inject(status=503, times=attempts - 1, method="PUT", path=f"{path}$")

    first = run(session, "expenses")
    assert ns.faults.fired["late"] == 1 and ns.faults.fired["503"] == attempts - 1
    assert external_id(sheet["ID"]) in reports(session), first.failures  # the redelivery wrote it

    # Rejected: the report leaves NetSuite
    ct.clock.advance(timedelta(days=1))
    ct.expense_sheet_action(sheet["ID"], "UndoApproval", "Wrong project")
    run(session, "expenses")
    assert external_id(sheet["ID"]) not in reports(session)

    # NetSuite processes the first attempt's PUT only now: the rejected sheet's report is back
    assert ns.process_held() == 1
    assert external_id(sheet["ID"]) in reports(session)
    after_the_wait(session, clock)
    run(session, "expenses")
    after_the_wait(session, clock)
    later = run(session, "expenses")

    back = reports(session).get(external_id(sheet["ID"]))
    assert not back, (
        f"expense report {back[0]['id']} of REJECTED sheet {sheet['ID']} was brought back by a late PUT of its first "
        f"export and no run removes it: A/P may pay a rejected expense ({later.counts('expenses')})"
    )
