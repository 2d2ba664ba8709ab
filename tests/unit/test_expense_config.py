"""The expenses section of the config document: defaults, and what it refuses before a deploy."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ctsync.config import RECEIPT_LIMIT_BYTES, SyncConfig

BASE = {"netsuite": {"account_id": "1234567"}}


def test_the_expense_defaults_link_receipts_to_lines_and_take_netsuites_rates() -> None:
    expenses = SyncConfig.model_validate(BASE).expenses
    assert expenses.tran_date == "sheet" and expenses.on_unapproved == "delete"
    assert expenses.exchange_rates == "netsuite" and expenses.approval == {}
    assert expenses.receipts.link == "line" and expenses.receipts.max_bytes == RECEIPT_LIMIT_BYTES == 10 * 1024 * 1024
    assert expenses.receipts.retries >= 1  # a failed download is always retried at least once before it waits


def test_a_category_map_names_netsuite_internal_ids() -> None:
    config = SyncConfig.model_validate({**BASE, "expenses": {"categories": {" Client Gifts ": "310", "GYQr": "311"}}})
    assert config.expenses.categories == {"Client Gifts": "310", "GYQr": "311"}


@pytest.mark.parametrize(
    ("section", "match"),
    [
        ({"categories": {"Client Gifts": "Gifts"}}, "not a NetSuite internal id"),
        ({"receipts": {"link": "custcol"}}, "link"),
        ({"receipts": {"max_bytes": RECEIPT_LIMIT_BYTES + 1}}, "max_bytes"),
        ({"receipts": {"retries": 0}}, "retries"),
        ({"receipts": {"retry_delay_seconds": 901}}, "retry_delay_seconds"),
        ({"receipts": {"folder_parent": "SuiteScripts"}}, "not a NetSuite internal id"),
        ({"approval": {"approvalStatus": True}}, "approval"),
        ({"tran_date": "today"}, "tran_date"),
        ({"receipt": {}}, "receipt"),  # a typo is refused, not ignored
    ],
)
def test_a_wrong_expenses_section_is_refused_naming_the_setting(section: dict, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        SyncConfig.model_validate({**BASE, "expenses": section})
