"""What a function says when its config parameter or a secret is missing or not JSON (found by a new user's trial,
2026-12-02): before, the poller's failure (what `ctns status` and CloudWatch show) was Powertools' or botocore's
text, "Unable to transform value using 'json' transform: Expecting value: line 1 column 1 (char 0)", or
"Secrets Manager can't find the specified secret." without its name. Against moto."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ctsync.errors import ConfigurationError
from ctsync.runtime import _read


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def secret(name: str):
    from aws_lambda_powertools.utilities import parameters

    return lambda: parameters.get_secret(name, transform="json", max_age=0)


def test_a_secret_that_is_not_json_is_named(aws):
    boto3.client("secretsmanager").create_secret(Name="ctns/clicktime", SecretString="paste the token here")

    with pytest.raises(ConfigurationError) as said:
        _read("secret ctns/clicktime", secret("ctns/clicktime"))

    assert str(said.value) == "secret ctns/clicktime is not JSON (see docs/deploy.md for its shape)"
    assert said.value.systemic


def test_a_secret_or_parameter_that_does_not_exist_is_named(aws):
    from aws_lambda_powertools.utilities import parameters

    with pytest.raises(ConfigurationError) as missing_secret:
        _read("secret ctns/netsuite", secret("ctns/netsuite"))
    with pytest.raises(ConfigurationError) as missing_parameter:
        _read("config parameter /ctns/config", lambda: parameters.get_parameter("/ctns/config", transform="json"))

    assert str(missing_secret.value) == "secret ctns/netsuite does not exist (the stack's parameters name it)"
    assert str(missing_parameter.value).startswith("config parameter /ctns/config does not exist")


def test_a_secret_that_is_there_is_read(aws):
    boto3.client("secretsmanager").create_secret(Name="ctns/clicktime", SecretString='{"api_token": "abc"}')

    assert _read("secret ctns/clicktime", secret("ctns/clicktime")) == {"api_token": "abc"}
