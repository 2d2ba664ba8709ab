"""The per-customer configuration document (ctsync.config.SyncConfig): defaults and what it refuses."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import ValidationError

from ctsync.config import SyncConfig


def config(**sections: Any) -> SyncConfig:
    document: dict[str, Any] = {"netsuite": {"account_id": "1234567"}}
    for name, value in sections.items():
        document[name] = {**document.get(name, {}), **value}
    return SyncConfig.model_validate(document)


def test_defaults() -> None:
    c = config()
    assert c.netsuite.account_id == "1234567"
    assert c.netsuite.timezone == "America/Los_Angeles"
    assert c.netsuite.rest_base_url is None
    assert c.netsuite.page_size == 1000
    assert c.clicktime.base_url == "https://api.clicktime.com/v2"
    assert c.projects.clicktime_id_field == "custentity_ct_job_id"
    assert c.projects.scope == "j.isinactive = 'F' AND j.allowtime = 'T'"
    assert c.projects.closed_status_ids == ["1"]
    assert c.tasks.clicktime_id_field == "custevent_ct_task_id"
    assert c.tasks.name_template == "{project_number} · {path}"
    assert c.tasks.path_separator == " › "
    assert c.tasks.task_code_template == "NS-{task_id}"
    assert c.windows.overlap_minutes == 60
    assert c.windows.lease_seconds == 900
    assert c.windows.stop_margin_seconds == 60
    assert c.retry.max_attempts == 6
    assert c.retry.base_seconds == 1.0
    assert c.retry.cap_seconds == 30.0


def test_netsuite_section_is_required() -> None:
    with pytest.raises(ValidationError, match="netsuite"):
        SyncConfig.model_validate({})


def test_config_is_frozen() -> None:
    c = config()
    with pytest.raises(ValidationError):
        c.netsuite.account_id = "7654321"  # type: ignore[misc]


@pytest.mark.parametrize("account_id", ["1234567", "1234567_SB1", "1234567_SB12", "1234567_RP", "TSTDRV1234567"])
def test_account_id_forms_accepted(account_id: str) -> None:
    assert config(netsuite={"account_id": account_id}).netsuite.account_id == account_id


@pytest.mark.parametrize(
    "account_id",
    ["1234567_sb1", "1234567-SB1", "1234567-sb1", "", "1234567 ", "1234567_SB", "1234567_XX1", "12/34", "1234567_SB1;"],
)
def test_account_id_forms_refused(account_id: str) -> None:
    with pytest.raises(ValidationError, match="account_id"):
        config(netsuite={"account_id": account_id})


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("projects", "clicktime_id_field", "custentity_ct_job"),
        ("projects", "clicktime_id_field", "custentity5"),
        ("tasks", "clicktime_id_field", "custevent_ct_task_id"),
        ("tasks", "clicktime_id_field", "custevent5"),
    ],
)
def test_script_ids_accepted(section: str, field: str, value: str) -> None:
    assert getattr(getattr(config(**{section: {field: value}}), section), field) == value


@pytest.mark.parametrize(
    "value",
    [
        "ct_job_id",  # no prefix
        "custentity",  # prefix only
        "CUSTENTITY_CT",  # upper case
        "custentity-ct",  # hyphen
        "custentity_ct job",  # space
        "custentity_ct, j.id",  # an attempt to smuggle SQL into the select list
        "custitem_x",  # not a project/task field type
        "",
    ],
)
@pytest.mark.parametrize("section", ["projects", "tasks"])
def test_script_ids_refused(section: str, value: str) -> None:
    with pytest.raises(ValidationError, match="clicktime_id_field"):
        config(**{section: {"clicktime_id_field": value}})


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def test_known_time_zones_accepted(zone: str) -> None:
    assert config(netsuite={"timezone": zone}).netsuite.timezone == zone


@pytest.mark.parametrize("zone", ["Pacific Standard Time", "America/Nowhere", "PST8PDTX", "", "../etc/passwd"])
def test_bad_time_zone_refused(zone: str) -> None:
    with pytest.raises(ValidationError, match="time zone"):
        config(netsuite={"timezone": zone})


@pytest.mark.parametrize("zone", ["localtime", "posixrules"])
def test_the_machines_own_time_zone_is_refused(zone: str) -> None:
    """ZoneInfo finds these (files under /usr/share/zoneinfo), but they are whatever zone the machine reading the
    config is set to: the CLI's and the functions' times would differ."""
    with pytest.raises(ValidationError, match="IANA time zone name such as 'America/New_York'"):
        config(netsuite={"timezone": zone})


def test_the_placeholder_zone_factory_is_refused() -> None:
    """tzdata's "Factory" is the zone of a machine whose zone was never set (UTC, labelled "-00"): a config naming
    it reads NetSuite's times as UTC without anyone having chosen UTC."""
    with pytest.raises(ValidationError, match="placeholder"):
        config(netsuite={"timezone": "Factory"})


