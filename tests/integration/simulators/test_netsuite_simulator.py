"""The NetSuite simulator over real HTTP, signed the way the product signs (requests-oauthlib, HMAC-SHA256)."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1

from simulators.netsuite import NetSuiteSimulator
from simulators.netsuite.app import DEFAULT_CREDENTIALS as CREDS
from simulators.netsuite.auth import base_string, expected_signature
from tests.integration.simulators.netsuite_support import (
    INVALID_LOGIN_BODY,
    RECORDS,
    SUITEQL,
    VECTORS,
    NetSuite,
    error_code,
    oauth,
)


# -- TBA --------------------------------------------------------------------------------------------
def test_known_answer_vectors_give_the_same_base_string_and_signature():
    vectors = json.loads(VECTORS.read_text())
    assert vectors["credentials"]["consumer_secret"] == CREDS.consumer_secret
    for case in vectors["cases"]:
        header = case["authorization_header_example"]
        assert base_string(case["method"], case["url"], header) == case["base_string"]
        assert expected_signature(case["method"], case["url"], header, CREDS) == case["oauth_signature"]


def test_a_correctly_signed_request_is_accepted(ns, clock):
    sim, client = ns
    response = client.call("GET", "/services/rest/system/v1/serverTime")
    assert response.status_code == 200
    server_time = datetime.strptime(response.json()["serverTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(server_time - clock()) < timedelta(seconds=5)
    info = client.call("GET", "/rest/tokeninfo").json()
    assert info["accountId"] == "1234567_SB1" and info["companyName"] == "Acme Consulting"
    assert sim.login_audit == []


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"realm": "1234567_sb1"}, "InvalidRealm"),
        ({"realm": "1234567-SB1"}, "InvalidRealm"),
        ({"client_key": "ck-other"}, "InvalidConsumerKey"),
        ({"resource_owner_key": "tk-other"}, "InvalidToken"),
        ({"resource_owner_secret": "ts-wrong"}, "InvalidSignature"),
        ({"client_secret": "cs-wrong"}, "InvalidSignature"),
        ({"signature_method": SIGNATURE_HMAC_SHA1}, "UnsupportedSignatureMethod"),
        ({"timestamp_offset": -301}, "InvalidTimestamp"),
        ({"timestamp_offset": 400}, "InvalidTimestamp"),
        ({"nonce": "abc"}, "InvalidNonce"),
    ],
)
def test_bad_credentials_get_invalid_login_and_an_audit_reason(ns, clock, overrides, reason):
    sim, client = ns
    if "timestamp_offset" in overrides:
        # Relative to the simulator's clock when the request is made, not when the tests were collected: a
        # timestamp computed at collection drifts into the accepted range on a slow machine.
        offset = overrides["timestamp_offset"]
        overrides = {"timestamp": str(int(clock().timestamp()) + offset)}
    response = client.call("GET", f"{RECORDS}/job/1774", auth=oauth(**overrides))
    assert response.status_code == 401
    assert response.json() == INVALID_LOGIN_BODY
    assert [r for r, _ in sim.login_audit] == [reason]


def test_a_request_without_authorization_is_refused(ns):
    sim, client = ns
    response = requests.get(client.url + "/services/rest/system/v1/serverTime", timeout=10)
    assert response.status_code == 401 and response.json() == INVALID_LOGIN_BODY
    assert sim.login_audit[-1][0] == "MissingAuthorization"


def test_a_replayed_authorization_header_is_an_invalid_nonce(ns):
    sim, client = ns
    prepared = requests.Request("GET", client.url + f"{RECORDS}/job/1774", auth=oauth()).prepare()
    with requests.Session() as session:
        first = session.send(prepared, timeout=10)
        second = session.send(prepared, timeout=10)
    assert first.status_code == 200
    assert second.status_code == 401 and error_code(second) == "INVALID_LOGIN"
    assert [r for r, _ in sim.login_audit] == ["InvalidNonce"]


def test_query_parameters_are_signed_and_the_json_body_is_not(ns):
    sim, client = ns
    # The body is not part of the signature: any JSON body goes through with the same signing.
    assert client.suiteql("SELECT j.id FROM job j", limit=10, offset=0).status_code == 200
    # The query string is: changing it after signing breaks the signature.
    prepared = requests.Request(
        "POST",
        client.url + SUITEQL + "?limit=10&offset=0",
        json={"q": "SELECT j.id FROM job j"},
        headers={"Prefer": "transient"},
        auth=oauth(),
    ).prepare()
    prepared.url = prepared.url.replace("limit=10", "limit=20")
    with requests.Session() as session:
        response = session.send(prepared, timeout=10)
    assert response.status_code == 401
    assert sim.login_audit[-1][0] == "InvalidSignature"


# -- SuiteQL paging ---------------------------------------------------------------------------------
def _many_jobs(sim: NetSuiteSimulator, count: int) -> None:
    for n in range(count):
        sim.records.add("job", {"entityId": f"P-X{n}", "companyName": f"Extra {n}", "parent": {"id": "12"}})


def test_suiteql_pages_with_links_count_and_has_more(ns):
    sim, client = ns
    _many_jobs(sim, 23)  # 25 jobs with the company's two
    q = "SELECT j.id AS id FROM job j ORDER BY j.id"
    first = client.suiteql(q, limit=10, offset=0).json()
    assert (first["count"], first["hasMore"], first["offset"], first["totalResults"]) == (10, True, 0, 25)
    links = {link["rel"]: link["href"] for link in first["links"]}
    assert [link["rel"] for link in first["links"]] == ["first", "next", "last", "self"]  # no previous at 0
    assert links["next"].endswith("limit=10&offset=10") and links["last"].endswith("limit=10&offset=20")
    assert links["self"].endswith("limit=10&offset=0") and links["first"].endswith("limit=10&offset=0")
    middle = client.suiteql(q, limit=10, offset=10).json()
    middle_links = {link["rel"]: link["href"] for link in middle["links"]}
    assert set(middle_links) == {"previous", "first", "next", "last", "self"}
    assert middle_links["previous"].endswith("limit=10&offset=0")
    last = client.suiteql(q, limit=10, offset=20).json()
    assert (last["count"], last["hasMore"]) == (5, False)
    assert [link["rel"] for link in last["links"]] == ["previous", "first", "last", "self"]  # no next at the end
    ids = [row["id"] for page in (first, client.suiteql(q, limit=10, offset=10).json(), last) for row in page["items"]]
    assert ids == sorted(ids, key=int) and len(set(ids)) == 25
    # Without limit/offset the page is 1000 rows from 0.
    assert client.suiteql(q).json()["count"] == 25


@pytest.mark.parametrize(("limit", "offset", "param"), [(1001, 0, "limit"), (0, 0, "limit"), (10, 5, "offset")])
def test_suiteql_refuses_bad_paging(ns, limit, offset, param):
    _, client = ns
    response = client.suiteql("SELECT j.id FROM job j", limit=limit, offset=offset)
    assert response.status_code == 400
    detail = response.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INVALID_PARAMETER" and detail["o:errorQueryParam"] == param


def test_suiteql_row_ceiling(make_server):
    sim, client = make_server(row_ceiling=20)
    _many_jobs(sim, 23)
    q = "SELECT j.id FROM job j ORDER BY j.id"
    page = client.suiteql(q, limit=10, offset=10).json()
    # 25 rows exist, but a query stops at the ceiling: no more pages after row 20.
    assert (page["count"], page["hasMore"], page["totalResults"]) == (10, False, 25)
    refused = client.suiteql(q, limit=10, offset=20)
    assert refused.status_code == 400 and "id > last" in refused.json()["o:errorDetails"][0]["detail"]


def test_suiteql_needs_prefer_transient_and_reports_query_errors(ns):
    _, client = ns
    response = client.call("POST", SUITEQL, json={"q": "SELECT j.id FROM job j"})
    assert response.status_code == 400
    bad = client.suiteql("SELECT j.id, j.nosuch FROM job j")
    assert bad.status_code == 400
    detail = bad.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "NONEXISTENT_FIELD" and detail["detail"].startswith("Invalid search query")
    assert client.suiteql("SELEC j.id FROM job j").status_code == 400


# -- records ----------------------------------------------------------------------------------------
def _time_bill(**fields) -> dict:
    return {
        "employee": {"id": "311"},
        "customer": {"id": "1774"},
        "caseTaskEvent": {"id": "905"},
        "item": {"id": "42"},
        "tranDate": "2026-11-20",
        "hours": "1:45",
        "isBillable": True,
        "memo": "design review",
        **fields,
    }


def test_create_read_patch_upsert_delete(ns):
    sim, client = ns
    response = client.call("POST", f"{RECORDS}/timeBill", json=_time_bill())
    assert response.status_code == 204 and response.content == b""
    location = response.headers["Location"]
    assert location.startswith(client.url + f"{RECORDS}/timeBill/")
    bill_id = location.rsplit("/", 1)[1]

    record = client.get("timeBill", bill_id)
    assert record["hours"] == "1:45" and record["isBillable"] is True and record["memo"] == "design review"
    assert record["employee"] == {
        "id": "311",
        "refName": "E-311",
        "links": [{"rel": "self", "href": f"{client.url}{RECORDS}/employee/311"}],
    }
    assert record["customer"]["links"][0]["href"].endswith("/job/1774")  # a customer reference naming a project
    assert record["lastModifiedDate"].endswith("Z") and record["createdDate"] == record["lastModifiedDate"]

    # Server-set fields (id here) are ignored on write.
    patched = client.call("PATCH", f"{RECORDS}/timeBill/{bill_id}", json={"memo": "changed", "id": "999"})
    assert patched.status_code == 204
    assert client.get("timeBill", bill_id)["memo"] == "changed"

    upsert = client.call("PUT", f"{RECORDS}/timeBill/eid:ct-te-1", json=_time_bill(hours="2:00"))
    assert upsert.status_code == 204
    upserted_id = upsert.headers["Location"].rsplit("/", 1)[1]
    assert client.get("timeBill", "eid:ct-te-1")["id"] == upserted_id
    again = client.call("PUT", f"{RECORDS}/timeBill/eid:ct-te-1", json={"hours": "2:15"})
    assert again.headers["Location"].rsplit("/", 1)[1] == upserted_id  # updated, not created twice
    assert client.get("timeBill", upserted_id)["hours"] == "2:15"
    assert len(sim.records.all("timeBill")) == 2

    assert client.call("DELETE", f"{RECORDS}/timeBill/eid:ct-te-1").status_code == 204
    gone = client.call("GET", f"{RECORDS}/timeBill/{upserted_id}")
    assert gone.status_code == 404 and error_code(gone) == "NONEXISTENT_ID"
    rows = client.suiteql("SELECT d.recordid AS recordid FROM deletedrecord d WHERE d.recordtypeid = 'timebill'").json()
    assert [row["recordid"] for row in rows["items"]] == [upserted_id]
    assert [w.method for w in sim.writes()] == ["POST", "PATCH", "PUT", "PUT", "DELETE"]


def test_minted_ids_are_fresh_and_entities_share_one_sequence(ns):
    sim, client = ns
    customer = client.create("customer", {"companyName": "Initech", "subsidiary": {"id": "1"}})
    job = client.create("job", {"companyName": "New", "parent": {"id": customer}})
    employee = client.create("employee", {"entityId": "E-2", "subsidiary": {"id": "1"}})
    entity_ids = [r["id"] for t in ("customer", "job", "employee") for r in sim.records.all(t)]
    assert len(entity_ids) == len(set(entity_ids))  # one id names one entity
    assert int(job) > int(customer) > 1775  # minted after the loaded ids, in order
    assert employee not in {customer, job}
    bill = client.create("timeBill", _time_bill(customer={"id": job}))
    assert sim.records.get("timeBill", bill)["customer"] == {"id": job}


def test_unknown_record_types_and_ids_are_404(ns):
    _, client = ns
    assert client.call("GET", f"{RECORDS}/job/99999").status_code == 404
    assert client.call("GET", f"{RECORDS}/timebill/1").status_code == 404  # type names any case; no time bill 1
    assert client.call("GET", f"{RECORDS}/nosuchtype/1").status_code == 404
    assert client.call("GET", f"{RECORDS}/job/eid:nobody").status_code == 404
    assert client.call("PATCH", f"{RECORDS}/job/99999", json={"companyName": "x"}).status_code == 404


def _expense_report(*lines: dict) -> dict:
    return {
        "entity": {"id": "311"},
        "tranDate": "2026-11-20",
        "memo": "Trip",
        "subsidiary": {"id": "1"},
        "expense": {"items": list(lines)},
    }


def _line(amount, memo: str) -> dict:
    return {
        "category": {"id": "7"},
        "expensedate": "2026-11-18",
        "amount": amount,
        "currency": {"id": "1"},
        "foreignamount": amount,
        "exchangerate": "1.0955",
        "customer": {"id": "1774"},
        "memo": memo,
    }


def test_expense_report_sublists_money_and_replace(ns):
    sim, client = ns
    report_id = client.create("expenseReport", _expense_report(_line(Decimal("120.50"), "Hotel")))
    plain = client.get("expenseReport", report_id)
    assert set(plain["expense"]) == {"links"}  # sublists are links unless expanded
    expanded = client.get("expenseReport", report_id, expandSubResources="true")
    [line] = expanded["expense"]["items"]
    assert line["amount"] == Decimal("120.50") and line["exchangerate"] == Decimal("1.0955")
    assert line["category"]["refName"] == "Hotel" and line["line"] == "1"
    stored = sim.records.get("expenseReport", report_id)["expense"]["items"][0]
    assert stored["amount"] == Decimal("120.50") and isinstance(stored["exchangerate"], Decimal)

    # Non-keyed lines are appended by a PATCH ...
    client.call("PATCH", f"{RECORDS}/expenseReport/{report_id}", json={"expense": {"items": [_line(10, "Taxi")]}})
    items = client.get("expenseReport", report_id, expandSubResources="true")["expense"]["items"]
    assert [(i["memo"], i["line"]) for i in items] == [("Hotel", "1"), ("Taxi", "2")]
    # ... and replaced with ?replace=expense.
    client.call(
        "PATCH",
        f"{RECORDS}/expenseReport/{report_id}?replace=expense",
        json={"expense": {"items": [_line("33.10", "Train")]}},
    )
    items = client.get("expenseReport", report_id, expandSubResources="true")["expense"]["items"]
    assert [(i["memo"], i["amount"]) for i in items] == [("Train", Decimal("33.10"))]
    bad = client.call("PATCH", f"{RECORDS}/expenseReport/{report_id}?replace=lines", json={})
    assert bad.status_code == 400


def test_property_name_validation_on_and_off(ns):
    sim, client = ns
    strict = {"X-NetSuite-PropertyNameValidation": "error"}
    line = {**_line(5, "Snack"), "foreignAmount": 5}  # SOAP's camelCase; REST says foreignamount
    refused = client.call("POST", f"{RECORDS}/expenseReport", json=_expense_report(line), headers=strict)
    assert refused.status_code == 400
    detail = refused.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == "INVALID_PROPERTY" and "foreignAmount" in detail["detail"]
    assert detail["o:errorPath"] == "expense.items[0].foreignAmount"
    top = client.call("POST", f"{RECORDS}/timeBill", json=_time_bill(billable=True), headers=strict)
    assert top.status_code == 400 and "billable" in top.json()["o:errorDetails"][0]["detail"]
    # Custom fields given to the simulator are known names.
    ok = client.call("PATCH", f"{RECORDS}/job/1774", json={"custentity_ct_job_id": "ct-1"}, headers=strict)
    assert ok.status_code == 204

    # Without the header (NetSuite's default, Warning) unknown names are dropped without a word.
    report_id = client.create("expenseReport", _expense_report(line))
    stored = sim.records.get("expenseReport", report_id)["expense"]["items"][0]
    assert "foreignAmount" not in stored and stored["foreignamount"] == Decimal(5)


@pytest.mark.parametrize(
    ("body", "code", "needle"),
    [
        (_time_bill(employee={"id": "99999"}), "INVALID_KEY_OR_REF", "Invalid employee reference key 99999."),
        (_time_bill(caseTaskEvent={"id": "1774"}), "INVALID_KEY_OR_REF", "caseTaskEvent"),  # a job is not a task
        (_time_bill(employee={"externalId": "nobody"}), "INVALID_KEY_OR_REF", "nobody"),
        (_time_bill(employee="311"), "INVALID_FIELD_VALUE", "employee"),
        (_time_bill(employee={"id": 311}), "INVALID_FIELD_VALUE", "employee"),
        (_time_bill(hours="1.75"), "INVALID_FIELD_VALUE", "H:MM"),
        (_time_bill(hours=Decimal("1.75")), "INVALID_FIELD_VALUE", "hours"),
        (_time_bill(isBillable="true"), "INVALID_FIELD_VALUE", "boolean"),
        (_time_bill(tranDate="11/20/2026"), "INVALID_FIELD_VALUE", "YYYY-MM-DD"),
        (_time_bill(approvalStatus={"id": "9"}), "INVALID_FIELD_VALUE", "approvalStatus"),
        (_time_bill(rate="ten"), "INVALID_FIELD_VALUE", "rate"),
        ({"employee": {"id": "311"}, "tranDate": "2026-11-20"}, "USER_ERROR", "hours"),
    ],
)
def test_bad_values_are_refused(ns, body, code, needle):
    sim, client = ns
    response = client.call("POST", f"{RECORDS}/timeBill", json=body)
    assert response.status_code == 400
    detail = response.json()["o:errorDetails"][0]
    assert detail["o:errorCode"] == code and needle in detail["detail"]
    assert sim.records.all("timeBill") == []


def test_references_by_external_id_resolve_to_internal_ids(ns):
    sim, client = ns
    client.call("PATCH", f"{RECORDS}/employee/311", json={"externalId": "ct-user-9"})
    bill_id = client.create("timeBill", _time_bill(employee={"externalId": "ct-user-9"}))
    assert sim.records.get("timeBill", bill_id)["employee"] == {"id": "311"}


def test_a_custom_field_write_back_bumps_last_modified(ns, clock):
    sim, client = ns
    before = client.get("job", "1774")["lastModifiedDate"]
    clock.offset = timedelta(seconds=120)
    assert client.call("PATCH", f"{RECORDS}/job/1774", json={"custentity_ct_job_id": "ct-1774"}).status_code == 204
    after = client.get("job", "1774")
    assert after["custentity_ct_job_id"] == "ct-1774"
    parse = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")  # noqa: E731
    assert parse(after["lastModifiedDate"]) - parse(before) >= timedelta(seconds=119)
    # The next "modified since" query sees the job again: the write-back is a change in NetSuite's eyes.
    since = (clock() - timedelta(seconds=30)).astimezone(sim.user_timezone).strftime("%Y-%m-%d %H:%M:%S")
    rows = client.suiteql(
        f"SELECT j.id AS id, j.custentity_ct_job_id AS ct FROM job j WHERE j.lastmodifieddate >= "
        f"TO_TIMESTAMP('{since}', 'YYYY-MM-DD HH24:MI:SS')"
    ).json()["items"]
    assert rows == [{"id": "1774", "ct": "ct-1774", "links": []}]


def test_files_and_receipt_references(ns):
    sim, client = ns
    content = base64.b64encode(b"%PDF-1.4 receipt").decode()
    file_body = {
        "name": "r.pdf",
        "folder": {"id": "-15"},
        "fileType": "PDF",
        "content": content,
        "externalId": "ct-rcpt-1",
    }
    file_id = client.create("file", file_body)
    assert client.get("file", "eid:ct-rcpt-1")["content"] == content
    line = {**_line(12, "Lunch"), "receipt": True, "expmediaitem": {"id": file_id}}
    report_id = client.create("expenseReport", _expense_report(line))
    stored = sim.records.get("expenseReport", report_id)["expense"]["items"][0]
    assert stored["expmediaitem"] == {"id": file_id}
    dangling = client.call(
        "POST", f"{RECORDS}/expenseReport", json=_expense_report({**line, "expmediaitem": {"id": "1"}})
    )
    assert dangling.status_code == 400 and error_code(dangling) == "INVALID_KEY_OR_REF"
    not_base64 = client.call("POST", f"{RECORDS}/file", json={**file_body, "externalId": "x", "content": "%%%"})
    assert not_base64.status_code == 400
    duplicate = client.call("POST", f"{RECORDS}/file", json=file_body)
    assert duplicate.status_code == 400 and "ct-rcpt-1" in duplicate.json()["o:errorDetails"][0]["detail"]


def test_loaded_company_keeps_its_ids(ns):
    sim, client = ns
    rows = client.suiteql(
        "SELECT j.id AS id, j.entityid AS entityid, j.parent AS parent, j.isinactive AS inactive, "
        "TO_CHAR(j.startdate, 'YYYY-MM-DD') AS startdate FROM job j ORDER BY j.id"
    ).json()["items"]
    assert rows == [
        {"id": "1774", "entityid": "P-1774", "parent": "12", "inactive": "F", "startdate": "2026-01-05", "links": []},
        {"id": "1775", "entityid": "P-1775", "parent": "12", "inactive": "T", "links": []},
    ]
    task = client.get("projectTask", "905", expandSubResources="true")
    assert task["project"]["id"] == "1774" and task["parent"]["id"] == "904"
    assert task["status"] == {"id": "PROGRESS", "refName": "In Progress"}
    assert task["assignee"]["items"][0]["serviceItem"]["id"] == "42"
    category = client.suiteql("SELECT c.id AS id, c.name AS name, c.isinactive AS i FROM expensecategory c").json()
    assert category["items"] == [{"id": "7", "name": "Hotel", "i": "F", "links": []}]


# -- governance and faults --------------------------------------------------------------------------
def _burst(client: NetSuite, count: int) -> list[requests.Response]:
    barrier = threading.Barrier(count)
    responses: list[requests.Response] = []
    lock = threading.Lock()

    def one() -> None:
        auth = oauth()
        barrier.wait()
        response = client.call("GET", "/services/rest/system/v1/serverTime", auth=auth)
        with lock:
            responses.append(response)

    threads = [threading.Thread(target=one) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_more_requests_in_flight_than_the_limit_get_429(make_server):
    sim, client = make_server(concurrency_limit=2, processing_seconds=0.5)
    statuses = [r.status_code for r in _burst(client, 6)]
    assert 429 in statuses and 1 <= statuses.count(200) <= 2
    refused = next(r for r in _burst(client, 6) if r.status_code == 429)
    assert error_code(refused) == "CONCURRENCY_LIMIT_EXCEEDED" and refused.json()["status"] == 429
    assert sim.login_audit == []  # refused before authentication: no nonce spent, nothing in the audit


def test_overload_can_look_like_invalid_login(make_server):
    _, client = make_server(concurrency_limit=1, processing_seconds=0.5, throttle_as_unauthorized=True)
    responses = _burst(client, 4)
    refused = [r for r in responses if r.status_code != 200]
    assert refused and all(r.status_code == 401 and r.json() == INVALID_LOGIN_BODY for r in refused)


def test_injected_faults_use_netsuite_error_bodies(ns):
    sim, client = ns
    sim.faults.inject(status=429, times=1, path="suiteql", retry_after=2)
    throttled = client.suiteql("SELECT j.id FROM job j")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2"
    assert error_code(throttled) == "CONCURRENCY_LIMIT_EXCEEDED"
    assert client.suiteql("SELECT j.id FROM job j").status_code == 200  # a re-signed retry goes through

    sim.faults.inject(status=503, times=1, method="GET")
    unavailable = client.call("GET", f"{RECORDS}/job/1774")
    body = unavailable.json()
    assert unavailable.status_code == 503 and body["status"] == 503 and body["title"] == "Service Unavailable"
    assert body["type"].endswith("section-15.6.4") and body["o:errorDetails"][0]["o:errorCode"]


def test_slow_pages_slow_suiteql_only(ns):
    sim, client = ns
    sim.faults.slow_page_seconds = 0.3
    started = time.monotonic()
    assert client.suiteql("SELECT j.id FROM job j").status_code == 200
    assert time.monotonic() - started >= 0.3
    started = time.monotonic()
    assert client.call("GET", f"{RECORDS}/job/1774").status_code == 200
    assert time.monotonic() - started < 0.3


def test_a_request_takes_processing_seconds_in_all_its_own_work_included(make_server, monkeypatch):
    """L is NetSuite's time per request: the simulator's own work (the route, on shared cores) is part of it, not
    added to it; a request whose work alone takes longer is not slowed further; a held request (`late` fault),
    processed long after it arrived, is not slowed at all. A fake clock: no timing."""
    from types import SimpleNamespace

    import simulators.netsuite.app as netsuite_app
    from simulators.common.server import Request

    sim, _ = make_server(processing_seconds=0.2)
    slept: list[float] = []
    monkeypatch.setattr(netsuite_app, "time", SimpleNamespace(perf_counter=lambda: 100.0, sleep=slept.append))
    path = "/services/rest/record/v1/job/1774"

    def dispatched(arrived: float) -> int:
        request = Request("GET", path, path, {}, {}, b"", arrived=arrived)
        return sim.dispatch(request).status

    assert dispatched(arrived=99.95) == 200
    assert slept == [pytest.approx(0.15)]
    assert dispatched(arrived=99.7) == 200 and len(slept) == 1  # its work took 0.3 s: nothing more
    assert dispatched(arrived=0.0) == 200 and len(slept) == 1  # processed later, outside `handle`


def test_each_requests_time_in_flight_is_added_up(make_server):
    """The benchmark's mean in flight: the requests' time in the simulator, summed (at least their processing)."""
    sim, client = make_server(processing_seconds=0.05)
    before = sim.in_flight_seconds
    for _ in range(3):
        assert client.suiteql("SELECT j.id FROM job j").status_code == 200
    assert sim.in_flight_seconds - before >= 3 * 0.05
    assert sim.in_flight == 0
