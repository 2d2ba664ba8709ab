"""A secret's keys and tokens as their systems issue them (found by a new user's trial, 2026-12-02): the '…'
placeholder of docs/deploy.md step 3 left in a secret made `ctns check` and `ctns plan` exit 3 ("a bug in ctns")
with a UnicodeEncodeError, and the functions fail with "'latin-1' codec can't encode character" naming neither
system nor secret. Now both the CLI and the functions refuse it in one line naming the secret's field, and never
repeat the value."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ctns.inputs import parse_clicktime_secret, parse_netsuite_secret
from ctns.output import CliError
from ctsync.netsuite.auth import TbaCredentials
from ctsync.runtime import ClickTimeSecret

TBA = {"consumer_key": "ck0123", "consumer_secret": "cs0123", "token_id": "ti0123", "token_secret": "ts0123"}


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("…", "not ASCII (the three-dot placeholder"),
        ("tok…en", "not ASCII (the three-dot placeholder"),
        ("tökén", "not ASCII"),
        ("tok en", "has a space or line break inside"),
        ("Bearer tok", "a word such as 'Bearer' before it"),
        ("tok\ten", "has a space or line break inside"),
        ("tok\x07en", "has a control character"),
        ("tok\x7fen", "has a control character"),
    ],
)
def test_the_cli_refuses_a_clicktime_token_that_is_not_as_issued_naming_the_field_and_the_slip_not_the_value(
    value, says
):
    """Each refusal says what is wrong with the value (a space said as a placeholder sent people the wrong way:
    review of the CLI, 2026-12-04)."""
    with pytest.raises(CliError) as refused:
        parse_clicktime_secret({"api_token": value}, "secret ctns/clicktime")

    assert "api_token" in refused.value.message and says in refused.value.message, refused.value.message
    assert value not in refused.value.message


def test_the_cli_refuses_a_netsuite_secret_with_the_placeholder_left_in():
    with pytest.raises(CliError) as refused:
        parse_netsuite_secret({**TBA, "token_secret": "…"}, "secret ctns/netsuite")

    assert "token_secret" in refused.value.message and "…" not in refused.value.message


@pytest.mark.parametrize("model, field", [(ClickTimeSecret, "api_token"), (TbaCredentials, "token_id")])
def test_the_functions_refuse_the_placeholder_too(model, field):
    document = {"api_token": "ok"} if model is ClickTimeSecret else dict(TBA)
    document[field] = "…"

    with pytest.raises(ValidationError) as refused:
        model.model_validate(document)

    assert "not ASCII (the three-dot placeholder" in str(refused.value)


def test_the_functions_drop_a_line_break_copied_with_a_token():
    assert ClickTimeSecret.model_validate({"api_token": "abc123\n"}).api_token.get_secret_value() == "abc123"
