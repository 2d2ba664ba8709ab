"""What every test shares.

Hypothesis' per-example deadline (200 ms by default) is a wall-clock limit: on a loaded two-core CI machine an
example of a pure function can take longer without being wrong, and the test then fails for timing alone. The
properties here are about results, never speed (that is `make bench`), so no example has a deadline.

In-process moto answers one request at a time in every test (`ctns.local_aws.atomic_moto`): each real DynamoDB
and SQS request is atomic, while moto's in-memory backends are not thread-safe. Served concurrently, two SQS
receives can take one message both (getmoto/moto#519; seen once in `test_bench_fleet.py`) and two UpdateItem
ADDs can lose an increment: a test would then fail, or pass, by thread timing.
"""

from collections.abc import Iterator

import pytest
from hypothesis import settings

from ctns.local_aws import atomic_moto

settings.register_profile("ctns", deadline=None)
settings.load_profile("ctns")


@pytest.fixture(autouse=True, scope="session")
def _moto_one_request_at_a_time() -> Iterator[None]:
    with atomic_moto():
        yield
