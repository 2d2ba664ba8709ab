"""A NetSuite internal id given as a name in the config (found by the time review, 2026-12-02): before, `ctns check`
exited 3 with "This is a bug in ctns" (`int()` on "Consulting Hours"), and `config validate` accepted it, so every
bill would have been refused at run time. Now the config model refuses it, naming the field."""

from __future__ import annotations

import json

import pytest

from tests.e2e.cli_support import ctns
from tests.e2e.test_cli_bad_inputs import good_config, good_secrets, systems  # noqa: F401 - fixture

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("item", ["Consulting Hours", "SRV-100"])
def test_check_with_a_service_item_given_by_name_says_what_to_fix(systems, tmp_path, monkeypatch, capsys, item):  # noqa: F811
    monkeypatch.setenv("CTNS_LOCAL", str(tmp_path / "serve.json"))
    monkeypatch.setenv("CTNS_LOG_DIR", str(tmp_path / "logs"))
    config, secrets = tmp_path / "config.json", tmp_path / "secrets.json"
    config.write_text(json.dumps(good_config(systems, time={"service_item_id": item})))
    secrets.write_text(json.dumps(good_secrets()))

    result = ctns(capsys, "check", "--config", str(config), "--secrets", str(secrets))

    everything = result.out + result.err
    assert result.code in (1, 2) and "service_item_id" in everything, f"exit {result.code}: {everything[-600:]}"
    assert "not a NetSuite internal id" in everything and "unexpected" not in everything, everything[-600:]
    assert "Traceback" not in everything


@pytest.mark.parametrize("field", ["subsidiary", "department", "class", "location"])
def test_config_validate_refuses_a_classification_given_by_name(tmp_path, monkeypatch, capsys, field):
    from tests.e2e.test_cli_bad_inputs import good_config as config_of

    monkeypatch.setenv("CTNS_LOG_DIR", str(tmp_path / "logs"))
    config = tmp_path / "config.json"
    body = config_of({"netsuite": "http://127.0.0.1:1", "clicktime": "http://127.0.0.1:2"})
    body.setdefault("time", {})["classification"] = {field: "Operations"}
    config.write_text(json.dumps(body))

    result = ctns(capsys, "config", "validate", str(config))

    assert result.code in (1, 2) and field in result.err and "not a NetSuite internal id" in result.err, result.err


def test_debug_is_taken_after_config_validate_too(tmp_path, monkeypatch, capsys):
    """Found by a new user's trial (2026-12-02): `ctns config validate F --debug` said "unrecognized arguments"."""
    from tests.e2e.test_cli_bad_inputs import good_config as config_of

    monkeypatch.setenv("CTNS_LOG_DIR", str(tmp_path / "logs"))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(config_of({"netsuite": "http://127.0.0.1:1", "clicktime": "http://127.0.0.1:2"})))

    result = ctns(capsys, "config", "validate", str(config), "--debug")

    assert result.code == 0 and "unrecognized" not in result.err, result.err
