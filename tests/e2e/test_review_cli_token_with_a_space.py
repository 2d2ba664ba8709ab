"""A token pasted with a space inside it (ClickTime's token copied as `Bearer <token>` from an HTTP example, two
halves pasted apart) is refused, rightly, but the line says what is not the case and sends the person after the
wrong fix: "clicktime.api_token: has a character that is not printable ASCII (the three-dot placeholder of
docs/deploy.md left in?)". A space is printable ASCII, and there is no placeholder in the value. The product rule is
one line *that says what to fix*; here it should say the value holds a space (keys, secrets and tokens carry none).

The same text answers a stored secret (`ctns check` on a stack: "the secret ctns/clicktime: api_token: has a
character that is not printable ASCII …") and the functions' own refusal.

Cause: `ctsync/netsuite/auth.py:printable` refuses spaces (codes 33…126) while its one message, `NOT_PRINTABLE`, used
by `ctns/inputs.py:_Secret._clean` and `auth._token`, speaks of non-printable characters and the '…' placeholder only.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.e2e.cli_support import ctns

pytestmark = pytest.mark.e2e

TOKEN = "Bearer ct-4f9a1c2e7d"


def test_a_token_with_a_space_inside_is_named_as_such(tmp_path: Any, capsys: Any) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"netsuite": {"account_id": "1234567_SB1", "timezone": "America/Los_Angeles"}}))
    secrets = tmp_path / "secrets.json"
    secrets.write_text(
        json.dumps(
            {
                "netsuite": {"consumer_key": "ck1", "consumer_secret": "cs1", "token_id": "ti1", "token_secret": "ts1"},
                "clicktime": {"api_token": TOKEN},
            }
        )
    )

    result = ctns(capsys, "check", "--config", str(config), "--secrets", str(secrets))

    assert result.code == 2 and len(result.problems) == 1, result.err
    line = result.problems[0]
    assert "clicktime.api_token" in line and TOKEN not in line and "ct-4f9a1c2e7d" not in line, line
    said = line.split("clicktime.api_token", 1)[1]  # what is said of the value (the file's path is before it)
    assert "space" in said, f"the line does not say the token holds a space: {line}"
    assert "not printable ASCII" not in said and "placeholder" not in said, line
