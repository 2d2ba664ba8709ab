"""Shared by the NetSuite simulator tests: a thin signed client, a small company, and the server fixtures
(registered in conftest.py)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256
from requests_oauthlib import OAuth1

from simulators.common.server import SimulatorServer
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
from simulators.netsuite import NetSuiteSimulator, jsonio
from simulators.netsuite.app import DEFAULT_CREDENTIALS as CREDS

VECTORS = Path("/work/shared/reference/tba-vectors.json")
INVALID_LOGIN_BODY = {
    "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
    "title": "Unauthorized",
    "status": 401,
    "o:errorDetails": [
        {
            "detail": "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
            "Setup > Users/Roles > User Management > View Login Audit Trail.",
            "o:errorCode": "INVALID_LOGIN",
        }
    ],
}
SUITEQL = "/services/rest/query/v1/suiteql"
RECORDS = "/services/rest/record/v1"


class Clock:
    """Real time plus an offset: TBA timestamps come from the real clock, and tests can still move time on."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def oauth(**overrides) -> OAuth1:
    settings = {
        "client_key": CREDS.consumer_key,
        "client_secret": CREDS.consumer_secret,
        "resource_owner_key": CREDS.token_id,
        "resource_owner_secret": CREDS.token_secret,
        "signature_method": SIGNATURE_HMAC_SHA256,
        "realm": CREDS.account_id,
        **overrides,
    }
    return OAuth1(**settings)


class NetSuite:
    """A thin signed client: a fresh signature (nonce, timestamp) on every call, as retries must have."""

    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, *, auth: OAuth1 | None = None, **kwargs) -> requests.Response:
        if "json" in kwargs:
            # Money goes out as JSON numbers with their exact digits (requests' encoder cannot write a Decimal).
            kwargs["data"] = jsonio.dumps(kwargs.pop("json"))
            kwargs["headers"] = {"Content-Type": "application/json", **kwargs.get("headers", {})}
        return requests.request(method, self.url + path, auth=auth or oauth(), timeout=10, **kwargs)

    def suiteql(self, q: str, *, limit: int | None = None, offset: int | None = None, **kwargs) -> requests.Response:
        params = {k: v for k, v in (("limit", limit), ("offset", offset)) if v is not None}
        headers = {"Prefer": "transient", **kwargs.pop("headers", {})}
        return self.call("POST", SUITEQL, params=params, json={"q": q}, headers=headers, **kwargs)

    def create(self, rtype: str, body: dict, **kwargs) -> str:
        response = self.call("POST", f"{RECORDS}/{rtype}", json=body, **kwargs)
        assert response.status_code == 204, response.text
        return response.headers["Location"].rsplit("/", 1)[1]

    def get(self, rtype: str, key: str, **params) -> dict:
        response = self.call("GET", f"{RECORDS}/{rtype}/{key}", params=params)
        assert response.status_code == 200, response.text
        return response.json(parse_float=Decimal)


def make_company() -> Company:
    return Company(
        seed=1,
        name="Acme Consulting",
        subsidiaries=[Subsidiary("1", "Acme US", "1")],
        currencies=[Currency("1", "USD", "US Dollar")],
        customers=[Customer("12", "C-12", "Globex", "1")],
        projects=[
            Project("1774", "P-1774", "Website", "12", "1", "2", date(2026, 1, 5), date(2026, 12, 31)),
            Project("1775", "P-1775", "Old work", "12", "1", "1", None, None, is_inactive=True),
        ],
        tasks=[
            ProjectTask("905", "1774", "Build", parent_id="904", service_item_id="42"),
            ProjectTask("904", "1774", "Phase 1"),
        ],
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
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def stopping():
    """Servers take up to half a second to stop (serve_forever's poll); stop them side by side."""
    threads: list[threading.Thread] = []
    yield threads
    for thread in threads:
        thread.join()


@pytest.fixture
def make_server(clock, stopping):
    """Start a simulator (with keyword overrides) on loopback; every one is stopped and checked for bugs."""
    started: list[tuple[SimulatorServer, NetSuiteSimulator]] = []

    def start(**kwargs) -> tuple[NetSuiteSimulator, NetSuite]:
        sim = NetSuiteSimulator(clock=clock, **kwargs)
        sim.load(make_company())
        server = SimulatorServer(sim).start()
        started.append((server, sim))
        return sim, NetSuite(server.url)

    yield start
    for server, sim in started:
        stopper = threading.Thread(target=server.stop)
        stopper.start()
        stopping.append(stopper)
        assert sim.internal_errors == [], sim.internal_errors[0]


@pytest.fixture
def ns(make_server):
    return make_server()


def error_code(response: requests.Response) -> str:
    return response.json()["o:errorDetails"][0]["o:errorCode"]