@pytest.mark.parametrize(
    "document",
    [
        {"netsuite": {"account_id": "1234567"}, "extra": 1},
        {"netsuite": {"account_id": "1234567", "acount_id": "x"}},
        {"netsuite": {"account_id": "1234567"}, "projects": {"scop": "j.id > 0"}},
        {"netsuite": {"account_id": "1234567"}, "tasks": {"name_templat": "{path}"}},
        {"netsuite": {"account_id": "1234567"}, "windows": {"overlap": 5}},
        {"netsuite": {"account_id": "1234567"}, "retry": {"attempts": 3}},
        {"netsuite": {"account_id": "1234567"}, "clicktime": {"token": "secret"}},  # no secrets in the config
    ],
)
def test_unknown_keys_refused(document: dict[str, Any]) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        SyncConfig.model_validate(document)


def test_a_sync_named_in_windows_per_sync_must_be_a_sync() -> None:
    """A misspelled key anywhere else is refused; a misspelled sync under per_sync was kept and never read."""
    with pytest.raises(ValidationError, match="tsks"):
        SyncConfig.model_validate(
            {"netsuite": {"account_id": "1234567"}, "windows": {"per_sync": {"tsks": {"overlap_minutes": 5}}}}
        )


def test_the_syncs_a_config_may_name_are_the_registrys() -> None:
    from ctsync.config import SyncName
    from ctsync.sync.registry import SYNC_NAMES

    assert set(get_args(SyncName)) == set(SYNC_NAMES)


@pytest.mark.parametrize("value", ["Infinity", "-Infinity", "NaN", float("inf")])
def test_a_number_of_seconds_must_be_finite(value: Any) -> None:
    with pytest.raises(ValidationError, match="finite number|valid number"):  # a string is no number at all
        SyncConfig.model_validate({"netsuite": {"account_id": "1234567"}, "retry": {"base_seconds": value}})


@pytest.mark.parametrize(
    ("section", "setting", "value"),
    [  # found by a new user: quoted values were taken as true and 30, where a typo should fail loudly
        ("expenses", {"receipts": {"enabled": "yes"}}, "enabled"),
        ("expenses", {"lookback_days": "30"}, "lookback_days"),
        ("time", {"write_concurrency": 2.0}, "write_concurrency"),
        ("time", {"write_concurrency": True}, "write_concurrency"),
    ],
)
def test_a_quoted_or_otherwise_typed_value_is_refused(section: str, setting: dict[str, Any], value: str) -> None:
    with pytest.raises(ValidationError, match=value) as refused:
        config(**{section: setting})
    assert {e["type"] for e in refused.value.errors()} <= {"bool_type", "int_type"}


def test_custom_scope_accepted() -> None:
    scope = "j.isinactive = 'F' AND j.subsidiary IN (1, 2)"
    assert config(projects={"scope": scope}).projects.scope == scope


@pytest.mark.parametrize(
    "scope",
    ["j.isinactive = 'F'; DELETE FROM job", "j.isinactive = 'F';", "j.isinactive = 'F' -- and more", "1=1 --"],
)
def test_scope_with_statement_separator_or_comment_refused(scope: str) -> None:
    with pytest.raises(ValidationError, match="scope"):
        config(projects={"scope": scope})


@pytest.mark.parametrize(
    "template",
    ["{project_number} · {path}", "{project_name} / {title}", "{path}", "NS {project_number}-{title}"],
)
def test_name_template_with_known_fields_accepted(template: str) -> None:
    assert config(tasks={"name_template": template}).tasks.name_template == template


