"""NetSuite token-based authentication (OAuth 1.0a, HMAC-SHA256) and the account's addresses.

The realm is the account ID exactly as NetSuite shows it (`1234567_SB1`); the host is derived from it in lower
case with a hyphen (`1234567-sb1`) unless the deployment configures the URL, as Oracle recommends.
"""

from __future__ import annotations

from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER
from pydantic import BaseModel, ConfigDict, SecretStr
from requests_oauthlib import OAuth1


class TbaCredentials(BaseModel):
    """The four secrets of a NetSuite integration record plus access token (kept in Secrets Manager)."""

    model_config = ConfigDict(frozen=True)

    consumer_key: SecretStr
    consumer_secret: SecretStr
    token_id: SecretStr
    token_secret: SecretStr


def account_host(account_id: str) -> str:
    """`1234567_SB1` -> `1234567-sb1`, the host label NetSuite uses for that account."""
    return account_id.strip().lower().replace("_", "-")


def rest_base_url(account_id: str) -> str:
    return f"https://{account_host(account_id)}.suitetalk.api.netsuite.com/services/rest"


def restlets_base_url(account_id: str) -> str:
    return f"https://{account_host(account_id)}.restlets.api.netsuite.com"


def tba_auth(credentials: TbaCredentials, account_id: str) -> OAuth1:
    """A requests auth object; requests calls it on every prepared request, so every retry is signed afresh."""
    return OAuth1(
        client_key=credentials.consumer_key.get_secret_value(),
        client_secret=credentials.consumer_secret.get_secret_value(),
        resource_owner_key=credentials.token_id.get_secret_value(),
        resource_owner_secret=credentials.token_secret.get_secret_value(),
        realm=account_id,
        signature_method=SIGNATURE_HMAC_SHA256,
        signature_type=SIGNATURE_TYPE_AUTH_HEADER,
    )
