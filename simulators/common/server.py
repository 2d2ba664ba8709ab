"""A small threaded HTTP server on loopback, with routing, a request log and fault injection.

Both simulators are apps on top of this: they register routes, say how an error body looks in their API,
and the server takes care of sockets, latency, injected faults and bookkeeping that tests assert on.
"""

from __future__ import annotations

import email.utils
import json
import re
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from simulators.common.faults import Fault, FaultPlan


@dataclass
class Request:
    method: str
    path: str  # percent-decoded path, no query
    raw_path: str  # the request target exactly as sent (path and query)
    query: dict[str, list[str]]
    headers: dict[str, str]  # header names lower-cased
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # filled from the route pattern
    host: str = ""
    arrived: float = 0.0  # time.perf_counter() when it arrived (its request line read; counted in flight from then)

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def json(self) -> Any:
        if not self.body:
            return None
        return json.loads(self.body.decode("utf-8"), parse_float=Decimal)

    @property
    def url(self) -> str:
        """The absolute URL the client addressed, as a signature base string needs it."""
        return f"http://{self.host}{self.raw_path}"


@dataclass
class Response:
    status: int = 200
    body: Any = None  # dict/list -> JSON; bytes -> as is; None -> empty
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body, default=str).encode("utf-8")


class HttpError(Exception):
    """Raised by a route to answer with an error in the simulator's own error format."""

    def __init__(self, status: int, message: str, code: str = "", field_name: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.field_name = field_name


Handler = Callable[[Request], Response]


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    body: Any


class App:
    """Routes plus the simulator-specific parts: error format, authentication, what is a slow page."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.faults = FaultPlan()
        self.requests: list[LoggedRequest] = []
        self._log_lock = threading.Lock()
        self.in_flight = 0
        # Every request's time in `handle`, added up: over a span of wall time, the mean number in flight.
        self.in_flight_seconds = 0.0
        self._flight_lock = threading.Lock()
        # Tracebacks of simulator bugs answered with a 500: tests assert this stays empty.
        self.internal_errors: list[str] = []
        self._errors_lock = threading.Lock()
        self._held: list[Request] = []  # requests of a `late` fault, processed by process_held()
        self._held_after: int | None = None  # later writes of a held request's path before it is processed

    # -- to be specialised ------------------------------------------------------------------------
    def error_response(self, status: int, message: str, code: str = "", field_name: str = "") -> Response:
        return Response(status, {"error": message, "code": code})

    def authenticate(self, request: Request) -> None:
        """Raise HttpError when the request's credentials are not acceptable."""

    def is_page_request(self, request: Request) -> bool:
        return request.method == "GET"

    def admit(self, request: Request) -> Response | None:
        """A chance to refuse a request before it runs (concurrency limits); None lets it through."""
        return None

    def now(self) -> datetime | None:
        """The simulator's notion of now, for the HTTP Date header; None: the real clock."""
        clock = getattr(self, "clock", None)
        return clock() if callable(clock) else None

    def internal_error(self) -> Response:
        """A 500 for a simulator bug (called from an except block); the traceback is kept for tests."""
        with self._errors_lock:
            self.internal_errors.append(traceback.format_exc())
        return self.error_response(500, "An unexpected error occurred.", "UNEXPECTED_ERROR")

    # -- routing ----------------------------------------------------------------------------------
    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$", re.IGNORECASE)

        def register(handler: Handler) -> Handler:
            self._routes.append((method, regex, handler))
            return handler

        return register

    def dispatch(self, request: Request) -> Response:
        allowed = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if not match:
                continue
            allowed = True
            if method != request.method:
                continue
            request.params = {k: unquote(v) for k, v in match.groupdict().items()}
            return handler(request)
        if allowed:
            raise HttpError(405, f"Method {request.method} is not allowed on {request.path}")
        raise HttpError(404, f"No resource at {request.path}")

    def handle(self, request: Request) -> Response:
        arrived = request.arrived = request.arrived or time.perf_counter()
        with self._flight_lock:
            self.in_flight += 1
        try:
            refused = self.admit(request)
            if refused is not None:
                return refused
            self.authenticate(request)
            return self.dispatch(request)
        except HttpError as error:
            return self.error_response(error.status, error.message, error.code, error.field_name)
        finally:
            with self._flight_lock:
                self.in_flight -= 1
                self.in_flight_seconds += time.perf_counter() - arrived

    def hold(self, request: Request) -> bool:
        """Keep a request of a `late` fault for later; False when it would be refused anyway (it is answered
        as usual then). Authenticated on arrival: processed later, it is not a replay of its nonce."""
        try:
            self.authenticate(request)
        except HttpError:
            return False
        with self._log_lock:
            self._held.append(request)
        return True

    def process_held(self) -> int:
        """Process the held requests now, in the order they arrived (each logged as it is processed); how many."""
        with self._log_lock:
            held, self._held = self._held, []
        for request in held:
            request.arrived = 0.0  # processed now, long after it arrived: no time of its own in flight
            try:
                response = self.dispatch(request)
            except HttpError as error:
                response = self.error_response(error.status, error.message, error.code, error.field_name)
            except Exception:
                response = self.internal_error()
            self.log(request, response)
        return len(held)

    def process_held_after(self, writes: int) -> None:
        """Process the held requests once this many more writes of the first one's path were processed: "late"
        placed among later writes of the same record by request events, not by time."""
        with self._log_lock:
            self._held_after = writes

    def note_write(self, request: Request) -> None:
        with self._log_lock:
            if self._held_after is None or not self._held or request.method not in {"POST", "PUT", "PATCH"}:
                return
            if request is self._held[0] or request.path != self._held[0].path:
                return
            self._held_after -= 1
            due = self._held_after <= 0
            if due:
                self._held_after = None
        if due:
            self.process_held()

    def log(self, request: Request, response: Response) -> None:
        body: Any = None
        if request.body:
            try:
                body = request.json()
            except ValueError:
                body = request.body
        with self._log_lock:
            self.requests.append(LoggedRequest(request.method, request.path, request.query, response.status, body))

    def writes(self) -> list[LoggedRequest]:
        """Requests that changed (or tried to change) state: what 'writes nothing' is checked against."""
        with self._log_lock:
            return [r for r in self.requests if r.method in {"POST", "PUT", "PATCH", "DELETE"} and not _is_read(r)]


def _is_read(request: LoggedRequest) -> bool:
    # SuiteQL is a POST but reads; every simulator route that reads through POST ends in /suiteql.
    return request.path.lower().endswith("/suiteql")


class _RequestHandler(BaseHTTPRequestHandler):
    app: App
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle plus the client's delayed ACK
    # add about 40 ms to every keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def parse_request(self) -> bool:
        # A request arrives when its request line has been read. Stamped here, the simulator's own parsing of its
        # headers and body counts within a NetSuite request's L, as a real server's parsing is within its latency.
        self._line_read_at = time.perf_counter()
        return super().parse_request()

    def _serve(self) -> None:
        """Every request gets an HTTP answer: one the simulator cannot read gets a 400, a simulator bug a 500.

        A dropped connection is reserved for the `reset` fault, where it is the point.
        """
        try:
            body = self._read_body()
        except _Unreadable as error:
            self.close_connection = True
            self._write(self.app.error_response(400, str(error)), close=True)
            return
        try:
            self._handle(body)
        except Exception:
            self.close_connection = True
            self._write(self.app.internal_error(), close=True)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        text = (self.headers.get("Content-Length") or "0").strip()
        if not text.isdigit():
            raise _Unreadable(f"Invalid Content-Length header {text!r}.")
        length = int(text)
        body = self.rfile.read(length) if length else b""
        if len(body) != length:
            raise _Unreadable(f"The body ended after {len(body)} of {length} bytes.")
        return body

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            line = self.rfile.readline(1024).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise _Unreadable(f"Invalid chunk size {line[:20]!r}.") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailer fields
                return b"".join(chunks)
            chunk = self.rfile.read(size)
            if len(chunk) != size:
                raise _Unreadable("The chunked body ended early.")
            chunks.append(chunk)
            self.rfile.readline(1024)

    def _handle(self, body: bytes) -> None:
        split = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=unquote(split.path),
            raw_path=self.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            host=self.headers.get("Host", ""),
        )
        app = self.app
        fault = app.faults.draw(request.method, request.path)
        delay = app.faults.latency_seconds
        if app.is_page_request(request) and app.faults.slow_page_seconds:
            delay += app.faults.slow_page_seconds
            app.faults.record("slow_page")
        if delay:
            # Before the request counts as in flight: latency is the network's, not the server's
            # (a simulator that models server time, like NetSuite's processing_seconds, sleeps in its route).
            time.sleep(delay)
        request.arrived = time.perf_counter() if delay else self._line_read_at
        if fault is not None:
            app.faults.record(app.faults.label(fault))
            if self._apply(fault, request):
                return
        try:
            response = app.handle(request)
        except Exception:
            response = app.internal_error()
        app.log(request, response)
        app.note_write(request)
        if fault is not None and fault.kind == "reset_after":
            self._reset()  # processed, logged, and the answer lost
            return
        if fault is not None and fault.kind == "cut":
            self._write_cut(response)  # processed, logged, and the answer broken off mid-body
            return
        if fault is not None and fault.kind == "timeout" and not app.faults.timeout_processes_late:
            time.sleep(fault.delay_seconds)  # processed on arrival; only the answer comes too late
        self._write(response)

    def _apply(self, fault: Fault, request: Request) -> bool:
        """Apply a fault; True when the request has been dealt with."""
        if fault.kind == "reset":
            self._reset()
            return True
        if fault.kind in ("reset_after", "cut"):
            return False  # processed first; the answer is dropped or broken off in _handle
        if fault.kind == "late":
            if not self.app.hold(request):
                return False
            self._reset()
            return True
        if fault.kind == "timeout":
            if self.app.faults.timeout_processes_late:
                time.sleep(fault.delay_seconds)
            return False
        response = self.app.error_response(fault.status, _reason(fault.status), code=_code(fault.status))
        if fault.retry_after is not None:
            response.headers["Retry-After"] = str(fault.retry_after)
        self.app.log(request, response)
        self._write(response)
        return True

    def _reset(self) -> None:
        # SO_LINGER with a zero timeout makes close() send RST: the client sees a connection reset.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def _write_cut(self, response: Response) -> None:
        """The status, the headers (the whole body's Content-Length) and the first half of the body, then a reset.
        An answer with no body (a 204) breaks off after its status line."""
        payload = response.encode()
        try:
            if not payload:
                self.wfile.write(f"{self.protocol_version} {response.status} {_reason(response.status)}\r\n".encode())
                self.wfile.flush()
                self._reset()
                return
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self._reset()

    def _write(self, response: Response, *, close: bool = False) -> None:
        payload = response.encode()
        try:
            self.send_response(response.status)
            if payload:
                self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            if close:
                self.send_header("Connection", "close")
            if payload and len(payload) <= _WRITE_SLICE:
                # Headers and a small body in one write, as a server answering from its buffer sends them: two
                # writes let another of the simulator's threads take the interpreter in between.
                self._headers_buffer.append(b"\r\n" + bytes(payload))
                self.flush_headers()
                return
            self.end_headers()
            if payload:
                # In slices, so a large body (an 11 MB receipt) streams out as the client reads it.
                view = memoryview(payload)
                for start in range(0, len(view), _WRITE_SLICE):
                    self.wfile.write(view[start : start + _WRITE_SLICE])
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What http.server answers a request it cannot parse (bad request line, header, method), in the
        simulator's own error format instead of the standard library's HTML page."""
        detail = message or _reason(code)
        try:
            response = self.app.error_response(code, detail)
        except Exception:
            response = Response(code, {"error": detail})
        self.close_connection = True
        # An unreadable request line leaves http.server thinking it speaks HTTP/0.9, which has no status line.
        self.request_version = self.protocol_version
        if code < 200 or code in (204, 205, 304) or self.command == "HEAD":
            response.body = None
        self._write(response, close=True)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header, from the simulator's clock (RFC 7231 IMF-fixdate): clients may take "now" from it."""
        if timestamp is None:
            try:
                now = self.app.now()
            except Exception:
                now = None
            if now is not None:
                if now.tzinfo is None:
                    now = now.replace(tzinfo=UTC)
                return email.utils.format_datetime(now.astimezone(UTC), usegmt=True)
        return super().date_time_string(timestamp)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve


