"""NetSuite projects become ClickTime jobs, end to end through the template's wiring."""

from __future__ import annotations

import time

import pytest

from ctns.runner import SyncRun
from ctsync.state import MappingStore
from ctsync.sync.messages import WorkMessage
from ctsync.timeutil import utc_now
from tests.e2e.support import jobs_by_project, open_projects, run

pytestmark = pytest.mark.e2e


def test_first_pass_creates_one_job_per_open_project_and_writes_back_its_id(session):
    # Given a seeded NetSuite with open, closed, inactive and no-time projects
    company = session.simulators.company
    netsuite = session.simulators.netsuite

    # When the projects sync runs once
    first = run(session, "projects")

    # Then every open project has exactly one job with its fields, and only open projects have one
    jobs = jobs_by_project(session)
    expected = open_projects(session)
    assert first.counts("projects")["created"] == len(expected)
    assert first.failures == []
    assert set(jobs) == {p.id for p in expected}
    clients = {c["ID"]: c for c in session.simulators.clicktime.clients()}
    for project in expected:
        (job,) = jobs[project.id]
        assert job["Name"] == project.company_name
        assert job["JobNumber"] == project.entity_id
        assert job["IsActive"] is True
        assert clients[job["ClientID"]]["AccountingPackageID"] == project.customer_id
        assert job.get("StartDate") == (project.start_date.isoformat() if project.start_date else None)
        assert netsuite.records.get("job", project.id)["custentity_ct_job_id"] == job["ID"]
    # one ClickTime client per customer that has an open project
    assert len(clients) == len({p.customer_id for p in expected})
    assert len(company.projects) > len(expected)  # the seed does include projects that must not sync


def test_second_pass_on_unchanged_data_writes_nothing(session):
    run(session, "projects")

    second = run(session, "projects")

    assert second.netsuite_writes == []
    assert second.clicktime_writes == []
    assert second.counts("projects")["created"] == second.counts("projects")["updated"] == 0
    # Every project stops at the poller: the open ones hold their jobs, the others were judged before
    assert second.syncs["projects"]["enqueued"] == 0
    assert second.counts("projects")["unchanged"] == len(session.simulators.company.projects)


def test_renamed_closed_and_deleted_projects_update_their_jobs(session):
    netsuite = session.simulators.netsuite.records
    run(session, "projects")
    renamed, closed, deleted, deactivated = [p.id for p in open_projects(session)[:4]]

    # When people change projects in NetSuite between runs
    netsuite.update("job", renamed, {"companyName": "Renamed Project", "entityId": "P-9001"})
    netsuite.update("job", closed, {"entityStatus": {"id": "1"}})
    netsuite.delete("job", deleted)
    netsuite.update("job", deactivated, {"isInactive": True})
    after = run(session, "projects")

    # Then the jobs follow, and still exactly one job per project
    jobs = jobs_by_project(session)
    assert all(len(found) == 1 for found in jobs.values())
    assert jobs[renamed][0]["Name"] == "Renamed Project"
    assert jobs[renamed][0]["JobNumber"] == "P-9001"
    assert jobs[renamed][0]["IsActive"] is True
    assert jobs[closed][0]["IsActive"] is False
    assert jobs[deleted][0]["IsActive"] is False
    assert jobs[deactivated][0]["IsActive"] is False
    assert after.counts("projects")["updated"] == 4
    assert after.failures == []
    # and the run after that writes nothing again
    quiet = run(session, "projects")
    assert quiet.netsuite_writes == [] and quiet.clicktime_writes == []


