"""Randomised months of NetSuite edits (review 2026-12-04): after each daily run ClickTime agrees with NetSuite and a
second run writes nothing. Avoids the README's known limits (duplicate titles, swapped or reused numbers)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.support import run
from tests.e2e.test_daily_sync_months import _agrees
from tests.e2e.test_dates_review import netsuite_clock_at

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "seed", [1, 2, 3] + [int(s) for s in __import__("os").environ.get("MORE_SEEDS", "").split(",") if s]
)
def test_random_months(session, seed):
    rng = random.Random(seed)
    ns = session.simulators.netsuite.records
    clock = netsuite_clock_at(session, datetime.now(UTC).replace(microsecond=0))
    run(session, "projects", "tasks")
    assert _agrees(session) == []
    counter = iter(range(1, 10_000))
    customers = [c["id"] for c in ns.all("customer")]
    log = []

    def projects():
        return [p["id"] for p in ns.all("job")]

    def tasks():
        return ns.all("projectTask")

    def edit():
        op = rng.choice(
            [
                "rename",
                "renumber",
                "close",
                "reopen",
                "move",
                "trename",
                "tcomplete",
                "treopen",
                "tmove",
                "tparent",
                "tadd",
                "tdel",
                "crename",
                "cinactive",
                "cactive",
                "clear",
                "tclear",
                "outscope",
                "inscope",
            ]
        )
        n = next(counter)
        p = rng.choice(projects())
        ts = tasks()
        t = rng.choice(ts) if ts else None
        log.append((op, p, t and t["id"]))
        if op == "rename":
            ns.update("job", p, {"companyName": f"Renamed {n} é東"})
        elif op == "renumber":
            ns.update("job", p, {"entityId": f"P-R{n}"})
        elif op == "close":
            ns.update("job", p, {"entityStatus": {"id": "1"}})
        elif op == "reopen":
            ns.update("job", p, {"entityStatus": {"id": "2"}})
        elif op == "move":
            ns.update("job", p, {"parent": {"id": rng.choice(customers)}})
        elif op == "trename" and t:
            ns.update("projectTask", t["id"], {"title": f"Task {n}"})
        elif op == "tcomplete" and t:
            ns.update("projectTask", t["id"], {"status": {"id": "COMPLETE"}})
        elif op == "treopen" and t:
            ns.update("projectTask", t["id"], {"status": {"id": "PROGRESS"}})
        elif op == "tmove" and t and not any(o.get("parent", {}).get("id") == t["id"] for o in ts):
            ns.update("projectTask", t["id"], {"project": {"id": p}, "parent": None, "title": f"Moved {n}"})
        elif op == "tparent" and t:
            siblings = [
                o["id"]
                for o in ts
                if o["project"]["id"] == t["project"]["id"] and o["id"] != t["id"] and not o.get("parent")
            ]
            if siblings and not any(o.get("parent", {}).get("id") == t["id"] for o in ts):
                ns.update("projectTask", t["id"], {"parent": {"id": rng.choice(siblings)}})
        elif op == "tadd":
            ns.add("projectTask", {"title": f"New {n}", "project": {"id": p}, "status": {"id": "PROGRESS"}})
        elif op == "tdel" and t and not any(o.get("parent", {}).get("id") == t["id"] for o in ts):
            ns.delete("projectTask", t["id"])
        elif op == "crename":
            ns.update("customer", rng.choice(customers), {"companyName": f"Customer {n}"})
        elif op == "cinactive":
            ns.update("customer", rng.choice(customers), {"isInactive": True})
        elif op == "cactive":
            ns.update("customer", rng.choice(customers), {"isInactive": False})
        elif op == "clear":
            ns.update("job", p, {"custentity_ct_job_id": None})
        elif op == "tclear" and t:
            ns.update("projectTask", t["id"], {"custevent_ct_task_id": None})
        elif op == "outscope":
            ns.update("job", p, {"allowTime": False})
        elif op == "inscope":
            ns.update("job", p, {"allowTime": True})

    for _day in range(12):
        clock.now += timedelta(hours=20)
        for _ in range(rng.randint(1, 4)):
            edit()
            clock.now += timedelta(minutes=5)
        clock.now += timedelta(hours=4)
        result = run(session, "projects", "tasks")
        assert result.failures == [], (log, result.failures)
        assert _agrees(session) == [], log
        clock.now += timedelta(minutes=30)
        quiet = run(session, "projects", "tasks")
        assert quiet.clicktime_writes == [] and quiet.netsuite_writes == [], (
            log,
            [(w.method, w.path) for w in quiet.clicktime_writes + quiet.netsuite_writes],
        )
