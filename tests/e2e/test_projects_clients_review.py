"""NetSuite customers and their ClickTime clients (projects review, 2026-12-03).

NetSuite's clock is a test clock here (`FakeClock`): a day passes between runs by moving it, so the sync's
60-minute overlap does not read the projects again and hide what only a customer's edit changes.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ctns.runner import SyncRun
from ctsync.sync.messages import WorkMessage
from tests.e2e.support import jobs_by_project, open_projects, run
from tests.e2e.test_dates_review import FakeClock, netsuite_clock_at

pytestmark = pytest.mark.e2e


def _clients(session: Any) -> dict[str, dict[str, Any]]:
    return {c["ID"]: c for c in session.simulators.clicktime.clients()}


def _client_of(session: Any, project_id: str) -> dict[str, Any]:
    (job,) = jobs_by_project(session)[project_id]
    return _clients(session)[job["ClientID"]]


def _a_day_passes(clock: FakeClock) -> None:
    clock.now += timedelta(days=1)


def test_a_customer_renamed_or_made_inactive_in_netsuite_reaches_its_client_on_the_next_run(session):
    """Reviewer: the projects poller read only the projects' lastmodifieddate, so a customer renamed (or made
    inactive) in NetSuite kept its old ClickTime client name (or an active client) until one of its projects
    happened to change. Failed before the fix."""
    netsuite = session.simulators.netsuite.records
    clock = netsuite_clock_at(session, datetime.now(UTC).replace(microsecond=0))
    assert run(session, "projects").failures == []
    by_customer = Counter(p.customer_id for p in open_projects(session))
    renamed, inactivated = [c for c, _ in by_customer.most_common(2)]
    renamed_project = next(p.id for p in open_projects(session) if p.customer_id == renamed)
    inactivated_project = next(p.id for p in open_projects(session) if p.customer_id == inactivated)
    _a_day_passes(clock)
    quiet = run(session, "projects")  # the write-backs of the first run fall in this window: nothing to do
    assert quiet.clicktime_writes == [] and quiet.netsuite_writes == []

    # When, a day later, a person renames one customer and makes another inactive (none of their projects change)
    _a_day_passes(clock)
    netsuite.update("customer", renamed, {"companyName": "Renamed Customer Inc"})
    netsuite.update("customer", inactivated, {"isInactive": True})
    after = run(session, "projects")

    # Then the next run carries both to their clients, and leaves the jobs and NetSuite as they were
    assert after.failures == []
    assert _client_of(session, renamed_project)["Name"] == "Renamed Customer Inc"
    assert _client_of(session, renamed_project)["IsActive"] is True
    assert _client_of(session, inactivated_project)["IsActive"] is False
    assert after.netsuite_writes == []
    renamed_client, inactive_client = (_client_of(session, p)["ID"] for p in (renamed_project, inactivated_project))
    assert sorted((w.method, w.path) for w in after.clicktime_writes) == sorted(
        [("PATCH", f"/v2/Clients/{renamed_client}"), ("PATCH", f"/v2/Clients/{inactive_client}")]
    )
    # every project of both customers is on one client still
    for customer in (renamed, inactivated):
        clients = {
            jobs_by_project(session)[p.id][0]["ClientID"] for p in open_projects(session) if p.customer_id == customer
        }
        assert len(clients) == 1

    # And the next run (the customers' edits still in its overlap) writes nothing
    _a_day_passes(clock)
    again = run(session, "projects")
    assert again.clicktime_writes == [] and again.netsuite_writes == []
    assert again.syncs["projects"]["enqueued"] == 0


def _deliver_late(session: Any, *messages: WorkMessage) -> None:
    url = session.aws.queue_url("ProjectsQueue")
    for message in messages:
        session.aws.sqs.send_message(QueueUrl=url, MessageBody=message.model_dump_json())
    mapping = next(m for m in session.stack.queue_mappings if m.queue == "ProjectsQueue")
    session.runner.drain(mapping, SyncRun("projects"))


def test_a_stale_project_message_writes_neither_its_job_nor_its_old_customer_name_onto_the_client(session):
    """Reviewer: `ProjectSync.upsert` wrote the client (no version fence) before the job's fence judged the project
    message, so a late SQS redelivery or a dead letter redriven days later put the customer's old name back on a
    client other projects share. Failed before the fix."""
    runtime = session.runtime()
    netsuite = session.simulators.netsuite.records
    clock = netsuite_clock_at(session, datetime.now(UTC).replace(microsecond=0))
    by_customer = Counter(p.customer_id for p in open_projects(session))
    customer, shared_by = by_customer.most_common(1)[0]
    assert shared_by >= 2  # the seed has a customer with two open projects
    edited, sibling = [p.id for p in open_projects(session) if p.customer_id == customer][:2]
    run(session, "projects")
    # what messages queued now would carry (a run's messages, delivered late)
    old = runtime.project_sync("projects").current([edited, sibling])

    # When, a minute later, the customer is renamed and one of its projects too, and a run applies both
    clock.now += timedelta(minutes=1)
    netsuite.update("customer", customer, {"companyName": "Newer Customer Name"})
    netsuite.update("job", edited, {"companyName": "Newer Project Name"})
    assert run(session, "projects").failures == []
    assert _client_of(session, edited)["Name"] == "Newer Customer Name"

    # And then the old messages of both projects arrive (a redelivery, a dead letter redriven)
    writes = len(session.simulators.clicktime.writes()), len(session.simulators.netsuite.writes())
    late = [
        WorkMessage(
            sync="projects",
            run_id="late-run",
            source_id=p,
            version=old[p].version,
            snapshot=old[p].snapshot,
            fingerprint=old[p].fingerprint,
        )
        for p in (edited, sibling)
    ]
    _deliver_late(session, *late)

    # Then neither writes anything: the job keeps the newer name, the shared client the customer's newer name
    assert (len(session.simulators.clicktime.writes()), len(session.simulators.netsuite.writes())) == writes
    assert jobs_by_project(session)[edited][0]["Name"] == "Newer Project Name"
    assert _client_of(session, edited)["Name"] == "Newer Customer Name"
    assert _client_of(session, sibling)["Name"] == "Newer Customer Name"