def test_a_failure_between_the_create_and_the_mapping_write_leaves_one_job(session, monkeypatch):
    # Given a worker that fails right after creating the job, before it records the mapping (once per project)
    failed_once: set[str] = set()
    original_commit = MappingStore.commit

    def commit_failing_once(self, lock, mapping, **kwargs):
        if mapping.kind == "project" and mapping.source_id not in failed_once:
            failed_once.add(mapping.source_id)
            raise ConnectionError("the worker lost DynamoDB after the ClickTime create")
        return original_commit(self, lock, mapping, **kwargs)

    monkeypatch.setattr(MappingStore, "commit", commit_failing_once)

    # When the sync runs and SQS redelivers every failed message
    result = run(session, "projects")

    # Then each project still has exactly one job, mapped and written back
    jobs = jobs_by_project(session)
    expected = open_projects(session)
    assert {pid: len(found) for pid, found in jobs.items()} == {p.id: 1 for p in expected}
    assert result.counts("projects")["failed"] == 0
    assert result.syncs["projects"]["retried"] == len(expected)
    mappings = session.mappings
    for project in expected:
        mapping = mappings.get("project", project.id)
        assert mapping is not None, (
            project.id,
            [i["pk"] for i in session.state_table.scan()["Items"] if "project" in i["pk"]],
            failed_once,
        )
        assert mapping.target_id == jobs[project.id][0]["ID"]


class WorkerCrash(BaseException):
    """Not an Exception: the process dies, nothing in the handler gets to clean up (as with a timeout)."""


def test_a_crashed_invocation_is_redelivered_after_its_timeout_and_leaves_one_job(session, monkeypatch):
    # Given a worker whose process dies after the ClickTime create, once; a short timeout so the crashed
    # invocation's idempotency record expires before SQS hands the batch out again (6x, as in the template)
    crashed: list[str] = []
    original_commit = MappingStore.commit

    def crash_once(self, lock, mapping, **kwargs):
        if mapping.kind == "project" and not crashed:
            crashed.append(mapping.source_id)
            raise WorkerCrash()
        return original_commit(self, lock, mapping, **kwargs)

    monkeypatch.setattr(MappingStore, "commit", crash_once)
    session.runner.host.timeout_override["ProjectsWorker"] = 1
    session.runner.retry_delay = 1.5

    run(session, "projects")

    jobs = jobs_by_project(session)
    assert crashed, "the crash was injected"
    assert {pid: len(found) for pid, found in jobs.items()} == {p.id: 1 for p in open_projects(session)}
    assert session.mappings.get("project", crashed[0]).target_id == jobs[crashed[0]][0]["ID"]


def test_a_project_changed_while_the_run_works_is_picked_up_by_the_next_run(session, monkeypatch):
    # Given a project edited after the poller read it, while the workers still apply the old snapshot
    target = open_projects(session)[0].id
    runner = session.runner
    original_drain = runner.drain

    def edit_then_drain(mapping, result):
        session.simulators.netsuite.records.update("job", target, {"companyName": "Edited Mid-Run"})
        original_drain(mapping, result)

    monkeypatch.setattr(runner, "drain", edit_then_drain)
    run(session, "projects")
    assert jobs_by_project(session)[target][0]["Name"] != "Edited Mid-Run"  # the snapshot was older
    monkeypatch.setattr(runner, "drain", original_drain)

    # When the next run comes
    run(session, "projects")

    # Then the edit arrives: the window reopened before the last watermark
    assert jobs_by_project(session)[target][0]["Name"] == "Edited Mid-Run"


