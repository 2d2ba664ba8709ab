"""Known-answer tests for NetSuite token-based authentication (OAuth 1.0a, HMAC-SHA256).

Two independent checks per vector in tests/data/tba-vectors.json:

(a) the RFC 5849 signature base string and HMAC-SHA256 signature, computed here from scratch (hmac, hashlib,
    base64, urllib.parse; no oauthlib), equal the vector's;
(b) the product's own signer, `ctsync.netsuite.auth.tba_auth`, with its nonce and timestamp pinned to the
    vector's, puts the same signature in the Authorization header, with the realm exactly as NetSuite shows the
    account ID ("1234567_SB1") and the method HMAC-SHA256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from ctsync.netsuite.auth import TbaCredentials, account_host, rest_base_url, restlets_base_url, tba_auth

VECTORS: dict[str, Any] = json.loads((Path(__file__).resolve().parents[1] / "data" / "tba-vectors.json").read_text())
CREDS: dict[str, str] = VECTORS["credentials"]
CASES: list[dict[str, Any]] = VECTORS["cases"]
CASE_IDS = [f"{case['method']}-{case['oauth_nonce']}" for case in CASES]


# -- an independent RFC 5849 implementation ------------------------------------------------------------------
def rfc5849_encode(text: str) -> str:
    """RFC 5849 §3.6: UTF-8, then every byte except the unreserved set (ALPHA DIGIT - . _ ~) as upper-case %XX."""
    return quote(text.encode("utf-8"), safe="-._~")


def base_string_uri(url: str) -> str:
    """RFC 5849 §3.4.1.2: scheme and host in lower case, default port left out, path as sent, no query."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    default_port = {"http": 80, "https": 443}[scheme]
    netloc = host if parts.port in (None, default_port) else f"{host}:{parts.port}"
    return f"{scheme}://{netloc}{parts.path or '/'}"


