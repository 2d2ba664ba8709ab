"""Each setting validated for what it is used for (`ctns config validate`, and every function's cold start)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ctsync.config import SyncConfig


def config(**sections: Any) -> SyncConfig:
    document: dict[str, Any] = {"netsuite": {"account_id": "1234567"}}
    for name, value in sections.items():
        document[name] = {**document.get(name, {}), **value}
    return SyncConfig.model_validate(document)


@pytest.mark.parametrize(
    "scope",
    [
        "j.isinactive = 'F' AND j.allowtime = 'T'",
        "j.subsidiary IN (1, 2) AND (j.isinactive = 'F' OR j.entitystatus = 2)",
        "BUILTIN.DF(j.entitystatus) <> 'Closed'",
        "j.companyname NOT LIKE '%(internal)%'",
        "j.companyname <> 'O''Brien (old)'",
        "J.ISINACTIVE = 'F'",
    ],
)
def test_scopes_that_stay_one_condition_over_the_project(scope: str):
    assert config(projects={"scope": scope}).projects.scope == scope


@pytest.mark.parametrize(
    ("scope", "why"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("j.isinactive = 'F' /* no */", "no comments"),
        ("j.isinactive = 'F') OR (1=1", "closes a parenthesis"),
        ("(j.isinactive = 'F'", "leaves a parenthesis open"),
        ("j.companyname = 'x", "unmatched quote"),
        ("') OR (1=1", "unmatched quote"),
        ("j.isinactive = '') OR ('1'='1", "closes a parenthesis"),
        ("1 = 1", "names no column of the project"),
        ("'a' = 'a'", "names no column of the project"),
        ("job.isinactive = 'F'", "uses alias 'job'"),
        ("j.isinactive = 'F' AND t.status = 'X'", "uses alias 't'"),
    ],
)
def test_scopes_that_would_break_or_widen_the_query(scope: str, why: str):
    with pytest.raises(ValidationError, match=why):
        config(projects={"scope": scope})


@pytest.mark.parametrize(
    ("section", "value", "why"),
    [
        ("projects", "custevent_ct_task_id", "the ClickTime ID of a project goes into a custentity"),
        ("projects", "custbody_ct_job_id", "is a custbody field"),
        ("tasks", "custentity_ct_job_id", "the ClickTime ID of a project task goes into a custevent"),
        ("tasks", "custcol_ct_task_id", "is a custcol field"),
    ],
)
def test_a_custom_field_of_the_wrong_kind_for_its_record(section: str, value: str, why: str):
    with pytest.raises(ValidationError, match=why):
        config(**{section: {"clicktime_id_field": value}})


@pytest.mark.parametrize(
    ("settings", "why"),
    [
        ({"netsuite": {"rest_base_url": "http://1234567.suitetalk.api.netsuite.com/services/rest"}}, "is not https"),
        (
            {"netsuite": {"rest_base_url": "https://1234567.suitetalk.api.netsuite.com/services"}},
            "does not end with /services/rest",
        ),
        ({"netsuite": {"rest_base_url": "https:///services/rest"}}, "is not an absolute URL"),
        ({"netsuite": {"rest_base_url": "https://h/services/rest?x=1"}}, "no query"),
        ({"netsuite": {"restlets_base_url": "https://1234567.restlets.api.netsuite.com/app"}}, "the origin only"),
        ({"clicktime": {"base_url": "ftp://api.clicktime.com/v2"}}, "is not an absolute URL"),
        ({"clicktime": {"base_url": "https://api.clicktime.com/v1"}}, "does not end with /v2"),
        ({"projects": {"closed_status_ids": ["1", "Closed"]}}, "is not a project status internal id"),
        ({"tasks": {"task_code_template": "NS"}}, "has no {task_id}"),
        ({"tasks": {"name_template": "{project_number}"}}, "names no task"),
        ({"netsuite": {"account_id": "1234567_sb1"}}, "a sandbox realm is upper case"),
    ],
)
def test_settings_refused_for_what_they_are_used_for(settings: dict[str, Any], why: str):
    with pytest.raises(ValidationError, match=why):
        config(**settings)


@pytest.mark.parametrize(
    "settings",
    [
        {"netsuite": {"rest_base_url": "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/"}},
        {
            "netsuite": {
                "rest_base_url": "http://127.0.0.1:8080/services/rest",
                "restlets_base_url": "http://localhost:8080",
            }
        },
        {"clicktime": {"base_url": "https://api.clicktime.com/v2/"}},
        {"projects": {"closed_status_ids": []}},
    ],
)
def test_settings_accepted(settings: dict[str, Any]):
    config(**settings)
