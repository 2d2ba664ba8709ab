"""6fcff3d clears Powertools' cache only when the text does not parse. A config parameter or secret that parses but
cannot be used (a setting of the wrong type, a secret that is not an object, a field missing) is refused just the
same, and stays cached for CACHE_SECONDS: a warm function keeps refusing the operator's fix. (The config
parameter's cases are in `test_runtime_reads.py`.)

Fixed since, found by a second review (2026-12-02) of `6fcff3d`; failed before the fix (`runtime._unusable`)."""

from __future__ import annotations

import boto3
import pytest

from ctsync.errors import ConfigurationError
from ctsync.runtime import Environment, Runtime
from tests.integration.test_runtime_reads import ENV, GOOD, fresh_aws  # noqa: F401


@pytest.mark.parametrize("bad", ['["new"]', '{"token": "new"}'], ids=["not-an-object", "field-missing"])
def test_a_secret_fixed_after_it_was_refused_is_read_at_the_next_invocation(fresh_aws, bad):  # noqa: F811
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/ctns/config", Type="String", Value=GOOD)
    sm = boto3.client("secretsmanager")
    sm.create_secret(Name="ctns/clicktime", SecretString=bad)
    runtime = Runtime(Environment.read(ENV))
    with pytest.raises(ConfigurationError):
        _ = runtime.clicktime

    sm.put_secret_value(SecretId="ctns/clicktime", SecretString='{"api_token": "new"}')

    try:
        client = runtime.clicktime  # the next invocation of the warm function
    except ConfigurationError as error:
        pytest.fail(f"the fixed secret is still refused: {error}")
    assert client is not None