def normalized_parameters(url: str, oauth_params: dict[str, str]) -> str:
    """RFC 5849 §3.4.1.3: the query's parameters (decoded) and the oauth_* ones, encoded, sorted, joined.

    The realm and oauth_signature are not part of it, and neither is a JSON body.
    """
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    pairs += [(k, v) for k, v in oauth_params.items() if k not in {"realm", "oauth_signature"}]
    encoded = sorted((rfc5849_encode(k), rfc5849_encode(v)) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def signature_base_string(method: str, url: str, oauth_params: dict[str, str]) -> str:
    return "&".join(
        [method.upper(), rfc5849_encode(base_string_uri(url)), rfc5849_encode(normalized_parameters(url, oauth_params))]
    )


def hmac_sha256_signature(base: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{rfc5849_encode(consumer_secret)}&{rfc5849_encode(token_secret)}".encode("ascii")
    return base64.b64encode(hmac.new(key, base.encode("utf-8"), hashlib.sha256).digest()).decode("ascii")


def vector_oauth_params(case: dict[str, Any]) -> dict[str, str]:
    return {
        "oauth_consumer_key": CREDS["consumer_key"],
        "oauth_token": CREDS["token_id"],
        "oauth_signature_method": VECTORS["signature_method"],
        "oauth_timestamp": str(case["oauth_timestamp"]),
        "oauth_nonce": case["oauth_nonce"],
        "oauth_version": "1.0",
    }


def parse_authorization(header: str | bytes) -> dict[str, str]:
    """`OAuth realm="…", oauth_nonce="…", …` -> {name: decoded value}."""
    text = header.decode("ascii") if isinstance(header, bytes) else header
    assert text.startswith("OAuth "), text
    return {name: unquote(value) for name, value in re.findall(r'([A-Za-z_]+)="([^"]*)"', text[len("OAuth ") :])}


# -- the product's signer ------------------------------------------------------------------------------------
def product_credentials(**overrides: str) -> TbaCredentials:
    values = {
        "consumer_key": CREDS["consumer_key"],
        "consumer_secret": CREDS["consumer_secret"],
        "token_id": CREDS["token_id"],
        "token_secret": CREDS["token_secret"],
        **overrides,
    }
    return TbaCredentials(**{k: SecretStr(v) for k, v in values.items()})


def sign_with_product(method: str, url: str, *, nonce: str | None, timestamp: int | None, **request_kwargs: Any):
    auth = tba_auth(product_credentials(), CREDS["account_id"])
    # requests_oauthlib's OAuth1 wraps an oauthlib Client, which uses these when set instead of fresh values.
    auth.client.nonce = nonce
    auth.client.timestamp = None if timestamp is None else str(timestamp)
    prepared = requests.Request(method, url, **request_kwargs).prepare()
    return auth(prepared)


# -- (a) the vectors against the independent implementation --------------------------------------------------
def test_the_vectors_use_the_account_id_as_realm():
    assert VECTORS["realm"] == CREDS["account_id"] == "1234567_SB1"
    assert VECTORS["signature_method"] == "HMAC-SHA256"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_independent_base_string_and_signature_match_the_vector(case):
    # Given the vector's request and the made-up credentials
    params = vector_oauth_params(case)
    # When the base string and signature are computed from RFC 5849 alone
    base = signature_base_string(case["method"], case["url"], params)
    signature = hmac_sha256_signature(base, CREDS["consumer_secret"], CREDS["token_secret"])
    # Then both are the vector's, byte for byte
    assert base == case["base_string"]
    assert signature == case["oauth_signature"]
    # And the realm is not signed: it appears nowhere in the base string
    assert "realm" not in base and "1234567_SB1" not in base


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_the_vectors_example_header_carries_the_vector_signature(case):
    header = parse_authorization(case["authorization_header_example"])
    assert header["realm"] == "1234567_SB1"
    assert header["oauth_signature"] == case["oauth_signature"]
    assert signature_base_string(case["method"], case["url"], header) == case["base_string"]


# -- (b) the product's signer with pinned nonce and timestamp ------------------------------------------------
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_product_signer_puts_the_known_signature_in_the_header(case):
    # Given the product's TBA auth with the vector's nonce and timestamp pinned
    prepared = sign_with_product(
        case["method"], case["url"], nonce=case["oauth_nonce"], timestamp=case["oauth_timestamp"]
    )
    header_text = prepared.headers["Authorization"]
    header = parse_authorization(header_text)

    # Then the realm is the account id exactly (upper case, underscore), quoted as NetSuite expects
    assert 'realm="1234567_SB1"' in (header_text.decode() if isinstance(header_text, bytes) else header_text)
    assert header["realm"] == "1234567_SB1"
    assert header["oauth_signature_method"] == "HMAC-SHA256"
    assert header["oauth_version"] == "1.0"
    assert header["oauth_consumer_key"] == CREDS["consumer_key"]
    assert header["oauth_token"] == CREDS["token_id"]
    assert header["oauth_nonce"] == case["oauth_nonce"]
    assert header["oauth_timestamp"] == str(case["oauth_timestamp"])

    # And the signature is the one computed independently over the URL actually sent
    independent = hmac_sha256_signature(
        signature_base_string(case["method"], prepared.url, header), CREDS["consumer_secret"], CREDS["token_secret"]
    )
    assert header["oauth_signature"] == independent == case["oauth_signature"]


def test_a_json_body_is_not_signed():
    # Given the SuiteQL vector, sent as the client sends it: a JSON body with its content type
    case = CASES[0]
    assert case["method"] == "POST"
    prepared = sign_with_product(
        "POST",
        case["url"],
        nonce=case["oauth_nonce"],
        timestamp=case["oauth_timestamp"],
        data=b'{"q": "SELECT j.id AS id FROM job j ORDER BY j.id"}',
        headers={"Content-Type": "application/json", "Prefer": "transient"},
    )
    # Then the signature is the body-less one, and the body went out unchanged
    assert parse_authorization(prepared.headers["Authorization"])["oauth_signature"] == case["oauth_signature"]
    assert prepared.body == b'{"q": "SELECT j.id AS id FROM job j ORDER BY j.id"}'


def test_every_signing_gets_a_fresh_nonce_and_a_current_timestamp():
    # Given the product's auth object, not pinned (as the client uses it: one object for every request)
    auth = tba_auth(product_credentials(), CREDS["account_id"])
    url = rest_base_url(CREDS["account_id"]) + "/system/v1/serverTime"
    # When the same request is signed several times (as retries do)
    headers = [
        parse_authorization(auth(requests.Request("GET", url).prepare()).headers["Authorization"]) for _ in range(5)
    ]
    # Then every signature has its own nonce (at least the 6 characters NetSuite asks for) and verifies
    nonces = [h["oauth_nonce"] for h in headers]
    assert len(set(nonces)) == 5 and all(len(n) >= 6 for n in nonces)
    for header in headers:
        assert header["oauth_timestamp"].isdigit()
        base = signature_base_string("GET", url, header)
        assert header["oauth_signature"] == hmac_sha256_signature(base, CREDS["consumer_secret"], CREDS["token_secret"])


def test_a_different_secret_gives_a_different_signature():
    case = CASES[1]
    auth = tba_auth(product_credentials(token_secret="ts-wrong"), CREDS["account_id"])
    auth.client.nonce, auth.client.timestamp = case["oauth_nonce"], str(case["oauth_timestamp"])
    header = parse_authorization(auth(requests.Request(case["method"], case["url"]).prepare()).headers["Authorization"])
    assert header["oauth_signature"] != case["oauth_signature"]
    assert header["oauth_signature"] == hmac_sha256_signature(case["base_string"], CREDS["consumer_secret"], "ts-wrong")


# -- property: the product's signer agrees with the independent one on arbitrary requests --------------------
_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=0, max_size=12)
_name = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.~", min_size=1, max_size=8)
_segment = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:@", min_size=1, max_size=12
)


