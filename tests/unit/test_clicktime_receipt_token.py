"""The ClickTime token goes only to ClickTime's own API origin: a receipt URL elsewhere (a CDN, pre-signed
storage) or over plain http on another origin is fetched without it (found by a review: it went everywhere)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from ctsync.clicktime.client import ClickTimeClient

TOKEN = "ct-secret-token-123"


class _Answer:
    status_code, reason = 200, "OK"
    headers = {"Content-Type": "image/png", "Content-Length": "8"}

    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def iter_content(self, chunk_size: int) -> list[bytes]:
        return [b"\x89PNG\r\n\x1a\n"]


class _Recorder:
    def __init__(self) -> None:
        self.sent: dict[str, str | None] = {}

    def get(self, url: str, *, headers: dict[str, str], **kwargs: Any) -> _Answer:
        self.sent[url] = headers.get("Authorization")
        return _Answer()


@pytest.mark.parametrize(
    ("base_url", "receipt_url", "token_sent"),
    [
        ("https://api.clicktime.com/v2", "https://api.clicktime.com/v2/receipts/1.png", True),
        ("https://api.clicktime.com/v2", "https://API.clicktime.com:443/receipts/1.png", True),
        ("https://api.clicktime.com/v2", "https://receipts-cdn.example.net/r/1.png", False),
        ("https://api.clicktime.com/v2", "http://api.clicktime.com/receipts/1.png", False),
        ("https://api.clicktime.com/v2", "https://api.clicktime.com.evil.example/r/1.png", False),
        ("https://api.clicktime.com/v2", "https://api.clicktime.com:8443/r/1.png", False),
        ("http://127.0.0.1:8123/v2", "http://127.0.0.1:8123/receipts/1.png", True),  # the local simulator
        ("http://127.0.0.1:8123/v2", "http://127.0.0.1:9999/receipts/1.png", False),
    ],
)
def test_the_token_goes_only_to_the_api_origin(base_url: str, receipt_url: str, token_sent: bool) -> None:
    recorder = _Recorder()
    client = ClickTimeClient(token=SecretStr(TOKEN), base_url=base_url, session=recorder)  # type: ignore[arg-type]
    assert client.download_receipt(receipt_url, max_bytes=1024) == (b"\x89PNG\r\n\x1a\n", "image/png")
    assert recorder.sent[receipt_url] == (f"Token {TOKEN}" if token_sent else None)
