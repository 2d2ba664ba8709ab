"""What the two nightly exports (time -> timeBill, expenses -> expenseReport with receipts) meet in NetSuite:
accounting periods, billed time, paid reports, fields that do not keep their value, expense lines, folders,
files, attachments and a role that cannot see a table."""

from __future__ import annotations

import base64
import hashlib
from datetime import date, timedelta
from decimal import Decimal

import pytest

from simulators.generator import reference_date
from simulators.netsuite.accounting import BILLED_TIME_DETAIL, CLOSED_PERIOD_DETAIL, PAID_REPORT_DETAIL
from tests.integration.simulators.netsuite_support import RECORDS, error_code

STRICT = {"X-NetSuite-PropertyNameValidation": "Error"}


def _detail(response) -> str:
    return response.json()["o:errorDetails"][0]["detail"]


def _time_bill(**fields) -> dict:
    return {
        "employee": {"id": "311"},
        "customer": {"id": "1774"},
        "caseTaskEvent": {"id": "905"},
        "item": {"id": "42"},
        "tranDate": "2026-11-20",
        "hours": "1:45",
        "isBillable": True,
        "externalId": "ct-te-1",
        **fields,
    }


def _line(**fields) -> dict:
    return {
        "category": {"id": "7"},
        "expensedate": "2026-10-14",
        "amount": Decimal("120.50"),
        "currency": {"id": "1"},
        "foreignamount": Decimal("110.00"),
        "exchangerate": Decimal("1.095455"),
        "customer": {"id": "1774"},
        "projecttask": {"id": "905"},
        "isBillable": True,
        "isnonreimbursable": False,
        "memo": "Hotel",
        "receipt": True,
        **fields,
    }


def _report(*lines: dict, **fields) -> dict:
    return {
        "entity": {"id": "311"},
        "tranDate": "2026-10-15",
        "memo": "October travel",
        "expense": {"items": list(lines or [_line()])},
        **fields,
    }


def _put_report(client, eid: str, body: dict, replace: bool = False):
    suffix = "?replace=expense" if replace else ""
    return client.call("PUT", f"{RECORDS}/expenseReport/eid:{eid}{suffix}", json=body, headers=STRICT)


# -- accounting periods -------------------------------------------------------------------------------------
def test_the_loader_seeds_open_monthly_periods_with_quarter_and_year_parents(ns):
    sim, client = ns
    ref = reference_date(1)  # the test company's seed
    rows = client.suiteql(
        "SELECT p.id AS id, p.periodname AS name, TO_CHAR(p.startdate, 'YYYY-MM-DD') AS startdate, "
        "TO_CHAR(p.enddate, 'YYYY-MM-DD') AS enddate, p.closed AS closed, p.alllocked AS alllocked, "
        "p.aplocked AS aplocked, p.arlocked AS arlocked, p.isposting AS isposting, p.isinactive AS isinactive, "
        "p.isyear AS isyear, p.isquarter AS isquarter, p.isadjust AS isadjust, p.parent AS parent "
        "FROM accountingperiod p ORDER BY p.startdate, p.isyear DESC, p.isquarter DESC"
    ).json()["items"]
    by_name = {row["name"]: row for row in rows}
    october = by_name["Oct 2026"]
    assert (october["startdate"], october["enddate"]) == ("2026-10-01", "2026-10-31")
    assert (october["isposting"], october["isyear"], october["isquarter"], october["isadjust"]) == ("T", "F", "F", "F")
    assert october["parent"] == by_name["Q4 2026"]["id"] and by_name["Q4 2026"]["parent"] == by_name["FY 2026"]["id"]
    assert by_name["FY 2026"]["isposting"] == "F" and by_name["Q4 2026"]["isquarter"] == "T"
    assert by_name["Feb 2026"]["enddate"] == "2026-02-28"
    assert all(
        row[flag] == "F" for row in rows for flag in ("closed", "alllocked", "aplocked", "arlocked", "isinactive")
    )
    months = sorted(date.fromisoformat(r["startdate"]) for r in rows if r["isposting"] == "T")
    first_needed = date(ref.year - 1, ref.month, 1) - timedelta(days=31)  # 13 months before the reference date
    assert months[0] <= first_needed and months[-1] >= date(
        ref.year + (ref.month + 3 > 12), (ref.month + 2) % 12 + 1, 1
    )
    assert len(months) == len({m for m in months})  # no overlapping base periods
    assert client.get("accountingPeriod", october["id"])["periodName"] == "Oct 2026"


