"""The runner on any AWS endpoint given by AWS_ENDPOINT_URL (here a moto server), not only moto in-process."""

from __future__ import annotations

import boto3
import pytest

from ctns.motoserver import MotoServer
from tests.e2e.support import jobs_by_project, open_projects, run

pytestmark = pytest.mark.e2e


@pytest.fixture
def moto_server(monkeypatch):
    server = MotoServer().start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", server.url)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "moto-server")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    yield server.url
    server.stop()


def test_the_projects_sync_runs_against_an_aws_endpoint_url(moto_server, open_session):
    session = open_session()
    assert not session.aws.in_process

    result = run(session, "projects")

    assert result.failures == []
    assert {pid: len(found) for pid, found in jobs_by_project(session).items()} == {
        p.id: 1 for p in open_projects(session)
    }
    # the state lives on the server: a client of our own sees the mappings there
    table = boto3.resource("dynamodb", endpoint_url=moto_server).Table(session.stack.physical["StateTable"]["Ref"])
    assert any(item["pk"].startswith("MAP#project#") for item in table.scan()["Items"])
