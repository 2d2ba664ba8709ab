"""The `netsuite-login` cause says which Secrets Manager secret holds the NetSuite token (its name as the function is
configured with, never its value) and what to do; the records not tried under its pause carry that fix and leave
the cause's reason alone (review, 2026-12-04).

How a 401 is told apart from load is not what these tests look at: the token here is wrong from the first request
of the run (`tests/e2e/test_faults.py` holds the load side).
"""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from simulators.netsuite.app import DEFAULT_CREDENTIALS
from tests.e2e.support import run

pytestmark = pytest.mark.e2e

ROTATED = "rotated-in-netsuite"  # the token secret NetSuite now expects: never shown


def test_the_login_cause_names_the_secret_and_a_fix_and_keeps_its_reason(session, caplog):
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    verifier = session.simulators.netsuite._verifier
    verifier.credentials = replace(verifier.credentials, token_secret=ROTATED)  # the secret holds the old token
    secret = session.stack.parameters["NetSuiteSecretName"]

    with caplog.at_level(logging.INFO):
        run(session, "time")

    (cause,) = [c for c in session.runlog.causes("time") if c.key == "netsuite-login"]
    letters = [letter for letter in session.runner.dead_letters("time") if letter.cause_key == "netsuite-login"]
    print(f"\ncause reason={cause.reason!r}\nfix={cause.fix!r}")
    # The reason is that of the failure that opened the pause, not a later record's "not tried: the sync is paused"
    assert cause.reason.startswith("NetSuite 401 INVALID_LOGIN") and "not tried" not in cause.reason
    # It names the likely fault and the secret by its name
    assert "revoked" in cause.reason and f"NetSuite secret {secret}" in cause.reason
    # The fix says what to do, naming the secret: on the cause, and on every dead letter (those not tried included)
    assert secret in cause.fix and "new access token" in cause.fix and "sandbox refresh" in cause.fix
    assert len(letters) > 1 and all(letter.fix == cause.fix for letter in letters)
    not_tried = [letter for letter in letters if letter.reason.startswith("not tried")]
    assert not_tried and all(secret in letter.reason for letter in not_tried)
    # The one ERROR line of the pause names the secret
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR" and "paused for" in r.getMessage()]
    assert errors and all(secret in line for line in errors)
    # The secret's values, and the token NetSuite expects, are never shown
    tba = DEFAULT_CREDENTIALS
    values = (tba.consumer_key, tba.consumer_secret, tba.token_id, tba.token_secret, ROTATED)
    said = [cause.reason, cause.fix, *(letter.reason + letter.fix for letter in letters)]
    said += [r.getMessage() for r in caplog.records]
    assert not [text for text in said if any(value in text for value in values)]


def test_a_poller_refused_names_the_secret_where_ctns_status_reads_it(open_session, caplog):
    session = open_session({"netsuite": {"account_id": "7654321"}})  # a realm the account does not have
    secret = session.stack.parameters["NetSuiteSecretName"]

    with caplog.at_level(logging.INFO):
        run(session, "projects")

    failed = session.runtime().progress.poll_failure("projects")
    assert failed is not None and "INVALID_LOGIN" in failed.reason and f"NetSuite secret {secret}" in failed.reason
    (line,) = [r for r in caplog.records if r.levelname == "ERROR" and "poller failed" in r.getMessage()]
    assert line.cause_key == "netsuite-login" and f"NetSuite secret {secret}" in line.failure_reason
