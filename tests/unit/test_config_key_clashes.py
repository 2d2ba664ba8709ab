"""Two entries of a config mapping that the product reads as one key are refused, naming both, not merged.

The config reader refuses a key given twice ("JSON would use the last"), but `people.overrides` e-mails were
lower-cased and `expenses.categories` keys stripped after that check (and the categories are matched by name
case-insensitively): {"Pat@Example.com": "101", "pat@example.com": "202"} validated and one employee was dropped
without a word.

Found by a fresh review (2026-12-02, review 9); failed before the fix (`config._distinct_keys`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from ctns.cli import main
from ctsync.config import SyncConfig

BASE = {"netsuite": {"account_id": "1234567_SB1"}}

CLASHES = [
    ("people", {"overrides": {"Pat@Example.com": "101", "pat@example.com": "202"}}, "Pat@Example.com"),
    ("people", {"overrides": {"u-17": "101", " u-17 ": "202"}}, "u-17"),
    ("expenses", {"categories": {"Meals": "11", "Meals ": "12"}}, "Meals"),
    ("expenses", {"categories": {"Meals": "11", "meals": "12"}}, "meals"),
]


@pytest.mark.parametrize(("section", "value", "named"), CLASHES)
def test_two_entries_read_as_one_key_are_refused_naming_both(section: str, value: dict[str, Any], named: str):
    first, second = next(iter(value.values())).keys()
    with pytest.raises(ValidationError) as refused:
        SyncConfig.model_validate({**BASE, section: value})
    assert repr(first) in str(refused.value) and repr(second) in str(refused.value) and named in str(refused.value)


@pytest.mark.parametrize(("section", "value", "named"), CLASHES[:1] + CLASHES[2:3])
def test_config_validate_refuses_them_in_one_line(section, value, named, tmp_path, capsys):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({**BASE, section: value}))

    code = main(["config", "validate", str(path)])

    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and named in err, err


def test_user_ids_that_differ_only_in_case_stay_two_users():
    """ClickTime user IDs are matched as written (only e-mails are lower-cased): two of them are two people."""
    overrides = SyncConfig.model_validate({**BASE, "people": {"overrides": {"AbC": "101", "abc": "202"}}})
    assert overrides.people.overrides == {"AbC": "101", "abc": "202"}