def test_a_closed_period_refuses_expense_reports_with_netsuites_message(ns):
    sim, client = ns
    assert _put_report(client, "ct-es-1", _report()).status_code == 204
    period = sim.close_period("Oct 2026")
    assert sim.accounting_period(date(2026, 10, 3))["id"] == period
    row = client.suiteql(f"SELECT p.closed AS c, p.alllocked AS a FROM accountingperiod p WHERE p.id = {period}").json()
    assert row["items"] == [{"c": "T", "a": "T", "links": []}]

    for response in (
        client.call("POST", f"{RECORDS}/expenseReport", json=_report(externalId="ct-es-2")),
        _put_report(client, "ct-es-1", _report(memo="changed")),  # an update of a report in the closed period
        client.call("PATCH", f"{RECORDS}/expenseReport/eid:ct-es-1", json={"tranDate": "2026-11-02"}),  # moving out
        client.call("DELETE", f"{RECORDS}/expenseReport/eid:ct-es-1"),
    ):
        assert response.status_code == 400, response.text
        assert error_code(response) == "USER_ERROR" and _detail(response) == CLOSED_PERIOD_DETAIL
    assert len(sim.records.all("expenseReport")) == 1

    # A postingPeriod naming an open period lets a date in the closed period through (UNVERIFIED, U7).
    november = sim.accounting_period("Nov 2026")["id"]
    through = client.call(
        "POST", f"{RECORDS}/expenseReport", json=_report(externalId="ct-es-3", postingPeriod={"id": november})
    )
    assert through.status_code == 204, through.text
    closed_ref = client.call(
        "POST", f"{RECORDS}/expenseReport", json=_report(tranDate="2026-11-10", postingPeriod={"id": period})
    )
    assert closed_ref.status_code == 400 and _detail(closed_ref) == CLOSED_PERIOD_DETAIL
    quarter = sim.accounting_period("Q4 2026")["id"]
    summary = client.call("POST", f"{RECORDS}/expenseReport", json=_report(postingPeriod={"id": quarter}))
    assert summary.status_code == 400 and "postingPeriod" in _detail(summary)

    sim.reopen_period("Oct 2026")
    assert _put_report(client, "ct-es-1", _report(memo="changed")).status_code == 204


def test_an_ap_lock_blocks_expense_reports_but_not_time(ns):
    sim, client = ns
    sim.lock_ap_period(date(2026, 10, 20))
    period = client.suiteql(
        "SELECT p.closed AS c, p.aplocked AS ap FROM accountingperiod p WHERE p.periodname = 'Oct 2026'"
    )
    assert period.json()["items"] == [{"c": "F", "ap": "T", "links": []}]
    refused = client.call("POST", f"{RECORDS}/expenseReport", json=_report())
    assert refused.status_code == 400 and _detail(refused) == CLOSED_PERIOD_DETAIL
    time = client.call("PUT", f"{RECORDS}/timeBill/eid:ct-te-1", json=_time_bill(tranDate="2026-10-20"))
    assert time.status_code == 204


def test_a_closed_period_refuses_time_bills_unless_switched_off(ns):
    sim, client = ns
    assert client.call("PUT", f"{RECORDS}/timeBill/eid:ct-te-1", json=_time_bill()).status_code == 204
    sim.close_period("Nov 2026")
    for response in (
        client.call("PUT", f"{RECORDS}/timeBill/eid:ct-te-1", json=_time_bill(hours="2:00")),
        client.call("POST", f"{RECORDS}/timeBill", json=_time_bill(externalId="ct-te-2")),
        client.call("DELETE", f"{RECORDS}/timeBill/eid:ct-te-1"),
    ):
        assert response.status_code == 400 and _detail(response) == CLOSED_PERIOD_DETAIL
    sim.closed_period_blocks_time = False
    assert client.call("PUT", f"{RECORDS}/timeBill/eid:ct-te-1", json=_time_bill(hours="2:00")).status_code == 204
    assert client.call("DELETE", f"{RECORDS}/timeBill/eid:ct-te-1").status_code == 204


