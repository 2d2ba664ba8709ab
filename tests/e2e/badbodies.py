"""Answers that are not what an API promises, served by the simulators on purpose: an HTML error page (with a 200 or
a 5xx), a body cut short, NetSuite's error list on a 200, and records whose fields are missing, malformed or of
the wrong type. The simulators answer correctly; a `Rewrites` wraps one simulator's `handle` and changes the
answers of the requests it matches, as a proxy, a load balancer or a buggy release of the real API would.

Each rewrite matches a method, a path regex and optionally query values and a body regex, and fires `times` times
(None: always); every rewrite matching a request applies, in the order they were added.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulators.common.server import App, Request, Response

Change = Callable[[Request, Response], Response]

HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><p>The upstream server returned an invalid response.</p></body></html>"
)


@dataclass
class _Rule:
    change: Change
    method: str | None
    path: re.Pattern[str]
    query: dict[str, str]
    times: int | None
    body: re.Pattern[bytes] | None = None
    fired: int = 0

    def matches(self, request: Request) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.method and request.method != self.method:
            return False
        if not self.path.search(request.path):
            return False
        if self.body is not None and not self.body.search(request.body or b""):
            return False
        return all(value in request.query.get(name, []) for name, value in self.query.items())


@dataclass
class Rewrites:
    app: App
    rules: list[_Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        original = self.app.handle

        def handle(request: Request) -> Response:
            response = original(request)
            with self._lock:
                matching = [r for r in self.rules if r.matches(request)]
                for rule in matching:
                    rule.fired += 1
            for rule in matching:  # in the order they were added
                response = rule.change(request, response)
            return response

        self.app.handle = handle  # type: ignore[method-assign]

    def add(
        self,
        change: Change,
        *,
        path: str,
        method: str | None = "GET",
        query: dict[str, str] | None = None,
        times: int | None = None,
        body: str | None = None,
    ) -> _Rule:
        """Change the answers to requests matching `method`, the `path` regex, the `query` values and the `body`
        regex (for SuiteQL, whose query is in the body)."""
        rule = _Rule(change, method, re.compile(path), query or {}, times, re.compile(body.encode()) if body else None)
        with self._lock:
            self.rules.append(rule)
        return rule


# -- changes ----------------------------------------------------------------------------------------------------


def html_page(status: int = 200) -> Change:
    """A proxy's or load balancer's HTML page instead of the API's JSON."""

    def change(_request: Request, _response: Response) -> Response:
        return Response(status, HTML_PAGE, content_type="text/html")

    return change


def truncated(_request: Request, response: Response) -> Response:
    """The real answer, cut off halfway (a connection dropped mid-body, the length header honest about it)."""
    body = response.encode()
    return Response(response.status, body[: max(1, len(body) // 2)], dict(response.headers), response.content_type)


def netsuite_errors_on_200(detail: str) -> Change:
    """NetSuite's error list with a 200 status: no `items`, so a client that reads only `items` sees nothing."""

    def change(_request: Request, _response: Response) -> Response:
        body = {
            "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.6.1",
            "title": "An unexpected error occurred.",
            "status": 200,
            "o:errorDetails": [{"detail": detail, "o:errorCode": "UNEXPECTED_ERROR"}],
        }
        return Response(200, body)

    return change


def clicktime_errors_on_200(message: str) -> Change:
    """ClickTime's envelope with an `errors` list and no data, on a 200."""

    def change(_request: Request, response: Response) -> Response:
        body = {"data": None, "errors": [{"Field": None, "Message": message, "MessageDetail": []}], "page": None}
        return Response(200, body, content_type="application/json")

    return change


def edit_records(edit: Callable[[dict[str, Any]], None], *, ids: set[str]) -> Change:
    """The real answer with `edit` applied to the records (in `data`, a list or one) whose ID is in `ids`."""

    def change(_request: Request, response: Response) -> Response:
        body = response.body
        if isinstance(body, dict) and "data" in body:
            data = body["data"]
            for record in data if isinstance(data, list) else [data]:
                if isinstance(record, dict) and str(record.get("ID")) in ids:
                    edit(record)
        return response

    return change


def set_field(name: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(record: dict[str, Any]) -> None:
        record[name] = value

    return edit


def drop_field(name: str) -> Callable[[dict[str, Any]], None]:
    def edit(record: dict[str, Any]) -> None:
        record.pop(name, None)

    return edit
