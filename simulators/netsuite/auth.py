"""Token-based authentication (OAuth 1.0a, HMAC-SHA256) checked the way NetSuite checks it.

Every failure looks the same to the client (401 INVALID_LOGIN); the reason goes to the login audit, as it does
in NetSuite's Login Audit Trail, so tests can tell a bad signature from a replayed nonce.
"""

from __future__ import annotations

import hmac
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from urllib.parse import quote, urlsplit, urlunsplit

from oauthlib.common import urlencoded
from oauthlib.oauth1.rfc5849 import signature, utils

from simulators.common.server import Request


class AuthFailure(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Credentials:
    account_id: str
    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str


# What oauthlib accepts unescaped in a query string; anything else is escaped before the base string is built.
_QUERY_SAFE = "".join(sorted(urlencoded - {"%"}))
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def lenient_url(url: str) -> str:
    """The URL with characters a client left raw in the path or query (`|`, `[`, `"`, a space, a stray `%`)
    percent-encoded, as a client signing the decoded parameters would have encoded them.

    UNVERIFIED: that NetSuite reads such a request target leniently rather than refusing it. Reading it
    leniently is what keeps a request from ever being dropped for its target; a client that signed something
    else still gets INVALID_LOGIN.
    """
    parts = urlsplit(url)
    path = quote(_raw_bytes(_STRAY_PERCENT.sub("%25", parts.path)), safe="/%:@!$&'()*+,;=-._~")
    query = quote(_raw_bytes(_STRAY_PERCENT.sub("%25", parts.query)), safe=_QUERY_SAFE + "%")
    return urlunsplit((parts.scheme, parts.netloc, path, query, ""))


def _raw_bytes(text: str) -> bytes:
    """The bytes the client sent: http.server decodes a request target as latin-1, so a raw UTF-8 character
    arrives as two latin-1 ones and is encoded back to its own bytes here."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


def base_string(method: str, url: str, authorization: str) -> str:
    """The RFC 5849 signature base string: query parameters in, realm and a JSON body out."""
    url = lenient_url(url)
    params = signature.collect_parameters(
        uri_query=urlsplit(url).query, headers={"Authorization": authorization}, with_realm=False
    )
    return signature.signature_base_string(
        method.upper(), signature.base_string_uri(url), signature.normalize_parameters(params)
    )


def expected_signature(method: str, url: str, authorization: str, credentials: Credentials) -> str:
    # oauthlib reads the two secrets off a client object; these are its attribute names.
    secrets = SimpleNamespace(client_secret=credentials.consumer_secret, resource_owner_secret=credentials.token_secret)
    return signature.sign_hmac_sha256_with_client(base_string(method, url, authorization), secrets)


class TbaVerifier:
    def __init__(
        self,
        credentials: Credentials,
        *,
        tolerance_seconds: int,
        clock: Callable[[], datetime],
        audit: list[tuple[str, str]],
    ) -> None:
        self.credentials = credentials
        self.tolerance_seconds = tolerance_seconds
        self._clock = clock
        self._audit = audit
        self._used_nonces: dict[tuple[str, str], int] = {}  # (token, nonce) -> its timestamp
        self._prune_at = 10_000
        self._lock = threading.Lock()

    def verify(self, request: Request) -> None:
        try:
            self._verify(request)
        except AuthFailure as failure:
            with self._lock:
                self._audit.append((failure.reason, failure.detail))
            raise

    def _verify(self, request: Request) -> None:
        header = request.header("Authorization")
        if not header.lower().startswith("oauth "):
            raise AuthFailure("MissingAuthorization", "no OAuth Authorization header")
        try:
            params = dict(
                signature.collect_parameters(
                    headers={"Authorization": header}, with_realm=True, exclude_oauth_signature=False
                )
            )
        except ValueError as error:
            raise AuthFailure("MissingAuthorization", f"unreadable Authorization header: {error}") from None
        creds = self.credentials
        realm = utils.unescape(params.get("realm", ""))
        if realm != creds.account_id:
            # The realm is the account id exactly as NetSuite shows it: 1234567_SB1, not 1234567_sb1 or -SB1.
            raise AuthFailure("InvalidRealm", f"realm {realm!r} is not account {creds.account_id!r}")
        if params.get("oauth_consumer_key") != creds.consumer_key:
            raise AuthFailure("InvalidConsumerKey", "unknown consumer key")
        if params.get("oauth_token") != creds.token_id:
            raise AuthFailure("InvalidToken", "unknown token")
        method = params.get("oauth_signature_method", "")
        if method != "HMAC-SHA256":
            # HMAC-SHA1 support ended in 2023.1; only HMAC-SHA256 is accepted.
            raise AuthFailure("UnsupportedSignatureMethod", f"signature method {method!r}")
        if params.get("oauth_version", "1.0") != "1.0":
            raise AuthFailure("UnsupportedVersion", f"oauth_version {params['oauth_version']!r}")
        timestamp = self._timestamp(params.get("oauth_timestamp", ""))
        nonce = params.get("oauth_nonce", "")
        if not 6 <= len(nonce) <= 64:
            # Oracle: "a random string of at least 6 characters" (6-64 for Connect).
            raise AuthFailure("InvalidNonce", f"nonce of {len(nonce)} characters")
        try:
            wanted = expected_signature(request.method, request.url, header, creds)
        except ValueError as error:  # a request target even lenient_url cannot make sense of
            raise AuthFailure("InvalidSignature", f"cannot build the base string for {request.url}: {error}") from None
        if not hmac.compare_digest(wanted, params.get("oauth_signature", "")):
            raise AuthFailure("InvalidSignature", f"signature does not match the base string for {request.url}")
        self._use_nonce(creds.token_id, nonce, timestamp)

    def _timestamp(self, text: str) -> int:
        if not text.isdigit():
            raise AuthFailure("InvalidTimestamp", f"timestamp {text!r} is not seconds since the epoch")
        # UNVERIFIED: NetSuite's allowed clock skew; the simulator allows tolerance_seconds either way.
        skew = int(text) - int(self._clock().timestamp())
        if abs(skew) > self.tolerance_seconds:
            raise AuthFailure("InvalidTimestamp", f"timestamp is {skew:+d} s from the server clock")
        return int(text)

    def _use_nonce(self, token: str, nonce: str, timestamp: int) -> None:
        now = int(self._clock().timestamp())
        with self._lock:
            if (token, nonce) in self._used_nonces:
                raise AuthFailure("InvalidNonce", f"nonce {nonce!r} was already used")
            # A nonce whose timestamp is out of the window can never be accepted again: forget it.
            if len(self._used_nonces) >= self._prune_at:
                horizon = now - self.tolerance_seconds
                self._used_nonces = {k: t for k, t in self._used_nonces.items() if t >= horizon}
                self._prune_at = max(10_000, 2 * len(self._used_nonces))
            self._used_nonces[(token, nonce)] = timestamp