def test_closing_a_quarter_closes_its_months(ns):
    sim, client = ns
    sim.close_period("Q3 2026")
    closed = client.suiteql("SELECT p.periodname AS n FROM accountingperiod p WHERE p.closed = 'T' ORDER BY p.id")
    assert [r["n"] for r in closed.json()["items"]] == ["Q3 2026", "Jul 2026", "Aug 2026", "Sep 2026"]
    with pytest.raises(KeyError):
        sim.close_period("Oct 1999")


def test_periods_are_not_writable_by_the_integration(ns):
    sim, client = ns
    period = sim.accounting_period("Oct 2026")["id"]
    response = client.call("PATCH", f"{RECORDS}/accountingPeriod/{period}", json={"closed": True})
    assert response.status_code == 403 and error_code(response) == "INSUFFICIENT_PERMISSION"


def test_an_account_without_periods_enforces_none(make_server):
    sim, client = make_server()
    for period in sim.records.all("accountingPeriod"):
        sim.records.delete("accountingPeriod", period["id"])
    assert client.call("POST", f"{RECORDS}/expenseReport", json=_report(tranDate="1999-01-01")).status_code == 204


# -- billed time, paid reports ---------------------------------------------------------------------------------
def test_billed_time_cannot_be_changed_and_reads_billed_in_suiteql(ns):
    sim, client = ns
    assert client.call("PUT", f"{RECORDS}/timeBill/eid:ct-te-1", json=_time_bill()).status_code == 204
    bill = client.get("timeBill", "eid:ct-te-1")["id"]
    query = (
        "SELECT t.id AS id, t.externalid AS externalid, t.posted AS posted, t.isbilled AS isbilled, "
        "t.hours AS hours FROM timebill t"
    )
    assert client.suiteql(query).json()["items"] == [
        {"id": bill, "externalid": "ct-te-1", "posted": "F", "isbilled": "F", "hours": "1.75", "links": []}
    ]
    sim.mark_time_billed(bill)
    assert client.suiteql(query).json()["items"][0] | {"links": []} == {
        "id": bill,
        "externalid": "ct-te-1",
        "posted": "T",
        "isbilled": "T",
        "hours": "1.75",
        "links": [],
    }
    for response in (
        client.call("PATCH", f"{RECORDS}/timeBill/{bill}", json={"memo": "x"}),
        client.call("PUT", f"{RECORDS}/timeBill/eid:ct-te-1", json=_time_bill(hours="2:00")),
        client.call("DELETE", f"{RECORDS}/timeBill/{bill}"),
    ):
        assert response.status_code == 400 and error_code(response) == "USER_ERROR"
        assert _detail(response) == BILLED_TIME_DETAIL
    assert client.get("timeBill", bill)["hours"] == "1:45"


