"""External IDs are one to one with ClickTime IDs, so two records never upsert one NetSuite record."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ctsync.netsuite.external_ids import UNWRITTEN, external_id
from ctsync.records import expense_lines, receipts, time_export


def test_ids_a_review_found_sharing_an_external_id_no_longer_do() -> None:
    for make in (expense_lines.external_id, receipts.file_external_id, time_export.external_id):
        assert make("7.") != make("7_2e")
        assert make("\u0101") != make("\x101")


def test_clicktime_ids_of_letters_and_digits_are_written_as_they_are() -> None:
    assert time_export.external_id("4aikevn894XpBwCigNNelVQ2") == "ct-te-4aikevn894XpBwCigNNelVQ2"
    assert expense_lines.external_id("a-b") == "ct-es-a-b"
    assert receipts.file_external_id("x_y") == "ct-rcpt-x_5fy"


@given(st.text(), st.text())
def test_two_ids_share_an_external_id_only_when_equal(first: str, second: str) -> None:
    assert (external_id("ct-te-", first) == external_id("ct-te-", second)) == (first == second)


@given(st.text())
def test_an_external_id_holds_only_what_netsuite_documents(source_id: str) -> None:
    assert not UNWRITTEN.search(external_id("ct-es-", source_id))
