"""The files an operator hands to `ctns` (a config document, a secrets file) and their mistakes, in words.

Each mistake is one `CliError` line naming the file and what to fix; a secret value is never part of it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from ctns.output import CliError, describe_validation, remember_secret, remember_secrets_in
from ctsync import jsonutil
from ctsync.config import SyncConfig
from ctsync.netsuite.auth import TbaCredentials, unfit

SECRETS_SHAPE = (
    '{"netsuite": {"consumer_key", "consumer_secret", "token_id", "token_secret"}, "clicktime": {"api_token"}}'
)


def read_json(path: str | Path, what: str, *, secret: bool = False) -> dict[str, Any]:
    """A JSON object from a file, or one line saying why not. For a secrets file, every string in it is
    remembered as a secret before anything could print it."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise CliError(f"{what} {file} does not exist") from None
    except IsADirectoryError:
        raise CliError(f"{what} {file} is a directory, not a file") from None
    except PermissionError:
        raise CliError(f"{what} {file} cannot be read: permission denied") from None
    except OSError as error:
        raise CliError(f"{what} {file} cannot be read: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CliError(f"{what} {file} is not UTF-8 text (is it the right file?)") from None
    if not text.strip():
        raise CliError(f"{what} {file} is empty")
    try:
        document = jsonutil.load_document(text)
    except jsonutil.KeyTwice as twice:
        raise CliError(f"{what} {file} has the key {twice.key!r} twice: keep one (JSON would use the last)") from None
    except json.JSONDecodeError as error:
        # The decoder's message names a position, never the text around it.
        raise CliError(
            f"{what} {file} is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except jsonutil.Unreadable as error:
        raise CliError(f"{what} {file} {error} (is it the right file?)") from None
    if secret:
        remember_secrets_in(document)
    if not isinstance(document, dict):
        raise CliError(f"{what} {file} must hold a JSON object ({{…}}), not a {type(document).__name__}")
    return document


def parse_config(document: dict[str, Any], source: str) -> SyncConfig:
    try:
        return SyncConfig.model_validate(document)
    except ValidationError as error:
        problems = describe_validation(error)
        more = f" (and {len(problems) - 1} more: `ctns config validate` lists them)" if len(problems) > 1 else ""
        raise CliError(f"{source} is not a valid config document: {problems[0]}{more}") from None


def config_problems(document: dict[str, Any]) -> list[str]:
    try:
        SyncConfig.model_validate(document)
    except ValidationError as error:
        return describe_validation(error)
    return []


def load_config(path: str | Path) -> SyncConfig:
    return parse_config(read_json(path, "config file"), f"config file {path}")


# -- secrets ------------------------------------------------------------------------------------------------


class _Secret(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _clean(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value()
        if text != text.strip():
            raise ValueError("has spaces or a line break at its start or end (copied with them?)")
        reason = unfit(text)
        if reason:
            raise ValueError(reason)
        return value


class NetSuiteSecret(_Secret):
    consumer_key: SecretStr = Field(min_length=1)
    consumer_secret: SecretStr = Field(min_length=1)
    token_id: SecretStr = Field(min_length=1)
    token_secret: SecretStr = Field(min_length=1)

    def credentials(self) -> TbaCredentials:
        return TbaCredentials(**{name: getattr(self, name) for name in type(self).model_fields})


class ClickTimeSecret(_Secret):
    api_token: SecretStr = Field(min_length=1)


class SecretsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    netsuite: NetSuiteSecret
    clicktime: ClickTimeSecret


def _secret_problem(error: ValidationError, source: str, prefix: str = "") -> CliError:
    problems = describe_validation(error, prefix=prefix)
    return CliError(f"{source}: {'; '.join(problems)}")


def parse_secrets(document: dict[str, Any], source: str) -> SecretsFile:
    """`{"netsuite": {…TBA…}, "clicktime": {"api_token": …}}`, with the usual wrong shapes named."""
    remember_secrets_in(document)
    tba_keys = set(NetSuiteSecret.model_fields)
    if tba_keys & set(document) or "api_token" in document:
        raise CliError(
            f"{source} holds the keys of one secret at its top level; a secrets file for ctns has two sections: "
            f"{SECRETS_SHAPE}"
        )
    missing = [name for name in ("netsuite", "clicktime") if name not in document]
    if missing:
        found = ", ".join(sorted(document)) or "nothing"
        raise CliError(
            f"{source} has no {' and no '.join(repr(m) for m in missing)} section (found: {found}); it takes {SECRETS_SHAPE}"
        )
    try:
        secrets = SecretsFile.model_validate(document)
    except ValidationError as error:
        raise _secret_problem(error, source) from None
    for section in (secrets.netsuite, secrets.clicktime):
        for name in type(section).model_fields:
            remember_secret(getattr(section, name))
    return secrets


def load_secrets(path: str | Path) -> SecretsFile:
    return parse_secrets(read_json(path, "secrets file", secret=True), f"secrets file {path}")


def parse_netsuite_secret(document: Any, source: str) -> NetSuiteSecret:
    remember_secrets_in(document)
    if not isinstance(document, dict):
        raise CliError(f"{source} must be a JSON object with consumer_key, consumer_secret, token_id, token_secret")
    try:
        secret = NetSuiteSecret.model_validate(document)
    except ValidationError as error:
        raise _secret_problem(error, source) from None
    for name in NetSuiteSecret.model_fields:
        remember_secret(getattr(secret, name))
    return secret


def parse_clicktime_secret(document: Any, source: str) -> ClickTimeSecret:
    remember_secrets_in(document)
    if not isinstance(document, dict):
        raise CliError(f"{source} must be a JSON object with api_token")
    try:
        secret = ClickTimeSecret.model_validate(document)
    except ValidationError as error:
        raise _secret_problem(error, source) from None
    remember_secret(secret.api_token)
    return secret