def test_a_paid_report_cannot_be_changed(ns):
    sim, client = ns
    assert _put_report(client, "ct-es-1", _report(tranDate="2026-11-16")).status_code == 204
    report = client.get("expenseReport", "eid:ct-es-1")
    assert report["status"] == {"id": "A", "refName": "In Progress"}  # derived from the approval boxes
    sim.mark_expense_report_paid(report["id"])
    assert client.get("expenseReport", report["id"])["status"] == {"id": "I", "refName": "Paid In Full"}
    rows = client.suiteql(
        "SELECT r.id AS id, r.externalid AS externalid, r.entity AS entity, TO_CHAR(r.trandate, 'YYYY-MM-DD') AS "
        "trandate, r.status AS status, r.memo AS memo, r.postingperiod AS postingperiod FROM expensereport r"
    ).json()["items"]
    assert rows == [
        {
            "id": report["id"],
            "externalid": "ct-es-1",
            "entity": "311",
            "trandate": "2026-11-16",
            "status": "I",
            "memo": "October travel",
            "links": [],
        }
    ]
    for response in (
        _put_report(client, "ct-es-1", _report(tranDate="2026-11-16", memo="again")),
        client.call("PATCH", f"{RECORDS}/expenseReport/{report['id']}", json={"memo": "x"}),
        client.call("DELETE", f"{RECORDS}/expenseReport/{report['id']}"),
    ):
        assert response.status_code == 400 and error_code(response) == "USER_ERROR"
        assert _detail(response) == PAID_REPORT_DETAIL


def test_report_status_follows_the_approval_boxes(ns):
    _, client = ns
    body = _report(tranDate="2026-11-16", supervisorapproval=True, accountingapproval=True)
    assert _put_report(client, "ct-es-1", body).status_code == 204
    assert client.get("expenseReport", "eid:ct-es-1")["status"]["id"] == "F"
    client.call("PATCH", f"{RECORDS}/expenseReport/eid:ct-es-1", json={"accountingapproval": False})
    assert client.get("expenseReport", "eid:ct-es-1")["status"]["id"] == "C"
    client.call("PATCH", f"{RECORDS}/expenseReport/eid:ct-es-1", json={"memo": "x"})
    assert client.get("expenseReport", "eid:ct-es-1")["status"]["id"] == "C"


# -- custom fields that do not keep their value --------------------------------------------------------------
def test_an_unkept_field_answers_204_keeps_its_value_and_still_counts_as_a_change(ns, clock):
    sim, client = ns
    sim.unkept_fields["job"] = {"custentity_ct_job_id"}
    before = sim.records.get("job", "1774")["lastModifiedDate"]
    clock.offset = timedelta(seconds=120)
    response = client.call(
        "PATCH", f"{RECORDS}/job/1774", json={"custentity_ct_job_id": "ct-1774", "companyName": "Renamed"}
    )
    assert response.status_code == 204
    after = client.get("job", "1774")
    assert "custentity_ct_job_id" not in after and after["companyName"] == "Renamed"
    assert after["lastModifiedDate"] > before
    sim.unkept_fields = {}  # the form is fixed
    client.call("PATCH", f"{RECORDS}/job/1774", json={"custentity_ct_job_id": "ct-1774"})
    assert client.get("job", "1774")["custentity_ct_job_id"] == "ct-1774"
    sim.unkept_fields["JOB"] = {"custentity_ct_job_id"}  # record type keys in any case
    client.call("PATCH", f"{RECORDS}/job/1774", json={"custentity_ct_job_id": "ct-other"})
    assert client.get("job", "1774")["custentity_ct_job_id"] == "ct-1774"  # the old value stays


# -- expense report lines -------------------------------------------------------------------------------------
def test_expense_lines_read_back_as_stored_and_replace_or_append(ns):
    sim, client = ns
    folder = client.create("folder", {"name": "Receipts"})
    file_id = client.create(
        "file",
        {
            "name": "r.png",
            "folder": {"id": folder},
            "fileType": "PNGIMAGE",
            "content": base64.b64encode(b"png").decode(),
        },
    )
    first = _line(expmediaitem={"id": file_id})
    assert _put_report(client, "ct-es-1", _report(first, tranDate="2026-11-16"), replace=True).status_code == 204
    [line] = client.get("expenseReport", "eid:ct-es-1", expandSubResources="true")["expense"]["items"]
    assert line["amount"] == Decimal("120.50") and line["foreignamount"] == Decimal("110.00")
    assert line["exchangerate"] == Decimal("1.095455")
    assert line["currency"]["id"] == "1" and line["category"]["id"] == "7"
    assert line["customer"]["id"] == "1774" and line["projecttask"]["id"] == "905"
    assert line["isBillable"] is True and line["isnonreimbursable"] is False and line["receipt"] is True
    assert line["expensedate"] == "2026-10-14" and line["memo"] == "Hotel"
    assert line["expmediaitem"]["id"] == file_id and line["line"] == "1"

    second = _line(memo="Taxi", amount=Decimal("30.00"), foreignamount=Decimal("30.00"), exchangerate=Decimal("1"))
    _put_report(client, "ct-es-1", _report(second, tranDate="2026-11-16"))  # without replace: appended
    items = client.get("expenseReport", "eid:ct-es-1", expandSubResources="true")["expense"]["items"]
    assert [(i["memo"], i["line"]) for i in items] == [("Hotel", "1"), ("Taxi", "2")]
    _put_report(client, "ct-es-1", _report(second, tranDate="2026-11-16"), replace=True)  # replaced
    items = client.get("expenseReport", "eid:ct-es-1", expandSubResources="true")["expense"]["items"]
    assert [(i["memo"], i["amount"]) for i in items] == [("Taxi", Decimal("30.00"))]
    assert len(sim.records.all("expenseReport")) == 1


