"""What the two exports read from ClickTime and what tests change between runs: the Date header, receipts that
fail or are large or odd, and an administrator's edits to time and expenses."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime

import pytest
import requests

from simulators.clicktime import ClickTimeSimulator
from simulators.common.server import SimulatorServer
from simulators.company import Company
from simulators.generator import generate_company

TOKEN = "test-token-123"
NOW = datetime(2026, 11, 25, 17, 47, 38, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class World:
    def __init__(self, sim: ClickTimeSimulator, server: SimulatorServer, clock: Clock) -> None:
        self.sim, self.server, self.clock = sim, server, clock
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {TOKEN}"
        self.base = server.url + "/v2"

    def get(self, path: str, **params) -> requests.Response:
        return self.session.get(self.base + path, params=params or None, timeout=10)

    def data(self, path: str, **params):
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        body = response.json(parse_float=Decimal)
        assert body["errors"] == []
        return body["data"]

    def approved_sheet(self) -> dict:
        """An approved timesheet with at least two entries."""
        return next(
            s for s in self.sim.timesheets() if s["Status"] == "Approved" and len(self.sim.entries_of(s["ID"])) >= 2
        )

    def approved_expense_sheet(self) -> dict:
        return next(s for s in self.sim.expense_sheets() if s["Status"] == "approved" and self.sim.items_of(s["ID"]))


@pytest.fixture(scope="module")
def company() -> Company:
    return generate_company(7)


@pytest.fixture
def world(company: Company) -> Iterator[World]:
    clock = Clock()
    sim = ClickTimeSimulator(token=TOKEN, seed=1, clock=clock)
    sim.load(company)
    ids = sim.seed_jobs_and_tasks(company)
    sim.load_activity(company, ids.jobs.get, ids.tasks.get)
    with SimulatorServer(sim) as server:
        yield World(sim, server, clock)
        server_errors = sim.internal_errors
    assert server_errors == []


# -- the Date header -------------------------------------------------------------------------------------------
def test_every_answer_carries_the_simulators_date(world):
    item = next(i for i in world.sim.expense_items() if world.sim.receipt(i["ID"]))
    responses = [
        world.get("/Company"),
        world.get("/Timesheets", limit=1),
        world.get("/Jobs/nosuch"),  # 404
        requests.get(world.base + "/Company", timeout=10),  # 401
        world.session.get(f"{world.server.url}/receipts/{item['ID']}", timeout=10),
    ]
    for response in responses:
        assert response.headers["Date"] == "Wed, 25 Nov 2026 17:47:38 GMT", response.url
        assert parsedate_to_datetime(response.headers["Date"]) == NOW
    world.clock.now = NOW + timedelta(days=1, hours=3)
    assert parsedate_to_datetime(world.get("/Company").headers["Date"]) == NOW + timedelta(days=1, hours=3)


# -- receipts --------------------------------------------------------------------------------------------------
def test_a_receipt_fails_until_healed(world):
    sim = world.sim
    item = next(i for i in sim.expense_items() if sim.receipt(i["ID"]) and i["ID"] not in sim.failing_receipts())
    url = world.data(f"/ExpenseItems/{item['ID']}")["ReceiptURL"]
    sim.fail_receipt(item["ID"])
    failed = world.session.get(url, timeout=10)
    assert failed.status_code == 500 and failed.json()["errors"][0]["Message"]
    assert world.data(f"/ExpenseItems/{item['ID']}")["ReceiptURL"] == url  # the item still says it has one
    sim.fail_receipt(item["ID"], status=404)
    assert world.session.get(url, timeout=10).status_code == 404
    sim.heal_receipt(item["ID"])
    healed = world.session.get(url, timeout=10)
    assert healed.status_code == 200 and (healed.content, healed.headers["Content-Type"]) == sim.receipt(item["ID"])
    without = next(i for i in sim.expense_items() if not sim.receipt(i["ID"]))
    with pytest.raises(ValueError):
        sim.fail_receipt(without["ID"])
    with pytest.raises(KeyError):
        sim.fail_receipt("nosuch")


def test_a_large_receipt_streams_with_its_length(world):
    sim = world.sim
    item = sim.expense_items()[0]
    content = bytes(range(256)) * (11 * 1024 * 1024 // 256) + b"tail"  # just over 11 MB
    sim.set_receipt(item["ID"], content, "image/jpeg")
    url = world.data(f"/ExpenseItems/{item['ID']}")["ReceiptURL"]
    with world.session.get(url, stream=True, timeout=30) as response:
        assert response.status_code == 200
        assert int(response.headers["Content-Length"]) == len(content)
        assert response.headers["Content-Type"] == "image/jpeg"
        digest, size = hashlib.sha256(), 0
        for chunk in response.iter_content(chunk_size=1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    assert size == len(content) and digest.hexdigest() == hashlib.sha256(content).hexdigest()
    # A client with a cap stops early and closes the connection; the server survives it.
    with world.session.get(url, stream=True, timeout=30) as response:
        next(response.iter_content(chunk_size=64 * 1024))
    assert world.get("/Company").status_code == 200


@pytest.mark.parametrize("mime", ["image/heic", "text/html", "application/octet-stream"])
def test_a_receipt_of_any_type(world, mime):
    item = world.sim.expense_items()[1]
    world.sim.set_receipt(item["ID"], b"<html>not a receipt</html>", mime)
    response = world.session.get(world.data(f"/ExpenseItems/{item['ID']}")["ReceiptURL"], timeout=10)
    assert response.headers["Content-Type"] == mime and response.content == b"<html>not a receipt</html>"


def test_the_generated_company_has_exactly_one_failing_receipt(world):
    failing = world.sim.failing_receipts()
    assert len(failing) == 1
    [(item_id, status)] = failing.items()
    sheet = world.data(f"/ExpenseItems/{item_id}")["ExpenseSheetID"]
    assert world.data(f"/ExpenseSheets/{sheet}")["Status"] == "approved"
    assert world.session.get(f"{world.server.url}/receipts/{item_id}", timeout=10).status_code == status


# -- an administrator's edits: time ------------------------------------------------------------------------------
def test_editing_an_entry_on_an_approved_sheet_keeps_totals_consistent(world):
    sim = world.sim
    sheet = world.approved_sheet()
    entry = sim.entries_of(sheet["ID"])[0]
    before = world.data(f"/Timesheets/{sheet['ID']}", verbose="true")
    day_total = {d["Date"]: Decimal(str(d["Hours"])) for d in before["DayTotals"]}[entry["Date"]]

    edited = sim.edit_time_entry(entry["ID"], Hours=entry["Hours"] + Decimal("0.33"), Comment="corrected")
    assert edited["Hours"] == entry["Hours"] + Decimal("0.33") and edited["Comment"] == "corrected"
    after = world.data(f"/Timesheets/{sheet['ID']}", verbose="true")
    totals = {d["Date"]: Decimal(str(d["Hours"])) for d in after["DayTotals"]}
    assert totals[entry["Date"]] == day_total + Decimal("0.33")
    assert after["Status"] == "Approved" and after["ApprovedDate"] == before["ApprovedDate"]  # stamps untouched
    assert Decimal(str(world.data(f"/TimeEntries/{entry['ID']}")["Hours"])) == edited["Hours"]
    report = world.data("/Reports/Time", TimesheetID=sheet["ID"], limit=1000)
    assert sum(Decimal(str(r["Hours"])) for r in report) == sum(totals.values())

    with pytest.raises(TypeError):
        sim.edit_time_entry(entry["ID"], Hours=1.5)  # a float never gets in
    with pytest.raises(ValueError):
        sim.edit_time_entry(entry["ID"], Date=date.fromisoformat(sheet["EndDate"]) + timedelta(days=1))
    with pytest.raises(ValueError):
        sim.edit_time_entry(entry["ID"], IsBillable=True)
    with pytest.raises(ValueError):
        sim.edit_time_entry(entry["ID"], Hours="0")


def test_adding_and_deleting_entries(world):
    sim = world.sim
    sheet = world.approved_sheet()
    entries = sim.entries_of(sheet["ID"])
    added = sim.add_time_entry(sheet["ID"], sheet["StartDate"], "0.1", entries[0]["JobID"], entries[0]["TaskID"], "x")
    assert added["Hours"] == Decimal("0.1") and added["UserID"] == sheet["UserID"]
    listed = world.data(f"/Timesheets/{sheet['ID']}/TimeEntries", limit=500)
    assert added["ID"] in {e["ID"] for e in listed}
    assert sim.timesheet_for_entry(added["ID"]) == sheet["ID"]

    sim.delete_time_entry(entries[1]["ID"])
    assert world.get(f"/TimeEntries/{entries[1]['ID']}").status_code == 404
    assert entries[1]["ID"] not in {e["ID"] for e in world.data(f"/Timesheets/{sheet['ID']}/TimeEntries", limit=500)}
    with pytest.raises(KeyError):
        sim.delete_time_entry(entries[1]["ID"])
    with pytest.raises(KeyError):
        sim.add_time_entry(sheet["ID"], sheet["StartDate"], 1, "nosuchjob", entries[0]["TaskID"])


def test_reapproval_after_an_edit_moves_the_approved_date(world):
    sim = world.sim
    sheet = world.approved_sheet()
    old = world.data(f"/Timesheets/{sheet['ID']}", verbose="true")["ApprovedDate"]
    world.clock.now = NOW + timedelta(days=2)
    sim.timesheet_action(sheet["ID"], "UndoApproval")
    sim.edit_time_entry(sim.entries_of(sheet["ID"])[0]["ID"], Hours="2.5")
    sim.timesheet_action(sheet["ID"], "Approve")
    new = world.data(f"/Timesheets/{sheet['ID']}", verbose="true")
    assert new["Status"] == "Approved" and new["ApprovedDate"] != old and new["ApprovedDate"].startswith("2026-11-27")


def test_deleted_and_unknown_sheets_are_404_in_the_envelope(world):
    sim = world.sim
    sheet = world.approved_sheet()
    sim.delete_timesheet(sheet["ID"])
    for path in (f"/Timesheets/{sheet['ID']}", "/Timesheets/nosuch", "/ExpenseSheets/nosuch"):
        response = world.get(path)
        assert response.status_code == 404
        body = response.json()
        assert body["data"] is None and body["errors"][0]["Message"]
    expense = world.approved_expense_sheet()
    items = sim.items_of(expense["ID"])
    sim.delete_expense_sheet(expense["ID"])
    assert world.get(f"/ExpenseSheets/{expense['ID']}").status_code == 404
    assert all(world.get(f"/ExpenseItems/{i['ID']}").status_code == 404 for i in items)
    assert all(sim.receipt(i["ID"]) is None for i in items)


# -- an administrator's edits: expenses --------------------------------------------------------------------------
def test_editing_expense_items_keeps_sheet_totals_consistent(world):
    sim = world.sim
    sheet = world.approved_expense_sheet()
    item = sim.items_of(sheet["ID"])[0]
    before = world.data(f"/ExpenseSheets/{sheet['ID']}")
    edited = sim.edit_expense_item(item["ID"], Amount=item["Amount"] + Decimal("10.05"), Description="fixed")
    after = world.data(f"/ExpenseSheets/{sheet['ID']}")
    assert Decimal(str(after["TotalAmount"])) == Decimal(str(before["TotalAmount"])) + Decimal("10.05")
    assert after["Status"] == "approved"
    assert world.data(f"/ExpenseItems/{item['ID']}")["Description"] == "fixed" and edited["Description"] == "fixed"

    other_payment = next(p for p in world.data("/PaymentTypes") if p["Reimbursable"] != edited["Reimbursable"])
    flipped = sim.edit_expense_item(item["ID"], PaymentTypeID=other_payment["ID"])
    assert flipped["Reimbursable"] is other_payment["Reimbursable"]  # it follows the payment type
    items = sim.items_of(sheet["ID"])
    reimbursable = sum((i["Amount"] for i in items if i["Reimbursable"]), Decimal("0"))
    assert Decimal(str(world.data(f"/ExpenseSheets/{sheet['ID']}")["ReimbursableAmount"])) == reimbursable

    with pytest.raises(ValueError):
        sim.edit_expense_item(item["ID"], Billable=True, JobID=None)
    with pytest.raises(TypeError):
        sim.edit_expense_item(item["ID"], Amount=12.5)
    with pytest.raises(ValueError):
        sim.edit_expense_item(
            item["ID"], AmountForeign=Decimal("1.00"), AmountForeignCurrency=None
        )  # half a foreign amount


def test_adding_and_deleting_expense_items(world):
    sim = world.sim
    sheet = next(s for s in sim.expense_sheets() if s["Status"] == "approved" and not s["EnableForeignCurrency"])
    first = sim.items_of(sheet["ID"])[0]
    added = sim.add_expense_item(
        sheet["ID"],
        date(2026, 11, 3),
        first["ExpenseTypeID"],
        first["PaymentTypeID"],
        Decimal("54.10"),
        description="Parking",
        job_id=first["JobID"],
        billable=True,
        foreign_amount=Decimal("50.00"),
        foreign_currency="EUR",
        exchange_rate=Decimal("1.082"),
        receipt=b"%PDF-1.4 parking",
        receipt_type="application/pdf",
    )
    read = world.data(f"/ExpenseItems/{added['ID']}")
    assert read["HasForeignCurrency"] is True and read["ReceiptURL"] and read["ExpenseDate"] == "2026-11-03"
    assert world.data(f"/ExpenseSheets/{sheet['ID']}")["EnableForeignCurrency"] is True
    sim.delete_expense_item(added["ID"])
    assert world.get(f"/ExpenseItems/{added['ID']}").status_code == 404
    assert world.session.get(read["ReceiptURL"], timeout=10).status_code == 404
    assert world.data(f"/ExpenseSheets/{sheet['ID']}")["EnableForeignCurrency"] is False
