"""NetSuite token-based authentication (OAuth 1.0a, HMAC-SHA256) and the account's addresses.

The realm is the account ID exactly as NetSuite shows it (`1234567_SB1`); the host is derived from it in lower
case with a hyphen (`1234567-sb1`) unless the deployment configures the URL, as Oracle recommends.
"""

from __future__ import annotations

from typing import Annotated, Any

from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER, Client
from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr
from requests.auth import AuthBase


def unfit(text: str) -> str | None:
    """Why a key, secret or token (stripped) is not one its system issued, or None: they are printable ASCII without
    spaces (what an HTTP header or a signature carries). The reason names the kind of character and the likely
    slip, never the value."""
    if any(character.isspace() for character in text):
        return (
            "has a space or line break inside: a key, secret or token has none (a word such as 'Bearer' before it, "
            "or two values pasted together?)"
        )
    if any(ord(character) > 127 for character in text):
        return "has a character that is not ASCII (the three-dot placeholder of docs/deploy.md left in?)"
    if any(ord(character) < 32 or ord(character) == 127 for character in text):
        return "has a control character (copied with one?)"
    return None


def _token(value: SecretStr) -> SecretStr:
    """A key, secret or token as its system issued it: printable ASCII without spaces (what an HTTP header or a
    signature can carry). Spaces or a line break around it (copied with them) are dropped; anything else is refused
    without repeating the value, e.g. the '…' placeholder of docs/deploy.md left in."""
    text = value.get_secret_value().strip()
    if not text:
        raise ValueError("is empty")
    reason = unfit(text)
    if reason:
        raise ValueError(reason)
    return SecretStr(text)


Token = Annotated[SecretStr, AfterValidator(_token)]


class TbaCredentials(BaseModel):
    """The four secrets of a NetSuite integration record plus access token (kept in Secrets Manager)."""

    model_config = ConfigDict(frozen=True)

    consumer_key: Token
    consumer_secret: Token
    token_id: Token
    token_secret: Token


def account_host(account_id: str) -> str:
    """`1234567_SB1` -> `1234567-sb1`, the host label NetSuite uses for that account."""
    return account_id.strip().lower().replace("_", "-")


def rest_base_url(account_id: str) -> str:
    return f"https://{account_host(account_id)}.suitetalk.api.netsuite.com/services/rest"


def restlets_base_url(account_id: str) -> str:
    return f"https://{account_host(account_id)}.restlets.api.netsuite.com"


class TbaAuth(AuthBase):
    """OAuth 1.0a in the Authorization header, signed by oauthlib's OAuth1 client, for requests.

    What `requests_oauthlib.OAuth1` does for a request whose body is not form-encoded (every NetSuite call of
    this product sends JSON or nothing, and NetSuite signs no JSON body): the method, URL and query are signed,
    the body is not. Written here because importing `requests_oauthlib` imports its OAuth 2 half as well
    (oauthlib.oauth2 and its dependencies), a third of the core's import time, for nothing.
    """

    def __init__(self, client: Client) -> None:
        self.client = client

    def __call__(self, request: Any) -> Any:
        if "application/x-www-form-urlencoded" in str(request.headers.get("Content-Type", "")):
            raise ValueError("TBA signing of form-encoded bodies is not supported: NetSuite calls send JSON")
        request.url, headers, _ = self.client.sign(str(request.url), str(request.method), None, request.headers)
        request.prepare_headers(headers)
        return request


def tba_auth(credentials: TbaCredentials, account_id: str) -> TbaAuth:
    """A requests auth object; requests calls it on every prepared request, so every retry is signed afresh."""
    return TbaAuth(
        Client(
            client_key=credentials.consumer_key.get_secret_value(),
            client_secret=credentials.consumer_secret.get_secret_value(),
            resource_owner_key=credentials.token_id.get_secret_value(),
            resource_owner_secret=credentials.token_secret.get_secret_value(),
            realm=account_id,
            signature_method=SIGNATURE_HMAC_SHA256,
            signature_type=SIGNATURE_TYPE_AUTH_HEADER,
        )
    )