@pytest.mark.parametrize("template", ["{project_numbr} · {path}", "{task_id}", "{0}", "{path", "{title!z}"])
def test_name_template_with_unknown_field_refused(template: str) -> None:
    # Refused as a validation error naming the field, so `ctns config validate` and the cold-start check
    # (both catch ValidationError) report it rather than crash with a bare KeyError.
    with pytest.raises(ValidationError, match="name_template"):
        config(tasks={"name_template": template})


@pytest.mark.parametrize(
    ("field", "template"),
    [  # found by a new user: each crashed `ctns config validate` as "a bug in ctns", or (the last two) passed
        ("name_template", "{path.foo}"),
        ("name_template", "{path[x]}"),
        ("name_template", "{path:>99999999999}"),
        ("name_template", "{path:{title}}"),
        ("name_template", "{{path}} of {project_number}"),
        ("task_code_template", "{task_id.real}"),
        ("task_code_template", "NS-{{task_id}}"),
    ],
)
def test_a_template_that_reaches_past_its_fields_or_names_none_is_refused(field: str, template: str) -> None:
    with pytest.raises(ValidationError, match=field):
        config(tasks={field: template})


@pytest.mark.parametrize(
    "url",
    [
        "https://api.clicktime.com/v2?api_token=CTSECRET777",
        "https://api.clicktime.com/v2#CTSECRET777",
        "http://api.clicktime.com/v2?CTSECRET777",
        "ftp://api.clicktime.com/v2?token=CTSECRET777",
        "https://api.clicktime.com:99999/v2?CTSECRET777",
    ],
)
def test_a_refused_base_url_is_never_shown_with_its_query(url: str) -> None:
    # found by a new user: `ctns config validate` printed the query (and a poller would log it)
    with pytest.raises(ValidationError, match="base_url") as refused:
        config(clicktime={"base_url": url})
    # what the product shows: each problem's message, never pydantic's repeat of the input
    assert "CTSECRET777" not in str(refused.value.errors(include_input=False, include_url=False))


def test_a_short_width_is_still_a_template() -> None:
    assert config(tasks={"name_template": "{project_number:>6} {path}"}).tasks.name_template


def test_task_code_template_with_unknown_field_refused() -> None:
    # Every task's TaskCode is rendered from this template at apply time (TaskSync._fields / _ops):
    # an unknown field must fail here, at validation, not as a KeyError on every task later.
    with pytest.raises(ValidationError, match="task_code_template"):
        config(tasks={"task_code_template": "NS-{taskid}"})


@pytest.mark.parametrize(
    ("section", "field", "value"),
    [
        ("netsuite", "page_size", 0),
        ("netsuite", "page_size", 1001),
        ("windows", "first_run_days", 0),
        ("windows", "overlap_minutes", 0),
        ("windows", "lease_seconds", 59),
        ("windows", "stop_margin_seconds", 4),
        ("retry", "max_attempts", 0),
        ("retry", "max_attempts", 16),
        ("retry", "base_seconds", 0),
        ("retry", "cap_seconds", -1),
    ],
)
def test_numeric_bounds(section: str, field: str, value: Any) -> None:
    with pytest.raises(ValidationError, match=field):
        config(**{section: {field: value}})


def test_each_sync_has_its_own_window_with_defaults_below_what_the_document_sets() -> None:
    c = SyncConfig.model_validate({"netsuite": {"account_id": "1234567"}})
    # Nothing reads "since 1970" on its first run; the exports start weeks back, the NetSuite syncs years back
    assert c.windows.for_sync("time").first_run_days == 35
    assert c.windows.for_sync("expenses").first_run_days == 42  # its whole look-back
    assert c.windows.for_sync("projects").first_run_days == 3650
    assert c.windows.for_sync("projects").overlap_minutes == 60

    set_globally = SyncConfig.model_validate(
        {
            "netsuite": {"account_id": "1234567"},
            "windows": {"first_run_days": 7, "overlap_minutes": 30, "per_sync": {"time": {"overlap_minutes": 720}}},
        }
    )
    assert set_globally.windows.for_sync("expenses").first_run_days == 7  # the document wins over a default
    assert set_globally.windows.for_sync("time").overlap_minutes == 720  # a sync's own setting wins
    assert set_globally.windows.for_sync("projects").overlap_minutes == 30
