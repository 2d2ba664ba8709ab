"""A stack secret stored as binary (SecretBinary) is one line to fix, naming the secret, never a crash.

The functions refuse such a secret in one line ("not JSON", ctsync.runtime._read); `ctns check` (and every
command reading the stack's secrets) indexed the answer's "SecretString" and ended in "unexpected error: KeyError:
'SecretString'", exit 3, "This is a bug in ctns".

Found by a fresh review (2026-12-02, review 9); failed before the fix (`Target._secret` reads SecretString only
when there is one)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from ctns.local import aws_endpoint
from ctns.target import open_target
from tests.e2e.cli_support import ctns, start_local_stack

pytestmark = pytest.mark.e2e
TOKEN = "abcd-1234-binary"


@pytest.fixture
def served(tmp_path: Any, monkeypatch: Any) -> Any:
    stack = start_local_stack(tmp_path, monkeypatch, with_failures=False)
    yield stack
    stack.stop()


def test_a_binary_secret_in_the_stack_is_one_line_naming_it_not_a_bug(served, capsys):
    with aws_endpoint(served.state.aws_endpoint), open_target(None) as target:
        name = target.parameters.get("ClickTimeSecretName", "ctns/clicktime")
        boto3.client("secretsmanager").put_secret_value(
            SecretId=name, SecretBinary=f'{{"api_token": "{TOKEN}"}}'.encode()
        )

    checked = ctns(capsys, "check")

    assert checked.code == 2, checked.err
    assert len(checked.problems) == 1 and name in checked.problems[0], checked.problems
    assert "JSON string" in checked.problems[0] and "unexpected error" not in checked.err
    assert TOKEN not in checked.err + checked.out