# -- folders, files, attachments ---------------------------------------------------------------------------------
def test_folders_upsert_by_external_id_and_files_need_one(ns):
    sim, client = ns
    put = client.call("PUT", f"{RECORDS}/folder/eid:ct-receipts", json={"name": "ClickTime Receipts"}, headers=STRICT)
    assert put.status_code == 204
    folder = put.headers["Location"].rsplit("/", 1)[1]
    again = client.call(
        "PUT", f"{RECORDS}/folder/eid:ct-receipts", json={"name": "ClickTime Receipts", "description": "x"}
    )
    assert again.headers["Location"].rsplit("/", 1)[1] == folder
    record = client.get("folder", "eid:ct-receipts")
    assert record["name"] == "ClickTime Receipts" and record["description"] == "x" and record["lastModifiedDate"]
    sub = client.create("folder", {"name": "2026", "parent": {"externalId": "ct-receipts"}})
    assert client.get("folder", sub)["parent"]["id"] == folder
    duplicate = client.call("POST", f"{RECORDS}/folder", json={"name": "clicktime receipts"})
    assert duplicate.status_code == 400  # one name per place in the File Cabinet

    content = b"%PDF-1.4 a receipt"
    body = {
        "name": "receipt-1.pdf",
        "folder": {"externalId": "ct-receipts"},
        "fileType": "PDF",
        "content": base64.b64encode(content).decode(),
        "description": "ClickTime receipt",
    }
    created = client.call("PUT", f"{RECORDS}/file/eid:ct-rcpt-1", json=body, headers=STRICT)
    assert created.status_code == 204, created.text
    file_id = created.headers["Location"].rsplit("/", 1)[1]
    assert sim.files()[-1] == {
        "id": file_id,
        "name": "receipt-1.pdf",
        "folder": folder,
        "fileType": "PDF",
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
        "externalId": "ct-rcpt-1",
    }
    assert sim.file_content(file_id) == content

    missing = client.call("POST", f"{RECORDS}/file", json={**body, "folder": {"id": "999999"}})
    assert missing.status_code == 400 and error_code(missing) == "INVALID_KEY_OR_REF"
    no_folder = client.call("POST", f"{RECORDS}/file", json={k: v for k, v in body.items() if k != "folder"})
    assert no_folder.status_code == 400 and "folder" in _detail(no_folder)


@pytest.mark.parametrize("file_type", ["HEIC", "PLAINTEXT", "HTMLDOC", "pdf", "image/png"])
def test_file_types_the_product_does_not_send_are_refused(ns, file_type):
    sim, client = ns
    body = {"name": "r", "folder": {"id": "-15"}, "fileType": file_type, "content": base64.b64encode(b"x").decode()}
    response = client.call("POST", f"{RECORDS}/file", json=body)
    assert response.status_code == 400 and error_code(response) == "INVALID_FLD_VALUE"
    assert response.json()["o:errorDetails"][0]["o:errorPath"] == "fileType"
    assert sim.files() == []