def test_a_project_and_a_task_deleted_between_the_poller_and_the_worker_leave_no_active_target_and_no_dead_letter(
    session, monkeypatch
):
    # Found by the race suite: the worker created the job, its write-back met a 404 (the project was gone), and
    # the message was dead-lettered while an active job stayed in ClickTime
    runner = session.runner
    original_drain = runner.drain
    run(session, "projects")
    project = open_projects(session)[0].id
    ns = session.simulators.netsuite.records
    doomed = ns.add(
        "job",
        {
            **{k: ns.get("job", project)[k] for k in ("parent", "subsidiary", "entityStatus")},
            "entityId": "DOOMED-1",
            "companyName": "Doomed",
            "allowTime": True,
        },
    )
    task = ns.add("projectTask", {"title": "Doomed task", "project": {"id": project}, "status": {"id": "PROGRESS"}})

    def delete_then_drain(mapping, result):
        if mapping.queue == "ProjectsQueue":
            ns.delete("job", doomed)
        if mapping.queue == "TasksQueue":
            ns.delete("projectTask", task)
        original_drain(mapping, result)

    monkeypatch.setattr(runner, "drain", delete_then_drain)
    first = {sync: run(session, sync) for sync in ("projects", "tasks")}
    monkeypatch.setattr(runner, "drain", original_drain)
    assert first["projects"].failures == [] and first["tasks"].failures == []
    assert not any(j["IsActive"] for j in jobs_by_project(session).get(doomed, []))
    assert not any(t["IsActive"] for t in session.simulators.clicktime.tasks() if t.get("AccountingPackageID") == task)

    # The next runs read the deletions: the mappings are marked deleted, nothing fails, nothing is left to write
    for sync in ("projects", "tasks"):
        assert run(session, sync).failures == []
    assert session.mappings.get("project", doomed).deleted and session.mappings.get("task", task).deleted
    assert all(run(session, sync).clicktime_writes == [] for sync in ("projects", "tasks"))
    assert runner.dead_letters("projects") == [] and runner.dead_letters("tasks") == []


def test_a_bad_record_is_dead_lettered_with_its_reason_and_the_rest_goes_on(session):
    netsuite = session.simulators.netsuite.records
    victim = open_projects(session)[0]
    netsuite.update("job", victim.id, {"parent": None})  # a project without a customer cannot become a job
    sqs = session.aws.sqs
    sqs.send_message(QueueUrl=session.aws.queue_url("ProjectsQueue"), MessageBody='{"sync": "projects", "oops": 1}')

    result = run(session, "projects")

    reasons = {f["source_id"]: f for f in result.failures}
    assert "no customer" in reasons[victim.id]["reason"]
    assert reasons[victim.id]["kind"] == "BAD_INPUT"
    assert "malformed work message" in reasons["unknown"]["reason"]
    letters = {letter.source_id: letter for letter in session.runner.dead_letters("projects")}
    assert victim.id in letters and "no customer" in letters[victim.id].reason
    jobs = jobs_by_project(session)
    assert victim.id not in jobs
    assert {p.id for p in open_projects(session)} - {victim.id} == set(jobs)


def test_throttling_and_server_errors_are_retried_until_the_systems_agree(session):
    # Given both APIs failing a share of requests, and connections dropped now and then (the random faults
    # come from a seeded generator; the scripted ones make sure every kind happens whatever the request count)
    for app in (session.simulators.netsuite, session.simulators.clicktime):
        app.faults.error_rates = {429: 0.08, 503: 0.04}
        app.faults.reset_rate = 0.02
        app.faults.inject(status=429, times=2)
        app.faults.inject(status=503, times=1)
        app.faults.inject("reset", times=1, method="GET")

    result = run(session, "projects")

    for app in (session.simulators.netsuite, session.simulators.clicktime):
        app.faults.clear()
    assert result.failures == []
    jobs = jobs_by_project(session)
    assert {pid: len(found) for pid, found in jobs.items()} == {p.id: 1 for p in open_projects(session)}
    assert any(
        r.status in (429, 503) for r in session.simulators.netsuite.requests + session.simulators.clicktime.requests
    )


def test_a_run_in_progress_holds_the_lease_and_a_second_run_is_skipped(session):
    session.runtime().progress.acquire_lease("projects", "someone-else", 600)

    result = run(session, "projects")

    assert result.syncs["projects"]["status"] == "skipped"
    assert jobs_by_project(session) == {}


