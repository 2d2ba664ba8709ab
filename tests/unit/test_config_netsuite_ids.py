"""NetSuite internal ids as the config takes them (and as the functions read them from NetSuite and ClickTime):
ASCII digits only, kept without the spaces around them.

`projects.closed_status_ids` checked its entries stripped but kept them as written: " 1" validated and never matched
status "1", so a closed project's job stayed active in ClickTime. Every id check used `str.isdigit()`, true of '²',
full-width and Arabic-Indic digits (each validated, then reached NetSuite as {"id": "²"}; `int("²")` raised where a
check had said yes), and `receipts.folder_parent` allowed any number of leading dashes.

Found by a fresh review (2026-12-02, review 9); failed before the fix (`ctsync.digits.is_number`, config ids
stripped)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ctsync.config import SyncConfig
from ctsync.digits import is_number
from ctsync.netsuite.client import _key_order
from ctsync.records.expense_lines import id_order
from ctsync.records.projects import ProjectSnapshot, is_open
from ctsync.sync.queues import ATTEMPTS, Carried

BASE = {"netsuite": {"account_id": "1234567_SB1"}}


def config(section: str, value: dict[str, Any]) -> SyncConfig:
    return SyncConfig.model_validate({**BASE, section: value})


def test_a_closed_status_id_given_with_spaces_still_closes_the_project():
    projects = config("projects", {"closed_status_ids": [" 1", "17 "]}).projects
    closed = ProjectSnapshot(id="7", number="P-7", name="Closed one", customer=None, status_id="1")

    assert projects.closed_status_ids == ["1", "17"]
    assert not is_open(closed, projects)


@pytest.mark.parametrize(
    ("section", "value", "kept"),
    [
        ("time", {"service_item_id": " 12 "}, lambda c: c.time.service_item_id),
        ("time", {"classification": {"subsidiary": "3 "}}, lambda c: c.time.classification.subsidiary),
        ("people", {"overrides": {"a@example.com": " 101"}}, lambda c: c.people.overrides["a@example.com"]),
        ("expenses", {"categories": {"Meals": "11 "}}, lambda c: c.expenses.categories["Meals"]),
        ("expenses", {"receipts": {"folder_parent": " -15"}}, lambda c: c.expenses.receipts.folder_parent),
    ],
)
def test_every_internal_id_is_kept_without_the_spaces_around_it(section, value, kept):
    assert kept(config(section, value)).strip() == kept(config(section, value)) != ""


@pytest.mark.parametrize(
    ("section", "value"),
    [
        ("time", {"service_item_id": "\u00b2"}),  # superscript two
        ("time", {"classification": {"subsidiary": "\uff11\uff12"}}),  # full-width 12 (an IME's digits)
        ("projects", {"closed_status_ids": ["\u0663"]}),  # Arabic-Indic three
        ("people", {"overrides": {"a@example.com": "\uff15"}}),
        ("expenses", {"categories": {"Meals": "\u00b3"}}),
        ("expenses", {"receipts": {"folder_parent": "--5"}}),
        ("expenses", {"receipts": {"folder_parent": "-\u0665"}}),
        ("time", {"service_item_id": "-12"}),  # only a folder's id may be negative
    ],
)
def test_a_netsuite_internal_id_that_is_not_ascii_digits_is_refused(section, value):
    with pytest.raises(ValidationError, match="internal id"):
        config(section, value)


def test_a_number_is_ascii_digits_with_one_minus_only_where_asked_for():
    assert is_number("12") and is_number("-15", negative=True)
    assert not any(is_number(text) for text in ("", "-15", " 12", "12\n", "\u00b2", "\uff11", "\u0663"))
    assert not any(is_number(text, negative=True) for text in ("-", "--5", "+5", "-\u0665"))


def test_ids_from_netsuite_or_clicktime_in_other_digits_are_ordered_and_counted_without_a_crash():
    """`int('²')` raises although '²'.isdigit(): ordering ids and reading a message's counters took the check's
    word for it."""
    assert id_order("\u00b2") == (1, "\u00b2") and id_order("12") == (0, 12)
    assert _key_order("--5") == (1, "--5") and _key_order("-15") == (0, -15)
    carried = Carried.from_attributes({ATTEMPTS: {"StringValue": "\u00b2"}})
    assert carried.attempts == 0


def test_overrides_that_people_match_would_ignore_are_refused_saying_what_to_add():
    """Before, `people.match` without "override" dropped every override without a word (review, 2026-12-03)."""
    with pytest.raises(ValidationError, match='people.match leaves out "override"'):
        config("people", {"match": ["email"], "overrides": {"a@example.com": "101"}})
    assert config("people", {"match": ["email"]}).people.match == ["email"]  # no overrides: nothing to ignore
    assert config("people", {"match": ["email", "override"], "overrides": {"a@example.com": "101"}}).people.overrides
