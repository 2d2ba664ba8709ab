"""What a function says when its config parameter or a secret is missing or not JSON (found by a new user's trial,
2026-12-02): before, the poller's failure (what `ctns status` and CloudWatch show) was Powertools' or botocore's
text, "Unable to transform value using 'json' transform: Expecting value: line 1 column 1 (char 0)", or
"Secrets Manager can't find the specified secret." without its name. Against moto."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from ctsync.errors import ConfigurationError
from ctsync.runtime import Environment, Runtime, _read


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield


def secret(name: str):
    from aws_lambda_powertools.utilities import parameters

    return lambda: parameters.get_secret(name, max_age=0)  # as the runtime reads it: the text, parsed by `_read`


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
        _read("config parameter /ctns/config", lambda: parameters.get_parameter("/ctns/config"))

    assert str(missing_secret.value) == "secret ctns/netsuite does not exist (the stack's parameters name it)"
    assert str(missing_parameter.value).startswith("config parameter /ctns/config does not exist")


def test_a_secret_that_is_there_is_read(aws):
    boto3.client("secretsmanager").create_secret(Name="ctns/clicktime", SecretString='{"api_token": "abc"}')

    assert _read("secret ctns/clicktime", secret("ctns/clicktime")) == {"api_token": "abc"}


def test_a_secret_or_config_parameter_with_a_key_twice_is_refused_naming_the_key(aws):
    """JSON keeps the last of two keys: a secret edited in the console with `api_token` twice, or a config
    parameter with two `time` sections, would run on whichever came last without a word (the CLI refuses such
    files; the functions read what the console left)."""
    from aws_lambda_powertools.utilities import parameters

    boto3.client("secretsmanager").create_secret(
        Name="ctns/clicktime", SecretString='{"api_token": "old", "api_token": "new"}'
    )
    boto3.client("ssm").put_parameter(
        Name="/ctns/config", Type="String", Value='{"time": {"lookback_days": 7}, "time": {"lookback_days": 9}}'
    )

    with pytest.raises(ConfigurationError) as secret_said:
        _read("secret ctns/clicktime", lambda: parameters.get_secret("ctns/clicktime", max_age=0))
    with pytest.raises(ConfigurationError) as config_said:
        _read("config parameter /ctns/config", lambda: parameters.get_parameter("/ctns/config", max_age=0))

    assert str(secret_said.value) == (
        "secret ctns/clicktime has the key 'api_token' twice: keep one (JSON would use the last)"
    )
    assert str(config_said.value).startswith("config parameter /ctns/config has the key 'time' twice")
    assert "old" not in str(secret_said.value) and "new" not in str(secret_said.value)


def test_the_cli_refuses_a_deployed_secret_or_config_parameter_with_a_key_twice(aws):
    """`ctns check` and `ctns status` read the deployed stack's config parameter and secrets (`ctns.target`): one line
    naming the key, never the value, as the functions say it."""
    from ctns.output import CliError
    from ctns.target import Target

    boto3.client("secretsmanager").create_secret(
        Name="ctns/clicktime", SecretString='{"api_token": "old", "api_token": "new"}'
    )
    boto3.client("ssm").put_parameter(
        Name="/ctns/config", Type="String", Value='{"time": {"lookback_days": 7}, "time": {"lookback_days": 9}}'
    )
    target = Target("ctns", {}, {}, boto3.session.Session())

    with pytest.raises(CliError) as secret_said:
        target.clicktime_secret()
    with pytest.raises(CliError) as config_said:
        target.config()

    assert str(secret_said.value).startswith("the secret ctns/clicktime has the key 'api_token' twice: keep one")
    assert str(config_said.value).startswith("the config parameter /ctns/config has the key 'time' twice: keep one")
    assert "old" not in str(secret_said.value) and "new" not in str(secret_said.value)


# -- found by a review (2026-12-02): a text that failed to parse was cached by Powertools for CACHE_SECONDS, so a warm
# function kept refusing the config or secret the operator had fixed (before, Powertools' own transform failed
# uncached). The functions' runtime reads the fix at its next invocation.
ENV = {
    "SYNC_NAME": "time",
    "STATE_TABLE": "state",
    "IDEMPOTENCY_TABLE": "idem",
    "WORK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/work",
    "DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
    "CONFIG_PARAMETER": "/ctns/config",
    "NETSUITE_SECRET_ID": "ctns/netsuite",
    "CLICKTIME_SECRET_ID": "ctns/clicktime",
}


@pytest.fixture
def fresh_aws(monkeypatch):
    from aws_lambda_powertools.utilities import parameters

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    parameters.clear_caches()
    with mock_aws():
        yield
    parameters.clear_caches()


GOOD = '{"netsuite": {"account_id": "1234567_SB1"}, "time": {"lookback_days": 9}}'


@pytest.mark.parametrize(
    "bad",
    [
        '{"netsuite": {"account_id": "1234567_SB1"}, "time": {"lookback_days": 7}, "time": {"lookback_days": 9}}',
        '{"netsuite": {"account_id": "1234567_SB1"}, "time": {"lookback_days": 9}',
        # refused although it parses (found by a second review of 6fcff3d; failed before `runtime._unusable`)
        '{"netsuite": {"account_id": "1234567_SB1"}, "time": {"lookback_days": "nine"}}',
        '{"netsuite": {"account_id": "1234567_SB1"}, "time": {"lookbak_days": 9}}',
    ],
    ids=["key-twice", "not-json", "wrong-type", "misspelt-setting"],
)
def test_a_config_parameter_fixed_after_a_failed_read_is_read_at_the_next_invocation(fresh_aws, bad):
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/ctns/config", Type="String", Value=bad)
    runtime = Runtime(Environment.read(ENV))  # `runtime.current()` keeps this one for CACHE_SECONDS
    with pytest.raises(ConfigurationError):
        _ = runtime.config

    ssm.put_parameter(Name="/ctns/config", Type="String", Value=GOOD, Overwrite=True)  # ctns config push

    try:
        config = runtime.config  # the next invocation of the warm function
    except ConfigurationError as error:
        pytest.fail(f"the fixed config parameter is still refused: {error}")
    assert config.time.lookback_days == 9


@pytest.mark.parametrize(
    "bad", ['{"api_token": "old", "api_token": "new"}', '{"api_token": "new"'], ids=["key-twice", "not-json"]
)
def test_a_secret_fixed_after_a_failed_read_is_read_at_the_next_invocation(fresh_aws, bad):
    sm = boto3.client("secretsmanager")
    sm.create_secret(Name="ctns/clicktime", SecretString=bad)
    runtime = Runtime(Environment.read(ENV))
    with pytest.raises(ConfigurationError):
        runtime._secret("ctns/clicktime")

    sm.put_secret_value(SecretId="ctns/clicktime", SecretString='{"api_token": "new"}')

    try:
        value = runtime._secret("ctns/clicktime")
    except ConfigurationError as error:
        pytest.fail(f"the fixed secret is still refused: {error}")
    assert value == {"api_token": "new"}