@pytest.mark.parametrize("file_type", ["PNGIMAGE", "JPGIMAGE", "GIFIMAGE", "TIFFIMAGE", "BMPIMAGE", "PDF"])
def test_the_receipt_file_types_are_accepted(ns, file_type):
    _, client = ns
    body = {"name": "r", "folder": {"id": "-15"}, "fileType": file_type, "content": base64.b64encode(b"x").decode()}
    assert client.call("POST", f"{RECORDS}/file", json=body).status_code == 204


def test_a_file_over_10_mb_is_refused(ns):
    sim, client = ns
    limit = 10 * 1024 * 1024
    body = {"name": "big.png", "folder": {"id": "-15"}, "fileType": "PNGIMAGE"}
    too_big = client.call(
        "POST", f"{RECORDS}/file", json={**body, "content": base64.b64encode(b"\0" * (limit + 1)).decode()}
    )
    assert too_big.status_code == 400 and "10 MB" in _detail(too_big)
    at_limit = client.call(
        "POST", f"{RECORDS}/file", json={**body, "content": base64.b64encode(b"\0" * limit).decode()}
    )
    assert at_limit.status_code == 204
    assert [f["size"] for f in sim.files()] == [limit]


def test_files_attach_to_records_once_and_detach(ns):
    sim, client = ns
    assert _put_report(client, "ct-es-1", _report(tranDate="2026-11-16")).status_code == 204
    report = client.get("expenseReport", "eid:ct-es-1")["id"]
    files = [
        client.create(
            "file",
            {
                "name": f"r{n}.pdf",
                "folder": {"id": "-15"},
                "fileType": "PDF",
                "content": base64.b64encode(b"r").decode(),
            },
        )
        for n in range(2)
    ]
    attach = f"{RECORDS}/expenseReport/{report}/!attach/file"
    assert client.call("POST", f"{attach}/{files[0]}").status_code == 204
    assert client.call("POST", f"{attach}/{files[0]}").status_code == 204  # again: still one attachment
    assert client.call("POST", f"{RECORDS}/EXPENSEREPORT/eid:ct-es-1/!attach/file/{files[1]}").status_code == 204
    assert sim.attachments("expenseReport", report) == files
    assert client.call("DELETE", f"{attach}/{files[0]}").status_code == 204
    assert sim.attachments("expenseReport", report) == [files[1]]
    assert client.call("DELETE", f"{attach}/{files[0]}").status_code == 204  # detaching twice is harmless

    assert client.call("POST", f"{attach}/999999").status_code == 404
    assert client.call("POST", f"{RECORDS}/expenseReport/999999/!attach/file/{files[1]}").status_code == 404
    contact = client.call("POST", f"{RECORDS}/expenseReport/{report}/!attach/contact/{files[1]}")
    assert contact.status_code == 400
    assert client.call("POST", f"{RECORDS}/job/1774/!attach/file/{files[1]}").status_code == 204  # any record type
    assert client.call("DELETE", f"{RECORDS}/file/{files[1]}").status_code == 204
    assert sim.attachments("expenseReport", report) == [] and sim.attachments("job", "1774") == []
    assert [w.method for w in sim.writes()].count("POST") >= 4  # attaching is a write


# -- a role without a permission -------------------------------------------------------------------------------
def test_a_denied_table_answers_invalid_search(ns):
    sim, client = ns
    sim.denied_tables = {"deletedrecord"}
    response = client.suiteql("SELECT d.recordid FROM deletedrecord d")
    assert response.status_code == 400
    assert response.json()["o:errorDetails"][0] == {
        "detail": "Invalid search query. Detailed unprocessed description follows. Search error occurred: "
        "Record 'deletedrecord' was not found.",
        "o:errorCode": "INVALID_SEARCH",
        "o:errorQueryParam": "q",
    }
    assert client.suiteql("SELECT j.id FROM job j").status_code == 200
    sim.denied_tables.clear()
    assert client.suiteql("SELECT d.recordid FROM deletedrecord d").status_code == 200
