"""A receipt download whose answer breaks off mid-body (review, 2026-12-03).

`requests` raises `ChunkedEncodingError` (a `RequestException`, not a `ConnectionError`) when the connection drops
while the body is read: the commonest way a large download fails. The ClickTime client turned only ConnectionError
and Timeout into a TransientError, so this one escaped the receipt step, which runs before the report's write: the
report was not written (receipts never block it), and after five attempts the sheet was dead-lettered with
"ChunkedEncodingError: Connection broken", naming no item. The simulator's `cut` fault sends the answer's headers
and half its body, then resets the connection."""

from __future__ import annotations

import pytest

from tests.e2e.test_expense_export_review import World  # noqa: F401

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("failure", ["cut-mid-body", "control-503"])
def test_a_receipt_download_broken_off_mid_body_does_not_block_the_report(world, failure):
    """The control: a download answering 503 every time leaves the report written and the receipt reported."""
    sheet = world.sheet()
    item = world.item(sheet, "42.50", receipt=b"%PDF-1.4 receipt\n%%EOF\n" * 40, receipt_type="application/pdf")
    world.approve(sheet)
    if failure == "control-503":
        world.ct.fail_receipt(item, 503)
    else:
        world.ct.faults.inject("cut", times=1000, method="GET", path=rf"^/receipts/{item}$")

    result = world.run()

    report = world.report(sheet)
    reasons = [f.get("reason", "") for f in result.failures]
    assert report is not None, f"expense sheet {sheet}: not written (failures: {reasons})"
    assert any(item in r and "receipt" in r for r in reasons), reasons
    assert not any("Traceback" in r or "http" in r for r in reasons), reasons
    if failure == "cut-mid-body":
        assert world.ct.faults.fired["cut"] >= 2
