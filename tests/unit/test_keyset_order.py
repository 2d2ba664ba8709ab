"""The order in which the NetSuite client checks that a keyset read advanced (ctsync.netsuite.client._key_order):
the same order SuiteQL sorts the key in, so a page whose last key is not past the previous one is refused and
one that is, is not."""

from __future__ import annotations

from ctsync.netsuite.client import _key_order


def test_numeric_keys_compare_as_numbers():
    assert _key_order("9") < _key_order("10")  # as text "10" would come first: a page of ids 1-9, then 10-19
    assert _key_order("-1") < _key_order("5")  # a sign does not make a number text
    assert _key_order("1774") == _key_order("1774")


def test_other_keys_compare_as_text_after_every_number():
    assert _key_order("X10") < _key_order("X9")  # text order, as ORDER BY on a text column gives it
    assert _key_order("99") < _key_order("A1")
    assert _key_order("100000") < _key_order("-")