_WRITE_SLICE = 256 * 1024


class _Unreadable(Exception):
    """A request whose body the server cannot read (bad Content-Length, broken chunking)."""


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _code(status: int) -> str:
    return {429: "TOO_MANY_REQUESTS", 401: "INVALID_LOGIN"}.get(status, "UNEXPECTED_ERROR")


class _QuietHTTPServer(ThreadingHTTPServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._open: set[Any] = set()  # the connections being served (kept alive between requests)
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def end_open_connections(self) -> None:
        """End every connection still served: a stopped server must not answer a client that kept one alive (its
        handler thread would, and a new server on the same port would not be the one answering). Shut down, not
        closed: each handler sees the end, finishes and closes its own socket."""
        with self._open_lock:
            open_now = list(self._open)
        for connection in open_now:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already gone

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away mid-connection (it reset a kept-alive connection, stopped reading a large
        receipt) is what a real server shrugs off; socketserver would print its traceback on the demo's console.
        Anything else is a simulator bug and is printed as before."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class SimulatorServer:
    """Serves an App on 127.0.0.1 from a background thread. Use as a context manager or start()/stop()."""

    def __init__(self, app: App, port: int = 0) -> None:
        self.app = app
        handler = type("BoundHandler", (_RequestHandler,), {"app": app})
        self._httpd = _QuietHTTPServer(("127.0.0.1", port), handler)
        self._httpd.daemon_threads = True
        # A short poll interval: shutdown() waits for it, and tests start and stop many servers.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=type(app).__name__, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> SimulatorServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.end_open_connections()
        self._httpd.server_close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
