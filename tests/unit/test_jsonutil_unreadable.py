"""Every way JSON text cannot be read is one ValueError the callers already turn into one line naming the document
(a config file, the config parameter, a secret) or into a malformed API answer: a number over Python's 4,300-digit
limit, and nesting too deep for the parser, raised a plain ValueError or a RecursionError that `ctns` reported as
"unexpected error … This is a bug" (review of the CLI, 2026-12-04; failed before the fix)."""

from __future__ import annotations

import json

import pytest

from ctsync import jsonutil

TOO_LONG = '{"lookback_days": ' + "9" * 5000 + "}"
TOO_DEEP = "[" * 200_000 + "]" * 200_000


@pytest.mark.parametrize(
    ("text", "says"),
    [(TOO_LONG, "holds a number too long to be read (over 4,300 digits)"), (TOO_DEEP, "is nested too deeply")],
)
def test_a_document_that_cannot_be_read_whole_is_unreadable_naming_why_and_not_its_text(text, says):
    with pytest.raises(jsonutil.Unreadable) as raised:
        jsonutil.load_document(text)
    assert says in str(raised.value) and "9999" not in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_not_json_and_a_key_twice_keep_their_own_errors():
    with pytest.raises(json.JSONDecodeError):
        jsonutil.load_document('{"a": ')
    with pytest.raises(jsonutil.KeyTwice):
        jsonutil.load_document('{"a": 1, "a": 2}')


def test_an_api_answer_nested_too_deeply_is_a_value_error_as_malformed_answers_are():
    with pytest.raises(ValueError, match="nested too deeply"):
        jsonutil.loads(TOO_DEEP)
