"""NetSuite project rows to snapshots to ClickTime job payloads (ctsync.records.projects)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ctsync.config import ProjectSyncSettings
from ctsync.records.customers import CustomerSnapshot
from ctsync.records.projects import ProjectSnapshot, columns, is_open, job_payload, snapshot_from_row

ACME = CustomerSnapshot(id="7", number="C-7", name="Acme Corp")
CUSTOMERS = {"7": ACME}

FULL_ROW: dict[str, Any] = {
    "id": "101",
    "entityid": "P-1042",
    "companyname": "Website relaunch",
    "parent": "7",
    "entitystatus": "2",
    "isinactive": "F",
    "startdate": "2026-01-05",
    "enddate": "2026-06-30",
    "clicktime_id": "job-abc",
    "inscope": "T",
    "lastmodified": "2026-03-01 09:00:00",
    "links": [],
}


def test_snapshot_from_a_full_row() -> None:
    s = snapshot_from_row(FULL_ROW, CUSTOMERS)
    assert s == ProjectSnapshot(
        id="101",
        number="P-1042",
        name="Website relaunch",
        customer=ACME,
        status_id="2",
        is_inactive=False,
        in_scope=True,
        start_date=date(2026, 1, 5),
        end_date=date(2026, 6, 30),
        clicktime_id="job-abc",
    )


def test_snapshot_from_a_row_missing_its_nullable_columns() -> None:
    # SuiteQL leaves null columns out of a row altogether
    s = snapshot_from_row({"id": "102", "entityid": "P-1043", "isinactive": "F", "inscope": "T"}, CUSTOMERS)
    assert s.id == "102"
    assert s.number == "P-1043"
    assert s.name == "P-1043"  # falls back to the entity id
    assert s.customer is None
    assert s.status_id is None
    assert s.start_date is None
    assert s.end_date is None
    assert s.clicktime_id is None
    assert s.in_scope is True
    assert s.is_inactive is False


def test_snapshot_with_only_an_id() -> None:
    s = snapshot_from_row({"id": 103}, {})
    assert s.id == "103"
    assert s.number == "103"
    assert s.name == "103"


@pytest.mark.parametrize(("flag", "expected"), [("T", True), ("F", False), (None, False)])
def test_inactive_flag_is_t_or_f(flag: str | None, expected: bool) -> None:
    r = {**FULL_ROW, "isinactive": flag} if flag else {k: v for k, v in FULL_ROW.items() if k != "isinactive"}
    assert snapshot_from_row(r, CUSTOMERS).is_inactive is expected


@pytest.mark.parametrize(("flag", "expected"), [("T", True), ("F", False)])
def test_in_scope_flag_is_t_or_f(flag: str, expected: bool) -> None:
    assert snapshot_from_row({**FULL_ROW, "inscope": flag}, CUSTOMERS).in_scope is expected


def test_customer_outside_the_fetched_page_is_none() -> None:
    assert snapshot_from_row({**FULL_ROW, "parent": "8"}, CUSTOMERS).customer is None


def test_numeric_parent_is_matched_as_a_string() -> None:
    assert snapshot_from_row({**FULL_ROW, "parent": 7}, CUSTOMERS).customer == ACME


def test_snapshot_survives_the_json_round_trip_of_a_work_message() -> None:
    s = snapshot_from_row(FULL_ROW, CUSTOMERS)
    assert ProjectSnapshot.model_validate(s.model_dump(mode="json")) == s


# -- is_open ----------------------------------------------------------------------------------------------


SETTINGS = ProjectSyncSettings()


def snap(**overrides: Any) -> ProjectSnapshot:
    return snapshot_from_row(FULL_ROW, CUSTOMERS).model_copy(update=overrides)


def test_an_active_in_scope_project_is_open() -> None:
    assert is_open(snap(), SETTINGS)
    assert is_open(snap(status_id=None), SETTINGS)


def test_closed_status_is_not_open() -> None:
    assert not is_open(snap(status_id="1"), SETTINGS)
    custom = ProjectSyncSettings(closed_status_ids=["1", "17"])
    assert not is_open(snap(status_id="17"), custom)
    assert is_open(snap(status_id="1"), ProjectSyncSettings(closed_status_ids=["17"]))


def test_inactive_is_not_open() -> None:
    assert not is_open(snap(is_inactive=True), SETTINGS)


def test_out_of_scope_is_not_open() -> None:
    assert not is_open(snap(in_scope=False), SETTINGS)


# -- job_payload ------------------------------------------------------------------------------------------


def test_job_payload_fields() -> None:
    assert job_payload(snap(), "client-7", SETTINGS) == {
        "Name": "Website relaunch",
        "JobNumber": "P-1042",
        "ClientID": "client-7",
        "IsActive": True,
        "AccountingPackageID": "101",
        "StartDate": "2026-01-05",
        "EndDate": "2026-06-30",
    }


def test_job_payload_leaves_absent_dates_out() -> None:
    payload = job_payload(snap(start_date=None, end_date=None), "client-7", SETTINGS)
    assert "StartDate" not in payload
    assert "EndDate" not in payload
    only_start = job_payload(snap(end_date=None), "client-7", SETTINGS)
    assert only_start["StartDate"] == "2026-01-05"
    assert "EndDate" not in only_start


@pytest.mark.parametrize("overrides", [{"status_id": "1"}, {"is_inactive": True}, {"in_scope": False}])
def test_job_payload_of_a_closed_project_is_inactive(overrides: dict[str, Any]) -> None:
    assert job_payload(snap(**overrides), "client-7", SETTINGS)["IsActive"] is False


def test_job_payload_has_no_float_or_null() -> None:
    payload = job_payload(snap(start_date=None, end_date=None, clicktime_id=None), "c", SETTINGS)
    assert all(value is not None and not isinstance(value, float) for value in payload.values())


# -- columns ----------------------------------------------------------------------------------------------


def test_columns_embed_the_scope_and_the_custom_field() -> None:
    settings = ProjectSyncSettings(
        clicktime_id_field="custentity_acme_ct", scope="j.subsidiary = 3 AND j.isinactive = 'F'"
    )
    text = columns(settings)
    assert "j.custentity_acme_ct AS clicktime_id" in text
    assert "CASE WHEN (j.subsidiary = 3 AND j.isinactive = 'F') THEN 'T' ELSE 'F' END AS inscope" in text
    assert "custentity_ct_job_id" not in text


def test_default_columns_select_what_snapshot_from_row_reads() -> None:
    text = columns(SETTINGS)
    for alias in (
        "id",
        "entityid",
        "companyname",
        "parent",
        "entitystatus",
        "isinactive",
        "startdate",
        "enddate",
        "clicktime_id",
        "inscope",
    ):
        assert f" AS {alias}" in text
    assert "TO_CHAR(j.startdate, 'YYYY-MM-DD') AS startdate" in text
    assert "TO_CHAR(j.projectedenddate, 'YYYY-MM-DD') AS enddate" in text
    assert "j.custentity_ct_job_id AS clicktime_id" in text
    assert "CASE WHEN (j.isinactive = 'F' AND j.allowtime = 'T')" in text


def test_the_customers_version_is_read_from_the_joined_row_and_left_out_of_the_fingerprint() -> None:
    """The client's version fence reads the customer's lastmodifieddate; the fingerprint ignores it, so a customer
    saved without a change to what its client holds changes no project (projects review, 2026-12-03)."""
    from datetime import UTC, datetime

    from ctsync.records.projects import fingerprint

    joined = {**FULL_ROW, "customernumber": "C-7", "customername": "Acme Corp", "customerinactive": "F"}
    before = snapshot_from_row(joined, zone="America/Los_Angeles")
    assert before.customer is not None and before.customer.version is None
    read = snapshot_from_row({**joined, "customerlastmodified": "2026-03-02 09:00:00"}, zone="America/Los_Angeles")
    assert read.customer is not None and read.customer.version == datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    assert fingerprint(read) == fingerprint(before)
    renamed = snapshot_from_row({**joined, "customername": "Acme Inc"}, zone="America/Los_Angeles")
    assert fingerprint(renamed) != fingerprint(before)
