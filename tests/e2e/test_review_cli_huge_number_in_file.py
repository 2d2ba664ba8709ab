"""A config or secrets file holding a number longer than Python's integer-parsing limit (4,300 digits: a pasted
blob, a key held down) ends `ctns config validate` / `ctns check` in "unexpected error: ValueError: Exceeds the
limit (4300 digits) for integer string conversion … This is a bug in ctns" (exit 3). It is a mistake in the
person's own file, which every other unreadable-file case (not UTF-8, truncated, nested too deeply, a key twice)
names in one line, exit 2 (README: "A mistake never ends in a traceback"; exit 3 is "a bug in ctns").

Cause: `ctns/inputs.py:read_json` catches `json.JSONDecodeError` and `RecursionError` from
`ctsync.jsonutil.load_document`, but the decoder's int conversion raises a plain `ValueError`.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.cli_support import ctns

pytestmark = pytest.mark.e2e

LONG = "9" * 5000


def _config_text() -> str:
    good = {"netsuite": {"account_id": "1234567_SB1", "timezone": "America/Los_Angeles"}}
    return json.dumps(good)[:-1] + f', "time": {{"lookback_days": {LONG}}}}}'


def test_a_config_file_with_a_number_too_long_to_read_is_one_line_not_a_bug(tmp_path: Any, capsys: Any) -> None:
    config = tmp_path / "config.json"
    config.write_text(_config_text())

    result = ctns(capsys, "config", "validate", str(config))

    assert "This is a bug" not in result.err and "unexpected error" not in result.err, result.err
    assert result.code == 2, result.err
    assert len(result.problems) == 1 and str(config) in result.problems[0], result.problems


def test_a_secrets_file_with_a_number_too_long_to_read_is_one_line_not_a_bug(tmp_path: Any, capsys: Any) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"netsuite": {"account_id": "1234567_SB1", "timezone": "America/Los_Angeles"}}))
    secrets = tmp_path / "secrets.json"
    secrets.write_text(
        '{"netsuite": {"consumer_key": "a", "consumer_secret": "b", "token_id": "c", "token_secret": "d"}, '
        f'"clicktime": {{"api_token": {LONG}}}}}'
    )

    result = ctns(capsys, "check", "--config", str(config), "--secrets", str(secrets))

    assert "This is a bug" not in result.err and "unexpected error" not in result.err, result.err
    assert result.code == 2, result.err
    assert any(str(secrets) in line for line in result.problems), result.problems
