"""A NetSuite token revoked or rotated: one `netsuite-login` cause from the first failure, which says which secret
to fix (review, 2026-12-04)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace

import pytest

from ctsync import runtime as runtime_module
from ctsync.state import ProgressStore
from tests.e2e.support import run

pytestmark = pytest.mark.e2e


def test_a_token_revoked_mid_run_is_one_netsuite_login_cause_from_the_start(session, caplog, monkeypatch):
    # The runtime (and its NetSuite client) is rebuilt after 20 s, not 300 s: a client that remembered an accepted
    # request excused the 401s as load for as long as it lived
    monkeypatch.setattr(runtime_module, "CACHE_SECONDS", 20)
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    verifier = session.simulators.netsuite._verifier
    good, verify = verifier.credentials, verifier.verify
    writes = [0]

    def counting(request):
        verify(request)
        if request.method in ("POST", "PATCH", "PUT") and "suiteql" not in request.path:
            writes[0] += 1
            if writes[0] == 3:
                verifier.credentials = replace(good, token_secret="revoked")  # an admin revokes the token

    verifier.verify = counting
    opened: list[tuple[str, str]] = []
    real_open = ProgressStore.open_breaker

    def spy(self, sync, breaker):
        opened.append((breaker.cause_key, breaker.kind))
        return real_open(self, sync, breaker)

    monkeypatch.setattr(ProgressStore, "open_breaker", spy)
    with caplog.at_level(logging.INFO):
        result = run(session, "time")
    messages = [r.getMessage() for r in caplog.records]
    print("\nbreakers", Counter(opened), "invocations", result.syncs["time"]["invocations"])
    # The first pause is the login's, and no other follows: no "NetSuite is busy" outage, no record put back for load
    assert opened and opened[0] == ("netsuite-login", "needs_attention")
    assert all(key == "netsuite-login" for key, _ in opened)
    assert not [m for m in messages if "refused for load" in m or "concurrency limit is full" in m]
    (cause,) = [c for c in session.runlog.causes("time") if c.key == "netsuite-login"]
    assert "NetSuite 401 INVALID_LOGIN" in cause.reason and "not tried" not in cause.reason


def test_the_login_cause_names_the_secret_to_fix_and_keeps_its_reason(session):
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    verifier = session.simulators.netsuite._verifier
    verifier.credentials = replace(verifier.credentials, token_secret="rotated-in-netsuite")

    run(session, "time")

    (cause,) = [c for c in session.runlog.causes("time") if c.key == "netsuite-login"]
    letters = [letter for letter in session.runner.dead_letters("time") if letter.cause_key == "netsuite-login"]
    secret = session.stack.parameters["NetSuiteSecretName"]
    print(f"\ncause reason={cause.reason!r} fix={cause.fix!r}")
    # The reason is the failure that opened the pause, not the last record's "not tried: the sync is paused"
    assert "NetSuite 401 INVALID_LOGIN" in cause.reason and "not tried" not in cause.reason
    assert "rotated" in cause.reason and secret in cause.reason
    # The fix names the secret to put the token into, on the cause and on every dead letter
    assert secret in cause.fix
    assert len(letters) > 1 and all(letter.fix == cause.fix for letter in letters)
    assert any(letter.reason.startswith("not tried") for letter in letters)
    # Its value is never shown
    assert "rotated-in-netsuite" not in cause.reason + cause.fix
