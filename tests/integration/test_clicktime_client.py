"""The product's ClickTimeClient against the ClickTime simulator over real HTTP (loopback).

What is shown: paging (every item once), the 500-row cap on time entries, decimals sent as numbers or strings,
retries (429 with Retry-After, 503, connection resets), an `errors` list on a 2xx answer treated as a failure,
typed errors (401, 404, 400), creates that are not blindly re-sent, job/task/client round trips with the
job-task links, the company settings and receipt downloads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from pydantic import SecretStr

from ctsync import unsettled
from ctsync.clicktime.client import TIME_ENTRY_PAGE_SIZE, ClickTimeClient, ReceiptRefused
from ctsync.clicktime.errors import (
    ClickTimeAuthError,
    ClickTimeNotFound,
    ClickTimeOutcomeUnknown,
    ClickTimeValidationError,
)
from ctsync.errors import ConfigurationError, NeedsAttention, TargetNotFound, TransientError
from ctsync.retry import RetryPolicy
from simulators.clicktime import ClickTimeSimulator, SeededIds
from simulators.common.server import LoggedRequest, SimulatorServer
from simulators.company import Company
from simulators.generator import generate_company
from tests.integration.harness import RecordingSession, Sleeps

TOKEN = "ct-test-token"


# -- harness -------------------------------------------------------------------------------------------------
@dataclass
class ClickTime:
    sim: ClickTimeSimulator
    server: SimulatorServer
    ids: SeededIds
    sessions: list[RecordingSession] = field(default_factory=list)

    def connect(
        self, *, token: str = TOKEN, retry: RetryPolicy | None = None
    ) -> tuple[ClickTimeClient, RecordingSession, Sleeps]:
        sleeps = Sleeps()
        session = RecordingSession()
        self.sessions.append(session)
        client = ClickTimeClient(
            token=SecretStr(token),
            base_url=f"{self.server.url}/v2",
            session=session,
            retry=retry or RetryPolicy(base_seconds=0.01, cap_seconds=0.05, sleep=sleeps),
            timeout_seconds=10,
        )
        return client, session, sleeps

    def logged(self, path: str, method: str | None = None) -> list[LoggedRequest]:
        return [r for r in self.sim.requests if r.path == "/v2" + path and (method is None or r.method == method)]

    def statuses(self, path: str, method: str | None = None) -> list[int]:
        return [r.status for r in self.logged(path, method)]


@pytest.fixture(scope="module")
def company() -> Company:
    return generate_company(7, size=4)


@pytest.fixture
def start_clicktime(company) -> Iterator[Callable[..., ClickTime]]:
    """Start a ClickTime simulator loaded with the company (users, types, settings) and its clients, jobs, tasks
    and links; `activity=True` adds timesheets, time entries, expense sheets and receipts. Keyword options go to
    ClickTimeSimulator."""
    started: list[ClickTime] = []

    def start(*, activity: bool = False, **options: Any) -> ClickTime:
        sim = ClickTimeSimulator(token=TOKEN, seed=1, **options)
        sim.load(company)
        ids = sim.seed_jobs_and_tasks(company)
        if activity:
            sim.load_activity(company, ids.jobs.get, ids.tasks.get)
        world = ClickTime(sim, SimulatorServer(sim).start(), ids)
        started.append(world)
        return world

    yield start
    for world in started:
        world.server.stop()
        for session in world.sessions:
            session.close()


@pytest.fixture
def ct(start_clicktime) -> ClickTime:
    return start_clicktime()


# -- paging --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/Jobs", "/Tasks", "/Clients"])
def test_iterate_reads_every_item_once_across_pages(ct, path):
    client, _, _ = ct.connect()
    expected = {"/Jobs": ct.sim.jobs, "/Tasks": ct.sim.tasks, "/Clients": ct.sim.clients}[path]()
    assert len(expected) > 25

    items = list(client.iterate(path, page_size=25))

    ids = [item["ID"] for item in items]
    assert len(ids) == len(set(ids)) == len(expected)
    assert set(ids) == {record["ID"] for record in expected}
    pages = ct.logged(path, "GET")
    assert [(r.query["limit"], r.query["offset"]) for r in pages] == [
        (["25"], [str(offset)]) for offset in range(0, len(expected), 25)
    ]


def test_typed_lists_come_back_as_models(ct):
    client, _, _ = ct.connect()
    jobs = client.jobs()
    assert sorted(j.ID for j in jobs) == sorted(j["ID"] for j in ct.sim.jobs())
    assert {j.AccountingPackageID for j in jobs} == set(ct.ids.jobs)  # the NetSuite ids they were made from


def test_time_entries_are_read_500_at_a_time(start_clicktime):
    # Given more than 1500 time entries
    ct = start_clicktime(activity=True)
    expected = ct.sim.time_entries()
    assert len(expected) > 3 * TIME_ENTRY_PAGE_SIZE
    client, _, _ = ct.connect()

    entries = client.time_entries()

    # Then all are read, and no request asked for more than 500 (the simulator refuses 501, as ClickTime may)
    assert sorted(e.ID for e in entries) == sorted(e["ID"] for e in expected)
    limits = [int(r.query["limit"][0]) for r in ct.logged("/TimeEntries", "GET")]
    assert limits and max(limits) <= 500
    assert limits == [500] * len(limits)
    # Per timesheet too
    sheet = ct.sim.timesheet_for_entry(expected[0]["ID"])
    client.timesheet_entries(sheet)
    assert [r.query["limit"] for r in ct.logged(f"/Timesheets/{sheet}/TimeEntries")] == [["500"]]
    # (Control: one more than 500 is refused, so the cap matters.)
    with pytest.raises(ClickTimeValidationError, match="limit"):
        list(client.iterate("/TimeEntries", page_size=501))


# -- decimals ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("decimals_as", ["number", "string", "mixed"])
def test_decimals_parse_to_the_same_exact_values_however_they_arrive(start_clicktime, decimals_as):
    ct = start_clicktime(activity=True, decimals_as=decimals_as)
    client, _, _ = ct.connect()

    entries = {e.ID: e for e in client.time_entries()}
    items = {i.ID: i for i in client.expense_items()}

    for stored in ct.sim.time_entries():
        entry = entries[stored["ID"]]
        assert type(entry.Hours) is Decimal and entry.Hours == stored["Hours"]
        assert entry.BillingRate == stored["BillingRate"]
    for stored in ct.sim.expense_items():
        item = items[stored["ID"]]
        assert type(item.Amount) is Decimal and item.Amount == stored["Amount"]
        assert item.AmountForeign == stored["AmountForeign"]
        assert item.AmountForeignExchangeRate == stored["AmountForeignExchangeRate"]
    # Exact, digit for digit: the sum over every entry is the stored sum
    assert sum(e.Hours for e in entries.values()) == sum(e["Hours"] for e in ct.sim.time_entries())
    assert any(i.AmountForeignExchangeRate is not None for i in items.values())


def test_the_wire_really_carried_strings_or_numbers(start_clicktime):
    as_strings = start_clicktime(activity=True, decimals_as="string")
    as_numbers = start_clicktime(activity=True, decimals_as="number")
    raw_strings = requests.get(
        f"{as_strings.server.url}/v2/TimeEntries?limit=1", headers={"Authorization": f"Token {TOKEN}"}, timeout=10
    )
    raw_numbers = requests.get(
        f"{as_numbers.server.url}/v2/TimeEntries?limit=1", headers={"Authorization": f"Token {TOKEN}"}, timeout=10
    )
    assert isinstance(raw_strings.json()["data"][0]["Hours"], str)
    assert not isinstance(raw_numbers.json()["data"][0]["Hours"], str)
    # And the client reads them to equal Decimals
    from_strings = {e.ID: e.Hours for e in as_strings.connect()[0].time_entries()}
    from_numbers = {e.ID: e.Hours for e in as_numbers.connect()[0].time_entries()}
    assert sorted(from_strings.values()) == sorted(from_numbers.values())


# -- retries -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "status"),
    [("status", 429), ("status", 503), ("status", 500), ("reset", 0)],
    ids=["429", "503", "500", "reset"],
)
def test_a_read_succeeds_after_transient_failures(ct, kind, status):
    client, session, sleeps = ct.connect()
    ct.sim.faults.inject(kind, status=status or 503, times=2, path="/v2/Company$")

    company = client.company()

    assert company.Name == ct.sim.store.company_name
    assert len(session.sent) == 3 and len(sleeps) == 2
    assert ct.statuses("/Company") == ([status, status, 200] if kind == "status" else [200])


def test_a_gateway_error_page_that_is_not_json_is_retried(ct):
    # A proxy in front of ClickTime answers 502 with an HTML page (no envelope), then ClickTime answers
    client, session, sleeps = ct.connect()
    session.gateway_answers.append((502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"))

    company = client.company()

    assert company.Name == ct.sim.store.company_name
    assert len(session.sent) == 2 and len(sleeps) == 1
    assert ct.statuses("/Company") == [200]


def test_retry_after_is_honoured(ct):
    sleeps = Sleeps()
    client, _, _ = ct.connect(retry=RetryPolicy(base_seconds=0.01, cap_seconds=30.0, sleep=sleeps))
    ct.sim.faults.inject("status", status=429, times=1, path="/v2/Jobs$", retry_after=4)

    jobs = client.jobs()

    assert len(jobs) == len(ct.sim.jobs())
    assert len(sleeps) == 1 and sleeps[0] >= 4
    assert ct.statuses("/Jobs") == [429, 200]


def test_a_retry_after_of_zero_is_not_made_longer(ct):
    sleeps = Sleeps()
    client, _, _ = ct.connect(retry=RetryPolicy(base_seconds=0.01, cap_seconds=30.0, sleep=sleeps))
    ct.sim.faults.inject("status", status=429, times=1, path="/v2/Company$", retry_after=0)

    client.company()

    assert len(sleeps) == 1 and sleeps[0] <= 0.01  # the backoff's own pause: ClickTime asked for none


def test_paging_goes_on_to_the_count_when_a_page_has_no_next_link(ct):
    # ClickTime states the total (page.count); a page without links is not the last while items remain
    client, session, _ = ct.connect()
    pages = [
        {"data": [{"ID": "a"}, {"ID": "b"}], "page": {"count": 4, "limit": 2, "offset": 0}},
        {"data": [{"ID": "c"}, {"ID": "d"}], "page": {"count": 4, "limit": 2, "offset": 2}},
    ]
    session.gateway_answers += [(200, json.dumps(page).encode(), "application/json") for page in pages]

    items = list(client.iterate("/Jobs", page_size=2))

    assert [item["ID"] for item in items] == ["a", "b", "c", "d"]
    # and it stops there: no request for a page past the count
    assert [parse_qs(urlsplit(r.url).query)["offset"] for r in session.sent] == [["0"], ["2"]]


def test_paging_without_a_count_follows_the_next_link(ct):
    client, session, _ = ct.connect()
    pages = [
        {"data": [{"ID": "a"}, {"ID": "b"}], "page": {"limit": 2, "offset": 0, "links": {"next": "/Jobs?offset=2"}}},
        {"data": [{"ID": "c"}, {"ID": "d"}], "page": {"limit": 2, "offset": 2, "links": {"self": "/Jobs?offset=2"}}},
    ]
    session.gateway_answers += [(200, json.dumps(page).encode(), "application/json") for page in pages]

    items = list(client.iterate("/Jobs", page_size=2))

    assert [item["ID"] for item in items] == ["a", "b", "c", "d"]
    assert len(session.sent) == 2  # the page without a next link was the last


def test_a_2xx_answer_that_is_not_json_is_a_transient_bad_envelope_naming_the_call(ct):
    client, session, _ = ct.connect(retry=RetryPolicy(max_attempts=1, sleep=Sleeps()))
    session.gateway_answers.append((200, b"<html>cut", "text/html"))

    with pytest.raises(TransientError) as caught:
        client.company()

    assert (caught.value.code, caught.value.cause_key) == ("BAD_ENVELOPE", "clicktime-bad-body")
    assert caught.value.message == (
        "ClickTime answered 200 to GET /Company with a body that is not JSON (text/html, 9 bytes: cut short, "
        "or an error page)"
    )


def test_a_2xx_answer_without_a_body_type_that_is_not_json_says_so(ct):
    client, session, _ = ct.connect(retry=RetryPolicy(max_attempts=1, sleep=Sleeps()))
    session.gateway_answers.append((200, b"cut", None))

    with pytest.raises(TransientError) as caught:
        client.company()

    assert "(no content type, 3 bytes: cut short, or an error page)" in caught.value.message


@pytest.mark.parametrize(
    ("header", "moment"),
    [
        ("Sun, 01 Mar 2026 12:30:05 -0000", datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)),  # no zone stated: UTC
        ("Sun, 01 Mar 2026 13:30:05 +0100", datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)),
    ],
    ids=["no-zone", "an-offset"],
)
def test_server_time_reads_any_date_header_as_aware_utc(ct, header, moment):
    client, session, _ = ct.connect()
    session.gateway_answers.append((200, b'{"data": {"Name": "Acme"}}', "application/json"))
    session.gateway_headers["Date"] = header

    got = client.server_time()

    assert got == moment and got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got.isoformat() == "2026-03-01T12:30:05+00:00"


def test_a_2xx_json_answer_that_is_not_an_envelope_is_transient(ct):
    client, session, _ = ct.connect(retry=RetryPolicy(max_attempts=1, sleep=Sleeps()))
    session.gateway_answers.append((200, b'["not", "an", "envelope"]', "application/json"))

    with pytest.raises(TransientError) as caught:
        client.company()

    assert (caught.value.code, caught.value.message) == (
        "BAD_ENVELOPE",
        "ClickTime GET /Company: answer is not an envelope",
    )


def test_a_400_error_page_that_is_not_json_is_a_refusal_not_retried(ct):
    client, session, sleeps = ct.connect()
    page = b"<html>Bad Request</html>" + b"x" * 300
    session.gateway_answers.append((400, page, "text/html"))

    with pytest.raises(ClickTimeValidationError) as caught:
        client.company()

    assert page.decode()[:200] in caught.value.message  # the page's start, 200 characters of it
    assert page.decode()[:201] not in caught.value.message
    assert len(session.sent) == 1 and sleeps == []


# -- the clock -----------------------------------------------------------------------------------------------
def test_server_time_is_clicktimes_clock_from_the_date_header(start_clicktime):
    clicktime_now = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)
    ct = start_clicktime(clock=lambda: clicktime_now)
    client, session, _ = ct.connect()

    moment = client.server_time()

    assert moment == clicktime_now and moment.utcoffset() == timedelta(0)
    assert [(r.method, urlsplit(r.url).path) for r in session.sent] == [("GET", "/v2/Company")]


def test_server_time_without_a_date_header_is_transient(ct):
    client, session, _ = ct.connect(retry=RetryPolicy(max_attempts=1, sleep=Sleeps()))
    session.gateway_answers.append((200, b'{"data": {"Name": "Acme"}}', "application/json"))  # no Date header

    with pytest.raises(TransientError) as caught:
        client.server_time()

    assert (caught.value.code, caught.value.message) == ("NO_DATE", "ClickTime answered without a Date header")


@pytest.mark.parametrize(("kind", "status"), [("status", 500), ("reset", 0)], ids=["500", "reset"])
def test_a_list_read_is_retried_after_an_ambiguous_failure(ct, kind, status):
    # A read may be sent again whatever happened to the first one (only creates may not)
    client, _, sleeps = ct.connect()
    ct.sim.faults.inject(kind, status=status or 503, times=1, path="/v2/Jobs$")

    assert len(client.jobs()) == len(ct.sim.jobs())
    assert len(sleeps) == 1


def test_send_takes_an_absolute_url_as_it_is(ct):
    client, session, _ = ct.connect()

    envelope = client.send("GET", f"{ct.server.url}/v2/Company")

    assert envelope.data["Name"] == ct.sim.store.company_name
    assert session.sent[0].url == f"{ct.server.url}/v2/Company"


def test_every_request_is_sent_with_the_clients_timeout(ct):
    client, session, _ = ct.connect()
    timeouts: list[Any] = []
    send = session.send

    def recording(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        timeouts.append(kwargs.get("timeout"))
        return send(request, **kwargs)

    session.send = recording  # type: ignore[method-assign]
    client.company()
    client.jobs()

    assert timeouts and all(t == 10 for t in timeouts)  # never wait for ever on a hung connection


def test_no_answer_is_transient_for_a_read_and_an_unknown_outcome_for_a_create_each_naming_the_call(ct):
    client, _, _ = ct.connect(retry=RetryPolicy(max_attempts=1, sleep=Sleeps()))
    ct.sim.faults.inject("reset", times=2)

    with pytest.raises(TransientError) as read:
        client.company()
    with pytest.raises(ClickTimeOutcomeUnknown) as create:
        client.create_client({"Name": "Initech"})

    assert (read.value.code, read.value.cause_key) == ("CONNECTION", "clicktime-unreachable")
    assert read.value.message == "ClickTime GET /Company: ConnectionError"
    assert create.value.message == "ClickTime POST /Clients: ConnectionError"


def test_a_page_in_the_middle_is_retried_and_nothing_is_lost(ct):
    client, _, _ = ct.connect()
    pages = client.iterate("/Tasks", page_size=25)
    first_page = [next(pages)["ID"] for _ in range(25)]
    # The next page's request fails once
    ct.sim.faults.inject("status", status=503, times=1, path="/v2/Tasks$")

    ids = first_page + [item["ID"] for item in pages]

    assert len(ids) == len(set(ids)) == len(ct.sim.tasks())
    assert ct.statuses("/Tasks")[:3] == [200, 503, 200]
    assert [r.query["offset"] for r in ct.logged("/Tasks")][:3] == [["0"], ["25"], ["25"]]


# -- errors --------------------------------------------------------------------------------------------------
def test_errors_on_a_2xx_answer_are_a_failure(ct):
    client, session, sleeps = ct.connect()
    ct.sim.inject_envelope_error(path="/v2/Jobs$", message="Something went wrong inside ClickTime.")

    with pytest.raises(ClickTimeValidationError) as caught:
        client.jobs()

    assert "Something went wrong inside ClickTime." in caught.value.message
    assert ct.statuses("/Jobs") == [200]  # the answer was a 200, and it was not taken as data
    assert sleeps == []


def test_errors_on_a_2xx_answer_to_a_create_are_not_retried(ct):
    # The create was carried out, yet the answer lists an error: sending it again would make a second job.
    client, _, _ = ct.connect()
    ct.sim.inject_envelope_error(path="/v2/Jobs$", method="POST", after_handler=True)
    before = len(ct.sim.jobs())

    with pytest.raises(ClickTimeValidationError):
        client.create_job({"Name": "Audit", "JobNumber": "P-9001", "ClientID": ct.sim.clients()[0]["ID"]})

    assert ct.statuses("/Jobs", "POST") == [201]
    assert len(ct.sim.jobs()) == before + 1


def test_a_wrong_token_is_an_auth_error(ct):
    client, session, sleeps = ct.connect(token="not-the-token")

    with pytest.raises(ClickTimeAuthError) as caught:
        client.company()

    assert isinstance(caught.value, ConfigurationError) and caught.value.status == 401
    assert "Invalid Credentials" in caught.value.message
    assert len(session.sent) == 1 and sleeps == []


def test_a_missing_record_is_not_found(ct):
    client, _, _ = ct.connect()
    with pytest.raises(ClickTimeNotFound) as caught:
        client.get_job("doesnotexist")
    assert caught.value.status == 404 and "doesnotexist" in caught.value.message
    assert ct.statuses("/Jobs/doesnotexist") == [404]
    # Still a NeedsAttention; also a TargetNotFound naming the path it met (`records.targets` tells its target by it)
    assert isinstance(caught.value, NeedsAttention) and isinstance(caught.value, TargetNotFound)
    assert caught.value.path == "/Jobs/doesnotexist"


def test_an_unknown_field_is_a_validation_error_with_the_simulators_message(ct):
    client, _, _ = ct.connect()
    before = len(ct.sim.jobs())

    with pytest.raises(ClickTimeValidationError) as caught:
        client.create_job(
            {"Name": "X", "JobNumber": "P-9002", "ClientID": ct.sim.clients()[0]["ID"], "ProjectNumber": "7"}
        )

    assert caught.value.status == 400
    assert "ProjectNumber: 'ProjectNumber' is not a valid property for POST /Jobs" in caught.value.message
    assert "an error list on a" not in caught.value.message  # a 400 is a refusal, not a 2xx carrying errors
    assert len(ct.sim.jobs()) == before


# -- creates are not blindly re-sent ---------------------------------------------------------------------
def test_a_create_is_not_resent_after_a_500(ct):
    client, session, _ = ct.connect()
    ct.sim.faults.inject("status", status=500, times=1, method="POST", path="/v2/Jobs$")
    before = len(ct.sim.jobs())

    with pytest.raises(ClickTimeOutcomeUnknown) as caught:
        client.create_job({"Name": "Audit", "JobNumber": "P-9003", "ClientID": ct.sim.clients()[0]["ID"]})

    assert caught.value.message  # ClickTime's answer, for whoever checks whether the job exists
    assert ct.statuses("/Jobs", "POST") == [500]
    assert len(session.sent) == 1
    assert len(ct.sim.jobs()) == before


def test_a_create_whose_answer_was_lost_is_not_resent(start_clicktime):
    # Tasks may share a name here, so a resend would show up as a duplicate task.
    ct = start_clicktime(unique_task_names=False)
    client, session, _ = ct.connect()
    session.lose_answers = 1
    before = len(ct.sim.tasks())

    with pytest.raises(ClickTimeOutcomeUnknown):
        client.create_task({"Name": "Discovery workshop"})

    assert ct.statuses("/Tasks", "POST") == [201]
    assert len(ct.sim.tasks()) == before + 1


@pytest.mark.parametrize("status", [429, 503])
def test_a_create_refused_with_503_is_sent_again(ct, status):
    client, _, _ = ct.connect()
    ct.sim.faults.inject("status", status=status, times=1, method="POST", path="/v2/Clients$")

    created = client.create_client({"Name": "Initech", "ClientNumber": "C-9001"})

    assert ct.statuses("/Clients", "POST") == [status, 201]
    assert [c["ID"] for c in ct.sim.clients() if c["ClientNumber"] == "C-9001"] == [created.ID]


# -- round trips ---------------------------------------------------------------------------------------------
def test_client_job_and_task_round_trips_with_links(ct):
    client, _, _ = ct.connect()

    # Client
    new_client = client.create_client({"Name": "Initech", "ClientNumber": "C-9100", "AccountingPackageID": "9100"})
    assert client.get_client(new_client.ID).Name == "Initech"
    updated_client = client.update_client(new_client.ID, {"Name": "Initech Ltd", "IsActive": False})
    assert (updated_client.Name, updated_client.IsActive) == ("Initech Ltd", False)
    assert client.get_client(new_client.ID).AccountingPackageID == "9100"

    # Job
    job = client.create_job(
        {
            "Name": "Website",
            "JobNumber": "P-9100",
            "ClientID": new_client.ID,
            "AccountingPackageID": "1774",
            "StartDate": "2026-01-05",
        }
    )
    assert (job.ClientID, job.JobNumber, job.StartDate) == (new_client.ID, "P-9100", "2026-01-05")
    assert client.update_job(job.ID, {"Name": "Website v2", "EndDate": "2026-12-31"}).EndDate == "2026-12-31"
    assert client.get_job(job.ID).Name == "Website v2"

    # Task
    task = client.create_task({"Name": "P-9100 Build", "AccountingPackageID": "905", "IsBillable": True})
    assert client.update_task(task.ID, {"IsActive": False}).IsActive is False
    assert client.get_task(task.ID).AccountingPackageID == "905"

    # Links, both ways
    assert client.job_task_ids(job.ID) == [] and client.task_job_ids(task.ID) == []
    client.link_task(job.ID, task.ID)
    assert client.job_task_ids(job.ID) == [task.ID]
    assert client.task_job_ids(task.ID) == [job.ID]
    assert ct.sim.job_tasks(job.ID) == [task.ID]
    client.unlink_task(job.ID, task.ID)
    assert client.job_task_ids(job.ID) == [] and client.task_job_ids(task.ID) == []


def test_a_link_or_unlink_whose_answer_was_lost_is_looked_up_not_refused_when_sent_again(ct):
    # Found by the soak: a link whose answer was lost (the server linked, the connection dropped) was sent again,
    # ClickTime refused it ("already associated with this job") and the task was dead-lettered
    client, _, _ = ct.connect()
    job_id = ct.sim.jobs()[0]["ID"]
    task = client.create_task({"Name": "P-9200 Lost answers", "AccountingPackageID": "9200"})
    ct.sim.faults.inject("reset_after", times=1, method="POST", path=r"/Jobs/[^/]+/Tasks$")
    ct.sim.faults.inject("reset_after", times=1, method="DELETE", path=r"/Jobs/[^/]+/Tasks/")
    client.link_task(job_id, task.ID)
    assert ct.sim.job_tasks(job_id).count(task.ID) == 1
    client.unlink_task(job_id, task.ID)
    assert task.ID not in ct.sim.job_tasks(job_id)


def test_a_link_or_unlink_an_earlier_attempt_already_made_is_done_and_other_refusals_still_raise(ct):
    # Found by the crash suite under load: a worker linked a task and died before recording it (or a duplicate
    # delivery linked it first); the next attempt's link, a fresh call with no lost answer, was refused as "already
    # associated with this job" and the task dead-lettered. The state asked for already holds: that is success.
    client, _, _ = ct.connect()
    job_id = ct.sim.jobs()[0]["ID"]
    task = client.create_task({"Name": "P-9202 Linked before", "AccountingPackageID": "9202"})
    client.link_task(job_id, task.ID)
    client.link_task(job_id, task.ID)
    assert ct.sim.job_tasks(job_id).count(task.ID) == 1
    client.unlink_task(job_id, task.ID)
    client.unlink_task(job_id, task.ID)
    assert task.ID not in ct.sim.job_tasks(job_id)
    with pytest.raises((ClickTimeNotFound, ClickTimeValidationError)):
        client.link_task("no-such-job", task.ID)


def test_a_link_answered_after_the_client_gave_up_is_not_refused_when_sent_again(ct):
    # Found by the soak: the client gave up on a slow link (the server made it later); the link sent again was
    # refused as "already associated". Whichever of the two the server handles first, the task is linked once.
    client, _, _ = ct.connect()
    client._timeout = 0.2
    job_id = ct.sim.jobs()[0]["ID"]
    task = client.create_task({"Name": "P-9201 Slow answers", "AccountingPackageID": "9201"})
    ct.sim.faults.inject("timeout", times=1, method="POST", path=r"/Jobs/[^/]+/Tasks$", delay_seconds=0.5)
    client.link_task(job_id, task.ID)
    assert ct.sim.job_tasks(job_id).count(task.ID) == 1


def test_seeded_links_read_back_from_both_sides(ct):
    client, _, _ = ct.connect()
    job_id = next(iter(ct.ids.jobs.values()))
    task_ids = client.job_task_ids(job_id)
    assert task_ids and set(task_ids) == set(ct.sim.job_tasks(job_id))
    for task_id in task_ids:
        assert job_id in client.task_job_ids(task_id)


def test_company_settings(ct, company):
    client, _, _ = ct.connect()
    settings = client.company()
    assert settings.Name == company.name
    assert settings.CurrencyISO == company.clicktime_settings.currency_iso
    assert settings.restricts_tasks_by_job is (company.clicktime_settings.task_restriction_method == "byjob")


# -- receipts ------------------------------------------------------------------------------------------------
def test_download_receipt_returns_the_bytes_and_type(start_clicktime):
    ct = start_clicktime(activity=True)
    client, session, _ = ct.connect()
    with_receipts = [i for i in client.expense_items() if i.ReceiptURL]
    assert with_receipts

    for item in with_receipts[:5]:
        content, content_type = client.download_receipt(item.ReceiptURL, max_bytes=10 * 1024 * 1024)
        assert (content, content_type) == ct.sim.receipt(item.ID)
        assert isinstance(content, bytes) and content
    assert session.sent[-1].headers["Authorization"] == f"Token {TOKEN}"


def test_download_receipt_is_retried_and_needs_the_token(start_clicktime):
    ct = start_clicktime(activity=True)
    client, _, sleeps = ct.connect()
    item = next(i for i in client.expense_items() if i.ReceiptURL)
    ct.sim.faults.inject("status", status=503, times=1, path="^/receipts/")
    assert client.download_receipt(item.ReceiptURL, max_bytes=10 * 1024 * 1024) == ct.sim.receipt(item.ID)
    assert len(sleeps) == 1

    stranger, _, _ = ct.connect(token="not-the-token")
    with pytest.raises(ClickTimeAuthError):
        stranger.download_receipt(item.ReceiptURL, max_bytes=10 * 1024 * 1024)


def test_a_receipt_download_broken_off_mid_body_is_retried_and_then_a_transient_download_failure(start_clicktime):
    """The answer's headers and half its body, then a reset (the simulator's `cut`): requests raises
    ChunkedEncodingError, which is not a ConnectionError; it escaped the client untranslated (review 2026-12-03)."""
    ct = start_clicktime(activity=True)
    client, _, sleeps = ct.connect()
    item = next(i for i in client.expense_items() if i.ReceiptURL)
    ct.sim.faults.inject("cut", times=1, path="^/receipts/")
    assert client.download_receipt(item.ReceiptURL, max_bytes=10 * 1024 * 1024) == ct.sim.receipt(item.ID)
    assert len(sleeps) == 1

    ct.sim.faults.inject("cut", times=2, path="^/receipts/")
    with pytest.raises(TransientError) as lost:
        client.download_receipt(item.ReceiptURL, max_bytes=10 * 1024 * 1024, attempts=2)
    assert lost.value.cause_key == "receipt-download"
    assert "ChunkedEncodingError" in lost.value.message and "http" not in lost.value.message


@pytest.mark.parametrize("url", ["ftp://receipts.example/1.pdf", "receipts/1.pdf"], ids=["ftp", "no-scheme"])
def test_a_receipt_url_that_cannot_be_fetched_is_refused_naming_its_kind_not_the_url(ct, url):
    client, _, _ = ct.connect()
    with pytest.raises(ReceiptRefused) as refused:
        client.download_receipt(url, max_bytes=1024)
    assert refused.value.cause_key == "receipt-download"
    assert "cannot be downloaded" in refused.value.message and url not in refused.value.message


def test_a_read_whose_answer_broke_off_mid_body_is_read_again(ct):
    client, _, sleeps = ct.connect()
    ct.sim.faults.inject("cut", times=1, method="GET", path="/Jobs$")
    assert [job.ID for job in client.jobs()] == [job["ID"] for job in ct.sim.jobs()]
    assert len(sleeps) == 1 and ct.sim.faults.fired["cut"] == 1


# -- writes of unknown outcome (ctsync.unsettled) -------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "status"),
    [("reset_after", None), ("cut", None), ("reset", None), ("status", 500), ("status", 502), ("status", 504)],
)
def test_a_write_whose_answer_was_lost_is_noted_as_doubtful_even_when_its_retry_succeeds(ct, kind, status):
    client, _, _ = ct.connect()
    job_id = ct.sim.jobs()[0]["ID"]
    ct.sim.faults.inject(kind, status=status or 503, times=1, method="PATCH", path=rf"/Jobs/{job_id}$")

    with unsettled.watching() as writes:
        client.update_job(job_id, {"Name": "Renamed"})

    path = f"/Jobs/{job_id}"
    assert writes == [
        unsettled.Write("PATCH", path, {"Name": "Renamed"}, doubtful=True),
        unsettled.Write("PATCH", path, {"Name": "Renamed"}, doubtful=False),
    ]


@pytest.mark.parametrize("status", [429, 503, 400])
def test_a_write_refused_before_it_ran_is_not_doubtful(ct, status):
    client, _, _ = ct.connect(retry=RetryPolicy(max_attempts=2, base_seconds=0.01, cap_seconds=0.05, sleep=Sleeps()))
    job_id = ct.sim.jobs()[0]["ID"]
    ct.sim.faults.inject("status", status=status, times=1, method="PATCH", path=rf"/Jobs/{job_id}$", retry_after=0)

    with unsettled.watching() as writes:
        try:
            client.update_job(job_id, {"Name": "Renamed"})
        except ClickTimeValidationError:
            assert status == 400

    assert not any(write.doubtful for write in writes)


def test_a_record_is_read_and_patched_by_its_path_and_a_missing_one_reads_as_none(ct):
    client, _, _ = ct.connect()
    job_id = ct.sim.jobs()[0]["ID"]

    with unsettled.watching() as writes:
        client.patch_record(f"/Jobs/{job_id}", {"IsActive": False})

    assert client.read_record(f"/Jobs/{job_id}")["IsActive"] is False
    assert client.read_record("/Jobs/no-such-job") is None
    # The later look's own write is watched like any other (a doubtful one restarts the wait).
    assert writes == [unsettled.Write("PATCH", f"/Jobs/{job_id}", {"IsActive": False}, doubtful=False)]


def test_a_record_read_as_anything_but_an_object_has_no_fields_to_judge(ct):
    """A look judges only the fields the read returns (`unsettled.drift`): an answer whose data is not an object
    (null, a list) gives none, rather than an error that would keep the record listed for ever."""
    client, session, _ = ct.connect()
    session.gateway_answers.append((200, b'{"data": null}', "application/json"))
    session.gateway_answers.append((200, b'{"data": [{"IsActive": true}]}', "application/json"))

    assert client.read_record("/Jobs/j1") == {}
    assert client.read_record("/Jobs/j1") == {}
