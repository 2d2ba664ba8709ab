"""A write of an expense report whose answer was lost and that NetSuite processes late, after the client's retry
and after later writes of the same report, end to end through the runner on the simulators.

Found by the soak (seed 427260): the report was written, then written again to link its receipts; a first PUT
that had timed out was processed last and put back the lines without their receipt links. Here the simulator
holds such a request (a scripted `late` fault: taken, its connection dropped without an answer) and the test
processes it when it chooses (`process_held`): no sleeps, no dependence on thread timing.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from ctsync.reconcile.expenses import reconcile_expenses
from ctsync.records import expense_doubts, sheet_export
from ctsync.records.receipts import file_external_id
from tests.e2e.support import run
from tests.e2e.test_expense_export import (
    REPORTS,
    activity,  # noqa: F401 - a fixture
    external_id,
    files_by_external_id,
    lines_of,
    receipt_items,
    report_of,
    reports,
    sheet_with_receipts,
)
from tests.e2e.test_time_late_writes import Clock

pytestmark = pytest.mark.e2e


def links(session, sheet_id: str) -> dict[str, str]:
    """Line memo -> the file its expmediaitem links, of each line that links one."""
    return {
        line["memo"]: line["expmediaitem"]["id"]
        for line in lines_of(report_of(session, sheet_id))
        if line.get("expmediaitem")
    }


def wanted_links(session, sheet: dict[str, Any]) -> set[str]:
    files = files_by_external_id(session)
    return {files[file_external_id(i["ID"])][0]["id"] for i in receipt_items(session, [sheet])}


def unlinked(session) -> list[str]:
    runtime = session.runtime()
    result = reconcile_expenses(runtime.netsuite, runtime.clicktime, session.mappings, runtime.config)
    (check,) = [c for c in result.checks if c.name.startswith("receipts stored")]
    return check.differences


def test_a_report_put_processed_late_after_its_retry_and_the_receipts_leaves_every_receipt_linked(activity):  # noqa: F811
    session = activity
    ns = session.simulators.netsuite
    sheet = sheet_with_receipts(session)
    path = f"{REPORTS}eid:{external_id(sheet['ID'])}"
    ns.faults.inject("late", times=1, method="PUT", path=f"{path}$")

    first = run(session, "expenses")

    assert ns.faults.fired["late"] == 1  # the first PUT was taken and its answer lost; the client retried
    wanted = wanted_links(session, sheet)
    assert wanted and set(links(session, sheet["ID"]).values()) == wanted
    written = [w for w in first.netsuite_writes if w.path == path]

    # NetSuite gets round to the first PUT only now, after everything the run wrote to the report
    assert ns.process_held() == 1

    assert set(links(session, sheet["ID"]).values()) == wanted
    assert unlinked(session) == []
    assert len(written) == 1  # one PUT of the report reached NetSuite in the run: the retry, with every link
    assert run(session, "expenses").netsuite_writes == []


def test_a_late_put_from_before_a_receipt_retry_that_undoes_its_link_is_repaired(activity):  # noqa: F811
    # The one write the first fix leaves: the report's first write goes without a receipt that failed for a
    # moment; the retry of the receipt step stores it and writes the report again, linked; the first write's
    # answer was lost and NetSuite processes it after that. The retry checks the report's links once, later,
    # and writes it whole again when a link is gone.
    session = activity
    ct, ns = session.simulators.clicktime, session.simulators.netsuite
    sheet = sheet_with_receipts(session)
    item = receipt_items(session, [sheet])[0]
    ct.faults.inject(status=500, times=2, method="GET", path=rf"/receipts/{item['ID']}$")
    path = f"{REPORTS}eid:{external_id(sheet['ID'])}"
    ns.faults.inject("late", times=1, method="PUT", path=f"{path}$")
    ns.process_held_after(writes=2)  # after the client's retry and the write that links the receipt

    run(session, "expenses")

    assert ns.faults.fired["late"] == 1 and ct.faults.fired["500"] == 2
    assert ns.process_held() == 0  # processed in the run, right after the write that linked the receipt
    assert set(links(session, sheet["ID"]).values()) == wanted_links(session, sheet)
    assert unlinked(session) == []
    assert {c.key for c in session.runlog.causes("expenses") if sheet["ID"] in c.blocked} == set()
    assert run(session, "expenses").netsuite_writes == []


# -- a late request over a later write of the report: the sheet is looked at again -----------------------------------
# The expense export's clock is the test's (`utc_now` of its doubts and of the wait both exports share): "later than
# the wait" is a value, not a sleep.


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    for module in (expense_doubts, sheet_export):
        monkeypatch.setattr(module, "utc_now", clock)
    return clock


def after_the_wait(session, clock: Clock) -> None:
    clock.now += timedelta(seconds=session.runtime().config.netsuite.late_write_seconds + 1)


def exported_with_a_late_put(session) -> tuple[dict[str, Any], str]:
    """A sheet whose report's first PUT NetSuite took without answering (held: the client's retry wrote it)."""
    ns = session.simulators.netsuite
    sheet = sheet_with_receipts(session)
    path = f"{REPORTS}eid:{external_id(sheet['ID'])}"
    ns.faults.inject("late", times=1, method="PUT", path=f"{path}$")
    run(session, "expenses")
    assert ns.faults.fired["late"] == 1
    return sheet, path


def test_a_late_put_that_brings_back_a_rejected_sheets_report_is_deleted_by_a_later_run(activity, clock):  # noqa: F811
    session = activity
    ct, ns = session.simulators.clicktime, session.simulators.netsuite
    sheet, _ = exported_with_a_late_put(session)
    ct.clock.advance(timedelta(days=1))
    ct.expense_sheet_action(sheet["ID"], "UndoApproval", "Wrong project")
    run(session, "expenses")
    assert external_id(sheet["ID"]) not in reports(session)

    assert ns.process_held() == 1  # NetSuite gets round to the first PUT only now: the report is back
    assert external_id(sheet["ID"]) in reports(session)
    run(session, "expenses")  # before the wait is over nothing is done: a late request may still land
    assert external_id(sheet["ID"]) in reports(session)
    after_the_wait(session, clock)

    looked = run(session, "expenses")

    assert external_id(sheet["ID"]) not in reports(session), (
        f"the report of rejected sheet {sheet['ID']} is back in NetSuite (a late PUT) and stays: {looked.counts('expenses')}"
    )
    assert run(session, "expenses").netsuite_writes == []  # settled: no more looks


def test_a_late_put_that_undoes_a_correction_is_written_over_by_a_later_run(activity, clock):  # noqa: F811
    session = activity
    ct, ns = session.simulators.clicktime, session.simulators.netsuite
    sheet, _ = exported_with_a_late_put(session)
    first = amounts(session, sheet["ID"])
    item = ct.items_of(sheet["ID"])[0]
    ct.clock.advance(timedelta(days=1))
    ct.expense_sheet_action(sheet["ID"], "UndoApproval", "Wrong amount")
    ct.edit_expense_item(item["ID"], Amount=str(Decimal(str(item["Amount"])) + Decimal("10.00")))
    ct.expense_sheet_action(sheet["ID"], "Approve")
    run(session, "expenses")
    corrected = amounts(session, sheet["ID"])
    assert corrected != first

    assert ns.process_held() == 1  # the first PUT, with the old amount, lands after the correction
    assert amounts(session, sheet["ID"]) == first
    after_the_wait(session, clock)

    looked = run(session, "expenses")

    assert amounts(session, sheet["ID"]) == corrected, (
        f"a late PUT put the old amounts {first} back over the correction {corrected} and no run wrote it again: "
        f"{looked.counts('expenses')}"
    )
    assert set(links(session, sheet["ID"]).values()) == wanted_links(session, sheet)
    runtime = session.runtime()
    assert reconcile_expenses(runtime.netsuite, runtime.clicktime, session.mappings, runtime.config).ok
    assert run(session, "expenses").netsuite_writes == []


def amounts(session, sheet_id: str) -> list[Decimal]:
    return [Decimal(str(line["amount"])).quantize(Decimal("0.01")) for line in lines_of(report_of(session, sheet_id))]
