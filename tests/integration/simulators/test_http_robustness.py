"""Both simulators over a raw socket: whatever arrives gets an HTTP answer (never a dropped connection), in the
simulator's own error format, with a Date header taken from the simulator's clock."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

from simulators.clicktime import ClickTimeSimulator
from simulators.common.server import App, SimulatorServer
from simulators.netsuite import NetSuiteSimulator
from simulators.netsuite.app import DEFAULT_CREDENTIALS as CREDS

NOW = datetime(2026, 11, 25, 17, 47, 38, tzinfo=UTC)


def _netsuite() -> NetSuiteSimulator:
    # The real clock: signed requests carry real timestamps.
    return NetSuiteSimulator()


def _clicktime() -> ClickTimeSimulator:
    return ClickTimeSimulator(token="tok", clock=lambda: NOW)


@pytest.fixture(params=[_netsuite, _clicktime], ids=["netsuite", "clicktime"])
def served(request) -> Iterator[tuple[App, SimulatorServer]]:
    app = request.param()
    with SimulatorServer(app) as server:
        yield app, server
    assert app.internal_errors == []


def raw(server: SimulatorServer, data: bytes, *, half_close: bool = False) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are and read the answer until the server closes the connection."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received, "the server dropped the connection without an answer"
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if "content-length" in headers:
        assert len(body) == int(headers["content-length"])
    return status, headers, body


def request_bytes(server: SimulatorServer, target: str, *, method: str = "GET", extra: str = "") -> bytes:
    host = server.url.removeprefix("http://")
    return f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n".encode("latin-1")


def assert_error_format(app: App, body: bytes) -> None:
    payload = json.loads(body)
    if isinstance(app, NetSuiteSimulator):
        assert payload["o:errorDetails"][0]["o:errorCode"] and payload["status"] >= 400
    else:
        assert payload["data"] is None and payload["errors"]


@pytest.mark.parametrize(
    "target",
    [
        '/services/rest/record/v1/job?q=entityId IS "P-1"',  # raw spaces: not a valid request line
        '/services/rest/record/v1/job?q=entityId%20IS%20"P|1"',
        "/services/rest/record/v1/job?q=id%20ANY_OF%20[1,2]",
        "/v2/Jobs?ID=[1]|2",
        "/v2/Jobs?Name=%zz%",
        "/services/rest/record/v1/job/%C3%28",  # not UTF-8 once decoded
        "/a\x80\xff",
    ],
)
def test_malformed_request_targets_get_an_http_error(served, target):
    app, server = served
    status, headers, body = raw(server, request_bytes(server, target))
    assert 400 <= status < 500
    assert_error_format(app, body)
    assert headers["date"]


@pytest.mark.parametrize(
    ("data", "half_close"),
    [
        (b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n{}", False),
        (b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: -5\r\n\r\n{}", False),
        (b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 50\r\n\r\n{}", True),  # the body ends early
        (b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", True),
        (b"FROB /x HTTP/1.1\r\nHost: h\r\n\r\n", False),
        (b"GET /x HTTP/9.9\r\nHost: h\r\n\r\n", False),
        (b"complete nonsense\r\n\r\n", False),
        (b"GET /x HTTP/1.1\r\nHost: h\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n", False),
    ],
    ids=[
        "content-length-text",
        "content-length-negative",
        "short-body",
        "bad-chunk",
        "method",
        "version",
        "line",
        "header",
    ],
)
def test_unreadable_requests_get_an_http_error(served, data, half_close):
    app, server = served
    status, _, body = raw(server, data, half_close=half_close)
    assert 400 <= status < 600
    if body:
        assert_error_format(app, body)


def _signed(server: SimulatorServer, encoded_target: str, method: str = "GET") -> str:
    client = Client(
        CREDS.consumer_key,
        CREDS.consumer_secret,
        CREDS.token_id,
        CREDS.token_secret,
        signature_method=SIGNATURE_HMAC_SHA256,
        realm=CREDS.account_id,
    )
    _, headers, _ = client.sign(server.url + encoded_target, method)
    return headers["Authorization"]


def test_netsuite_reads_raw_characters_in_the_query_leniently():
    sim = _netsuite()
    with SimulatorServer(sim) as server:
        # Signed over the encoded form (what a client signing decoded parameters signs), sent raw.
        encoded = "/services/rest/system/v1/serverTime?x=%22a%7Cb%22%5B1%5D"
        auth = _signed(server, encoded)
        target = '/services/rest/system/v1/serverTime?x="a|b"[1]'
        status, _, body = raw(server, request_bytes(server, target, extra=f"Authorization: {auth}\r\n"))
        assert status == 200, body
        assert "serverTime" in json.loads(body)
        assert sim.login_audit == []
        # A signature over something else is still a bad signature, answered, not dropped.
        status, _, body = raw(server, request_bytes(server, target + "x", extra=f"Authorization: {auth}\r\n"))
        assert status == 401 and json.loads(body)["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"
    assert sim.internal_errors == []


def test_a_chunked_body_is_read():
    sim = _netsuite()
    with SimulatorServer(sim) as server:
        target = "/services/rest/query/v1/suiteql"
        auth = _signed(server, target, "POST")
        query = b'{"q": "SELECT s.id FROM subsidiary s"}'
        body = f"{len(query):x}\r\n".encode() + query + b"\r\n0\r\n\r\n"
        extra = f"Authorization: {auth}\r\nPrefer: transient\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        status, _, answer = raw(server, request_bytes(server, target, method="POST", extra=extra) + body)
        assert status == 200, answer
        assert json.loads(answer)["count"] == 0


def test_a_simulator_bug_is_a_500_and_is_kept():
    sim = _clicktime()

    def broken(request):
        raise RuntimeError("boom")

    sim.route("GET", "/broken")(broken)
    with SimulatorServer(sim) as server:
        status, _, body = raw(server, request_bytes(server, "/broken", extra="Authorization: Token tok\r\n"))
    assert status == 500
    assert json.loads(body)["errors"][0]["Message"]
    assert len(sim.internal_errors) == 1 and "boom" in sim.internal_errors[0]


def test_the_date_header_comes_from_the_simulator_clock():
    sim = _clicktime()
    with SimulatorServer(sim) as server:
        ok = raw(server, request_bytes(server, "/v2/Company", extra="Authorization: Token tok\r\n"))
        refused = raw(server, request_bytes(server, "/v2/Company"))
        broken = raw(server, b"nonsense\r\n\r\n")
    for status, headers, _ in (ok, refused, broken):
        assert headers["date"] == "Wed, 25 Nov 2026 17:47:38 GMT", status
    assert ok[0] == 200 and refused[0] == 401


def test_a_raw_utf8_character_in_the_query_is_signed_as_its_bytes():
    sim = _netsuite()
    with SimulatorServer(sim) as server:
        auth = _signed(server, "/services/rest/system/v1/serverTime?name=Caf%C3%A9")
        host = server.url.removeprefix("http://")
        data = (
            f"GET /services/rest/system/v1/serverTime?name=Café HTTP/1.1\r\nHost: {host}\r\n"
            f"Authorization: {auth}\r\nConnection: close\r\n\r\n"
        ).encode()
        status, _, body = raw(server, data)
    assert status == 200, body
    assert sim.login_audit == [] and sim.internal_errors == []


def test_a_request_is_in_flight_from_its_request_line_its_headers_parsing_included(served, monkeypatch):
    """A server's latency starts when a request arrives, so the simulator's own reading of the headers and body
    counts within a request's time in flight (and NetSuite's L), not before it. The simulator's clock is a fake
    that stands at 1 until the request line has been stamped, then at 101 while the headers come: no timing."""
    import types

    import simulators.common.server as server_module

    app, server = served
    now = [1.0]
    stamped = threading.Event()

    def perf_counter() -> float:
        stamped.set()
        return now[0]

    monkeypatch.setattr(server_module, "time", types.SimpleNamespace(perf_counter=perf_counter, sleep=lambda _: None))
    host, port = server.url.removeprefix("http://").split(":")
    before = app.in_flight_seconds
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /v2/Jobs HTTP/1.1\r\n")
        assert stamped.wait(10), "the request line was not stamped before its headers came"
        now[0] = 101.0
        sock.sendall(f"Host: {host}:{port}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.startswith(b"HTTP/1.1 ")
    assert app.in_flight_seconds - before == 100.0
