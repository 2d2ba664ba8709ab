"""NetSuite TBA token revoked mid-run (after 3 or 20 writes): one netsuite-login cause, no secret value in any log
line or dead letter; the secret fixed and the dead letters redriven, every entry lands once (review, 2026-12-04)."""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import replace

import pytest
from aws_lambda_powertools.utilities import parameters

from ctns.runner import SyncRun
from ctsync import runtime as runtime_module
from ctsync.records.time_export import external_id
from tests.e2e.support import run

pytestmark = pytest.mark.e2e


def drain(session, sync):
    mapping = next(m for m in session.stack.queue_mappings if m.queue == f"{sync.capitalize()}Queue")
    r = SyncRun(sync)
    session.runner.drain(mapping, r)
    return r


def expected_entries(session):
    ct = session.simulators.clicktime
    employees = {e["email"].lower() for e in session.simulators.netsuite.records.all("employee")}
    users = {u["ID"]: u for u in ct.users()}
    out = []
    for s in ct.timesheets():
        if s["Status"] == "Approved" and users[s["UserID"]]["Email"].lower() in employees:
            out += [e["ID"] for e in ct.entries_of(s["ID"])]
    return out


def bills(session):
    return Counter(b.get("externalId", "") for b in session.simulators.netsuite.records.all("timeBill"))


def refresh():
    runtime_module._cache.clear()
    parameters.clear_caches()


@pytest.mark.parametrize("after", [3, 20])
def test_netsuite_token_revoked_then_fixed(session, caplog, after):
    run(session, "projects")
    run(session, "tasks")
    session.log_activity()
    wanted = expected_entries(session)
    ns = session.simulators.netsuite
    verifier = ns._verifier
    good = verifier.credentials
    verify = verifier.verify
    passed = [0]

    def counting(request):
        verify(request)
        if request.method in ("POST", "PATCH", "PUT", "DELETE") and "suiteql" not in request.path:
            passed[0] += 1
            if passed[0] >= after:
                verifier.credentials = replace(good, token_secret="ROTATED-new-secret-xyz")

    if after == 0:
        verifier.credentials = replace(good, token_secret="ROTATED-new-secret-xyz")
    else:
        verifier.verify = counting

    with caplog.at_level(logging.INFO):
        first = run(session, "time")
    letters = session.runner.dead_letters("time")
    causes = session.runlog.causes("time")
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    print("\nAFTER", after, "bills", sum(bills(session).values()), "of", len(wanted))
    print("DLQ", len(letters), Counter((letter.kind, letter.cause_key) for letter in letters))
    print("CAUSES", [(c.key, c.count) for c in causes])
    print("ERRORS", len(errors), errors[:6])
    print("poll", first.syncs["time"])
    # One login cause from the first refusal: never taken for NetSuite being busy
    assert "netsuite-login" in {c.key for c in causes}
    assert "netsuite-concurrency" not in {c.key for c in causes} and not [e for e in errors if "busy" in e]
    everything = " ".join(r.getMessage() + json.dumps(getattr(r, "__dict__", {}), default=str) for r in caplog.records)
    everything += json.dumps([letter.as_dict() for letter in letters])
    for secret in (good.token_secret, good.consumer_secret, "ROTATED-new-secret-xyz"):
        assert secret not in everything

    # the operator rotates the secret in Secrets Manager to what NetSuite now holds, then redrives and reruns
    verifier.verify = verify
    session.aws.put_secret(
        "NetSuiteSecretName",
        {
            "consumer_key": good.consumer_key,
            "consumer_secret": good.consumer_secret,
            "token_id": good.token_id,
            "token_secret": "ROTATED-new-secret-xyz",
        },
    )
    refresh()
    for c in session.runlog.causes("time"):
        session.runlog.resolve_cause("time", c.key)
    session.runner.redrive("time")
    drain(session, "time")
    run(session, "time")
    got = bills(session)
    lost = [e for e in wanted if got[external_id(e)] == 0]
    dup = [e for e in wanted if got[external_id(e)] > 1]
    print("lost", len(lost), "dup", len(dup), "DLQ after", len(session.runner.dead_letters("time")))
    assert (len(lost), len(dup)) == (0, 0)
