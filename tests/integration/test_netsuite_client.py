"""The product's NetSuiteClient against the NetSuite simulator over real HTTP (loopback).

What is shown: SuiteQL paging (offset pages and keyset pages past the row ceiling), retries that are signed
afresh every time, Retry-After, the 401-after-429 rule, signature failures, NetSuite's error bodies turned into
typed errors, creates that are never blindly re-sent, idempotent upserts, server time, token info and exact
Decimal money.

The client gets a fast RetryPolicy whose `sleep` records the pauses instead of sleeping, and a requests Session
that records every request it put on the wire (to look at nonces) and can "lose" answers after the server has
handled them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from pydantic import SecretStr

from ctsync import unsettled
from ctsync.errors import TransientError
from ctsync.netsuite import client as client_module
from ctsync.netsuite.auth import TbaCredentials
from ctsync.netsuite.client import CREDENTIAL_PROBES, NetSuiteClient, NetSuiteOutcomeUnknown
from ctsync.netsuite.errors import NetSuiteAuthError, NetSuiteNotFound, NetSuiteValidationError
from ctsync.retry import RetryPolicy
from simulators.common.server import LoggedRequest, SimulatorServer
from simulators.company import (
    ClickTimeSettings,
    Company,
    Currency,
    Customer,
    Employee,
    ExpenseCategory,
    Project,
    ProjectTask,
    ServiceItem,
    Subsidiary,
)
from simulators.netsuite import NetSuiteSimulator
from simulators.netsuite.app import DEFAULT_CREDENTIALS as CREDS
from tests.integration.harness import RecordingSession, Sleeps

SUITEQL = "/services/rest/query/v1/suiteql"
SERVER_TIME = "/services/rest/system/v1/serverTime"
RECORDS = "/services/rest/record/v1"
ALL_CUSTOMERS = "SELECT c.id AS id, c.entityid AS entityid FROM customer c ORDER BY c.id"


# -- harness -------------------------------------------------------------------------------------------------
class Clock:
    """Real time plus an offset (TBA timestamps come from the real clock; tests can still move NetSuite's on)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def _header(request: requests.PreparedRequest, name: str) -> str:
    value = request.headers[name]  # str from the product's signer; bytes from requests-oauthlib
    return value.decode() if isinstance(value, bytes) else value


def nonces(session: RecordingSession) -> list[str]:
    return [_oauth_param(r, "oauth_nonce") for r in session.sent]


def _oauth_param(request: requests.PreparedRequest, name: str) -> str:
    text = _header(request, "Authorization")
    for part in text.removeprefix("OAuth ").split(","):
        key, _, value = part.strip().partition("=")
        if key == name:
            return unquote(value.strip('"'))
    raise KeyError(name)


@dataclass
class Connection:
    client: NetSuiteClient
    session: RecordingSession
    sleeps: Sleeps


@dataclass
class NetSuite:
    sim: NetSuiteSimulator
    server: SimulatorServer
    clock: Clock
    connections: list[Connection] = field(default_factory=list)

    def connect(
        self,
        *,
        account_id: str = CREDS.account_id,
        retry: RetryPolicy | None = None,
        monotonic: Callable[[], float] | None = None,
        **credentials: str,
    ) -> Connection:
        sleeps = Sleeps()
        secrets = {
            "consumer_key": CREDS.consumer_key,
            "consumer_secret": CREDS.consumer_secret,
            "token_id": CREDS.token_id,
            "token_secret": CREDS.token_secret,
            **credentials,
        }
        session = RecordingSession()
        client = NetSuiteClient(
            account_id=account_id,
            credentials=TbaCredentials(**{k: SecretStr(v) for k, v in secrets.items()}),
            base_url=f"{self.server.url}/services/rest",
            restlets_url=self.server.url,
            session=session,
            retry=retry or RetryPolicy(base_seconds=0.01, cap_seconds=0.05, sleep=sleeps),
            timeout_seconds=10,
            **({"monotonic": monotonic} if monotonic else {}),
        )
        connection = Connection(client, session, sleeps)  # sleeps stays empty when the test brings its own policy
        self.connections.append(connection)
        return connection

    def logged(self, path: str, method: str | None = None) -> list[LoggedRequest]:
        return [r for r in self.sim.requests if r.path == path and (method is None or r.method == method)]

    def statuses(self, path: str, method: str | None = None) -> list[int]:
        return [r.status for r in self.logged(path, method)]

    def add_customers(self, count: int) -> list[str]:
        return [
            self.sim.records.add(
                "customer", {"entityId": f"BULK-{n:04d}", "companyName": f"Bulk {n}", "subsidiary": {"id": "1"}}
            )
            for n in range(count)
        ]

    def customer_ids(self) -> list[str]:
        return [r["id"] for r in self.sim.records.all("customer")]


def make_company() -> Company:
    return Company(
        seed=1,
        name="Acme Consulting",
        subsidiaries=[Subsidiary("1", "Acme US", "1")],
        currencies=[Currency("1", "USD", "US Dollar")],
        customers=[Customer("12", "C-12", "Globex", "1")],
        projects=[Project("1774", "P-1774", "Website", "12", "1", "2", date(2026, 1, 5), date(2026, 12, 31))],
        tasks=[ProjectTask("905", "1774", "Build", service_item_id="42")],
        employees=[Employee("311", "E-311", "Ann", "Lee", "ann@example.com", "1", "1")],
        expense_categories=[ExpenseCategory("7", "Hotel")],
        service_items=[ServiceItem("42", "Consulting Hours")],
        clicktime_settings=ClickTimeSettings(),
        users=[],
        expense_types=[],
        payment_types=[],
        timesheets=[],
        expense_sheets=[],
    )


@pytest.fixture
def start_netsuite() -> Iterator[Callable[..., NetSuite]]:
    """Start a NetSuite simulator (keyword overrides go to NetSuiteSimulator); stopped and checked afterwards."""
    started: list[NetSuite] = []

    def start(**options: Any) -> NetSuite:
        clock = Clock()
        sim = NetSuiteSimulator(clock=clock, **options)
        sim.load(make_company())
        world = NetSuite(sim, SimulatorServer(sim).start(), clock)
        started.append(world)
        return world

    yield start
    stoppers = [threading.Thread(target=world.server.stop) for world in started]
    for stopper in stoppers:
        stopper.start()
    for stopper in stoppers:
        stopper.join()
    for world in started:
        for connection in world.connections:
            connection.session.close()
        assert world.sim.internal_errors == [], world.sim.internal_errors[0]


@pytest.fixture
def ns(start_netsuite) -> NetSuite:
    return start_netsuite()


@pytest.fixture
def conn(ns) -> Connection:
    return ns.connect()


def _paging(request: LoggedRequest) -> tuple[int, int]:
    return int(request.query["limit"][0]), int(request.query["offset"][0])


# -- SuiteQL paging ------------------------------------------------------------------------------------------
def _customers_after(after: str | None) -> str:
    where = f" WHERE c.id > {after}" if after is not None else ""
    return f"SELECT c.id AS id, c.entityid AS entityid FROM customer c{where} ORDER BY c.id"


def test_rows_reads_every_row_once_in_order_across_pages(ns, conn):
    # Given 251 customers (250 added + the company's one)
    ns.add_customers(250)
    expected = ns.customer_ids()
    assert len(expected) == 251

    # When they are read 50 to a page
    rows = list(conn.client.rows(_customers_after, page_size=50))

    # Then every row comes once, in id order, with its columns
    assert [row["id"] for row in rows] == expected
    assert [int(i) for i in expected] == sorted(int(i) for i in expected)
    assert rows[1]["entityid"] == "BULK-0000"
    # And each of the six pages was the query from the last key seen, at offset 0
    assert [_paging(r) for r in ns.logged(SUITEQL)] == [(50, 0)] * 6
    assert ns.sim.login_audit == []


def test_keyset_pages_give_every_row_once_and_resume_from_any_page(ns, conn):
    ns.add_customers(120)
    expected = ns.customer_ids()

    pages = list(conn.client.keyset_pages(_customers_after, page_size=50))

    assert [len(page) for page in pages] == [50, 50, 21]
    assert [row["id"] for page in pages for row in page] == expected
    # Each page's last key is a safe resume point: continuing from it reads exactly the rest.
    resumed = list(conn.client.keyset_pages(_customers_after, after=pages[0][-1]["id"], page_size=50))
    assert [row["id"] for page in resumed for row in page] == expected[50:]


def test_keyset_pages_read_past_the_row_ceiling(start_netsuite):
    # Given a NetSuite whose queries stop at 100 rows, and 251 customers
    ns = start_netsuite(row_ceiling=100)
    ns.add_customers(250)
    expected = ns.customer_ids()
    conn = ns.connect()

    # When they are read by key, 25 to a page
    pages = list(conn.client.keyset_pages(_customers_after, page_size=25))

    # Then every row is read, once, in order, and no offset was ever asked for
    ids = [row["id"] for page in pages for row in page]
    assert ids == expected
    assert all(_paging(r)[1] == 0 for r in ns.logged(SUITEQL))


def test_a_record_deleted_between_two_pages_loses_no_other_record(ns, conn):
    # Given 25 customers read ten to a page (the defect: an offset reader skipped the 11th)
    ns.add_customers(24)
    expected = ns.customer_ids()
    pages = conn.client.keyset_pages(_customers_after, page_size=10)
    first = next(pages)

    # When a record of page 1 is deleted before page 2 is read
    ns.sim.records.delete("customer", first[3]["id"])
    rest = [row["id"] for page in pages for row in page]

    # Then every record after page 1 is still read, the 11th included
    assert rest == expected[10:]


def test_a_keyset_query_that_does_not_advance_is_refused(ns, conn):
    # A builder that ignores the key would read the first page for ever: the reader refuses instead
    ns.add_customers(30)
    with pytest.raises(ValueError, match="did not advance"):
        list(conn.client.rows(lambda _after: ALL_CUSTOMERS, page_size=10))


def test_rows_page_by_the_key_they_are_given(ns, conn):
    # Given 25 customers read by entity ID (text), ten to a page
    ns.add_customers(24)
    asked: list[str | None] = []

    def by_entity_id(after: str | None) -> str:
        asked.append(after)
        where = f" WHERE c.entityid > '{after}'" if after is not None else ""
        return f"SELECT c.id AS id, c.entityid AS entityid FROM customer c{where} ORDER BY c.entityid"

    rows = list(conn.client.rows(by_entity_id, key="entityid", page_size=10))

    # Then every row comes once, in entity ID order, each page read from the last entity ID seen
    names = [row["entityid"] for row in rows]
    assert names == sorted(names) and len(set(names)) == 25
    assert asked == [None, names[9], names[19]]


def test_a_suiteql_page_says_where_it_is_and_how_many_rows_there_are(ns, conn):
    ns.add_customers(24)

    page = conn.client.suiteql_page(ALL_CUSTOMERS, limit=10, offset=10)

    assert [row["id"] for row in page.rows] == ns.customer_ids()[10:20]
    assert set(page.rows[0]) == {"id", "entityid"}  # the columns, not NetSuite's links
    assert (page.has_more, page.offset, page.total) == (True, 10, 25)
    assert ns.logged(SUITEQL)[-1].query == {"limit": ["10"], "offset": ["10"]}
    assert conn.session.sent[-1].headers["Prefer"] == "transient"  # SuiteQL's REST endpoint requires it
    last = conn.client.suiteql_page(ALL_CUSTOMERS, limit=1, offset=24)
    assert (len(last.rows), last.has_more, last.offset) == (1, False, 24)


def test_a_suiteql_page_without_offset_or_total_keeps_the_offset_asked_for_and_drops_links(ns):
    conn = ns.connect(retry=RetryPolicy(max_attempts=1, sleep=Sleeps()))
    body = b'{"items": [{"id": "7", "links": [{"rel": "self", "href": "x"}]}], "hasMore": "false"}'
    conn.session.gateway_answers.append((200, body, "application/json"))

    page = conn.client.suiteql_page(ALL_CUSTOMERS, limit=10, offset=20)

    assert (page.rows, page.has_more, page.offset, page.total) == ([{"id": "7"}], False, 20, None)


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (1001, 0), (10, 5)])
def test_suiteql_paging_outside_netsuites_rules_is_refused_before_sending(ns, conn, limit, offset):
    with pytest.raises(ValueError) as caught:
        conn.client.suiteql_page(ALL_CUSTOMERS, limit=limit, offset=offset)
    assert str(caught.value) == "SuiteQL paging needs 0 < limit <= 1000 and offset a multiple of it"
    assert conn.session.sent == []


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (b"[]", "'[]'"),
        (b'{"count": 0}', "\"{'count': 0}\""),
        (b'{"items": [1, 2]}', "\"{'items': [1, 2]}\""),
    ],
    ids=["not-an-object", "no-items", "items-not-rows"],
)
def test_a_suiteql_answer_without_a_list_of_rows_is_a_transient_bad_body(ns, body, shown):
    conn = ns.connect(retry=RetryPolicy(max_attempts=1, sleep=Sleeps()))
    conn.session.gateway_answers.append((200, body, "application/json"))

    with pytest.raises(TransientError) as caught:
        conn.client.suiteql_page(ALL_CUSTOMERS, limit=10)

    assert (caught.value.code, caught.value.cause_key) == ("BAD_BODY", "netsuite-bad-body")
    assert caught.value.message == f"NetSuite answered POST {SUITEQL} without a list of rows (items): {shown}"


