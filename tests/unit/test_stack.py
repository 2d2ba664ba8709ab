"""ctns.stack.expand: the AWS::LanguageExtensions step CloudFormation runs before the SAM transform.

Small templates pin down each rule; the last tests read template.yaml itself (samtranslator alone cannot, and
the expansion of its one sync definition gives every sync the same resources).
"""

from __future__ import annotations

import json
import types
from typing import Any

import pytest
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from ctns import stack as stack_module
from ctns.stack import Stack, TemplateError, expand


def template(resources: dict[str, Any], **sections: Any) -> dict[str, Any]:
    return {"Transform": ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"], "Resources": resources, **sections}


def queue(**properties: Any) -> dict[str, Any]:
    return {"Type": "AWS::SQS::Queue", "Properties": properties}


# -- Fn::ForEach ----------------------------------------------------------------------------------------------


def test_for_each_replicates_the_fragment_once_per_item_with_the_identifier_replaced() -> None:
    raw = template(
        {
            "Fn::ForEach::Queues": [
                "Name",
                ["Alpha", "Beta"],
                {
                    "${Name}Queue": queue(QueueName={"Fn::Sub": "${AWS::StackName}-${Name}"}, Tag={"Ref": "Name"}),
                    "${Name}Dlq": queue(Target={"Fn::GetAtt": [{"Fn::Sub": "${Name}Queue"}, "Arn"]}),
                },
            ],
            "Other": queue(),
        }
    )
    out = expand(raw)
    assert list(out["Resources"]) == ["AlphaQueue", "AlphaDlq", "BetaQueue", "BetaDlq", "Other"]
    assert out["Resources"]["BetaQueue"]["Properties"] == {
        "QueueName": {"Fn::Sub": "${AWS::StackName}-Beta"},  # the stack name is left for deployment
        "Tag": "Beta",
    }
    assert out["Resources"]["AlphaDlq"]["Properties"]["Target"] == {"Fn::GetAtt": ["AlphaQueue", "Arn"]}
    assert out["Transform"] == "AWS::Serverless-2016-10-31"
    assert "Fn::ForEach::Queues" in json.dumps(raw)  # the input is not modified


def test_ampersand_identifier_strips_non_alphanumerics_for_logical_ids() -> None:
    raw = template({"Fn::ForEach::Hosts": ["Ip", ["10.0.0.1"], {"Host&{Ip}": queue(Address="${Ip}")}]})
    assert expand(raw)["Resources"] == {"Host10001": queue(Address="10.0.0.1")}


def test_nested_for_each_and_for_each_inside_properties() -> None:
    raw = template(
        {
            "Fn::ForEach::Outer": [
                "A",
                ["X", "Y"],
                {
                    "Fn::ForEach::Inner": ["B", ["1", "2"], {"Q${A}${B}": queue()}],
                    "Tagged${A}": queue(
                        Tags={"Fn::ForEach::Tags": ["T", ["p", "q"], {"${T}${A}": {"Ref": "T"}}]},
                    ),
                },
            ]
        }
    )
    resources = expand(raw)["Resources"]
    assert set(resources) == {"QX1", "QX2", "QY1", "QY2", "TaggedX", "TaggedY"}
    assert resources["TaggedY"]["Properties"]["Tags"] == {"pY": "p", "qY": "q"}


def test_for_each_in_outputs_and_conditions() -> None:
    raw = template(
        {"Q": queue()},
        Conditions={"Fn::ForEach::C": ["N", ["A", "B"], {"Is${N}": {"Fn::Equals": [{"Ref": "Env"}, "${N}"]}}]},
        Outputs={"Fn::ForEach::O": ["N", ["A", "B"], {"${N}Url": {"Value": {"Ref": {"Fn::Sub": "${N}Queue"}}}}]},
    )
    out = expand(raw)
    assert out["Conditions"] == {
        "IsA": {"Fn::Equals": [{"Ref": "Env"}, "A"]},
        "IsB": {"Fn::Equals": [{"Ref": "Env"}, "B"]},
    }
    assert out["Outputs"] == {"AUrl": {"Value": {"Ref": "AQueue"}}, "BUrl": {"Value": {"Ref": "BQueue"}}}


def test_collection_may_be_a_comma_delimited_list_parameter() -> None:
    raw = template(
        {"Fn::ForEach::Q": ["N", {"Ref": "Names"}, {"${N}Queue": queue()}]},
        Parameters={"Names": {"Type": "CommaDelimitedList", "Default": "A,B"}},
    )
    assert set(expand(raw, {"Names": "C, D"})["Resources"]) == {"CQueue", "DQueue"}


@pytest.mark.parametrize(
    ("fragment", "message"),
    [
        ({"Queue": queue()}, "does not use"),
        ({"${N}Queue": queue(), "Fn::ForEach::Again": ["M", ["A"], {"${M}Queue": queue()}]}, "defined twice"),
    ],
)
def test_invalid_for_each_is_rejected(fragment: dict[str, Any], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        expand(template({"Fn::ForEach::Q": ["N", ["A"], fragment]}))


def test_for_each_identifier_may_not_shadow_a_parameter_and_collection_must_be_a_list() -> None:
    with pytest.raises(TemplateError, match="also a parameter"):
        expand(template({"Fn::ForEach::Q": ["N", ["A"], {"${N}Q": queue()}]}, Parameters={"N": {"Type": "String"}}))
    with pytest.raises(TemplateError, match="collection"):
        expand(template({"Fn::ForEach::Q": ["N", {"Fn::GetAtt": ["X", "Y"]}, {"${N}Q": queue()}]}))


def test_a_template_without_the_transform_is_returned_as_it_is() -> None:
    raw = {"Transform": "AWS::Serverless-2016-10-31", "Resources": {"Fn::ForEach::Q": ["N", ["A"], {}]}}
    assert expand(raw) is raw


# -- Fn::FindInMap, Fn::Length, Fn::ToJsonString, Ref/GetAtt arguments ---------------------------------------


MAPPINGS = {
    "Syncs": {"Projects": {"Name": "projects", "Tags": ["a", "b"]}},
    "Overdue": {"24": {"Hours": 26}},
}


def test_find_in_map_with_the_loop_variable_a_parameter_and_a_default() -> None:
    raw = template(
        {
            "Fn::ForEach::S": [
                "Sync",
                ["Projects"],
                {
                    "${Sync}Q": queue(
                        Name={"Fn::FindInMap": ["Syncs", {"Ref": "Sync"}, "Name"]},
                        Hours={"Fn::FindInMap": ["Overdue", {"Ref": "Interval"}, "Hours"]},
                        Missing={"Fn::FindInMap": ["Syncs", "${Sync}", "Nope", {"DefaultValue": "fallback"}]},
                        Count={"Fn::Length": {"Fn::FindInMap": ["Syncs", "${Sync}", "Tags"]}},
                    )
                },
            ]
        },
        Mappings=MAPPINGS,
        Parameters={"Interval": {"Type": "String", "Default": "24"}},
    )
    assert expand(raw, {"Interval": "24"})["Resources"]["ProjectsQ"]["Properties"] == {
        "Name": "projects",
        "Hours": 26,
        "Missing": "fallback",
        "Count": 2,
    }
    with pytest.raises(TemplateError, match="no Overdue/25/Hours"):
        expand(raw, {"Interval": "25"})


def test_ref_and_getatt_arguments_are_computed_and_unknown_ones_refused() -> None:
    raw = template(
        {
            "Q": queue(
                A={"Ref": {"Fn::Join": ["", ["Alpha", {"Fn::FindInMap": ["Syncs", "Projects", "Name"]}]]}},
                B={"Fn::GetAtt": [{"Fn::Sub": ["${X}Queue", {"X": "Beta"}]}, "Arn"]},
            )
        },
        Mappings=MAPPINGS,
    )
    assert expand(raw)["Resources"]["Q"]["Properties"] == {
        "A": {"Ref": "Alphaprojects"},
        "B": {"Fn::GetAtt": ["BetaQueue", "Arn"]},
    }
    with pytest.raises(TemplateError, match="cannot compute"):
        expand(template({"Q": queue(A={"Ref": {"Fn::GetAtt": ["X", "Y"]}})}))


def test_to_json_string_of_literals_is_a_compact_string_and_of_deploy_time_values_is_kept() -> None:
    raw = template(
        {
            "Q": queue(
                Static={"Fn::ToJsonString": {"a": [1, {"Fn::FindInMap": ["Syncs", "Projects", "Name"]}]}},
                Dynamic={"Fn::ToJsonString": {"queue": {"Fn::GetAtt": ["Q", "QueueName"]}}},
            )
        },
        Mappings=MAPPINGS,
    )
    props = expand(raw)["Resources"]["Q"]["Properties"]
    assert props["Static"] == '{"a":[1,"projects"]}'
    assert props["Dynamic"] == {"Fn::ToJsonString": {"queue": {"Fn::GetAtt": ["Q", "QueueName"]}}}
    stack = Stack(resources={}, parameters={}, functions={}, schedules=[], queue_mappings=[])
    stack.physical["Q"] = {"QueueName": "the-queue"}
    assert json.loads(stack.resolve(props["Dynamic"])) == {"queue": "the-queue"}


def test_stack_resolve_knows_find_in_map_if_and_select() -> None:
    stack = Stack(
        resources={},
        parameters={"State": "DISABLED"},
        functions={},
        schedules=[],
        queue_mappings=[],
        mappings=MAPPINGS,
        conditions={"On": {"Fn::Equals": [{"Ref": "State"}, "ENABLED"]}, "Off": {"Fn::Not": [{"Condition": "On"}]}},
    )
    assert stack.resolve({"Fn::FindInMap": ["Overdue", "24", "Hours"]}) == 26
    assert stack.resolve({"Fn::If": ["On", "yes", "no"]}) == "no"
    assert stack.condition("Off") is True
    assert stack.resolve({"Fn::Select": [1, ["a", {"Ref": "State"}]]}) == "DISABLED"


# -- template.yaml ------------------------------------------------------------------------------------------


def raw_template() -> dict[str, Any]:
    return yaml_parse(stack_module.TEMPLATE.read_text())


def test_samtranslator_alone_cannot_read_the_template() -> None:
    """Why ctns.stack expands first: to the SAM translator a Fn::ForEach is a malformed resource."""
    raw = raw_template()
    for resource in raw["Resources"].values():
        if isinstance(resource, dict) and resource.get("Type") == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = "s3://local/layer"
    with pytest.raises(InvalidDocumentException, match="must be Objects"):
        transform(raw, {}, types.SimpleNamespace(load=lambda: {}))


def test_every_sync_gets_the_same_resources_from_the_one_definition() -> None:
    raw = raw_template()
    loops = [key for key in raw["Resources"] if key.startswith("Fn::ForEach::")]
    assert loops == ["Fn::ForEach::Sync"]
    _, collection, fragment = raw["Resources"]["Fn::ForEach::Sync"]
    expanded = expand(raw, stack_module._default_parameters(raw, None))["Resources"]
    suffixes = {key.replace("${Sync}", "") for key in fragment}
    for prefix in collection:
        assert {key for key in expanded if key.startswith(prefix) and key[len(prefix) :] in suffixes} == {
            prefix + suffix for suffix in suffixes
        }
    # outside the loop, no resource belongs to one sync
    assert not [key for key in raw["Resources"] if key.startswith(tuple(collection))]


def test_expand_command_prints_the_expanded_template(capsys: pytest.CaptureFixture[str]) -> None:
    assert stack_module.main(["expand"]) == 0
    printed = json.loads(capsys.readouterr().out)
    raw = raw_template()
    assert printed == json.loads(json.dumps(expand(raw, stack_module._default_parameters(raw, None))))
    assert "ProjectsWorker" in printed["Resources"] and "Fn::ForEach::Sync" not in printed["Resources"]


def test_load_takes_parameter_overrides_into_the_expansion() -> None:
    stack = stack_module.load(overrides={"TimeRunIntervalHours": "6"})
    assert stack.resources["TimeRunOverdueAlarm"]["Properties"]["EvaluationPeriods"] == 8
    assert stack.resources["TasksRunOverdueAlarm"]["Properties"]["EvaluationPeriods"] == 26
