"""NetSuite simulator behaviour that public NetSuite clients rely on: record collections with q, the metadata
catalog, case-insensitive record types, fields=, SuiteQL page links."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from simulators.netsuite import NetSuiteSimulator
from tests.integration.simulators.netsuite_support import RECORDS, SUITEQL, error_code

CATALOG = f"{RECORDS}/metadata-catalog"


def _many_jobs(sim: NetSuiteSimulator, count: int) -> list[str]:
    return [
        sim.records.add("job", {"entityId": f"P-X{n}", "companyName": f"Extra {n}", "parent": {"id": "12"}})
        for n in range(count)
    ]


def _rels(body: dict) -> dict[str, dict[str, list[str]]]:
    return {link["rel"]: parse_qs(urlsplit(link["href"]).query) for link in body["links"]}


# -- record collections ---------------------------------------------------------------------------------------
def test_a_record_collection_lists_ids_and_links_page_by_page(ns):
    sim, client = ns
    extra = _many_jobs(sim, 23)  # 25 jobs with the company's two
    first = client.call("GET", f"{RECORDS}/job", params={"limit": 10}).json()
    assert (first["count"], first["hasMore"], first["offset"], first["totalResults"]) == (10, True, 0, 25)
    assert first["items"][0] == {
        "links": [{"rel": "self", "href": f"{client.url}{RECORDS}/job/1774"}],
        "id": "1774",
    }
    assert set(first["items"][0]) == {"links", "id"}  # only ids and links: GET each record for its fields
    rels = _rels(first)
    assert list(rels) == ["first", "next", "last", "self"]
    assert rels["next"] == {"limit": ["10"], "offset": ["10"]} and rels["last"]["offset"] == ["20"]

    seen = []
    for offset in (0, 10, 20):
        page = client.call("GET", f"{RECORDS}/job", params={"limit": 10, "offset": offset}).json()
        seen += [item["id"] for item in page["items"]]
    assert seen == ["1774", "1775", *extra]  # in id order, each once
    assert page["hasMore"] is False and "next" not in _rels(page) and "previous" in _rels(page)

    everything = client.call("GET", f"{RECORDS}/job").json()
    assert everything["count"] == 25 and everything["hasMore"] is False  # the default page is 1000


@pytest.mark.parametrize(
    ("params", "param"), [({"limit": 1001}, "limit"), ({"limit": 0}, "limit"), ({"limit": 10, "offset": 5}, "offset")]
)
def test_a_record_collection_refuses_bad_paging(ns, params, param):
    _, client = ns
    response = client.call("GET", f"{RECORDS}/job", params=params)
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0]["o:errorQueryParam"] == param


def test_q_filters_a_collection_and_stays_in_the_links(ns):
    sim, client = ns
    _many_jobs(sim, 3)
    response = client.call("GET", f"{RECORDS}/job", params={"q": 'entityId START_WITH "P-X"', "limit": 2})
    body = response.json()
    assert response.status_code == 200 and body["totalResults"] == 3 and body["hasMore"] is True
    assert _rels(body)["next"]["q"] == ['entityId START_WITH "P-X"']
    cases = {
        'entityId IS "P-1774"': ["1774"],
        "id ANY_OF [1774, 1775]": ["1774", "1775"],
        "isInactive IS true": ["1775"],
        'startDate ON_OR_AFTER "1/1/2026"': ["1774"],
        'isInactive IS false AND companyName CONTAIN "site"': ["1774"],
    }
    for q, expected in cases.items():
        page = client.call("GET", f"{RECORDS}/job", params={"q": q}).json()
        assert [item["id"] for item in page["items"]] == expected, q
    # Any case of the record type; custom fields filter too.
    client.call("PATCH", f"{RECORDS}/job/1775", json={"custentity_ct_job_id": "ct-9"})
    page = client.call("GET", f"{RECORDS}/JOB", params={"q": "custentity_ct_job_id IS ct-9"}).json()
    assert [item["id"] for item in page["items"]] == ["1775"]


def test_a_q_the_simulator_cannot_honour_is_refused(ns):
    _, client = ns
    unknown = client.call("GET", f"{RECORDS}/job", params={"q": 'nosuch IS "x"'})
    assert unknown.status_code == 400 and error_code(unknown) == "NONEXISTENT_FIELD"
    assert unknown.json()["o:errorDetails"][0]["o:errorQueryParam"] == "q"
    between = client.call("GET", f"{RECORDS}/job", params={"q": "id BETWEEN [1, 2]"})
    assert between.status_code == 400 and error_code(between) == "INVALID_PARAMETER"
    assert client.call("GET", f"{RECORDS}/nosuchtype").status_code == 404


# -- record type names ---------------------------------------------------------------------------------------
def test_record_type_names_are_case_insensitive(ns):
    sim, client = ns
    body = {
        "employee": {"id": "311"},
        "customer": {"id": "1774"},
        "caseTaskEvent": {"id": "905"},
        "item": {"id": "42"},
        "tranDate": "2026-11-20",
        "hours": "1:00",
    }
    created = client.call("POST", f"{RECORDS}/timebill", json=body)
    assert created.status_code == 204
    assert "/timeBill/" in created.headers["Location"]  # the Location names the canonical type
    bill = created.headers["Location"].rsplit("/", 1)[1]
    for name in ("timebill", "timeBill", "TIMEBILL", "TimeBill"):
        assert client.get(name, bill)["hours"] == "1:00"
    assert client.call("PATCH", f"{RECORDS}/TIMEBILL/{bill}", json={"memo": "x"}).status_code == 204
    upsert = client.call("PUT", f"{RECORDS}/timebill/eid:ct-1", json={**body, "hours": "0:30"})
    assert upsert.status_code == 204 and "/timeBill/" in upsert.headers["Location"]
    assert client.call("DELETE", f"{RECORDS}/TimeBill/eid:ct-1").status_code == 204
    assert [r["id"] for r in sim.records.all("timeBill")] == [bill]
    rows = client.suiteql("SELECT d.recordtypeid AS t FROM deletedrecord d").json()["items"]
    assert rows == [{"t": "timebill", "links": []}]
    assert client.call("GET", f"{RECORDS}/expensereport/{bill}").status_code == 404  # a time bill is not a report


# -- fields= ---------------------------------------------------------------------------------------------------
def test_fields_returns_only_those_fields_plus_id_and_links(ns):
    _, client = ns
    record = client.get("job", "1774", fields="companyName,isInactive,parent,projectedEndDate")
    assert set(record) == {"id", "links", "companyName", "isInactive", "parent", "projectedEndDate"}
    assert record["companyName"] == "Website" and record["parent"]["id"] == "12"
    unset = client.get("job", "1775", fields="startDate")
    assert set(unset) == {"id", "links"}  # a field without a value is left out, as on a full GET
    wrong = client.call("GET", f"{RECORDS}/job/1774", params={"fields": "companyname"})
    assert wrong.status_code == 400 and wrong.json()["o:errorDetails"][0]["o:errorQueryParam"] == "fields"


# -- metadata catalog -----------------------------------------------------------------------------------------
def test_the_metadata_catalog_lists_every_record_type(ns):
    sim, client = ns
    body = client.call("GET", CATALOG).json()
    names = [item["name"] for item in body["items"]]
    assert names == list(sim.schema.types)
    assert {"job", "timeBill", "expenseReport", "accountingPeriod", "folder", "file"} <= set(names)
    job = next(item for item in body["items"] if item["name"] == "job")
    media = {(link["rel"], link.get("mediaType")) for link in job["links"]}
    assert ("alternate", "application/schema+json") in media and ("alternate", "application/swagger+json") in media
    selected = client.call("GET", CATALOG, params={"select": "job,timebill"}).json()
    assert [item["name"] for item in selected["items"]] == ["job", "timeBill"]
    assert client.call("GET", CATALOG, params={"select": "nosuch"}).status_code == 400


def test_a_record_schema_includes_the_accounts_custom_fields(make_server):
    _, client = make_server(
        custom_fields={
            "job": {"custentity_ct_job_id": "string"},
            "expenseReport.expense": {"custcol_ct_item_id": "string"},
        }
    )
    response = client.call("GET", f"{CATALOG}/job", headers={"Accept": "application/schema+json"})
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/schema+json"
    properties = response.json()["properties"]
    assert properties["custentity_ct_job_id"]["type"] == "string"
    assert properties["custentity_ct_job_id"]["x-ns-custom-field"] is True
    assert properties["entityId"]["type"] == "string" and "x-ns-custom-field" not in properties["entityId"]
    assert properties["isInactive"]["type"] == "boolean"
    assert properties["parent"]["type"] == "object" and "id" in properties["parent"]["properties"]
    assert properties["entityStatus"]["properties"]["id"]["enum"] == ["1", "2", "3", "4", "5"]
    assert properties["lastModifiedDate"]["format"] == "date-time"

    report = client.call("GET", f"{CATALOG}/EXPENSEREPORT", headers={"Accept": "application/schema+json"}).json()
    line = report["properties"]["expense"]["properties"]["items"]["items"]["properties"]
    assert line["custcol_ct_item_id"]["x-ns-custom-field"] is True
    assert {"amount", "foreignamount", "expmediaitem", "isBillable"} <= set(line)
    assert report["title"] == "expenseReport"
    task = client.call("GET", f"{CATALOG}/projectTask", headers={"Accept": "application/schema+json"}).json()
    assert "custevent_ct_task_id" not in task["properties"]  # this account did not define it


def test_the_catalog_answers_swagger_and_refuses_other_media_types(ns):
    _, client = ns
    swagger = client.call("GET", f"{CATALOG}/timeBill", headers={"Accept": "application/swagger+json"})
    assert swagger.status_code == 200
    document = swagger.json()
    assert document["openapi"].startswith("3.") and "/timeBill/{id}" in document["paths"]
    assert "hours" in document["components"]["schemas"]["timeBill"]["properties"]
    plain = client.call("GET", f"{CATALOG}/timeBill", headers={"Accept": "application/json"}).json()
    assert plain["name"] == "timeBill"
    refused = client.call("GET", f"{CATALOG}/timeBill", headers={"Accept": "text/xml"})
    assert refused.status_code == 400 and refused.json()["o:errorDetails"][0]["o:errorHeader"] == "Accept"
    # The catalog itself answers one OpenAPI document for the types selected (what public clients ask for).
    both = client.call(
        "GET", CATALOG, params={"select": "job,timeBill"}, headers={"Accept": "application/swagger+json"}
    ).json()
    assert set(both["components"]["schemas"]) == {"job", "timeBill", "nsLink"}
    assert "custentity_ct_job_id" in both["components"]["schemas"]["job"]["properties"]
    whole = client.call("GET", CATALOG, headers={"Accept": "application/schema+json"})
    assert whole.status_code == 400  # a JSON schema is per record type
    assert client.call("GET", f"{CATALOG}/nosuch", headers={"Accept": "application/schema+json"}).status_code == 404


# -- SuiteQL links --------------------------------------------------------------------------------------------
def test_suiteql_links_name_every_page(ns):
    sim, client = ns
    _many_jobs(sim, 23)
    q = "SELECT j.id AS id FROM job j ORDER BY j.id"
    page = client.suiteql(q, limit=5, offset=10).json()
    rels = _rels(page)
    assert list(rels) == ["previous", "first", "next", "last", "self"]
    assert [rels[r]["offset"][0] for r in rels] == ["5", "0", "15", "20", "10"]
    assert all(link["href"].startswith(client.url + SUITEQL + "?") for link in page["links"])
    empty = client.suiteql("SELECT j.id FROM job j WHERE j.id = 1", limit=5).json()
    assert list(_rels(empty)) == ["first", "last", "self"] and _rels(empty)["last"]["offset"] == ["0"]