# -- the clock -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "shown"),
    [(b"[]", "'[]'"), (b'{"serverTime": "soon"}', "\"{'serverTime': 'soon'}\"")],
    ids=["not-an-object", "unreadable-time"],
)
def test_a_server_time_answer_without_a_readable_time_is_a_transient_bad_body(ns, body, shown):
    conn = ns.connect(retry=RetryPolicy(max_attempts=1, sleep=Sleeps()))
    conn.session.gateway_answers.append((200, body, "application/json"))

    with pytest.raises(TransientError) as caught:
        conn.client.server_time()

    assert (caught.value.code, caught.value.cause_key) == ("BAD_BODY", "netsuite-bad-body")
    assert caught.value.message == f"NetSuite answered GET {SERVER_TIME} without a readable serverTime: {shown}"


# -- retries, each signed afresh ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "status"),
    [("status", 429), ("status", 503), ("status", 500), ("status", 502), ("reset", 0)],
    ids=["429", "503", "500", "502", "connection-reset"],
)
def test_a_read_succeeds_after_transient_failures_with_a_fresh_nonce_each_time(ns, conn, kind, status):
    # Given the next two serverTime calls fail
    ns.sim.faults.inject(kind, status=status or 503, times=2, path=SERVER_TIME)

    # When the client asks for the server time
    moment = conn.client.server_time()

    # Then it gets the right answer after two retries
    assert abs(moment - ns.clock()) < timedelta(seconds=5)
    assert len(conn.session.sent) == 3 and len(conn.sleeps) == 2
    if kind == "status":
        assert ns.statuses(SERVER_TIME) == [status, status, 200]
    else:
        assert ns.statuses(SERVER_TIME) == [200]  # a reset connection never got an answer to log
    # And every attempt was signed anew
    assert len(set(nonces(conn.session))) == 3
    assert ns.sim.login_audit == []


