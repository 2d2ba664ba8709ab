"""template.yaml, read the way CloudFormation would deploy it, for the local runner and the tests.

The SAM template is translated with samtranslator (the same translator SAM uses), so schedules, event
source mappings, function environments and layers come out exactly as they would deploy. Intrinsics are
resolved against the parameters and the physical names the local AWS assigns.
"""

from __future__ import annotations

import json
import os
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
STACK_NAME = "ctns-local"
REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass
class FunctionSpec:
    logical_id: str
    name: str
    code_dir: Path
    handler: str
    timeout: int
    environment: dict[str, Any]  # still holding intrinsics; resolved by Stack.resolve
    layer_dirs: list[Path]

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.name}"


@dataclass
class ScheduleSpec:
    logical_id: str
    function: str  # logical id of the target function
    expression: Any
    input: dict[str, Any]


@dataclass
class QueueMapping:
    queue: str  # logical id of the queue
    function: str
    batch_size: int
    max_concurrency: Any  # may be a Ref to a parameter
    report_batch_item_failures: bool


@dataclass
class Stack:
    resources: dict[str, dict[str, Any]]
    parameters: dict[str, str]
    functions: dict[str, FunctionSpec]
    schedules: list[ScheduleSpec]
    queue_mappings: list[QueueMapping]
    physical: dict[str, dict[str, str]] = field(default_factory=dict)  # logical id -> {"Ref":…, "Arn":…, …}

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}

    def resolve(self, value: Any) -> Any:
        """Resolve Ref, Fn::GetAtt, Fn::Sub, Fn::Join against parameters and created resources."""
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self._ref(arg)
            if key == "Fn::GetAtt":
                logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.physical[logical][attribute]
            if key == "Fn::Sub":
                return self._sub(arg)
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(str(self.resolve(item)) for item in items)
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::StackName": STACK_NAME,
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical:
            return self.physical[name]["Ref"]
        if name in self.functions:
            return self.functions[name].name
        raise KeyError(f"cannot resolve Ref {name}")

    def _sub(self, arg: Any) -> str:
        template, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        out = template
        for name, value in variables.items():
            out = out.replace("${" + name + "}", str(self.resolve(value)))
        while "${" in out:
            start = out.index("${")
            end = out.index("}", start)
            token = out[start + 2 : end]
            if "." in token:
                logical, attribute = token.split(".", 1)
                replacement = self.physical[logical][attribute]
            else:
                replacement = self._ref(token)
            out = out[:start] + str(replacement) + out[end + 1 :]
        return out


def load(template: Path = TEMPLATE, overrides: dict[str, str] | None = None) -> Stack:
    """Translate the SAM template and pick out what the runner wires: functions, schedules, queue mappings."""
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    sam = yaml_parse(template.read_text())
    local_dirs: dict[str, Path] = {}
    for logical_id, resource in sam["Resources"].items():
        key = {"AWS::Serverless::Function": "CodeUri", "AWS::Serverless::LayerVersion": "ContentUri"}.get(
            resource["Type"]
        )
        if key:
            local_dirs[logical_id] = (template.parent / resource["Properties"][key]).resolve()
            # The translator wants S3 URIs; the local folders are remembered instead (as `sam validate` does).
            resource["Properties"][key] = f"s3://local/{logical_id}"
    cfn = transform(sam, {}, types.SimpleNamespace(load=lambda: {}))
    parameters = {name: str(spec.get("Default", "")) for name, spec in cfn.get("Parameters", {}).items()}
    parameters.update(overrides or {})
    resources = cfn["Resources"]
    stack = Stack(resources=resources, parameters=parameters, functions={}, schedules=[], queue_mappings=[])

    layer_dirs = {
        _layer_source(logical, local_dirs): local_dirs[_layer_source(logical, local_dirs)]
        for logical in resources
        if resources[logical]["Type"] == "AWS::Lambda::LayerVersion"
    }
    for logical_id, resource in stack.of_type("AWS::Lambda::Function").items():
        props = resource["Properties"]
        layers = [layer_dirs[_layer_source(ref["Ref"], local_dirs)] for ref in props.get("Layers", [])]
        stack.functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=str(stack.resolve(props.get("FunctionName", logical_id))),
            code_dir=local_dirs[logical_id],
            handler=props["Handler"],
            timeout=int(props.get("Timeout", 3)),
            environment=props.get("Environment", {}).get("Variables", {}),
            layer_dirs=layers,
        )
    for logical_id, resource in stack.of_type("AWS::Scheduler::Schedule").items():
        target = resource["Properties"]["Target"]
        stack.schedules.append(
            ScheduleSpec(
                logical_id=logical_id,
                function=target["Arn"]["Fn::GetAtt"][0],
                expression=resource["Properties"]["ScheduleExpression"],
                input=json.loads(target["Input"]),
            )
        )
    for resource in stack.of_type("AWS::Lambda::EventSourceMapping").values():
        props = resource["Properties"]
        stack.queue_mappings.append(
            QueueMapping(
                queue=props["EventSourceArn"]["Fn::GetAtt"][0],
                function=props["FunctionName"]["Ref"],
                batch_size=int(props.get("BatchSize", 10)),
                max_concurrency=props.get("ScalingConfig", {}).get("MaximumConcurrency", 1000),
                report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
            )
        )
    return stack


def _layer_source(logical_id: str, local_dirs: dict[str, Path]) -> str:
    """The translator suffixes layer ids with a hash (CoreLayerb937c23d29); map back to the template's id."""
    matches = [name for name in local_dirs if logical_id.startswith(name)]
    if not matches:
        raise KeyError(f"no local folder for layer {logical_id}")
    return max(matches, key=len)
