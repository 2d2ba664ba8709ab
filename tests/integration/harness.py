"""What the client integration tests share: a requests Session that records and can fail on the way back, and
a RetryPolicy sleep that records its pauses instead of waiting."""

from __future__ import annotations

from typing import Any

import requests


class RecordingSession(requests.Session):
    """Records every request put on the wire and every answer; can lose the next N answers on the way back
    (the server has handled the request, the client sees a connection error), time out connecting to it, or have a gateway in front of
    the API answer the next requests instead."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []
        self.answers: list[requests.Response] = []
        self.lose_answers = 0
        self.connect_timeouts = 0  # the next N requests never connect (nothing is sent)
        # (status, body, content type), answered locally; a content type of None sends none. `gateway_headers`:
        # other headers on those answers (a Date, say).
        self.gateway_answers: list[tuple[int, bytes, str | None]] = []
        self.gateway_headers: dict[str, str] = {}

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if self.connect_timeouts > 0:
            self.connect_timeouts -= 1
            raise requests.ConnectTimeout("the connection could not be made")
        self.sent.append(request)
        if self.gateway_answers:
            # A proxy or load balancer in front of the API answers instead (the request never reaches it).
            status, body, content_type = self.gateway_answers.pop(0)
            canned = requests.Response()
            canned.status_code, canned._content, canned.url, canned.request = status, body, request.url, request
            if content_type is not None:
                canned.headers["Content-Type"] = content_type
            canned.headers.update(self.gateway_headers)
            return canned
        response = super().send(request, **kwargs)
        self.answers.append(response)
        if self.lose_answers > 0:
            self.lose_answers -= 1
            raise requests.ConnectionError("the answer was lost on the way back")
        return response


class Sleeps(list):
    """A RetryPolicy.sleep that records the pauses and does not wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