@settings(max_examples=150, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
    segments=st.lists(_segment, min_size=1, max_size=4),
    query=st.lists(st.tuples(_name, _text), max_size=4),
    nonce=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=6, max_size=32),
    timestamp=st.integers(min_value=1_000_000_000, max_value=4_000_000_000),
)
def test_product_signature_matches_the_independent_one_for_any_request(method, segments, query, nonce, timestamp):
    url = rest_base_url(CREDS["account_id"]) + "/" + "/".join(segments)
    prepared = sign_with_product(method, url, nonce=nonce, timestamp=timestamp, params=query)
    header = parse_authorization(prepared.headers["Authorization"])
    expected = hmac_sha256_signature(
        signature_base_string(method, prepared.url, header), CREDS["consumer_secret"], CREDS["token_secret"]
    )
    assert header["realm"] == "1234567_SB1"
    assert header["oauth_signature"] == expected


# -- account addresses ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("account_id", "host"),
    [
        ("1234567_SB1", "1234567-sb1"),
        ("1234567", "1234567"),
        ("1234567_SB2", "1234567-sb2"),
        (" 1234567_RP ", "1234567-rp"),
    ],
)
def test_account_host_is_lower_case_with_a_hyphen(account_id, host):
    assert account_host(account_id) == host


def test_rest_and_restlet_urls_derive_from_the_account_id():
    assert rest_base_url("1234567_SB1") == "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest"
    assert restlets_base_url("1234567_SB1") == "https://1234567-sb1.restlets.api.netsuite.com"
    # The vectors were made against the same host the product derives.
    derived = [c for c in CASES if c["url"].startswith(rest_base_url(CREDS["account_id"]))]
    assert len(derived) == len(CASES) - 1  # all but the deliberately upper-cased URL


def test_the_realm_keeps_the_account_ids_case_while_the_host_does_not():
    prepared = sign_with_product(
        "GET", rest_base_url("1234567_SB1") + "/system/v1/serverTime", nonce="abcdef123", timestamp=1764000000
    )
    assert parse_authorization(prepared.headers["Authorization"])["realm"] == "1234567_SB1"
    assert urlsplit(prepared.url).hostname == "1234567-sb1.suitetalk.api.netsuite.com"