def test_a_poller_near_its_time_limit_hands_over_and_the_run_completes(open_session):
    # Given a poller whose time is always within the stop margin after a batch (pages of 3 projects)
    small_pages = open_session({"netsuite": {"page_size": 3}, "windows": {"stop_margin_seconds": 60}})
    small_pages.runner.host.timeout_override["ProjectsPoller"] = 30

    runs = small_pages.runner.run(["projects"])

    statuses = [r["status"] for r in runs[0].poll_results]
    assert statuses[-1] == "enqueued"
    assert statuses.count("continued") >= 4  # 14 projects in pages of 3
    assert len({r["run_id"] for r in runs[0].poll_results}) == 1  # one run, several invocations
    assert {pid: len(found) for pid, found in jobs_by_project(small_pages).items()} == {
        p.id: 1 for p in open_projects(small_pages)
    }
    assert small_pages.runtime().progress.cursor("projects") is None
    assert small_pages.runtime().progress.watermark("projects", "changes") <= utc_now()


def test_a_message_older_than_the_applied_version_is_skipped(session):
    # Given a project synced, then renamed and synced again
    runtime = session.runtime()
    target = open_projects(session)[0].id
    run(session, "projects")
    old = runtime.project_sync("projects").current([target])[target]
    time.sleep(1.1)  # NetSuite's lastModifiedDate has whole seconds: the edit must land in a later second
    session.simulators.netsuite.records.update("job", target, {"companyName": "Newer Name"})
    run(session, "projects")

    # When the old snapshot arrives late (a redelivery, an out-of-order queue)
    late = WorkMessage(sync="projects", run_id="late-run", source_id=target, version=old.version, snapshot=old.snapshot)
    session.aws.sqs.send_message(QueueUrl=session.aws.queue_url("ProjectsQueue"), MessageBody=late.model_dump_json())
    mapping = next(m for m in session.stack.queue_mappings if m.queue == "ProjectsQueue")
    session.runner.drain(mapping, SyncRun("projects"))

    # Then it is skipped: the job keeps the newer name
    assert jobs_by_project(session)[target][0]["Name"] == "Newer Name"
    counted = session.state_table.get_item(Key={"pk": "RUN#late-run", "sk": "SUMMARY"})["Item"]
    assert counted["n_skipped"] == 1 and "n_updated" not in counted
    assert session.mappings.get("project", target).source_version > old.version


def test_a_window_delivered_again_costs_the_workers_under_one_dynamodb_call_per_record(session, monkeypatch):
    """Every message of a first pass delivered a second time (SQS redelivers, two runs queue the same records):
    each is found unchanged from its batch's one mapping read, with no lock, idempotency record or API call."""
    from moto.core.botocore_stubber import BotocoreStubber

    delivered: list[str] = []
    invoke = session.runner.host.invoke

    def recording(function: str, event: dict, **kwargs):
        delivered.extend(record["body"] for record in event.get("Records", []))
        return invoke(function, event, **kwargs)

    monkeypatch.setattr(session.runner.host, "invoke", recording)
    run(session, "projects")
    bodies = list(dict.fromkeys(delivered))
    assert len(bodies) == len(open_projects(session))
    mapping = session.runner.queue_mapping("projects")
    url = session.aws.queue_url(mapping.queue)
    for start in range(0, len(bodies), 10):
        entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])]
        session.aws.sqs.send_message_batch(QueueUrl=url, Entries=entries)
    dynamodb: list[str] = []
    stubbed = BotocoreStubber.__call__

    def counting(self, event_name: str, request, **kwargs):
        if event_name.startswith("before-send.dynamodb."):
            dynamodb.append(event_name.rsplit(".", 1)[1])
        return stubbed(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", counting)
    sims = session.simulators
    writes = (len(sims.netsuite.writes()), len(sims.clicktime.writes()), len(sims.clicktime.requests))
    result = SyncRun("projects")

    session.runner.drain(mapping, result)

    assert result.delivered == len(bodies) and result.batch_item_failures == 0
    assert (len(sims.netsuite.writes()), len(sims.clicktime.writes()), len(sims.clicktime.requests)) == writes
    assert "PutItem" not in dynamodb  # no idempotency record, no lock
    assert len(dynamodb) <= len(bodies) * 0.5, dynamodb