def test_suiteql_is_a_read_and_is_retried_after_a_500(ns, conn):
    ns.sim.faults.inject("status", status=500, times=1, method="POST", path=SUITEQL)
    rows = list(conn.client.rows(_customers_after))
    assert [row["id"] for row in rows] == ["12"]
    assert ns.statuses(SUITEQL) == [500, 200]


def test_a_gateway_error_page_that_is_not_json_is_retried(ns, conn):
    # A proxy in front of NetSuite answers 502 with an HTML page, then NetSuite answers
    conn.session.gateway_answers.append((502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"))
    moment = conn.client.server_time()
    assert abs(moment - ns.clock()) < timedelta(seconds=5)
    assert len(conn.session.sent) == 2 and ns.statuses(SERVER_TIME) == [200]


def test_a_retry_after_a_lost_answer_is_accepted_because_its_nonce_is_fresh(ns, conn):
    # Given the server handles the request but the answer is lost twice on the way back
    conn.session.lose_answers = 2

    # When the client asks for the server time
    conn.client.server_time()

    # Then the server authenticated three requests, none of them a replay
    assert ns.statuses(SERVER_TIME) == [200, 200, 200]
    assert ns.sim.login_audit == []
    assert len(set(nonces(conn.session))) == 3
    # (Control: the simulator does refuse a replayed signature, so the check above has teeth.)
    with requests.Session() as plain:
        replay = plain.send(conn.session.sent[-1], timeout=10)
    assert replay.status_code == 401
    assert [reason for reason, _ in ns.sim.login_audit] == ["InvalidNonce"]


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(ns, status):
    # Given a client whose pauses are recorded (not slept) and whose cap is above the server's wish
    sleeps = Sleeps()
    conn = ns.connect(retry=RetryPolicy(base_seconds=0.01, cap_seconds=30.0, sleep=sleeps))
    ns.sim.faults.inject("status", status=status, times=1, path=SERVER_TIME, retry_after=3)

    conn.client.server_time()

    # Then the one pause lasted at least as long as Retry-After asked
    assert len(sleeps) == 1 and sleeps[0] >= 3
    assert ns.statuses(SERVER_TIME) == [status, 200]


def test_a_401_is_retried_signed_afresh_since_netsuite_answers_load_with_invalid_login(ns, conn):
    # NetSuite answers INVALID_LOGIN instead of 429 when the account's concurrency limit is full
    ns.sim.faults.inject("status", status=401, times=1, path=SERVER_TIME)

    conn.client.server_time()

    assert ns.statuses(SERVER_TIME) == [401, 200]
    assert len(set(nonces(conn.session))) == 2 and len(conn.sleeps) == 1


def test_a_401_under_a_full_concurrency_limit_is_retried_until_a_slot_frees(start_netsuite):
    # Given NetSuite in its 401 mode with a concurrency limit of 1, and another caller holding the slot
    ns = start_netsuite(concurrency_limit=1, throttle_as_unauthorized=True, processing_seconds=0.0)
    holder = threading.Event()
    release = threading.Event()
    original = ns.sim.dispatch

    def slow_first(request):
        if request.path == SERVER_TIME and not holder.is_set():
            holder.set()
            release.wait(10)
        return original(request)

    ns.sim.dispatch = slow_first
    other = ns.connect()
    waiting = threading.Thread(target=other.client.server_time)
    waiting.start()
    assert holder.wait(10)
    # When our client calls while the slot is held (its first attempt gets 401), and the slot frees afterwards
    sleeps: list[float] = []

    def sleep_then_free(seconds: float) -> None:
        sleeps.append(seconds)
        release.set()
        waiting.join(10)

    conn = ns.connect(retry=RetryPolicy(base_seconds=0.01, cap_seconds=0.05, sleep=sleep_then_free))
    moment = conn.client.server_time()

    # Then it got through on a fresh signature, after one pause
    assert abs(moment - ns.clock()) < timedelta(seconds=5)
    assert 401 in ns.statuses(SERVER_TIME) and len(sleeps) == 1
    assert len(set(nonces(conn.session))) == len(conn.session.sent) == 2


def test_401s_are_believed_after_two_fresh_retries_and_signed_probes_that_fail_too(ns, conn):
    ns.sim.faults.inject("status", status=401, times=10, path=SERVER_TIME)

    with pytest.raises(NetSuiteAuthError) as caught:
        conn.client.server_time()

    # three attempts, then three probes (GET serverTime, signed afresh): none was accepted
    assert ns.statuses(SERVER_TIME) == [401] * (3 + CREDENTIAL_PROBES)
    assert caught.value.status == 401 and caught.value.code == "INVALID_LOGIN"
    assert caught.value.systemic and caught.value.cause_key == "netsuite-login"
    assert "Login Audit Trail" in caught.value.message and "account ID's case" in caught.value.message
    assert len(conn.sleeps) == 2 + CREDENTIAL_PROBES


def test_401s_that_keep_coming_under_load_while_a_probe_is_accepted_are_load_not_bad_credentials(ns, conn):
    # Given a SuiteQL call answered 401 three times (the account's concurrency limit, shared by every integration)
    ns.sim.faults.inject("status", status=401, times=3, path="/suiteql")

    # When the client gives up believing it is load, a signed probe goes through: the credentials are good
    page = conn.client.suiteql_page(ALL_CUSTOMERS)

    # Then the call is retried as throttling (not an auth error that would dead-letter every record) and succeeds
    assert ns.statuses("/services/rest/query/v1/suiteql") == [401, 401, 401, 200]
    assert ns.statuses(SERVER_TIME) == [200]
    assert [row["entityid"] for row in page.rows] == ["C-12"]


def test_401s_under_load_that_outlast_the_retries_are_an_outage_not_a_login_failure(ns, conn):
    ns.sim.faults.inject("status", status=401, times=50, path="/suiteql")

    with pytest.raises(TransientError) as caught:
        conn.client.suiteql_page(ALL_CUSTOMERS)

    assert not isinstance(caught.value, NetSuiteAuthError)
    assert caught.value.code == "NETSUITE_BUSY" and caught.value.cause_key == "netsuite-concurrency"
    # NetSuite refused the request for load, it never ran: the worker does not count it as a run of the record
    assert caught.value.throttled and caught.value.outage
    assert caught.value.message == (
        f"NetSuite POST {ns.server.url}{SUITEQL}: 401 INVALID_LOGIN while the same token is accepted: "
        "the account's concurrency limit is full"
    )
    assert caught.value.outage  # the worker pauses the sync and puts records back; nothing is dead-lettered


# -- signatures ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("wrong", "reason"),
    [
        ({"account_id": "1234567_sb1"}, "InvalidRealm"),
        ({"token_secret": "ts-not-the-secret"}, "InvalidSignature"),
        ({"consumer_secret": "cs-not-the-secret"}, "InvalidSignature"),
        ({"consumer_key": "ck-someone-else"}, "InvalidConsumerKey"),
        ({"token_id": "tk-someone-else"}, "InvalidToken"),
    ],
    ids=["realm-case", "token-secret", "consumer-secret", "consumer-key", "token-id"],
)
def test_a_wrong_part_of_the_signature_is_refused_and_audited(ns, wrong, reason):
    # Given a client with one part of its TBA set-up wrong
    bad = ns.connect(**wrong)
    # When it calls NetSuite, Then it gets an auth error at once, and the Login Audit Trail says why
    with pytest.raises(NetSuiteAuthError) as caught:
        bad.client.token_info()
    assert caught.value.status == 401
    # (three attempts, each signed afresh: a 401 may be load, so it is believed on the third, once signed probes
    # are refused too)
    assert [r for r, _ in ns.sim.login_audit] == [reason] * (3 + CREDENTIAL_PROBES)
    assert len(bad.session.sent) == 3 + CREDENTIAL_PROBES and len(bad.sleeps) == 2 + CREDENTIAL_PROBES
    # And the right set-up is accepted
    info = ns.connect().client.token_info()
    assert info["accountId"] == "1234567_SB1"
    assert len(ns.sim.login_audit) == 3 + CREDENTIAL_PROBES


# -- typed errors from NetSuite's bodies --------------------------------------------------------------------
def test_a_missing_record_is_not_found(ns, conn):
    with pytest.raises(NetSuiteNotFound) as caught:
        conn.client.get_record("job", "99999")
    assert caught.value.status == 404 and caught.value.code == "NONEXISTENT_ID"
    assert ns.statuses(f"{RECORDS}/job/99999") == [404]  # not retried


def test_a_misspelled_property_is_refused_with_the_bodys_error_code(ns, conn):
    # When a field name is written in the wrong case (companyname for companyName)
    with pytest.raises(NetSuiteValidationError) as caught:
        conn.client.update_record("job", "1774", {"companyname": "Renamed"})

    # Then the error carries NetSuite's o:errorCode and names the property
    detail = conn.session.answers[-1].json()["o:errorDetails"][0]
    assert caught.value.code == detail["o:errorCode"] == "INVALID_PROPERTY"
    assert caught.value.status == 400 and caught.value.path == "companyname"
    assert "companyname" in caught.value.message
    # Because the client asked NetSuite to refuse unknown names rather than drop them silently
    assert _header(conn.session.sent[-1], "X-NetSuite-PropertyNameValidation") == "Error"
    assert ns.sim.records.get("job", "1774")["companyName"] == "Website"


def test_a_misspelled_sublist_field_is_refused_with_its_path(ns, conn):
    body = _expense_report(_line(Decimal("5.00"), "Snack") | {"foreignAmount": Decimal("5.00")})
    with pytest.raises(NetSuiteValidationError) as caught:
        conn.client.upsert_record("expenseReport", "ct-es-typo", body)
    assert caught.value.code == "INVALID_PROPERTY"
    assert caught.value.path == "expense.items[0].foreignAmount" and "foreignAmount" in caught.value.message
    assert ns.sim.records.all("expenseReport") == []


def test_a_reference_to_nothing_is_invalid_key_or_ref(ns, conn):
    with pytest.raises(NetSuiteValidationError) as caught:
        conn.client.create_record("job", {"companyName": "Orphan", "parent": {"id": "424242"}})
    assert caught.value.code == "INVALID_KEY_OR_REF" and caught.value.path == "parent"
    assert ns.statuses(f"{RECORDS}/job", "POST") == [400]
    assert [j["id"] for j in ns.sim.records.all("job")] == ["1774"]


# -- writes: creates are never blindly re-sent, upserts are ------------------------------------------------
def _new_customers(ns: NetSuite, name: str) -> list[dict[str, Any]]:
    return [c for c in ns.sim.records.all("customer") if c.get("companyName") == name]


def test_a_create_is_not_resent_after_a_500(ns, conn):
    ns.sim.faults.inject("status", status=500, times=1, method="POST", path=f"{RECORDS}/customer$")

    with pytest.raises(NetSuiteOutcomeUnknown) as caught:
        conn.client.create_record("customer", {"companyName": "Initech", "subsidiary": {"id": "1"}})

    assert "500" in caught.value.message  # NetSuite's answer, for the person who checks whether it exists
    assert ns.statuses(f"{RECORDS}/customer", "POST") == [500]
    assert len(conn.session.sent) == 1 and conn.sleeps == []


def test_a_create_whose_answer_was_lost_is_not_resent(ns, conn):
    # Given the create goes through but its answer is lost
    conn.session.lose_answers = 1
    with pytest.raises(NetSuiteOutcomeUnknown):
        conn.client.create_record("customer", {"companyName": "Initech", "subsidiary": {"id": "1"}})
    # Then it was sent once, and exactly one record exists (a resend would have made a second)
    assert ns.statuses(f"{RECORDS}/customer", "POST") == [204]
    assert len(_new_customers(ns, "Initech")) == 1


def test_a_create_is_not_resent_after_a_connection_reset(ns, conn):
    ns.sim.faults.inject("reset", times=1, method="POST", path=f"{RECORDS}/customer$")
    with pytest.raises(NetSuiteOutcomeUnknown) as caught:
        conn.client.create_record("customer", {"companyName": "Initech", "subsidiary": {"id": "1"}})
    assert len(conn.session.sent) == 1
    assert caught.value.message == f"NetSuite POST {ns.server.url}{RECORDS}/customer: ConnectionError"


def test_no_answer_to_a_read_is_transient_and_names_the_call(ns):
    conn = ns.connect(retry=RetryPolicy(max_attempts=1, sleep=Sleeps()))
    ns.sim.faults.inject("reset", times=1, path=SERVER_TIME)

    with pytest.raises(TransientError) as caught:
        conn.client.server_time()

    assert (caught.value.code, caught.value.cause_key) == ("CONNECTION", "netsuite-unreachable")
    assert caught.value.message == f"NetSuite GET {ns.server.url}{SERVER_TIME}: ConnectionError"


def test_a_2xx_read_that_is_not_json_names_the_call(ns):
    conn = ns.connect(retry=RetryPolicy(max_attempts=1, sleep=Sleeps()))
    conn.session.gateway_answers.append((200, b"<html>maintenance</html>", "text/html"))

    with pytest.raises(TransientError) as caught:
        conn.client.server_time()

    assert caught.value.code == "BAD_BODY"
    assert caught.value.message.startswith(f"NetSuite answered 200 to GET {SERVER_TIME} with a body that is not JSON")


def test_every_request_is_sent_with_the_clients_timeout(ns, conn):
    timeouts: list[Any] = []
    send = conn.session.send

    def recording(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        timeouts.append(kwargs.get("timeout"))
        return send(request, **kwargs)

    conn.session.send = recording  # type: ignore[method-assign]
    conn.client.server_time()
    conn.client.update_record("job", "1774", {"companyName": "Website v2"})

    assert timeouts == [10, 10]  # never wait for ever on a hung connection


def test_the_environments_proxy_and_ca_bundle_apply_as_they_would_to_any_requests_call(ns, conn, monkeypatch):
    # A customer's network may put NetSuite behind a proxy and its own CA (HTTPS_PROXY, REQUESTS_CA_BUNDLE): the
    # client's requests honour them as requests itself does, and verification stays on (a bundle, never False)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.example.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/customer-ca.pem")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    sent: list[dict[str, Any]] = []
    send = conn.session.send

    def recording(request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        sent.append(kwargs)
        return send(request, **{**kwargs, "proxies": {}})  # the proxy does not exist: reach the simulator

    conn.session.send = recording  # type: ignore[method-assign]
    conn.client.server_time()

    (kwargs,) = sent
    assert kwargs["proxies"]["http"] == "http://proxy.example.internal:3128"
    assert kwargs["verify"] == "/etc/ssl/customer-ca.pem"


def test_throttling_is_counted_and_each_answers_latency_observed(ns, monkeypatch):
    """NetSuiteThrottled (401 and 429 answers) has an alarm; NetSuiteLatency feeds the dashboard."""
    metrics: list[tuple[str, float]] = []
    monkeypatch.setattr(client_module, "count", lambda name, value=1: metrics.append((name, value)))
    monkeypatch.setattr(client_module, "observe_ms", lambda name, ms: metrics.append((name, ms)))
    ticks = iter(range(0, 1000, 1))
    conn = ns.connect(monotonic=lambda: next(ticks) * 0.25)  # each reading of the clock a quarter second on
    for status in (401, 429, 500):
        ns.sim.faults.inject("status", status=status, times=1, path=SERVER_TIME)
        conn.client.server_time()

    throttled = [name for name, _ in metrics if name == "NetSuiteThrottled"]
    latencies = [value for name, value in metrics if name == "NetSuiteLatency"]
    assert throttled == ["NetSuiteThrottled", "NetSuiteThrottled"]  # the 401 and the 429, not the 500
    assert latencies == [250.0] * 6  # every answer: three refused, three taken


@pytest.mark.parametrize("status", [401, 429, 503])
def test_a_create_that_netsuite_refused_outright_is_sent_again(ns, conn, status):
    ns.sim.faults.inject("status", status=status, times=1, method="POST", path=f"{RECORDS}/customer$")

    new_id = conn.client.create_record("customer", {"companyName": "Initech", "subsidiary": {"id": "1"}})

    assert ns.statuses(f"{RECORDS}/customer", "POST") == [status, 204]
    assert [c["id"] for c in _new_customers(ns, "Initech")] == [new_id]


def test_an_upsert_is_retried_after_a_500_and_makes_one_record(ns, conn):
    path = f"{RECORDS}/customer/eid:ct-client-1"
    ns.sim.faults.inject("status", status=500, times=2, method="PUT", path="eid:ct-client-1$")

    new_id = conn.client.upsert_record("customer", "ct-client-1", {"companyName": "Initech", "subsidiary": {"id": "1"}})

    assert ns.statuses(path, "PUT") == [500, 500, 204]
    assert [c["id"] for c in _new_customers(ns, "Initech")] == [new_id]


def test_an_upsert_whose_answer_was_lost_is_resent_and_still_makes_one_record(ns, conn):
    conn.session.lose_answers = 1
    new_id = conn.client.upsert_record("customer", "ct-client-1", {"companyName": "Initech", "subsidiary": {"id": "1"}})
    assert ns.statuses(f"{RECORDS}/customer/eid:ct-client-1", "PUT") == [204, 204]
    assert [c["id"] for c in _new_customers(ns, "Initech")] == [new_id]


def test_upserting_twice_with_one_external_id_updates_the_same_record(ns, conn):
    first = conn.client.upsert_record("customer", "ct-client-7", {"companyName": "Initech", "subsidiary": {"id": "1"}})
    second = conn.client.upsert_record("customer", "ct-client-7", {"companyName": "Initech Ltd"})

    assert first == second
    holders = [c for c in ns.sim.records.all("customer") if c.get("externalId") == "ct-client-7"]
    assert len(holders) == 1 and holders[0]["companyName"] == "Initech Ltd"
    assert conn.client.get_record("customer", "eid:ct-client-7")["id"] == first


# -- writes of unknown outcome (ctsync.unsettled: the time export's bills in doubt) ------------------------------
@pytest.mark.parametrize(
    ("kind", "status"), [("reset_after", None), ("cut", None), ("status", 500), ("status", 502), ("status", 504)]
)
def test_a_record_write_whose_answer_was_lost_is_noted_as_doubtful_even_when_its_retry_succeeds(ns, conn, kind, status):
    ns.sim.faults.inject(kind, status=status or 503, times=1, method="PUT", path="eid:ct-client-1$")
    body = {"companyName": "Initech", "subsidiary": {"id": "1"}}

    with unsettled.watching() as writes:
        conn.client.upsert_record("customer", "ct-client-1", body)

    path = "/record/v1/customer/eid:ct-client-1"
    assert writes == [
        unsettled.Write("PUT", path, body, doubtful=True),
        unsettled.Write("PUT", path, body, doubtful=False),
    ]


def test_a_delete_whose_answer_was_lost_is_noted_and_a_lost_connect_is_not(ns, conn):
    first = conn.client.upsert_record("customer", "ct-client-1", {"companyName": "Initech", "subsidiary": {"id": "1"}})
    conn.session.lose_answers = 1  # sent and processed, its answer lost

    with unsettled.watching() as writes:
        with pytest.raises(NetSuiteNotFound):  # the retry finds it gone
            conn.client.delete_record("customer", first)
        conn.session.connect_timeouts = 1  # never sent: nothing in doubt
        conn.client.upsert_record("customer", "ct-client-2", {"companyName": "Globex 2", "subsidiary": {"id": "1"}})

    assert [(w.method, w.path, w.doubtful) for w in writes] == [
        ("DELETE", f"/record/v1/customer/{first}", True),
        ("PUT", "/record/v1/customer/eid:ct-client-2", False),
    ]


@pytest.mark.parametrize("status", [429, 503, 400])
def test_a_record_write_refused_before_it_ran_is_not_doubtful_and_reads_are_not_noted(ns, conn, status):
    ns.sim.faults.inject("status", status=status, times=1, method="PUT", path="eid:ct-client-1$", retry_after=0)

    with unsettled.watching() as writes:
        try:
            conn.client.upsert_record("customer", "ct-client-1", {"companyName": "Initech", "subsidiary": {"id": "1"}})
        except NetSuiteValidationError:
            assert status == 400
        list(conn.client.rows(_customers_after))  # a SuiteQL POST reads
        conn.client.get_record("job", "1774")

    # the retry that succeeded is noted, settled; a refused write and the reads are not
    assert [(w.method, w.doubtful) for w in writes] == ([] if status == 400 else [("PUT", False)])


def test_update_record_changes_the_field_and_bumps_last_modified(ns, conn):
    before = conn.client.get_record("job", "1774")
    ns.clock.offset = timedelta(seconds=90)  # NetSuite's clock moves on (well inside the TBA timestamp window)

    conn.client.update_record("job", "1774", {"companyName": "Website v2"})

    after = conn.client.get_record("job", "1774")
    assert after["companyName"] == "Website v2"
    assert datetime.fromisoformat(after["lastModifiedDate"]) - datetime.fromisoformat(
        before["lastModifiedDate"]
    ) >= timedelta(seconds=89)


def test_every_request_asks_for_json_and_for_misspelled_properties_to_be_refused(ns, conn):
    conn.client.get_record("job", "1774")
    conn.client.update_record("job", "1774", {"companyName": "Website v2"})
    conn.client.suiteql_page(ALL_CUSTOMERS, limit=10)

    for request in conn.session.sent:
        assert request.headers["Accept"] == "application/json"
        assert request.headers["X-NetSuite-PropertyNameValidation"] == "Error"
    assert [r.headers.get("Content-Type") for r in conn.session.sent] == [None, "application/json", "application/json"]


def test_a_write_answered_2xx_is_done_whatever_the_body_says(ns):
    """NetSuite answers a write 204 with no body; only reads are JSON (a body on a write's 2xx is not read)."""
    conn = ns.connect(retry=RetryPolicy(max_attempts=1, sleep=Sleeps()))
    conn.session.gateway_answers.append((204, b"OK", "text/plain"))

    conn.client.update_record("job", "1774", {"companyName": "Website v2"})

    assert len(conn.session.sent) == 1


def test_delete_record_removes_it(ns, conn):
    new_id = conn.client.create_record("customer", {"companyName": "Short-lived", "subsidiary": {"id": "1"}})
    conn.client.delete_record("customer", new_id)
    with pytest.raises(NetSuiteNotFound):
        conn.client.get_record("customer", new_id)


# -- system calls -------------------------------------------------------------------------------------------
def test_server_time_is_netsuites_clock_as_aware_utc(ns, conn):
    ns.clock.offset = timedelta(seconds=120)  # so "NetSuite's clock" and ours differ

    moment = conn.client.server_time()

    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
    assert abs(moment - ns.clock()) < timedelta(seconds=3)
    assert moment - datetime.now(UTC) > timedelta(seconds=100)


def test_token_info_names_the_account(ns, conn):
    info = conn.client.token_info()
    assert info["accountId"] == "1234567_SB1" and info["companyName"] == "Acme Consulting"
    assert urlsplit(conn.session.sent[-1].url).path == "/rest/tokeninfo"


# -- money stays Decimal -------------------------------------------------------------------------------------
def _expense_report(*lines: dict[str, Any]) -> dict[str, Any]:
    return {
        "entity": {"id": "311"},
        "tranDate": "2026-11-20",
        "memo": "Trip",
        "subsidiary": {"id": "1"},
        "expense": {"items": list(lines)},
    }


def _line(amount: Decimal, memo: str, exchange_rate: Decimal = Decimal("1.0000")) -> dict[str, Any]:
    return {
        "category": {"id": "7"},
        "expensedate": "2026-11-18",
        "amount": amount,
        "currency": {"id": "1"},
        "foreignamount": amount,
        "exchangerate": exchange_rate,
        "customer": {"id": "1774"},
        "memo": memo,
    }


def test_decimal_money_round_trips_exactly(ns, conn):
    amounts = [Decimal("120.50"), Decimal("0.10"), Decimal("0.20"), Decimal("1234567.89"), Decimal("33.333")]
    body = _expense_report(*(_line(a, f"line {i}", Decimal("1.095500")) for i, a in enumerate(amounts)))

    report_id = conn.client.upsert_record("expenseReport", "ct-es-42", body)
    record = conn.client.get_record("expenseReport", report_id, expand=True)

    lines = record["expense"]["items"]
    assert [line["amount"] for line in lines] == amounts
    assert all(type(line["amount"]) is Decimal and type(line["exchangerate"]) is Decimal for line in lines)
    assert [str(line["amount"]) for line in lines] == ["120.50", "0.10", "0.20", "1234567.89", "33.333"]
    assert {str(line["exchangerate"]) for line in lines} == {"1.095500"}
    assert lines[1]["amount"] + lines[2]["amount"] == Decimal("0.30")  # 0.1 + 0.2 != 0.3 in binary floating point
    assert sum(line["amount"] for line in lines) == Decimal("1234722.023")
    # What went over the wire was the exact digits
    [put] = ns.logged(f"{RECORDS}/expenseReport/eid:ct-es-42", "PUT")
    assert [line["amount"] for line in put.body["expense"]["items"]] == amounts


def test_a_float_never_leaves_the_client(ns, conn):
    with pytest.raises(TypeError, match="float"):
        conn.client.upsert_record("expenseReport", "ct-es-43", _expense_report(_line(0.1, "float")))  # type: ignore[arg-type]
    assert conn.session.sent == []


def test_query_parameters_reach_the_server_as_signed(ns, conn):
    # The signature covers limit/offset: a page at a non-zero offset verifies like the first.
    ns.add_customers(30)
    for offset in (0, 10, 20):
        conn.client.suiteql_page(ALL_CUSTOMERS, limit=10, offset=offset)
    sent = [parse_qs(urlsplit(r.url).query) for r in conn.session.sent]
    assert [s["offset"] for s in sent] == [["0"], ["10"], ["20"]]
    assert ns.sim.login_audit == []


def test_401s_soon_after_an_accepted_request_are_load_even_when_probes_would_be_refused(ns):
    # Given a client whose signature NetSuite accepted a moment ago (the credentials are good)
    conn = ns.connect(retry=RetryPolicy(max_attempts=6, base_seconds=0.001, cap_seconds=0.01))
    conn.client.server_time()
    # When the account is so busy that the call is answered 401 four times in a row
    ns.sim.faults.inject("status", status=401, times=4)

    moment = conn.client.server_time()

    # Then it is retried as load, without a probe (not believed after the third 401), and gets through
    assert moment is not None
    assert ns.statuses(SERVER_TIME) == [200, 401, 401, 401, 401, 200]


# -- the caller's share of NetSuite's concurrency limit ---------------------------------------------------------
class CountingSlot:
    """A caller's sender (`requests_sent_by`): how many requests it was handed, and whether each was sent through it
    (on a slot of the caller's)."""

    def __init__(self) -> None:
        self.session: RecordingSession | None = None
        self.taken = 0
        self.held = False
        self.sent_while_held = 0

    def __call__(self, request: Any) -> Any:
        self.taken += 1
        self.held = True
        assert self.session is not None
        sent = len(self.session.sent)
        try:
            return request()
        finally:
            self.held = False
            self.sent_while_held += len(self.session.sent) - sent


def test_every_attempt_is_sent_in_the_callers_slot_and_no_pause_holds_one(ns):
    # Given a caller sharing NetSuite's limit among its threads, and a read that is throttled once
    ns.sim.faults.inject("status", status=429, times=1, path=SERVER_TIME)
    slot = CountingSlot()
    pauses_in_a_slot: list[bool] = []
    conn = ns.connect(
        retry=RetryPolicy(base_seconds=0.01, cap_seconds=0.05, sleep=lambda _: pauses_in_a_slot.append(slot.held))
    )
    slot.session = conn.session

    # When the client reads the server time and a page of SuiteQL within it
    with client_module.requests_sent_by(slot):
        conn.client.server_time()
        list(conn.client.rows(_customers_after))

    # Then each attempt took the slot for its request alone: the retry's pause held none
    assert ns.statuses(SERVER_TIME) == [429, 200]
    assert slot.taken == 3 and slot.sent_while_held == 3
    assert pauses_in_a_slot == [False]
    # And outside it the client takes no slot
    conn.client.server_time()
    assert slot.taken == 3


def test_a_request_is_signed_before_it_takes_a_slot(ns):
    # A slot is a share of NetSuite's concurrency limit: it is held while the request is on the wire, not while
    # this client signs it (oauthlib's HMAC, requests' preparation), which would leave NetSuite's share idle
    slot = CountingSlot()
    conn = ns.connect()
    slot.session = conn.session
    signed_in_a_slot: list[bool] = []
    sign = conn.client._auth

    def signing(request: Any) -> Any:
        signed_in_a_slot.append(slot.held)
        return sign(request)

    conn.client._auth = signing
    with client_module.requests_sent_by(slot):
        conn.client.server_time()
        list(conn.client.rows(_customers_after))

    assert signed_in_a_slot == [False, False] and slot.sent_while_held == 2


def test_a_suiteql_page_whose_answer_broke_off_mid_body_is_read_again(ns, conn):
    """Half a page's JSON, then a reset (the simulator's `cut`): requests raises ChunkedEncodingError, not a
    ConnectionError, and it escaped the client untranslated, neither retried nor a TransientError (review 2026-12-03)."""
    whole = list(conn.client.rows(_customers_after, page_size=50))
    ns.sim.faults.inject("cut", times=1, method="POST", path="/suiteql")

    assert list(conn.client.rows(_customers_after, page_size=50)) == whole
    assert ns.sim.faults.fired["cut"] == 1
