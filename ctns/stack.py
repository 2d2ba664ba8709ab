"""template.yaml, read the way CloudFormation would deploy it, for the local runner and the tests.

CloudFormation deploys the template in two steps: the AWS::LanguageExtensions transform expands Fn::ForEach,
Fn::FindInMap, Fn::Length and Fn::ToJsonString (and intrinsic arguments of Ref and Fn::GetAtt); then the SAM
transform turns serverless resources into plain ones. samtranslator does only the second step, so `expand`
does the first for the parts of the language extensions the template uses, and the result is translated with
samtranslator (the same translator SAM uses). Schedules, event source mappings, function environments and
layers come out exactly as they would deploy. Intrinsics are resolved against the parameters and the physical
names the local AWS assigns.

`python -m ctns.stack expand` prints the expanded (still SAM) template as JSON, for tools that do not expand
Fn::ForEach themselves (checkov).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
import types
from collections.abc import Mapping
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
LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
FOR_EACH = "Fn::ForEach::"


class TemplateError(ValueError):
    """The template uses a language extension wrongly (CloudFormation would reject it too)."""


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
    mappings: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)

    def of_type(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == cfn_type}

    def resolve(self, value: Any) -> Any:
        """Resolve Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::FindInMap, Fn::If and Fn::ToJsonString
        against parameters and created resources."""
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
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(self.resolve(items)[int(self.resolve(index))])
            if key == "Fn::FindInMap":
                name, top, second = (str(self.resolve(a)) for a in arg[:3])
                return self.resolve(self.mappings[name][top][second])
            if key == "Fn::If":
                condition, if_true, if_false = arg
                return self.resolve(if_true if self.condition(condition) else if_false)
            if key == "Fn::ToJsonString":
                return json.dumps(self.resolve(arg), separators=(",", ":"))
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def condition(self, name: str) -> bool:
        return bool(self._evaluate(self.conditions[name]))

    def _evaluate(self, value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Fn::Equals":
                left, right = (str(self._evaluate(a)) for a in arg)
                return left == right
            if key == "Fn::Not":
                return not self._evaluate(arg[0])
            if key == "Fn::And":
                return all(self._evaluate(a) for a in arg)
            if key == "Fn::Or":
                return any(self._evaluate(a) for a in arg)
            if key == "Condition":
                return self.condition(arg)
        return self.resolve(value)

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


# -- AWS::LanguageExtensions ------------------------------------------------------------------------------------


def expand(template: dict[str, Any], parameters: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The template after the AWS::LanguageExtensions transform, as CloudFormation runs it before the SAM one.

    Covers what the transform does that this template relies on: Fn::ForEach (in Resources, Outputs and
    Conditions, nested in resource properties too, with a literal collection or a Ref to a CommaDelimitedList
    parameter; ${Identifier}, &{Identifier} and Ref Identifier replaced), Fn::FindInMap (keys may be Refs to
    parameters, the loop variable or other lookups; DefaultValue), intrinsic arguments of Ref and Fn::GetAtt,
    Fn::Length and Fn::ToJsonString. Anything that needs a deployed resource (a Ref to a resource, Fn::GetAtt)
    stays as it is: Fn::ToJsonString over such values is left for `Stack.resolve`, as CloudFormation resolves
    it at deploy time. A template without the transform is returned unchanged.
    """
    transforms = template.get("Transform", [])
    transforms = [transforms] if isinstance(transforms, str) else list(transforms)
    if LANGUAGE_EXTENSIONS not in transforms:
        return template
    parameters = dict(parameters or {})
    out = copy.deepcopy(template)
    rest = [name for name in transforms if name != LANGUAGE_EXTENSIONS]
    if rest:
        out["Transform"] = rest[0] if len(rest) == 1 else rest
    else:
        del out["Transform"]
    resolver = _Extensions(out.get("Mappings", {}), parameters, out.get("Parameters", {}))
    for section in ("Conditions", "Resources", "Outputs"):
        if section in out:
            out[section] = resolver.resolve(_expand_for_each(out[section], parameters, out.get("Parameters", {})))
    return out


def _expand_for_each(node: Any, parameters: Mapping[str, str], declared: Mapping[str, Any]) -> Any:
    if isinstance(node, list):
        return [_expand_for_each(item, parameters, declared) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if not key.startswith(FOR_EACH):
            _merge(out, key, _expand_for_each(value, parameters, declared), key)
            continue
        if not (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)):
            raise TemplateError(f"{key}: expected [Identifier, Collection, {{OutputKey: OutputValue}}]")
        identifier, collection, fragment = value
        if identifier in declared:
            raise TemplateError(f"{key}: identifier {identifier} is also a parameter name")
        if not isinstance(fragment, dict) or not fragment:
            raise TemplateError(f"{key}: the fragment must map output keys to values")
        for output_key in fragment:
            if not output_key.startswith(FOR_EACH) and not re.search(rf"[$&]\{{{identifier}\}}", output_key):
                raise TemplateError(f"{key}: output key {output_key} does not use ${{{identifier}}}")
        for item in _collection(key, collection, parameters, declared):
            expanded = _expand_for_each(_substitute(fragment, identifier, item), parameters, declared)
            for output_key, output_value in expanded.items():
                _merge(out, output_key, output_value, key)
    return out


def _collection(key: str, collection: Any, parameters: Mapping[str, str], declared: Mapping[str, Any]) -> list[str]:
    if isinstance(collection, list) and all(isinstance(item, str | int | float) for item in collection):
        return [str(item) for item in collection]
    if isinstance(collection, dict) and set(collection) == {"Ref"}:
        name = collection["Ref"]
        if declared.get(name, {}).get("Type") == "CommaDelimitedList" and name in parameters:
            return [item.strip() for item in str(parameters[name]).split(",")]
    raise TemplateError(f"{key}: the collection must be a list of strings or a Ref to a CommaDelimitedList parameter")


def _substitute(node: Any, identifier: str, value: str) -> Any:
    if isinstance(node, str):
        stripped = re.sub(r"[^A-Za-z0-9]", "", value)
        return node.replace("${" + identifier + "}", value).replace("&{" + identifier + "}", stripped)
    if isinstance(node, list):
        return [_substitute(item, identifier, value) for item in node]
    if isinstance(node, dict):
        if node == {"Ref": identifier}:
            return value
        return {_substitute(k, identifier, value): _substitute(v, identifier, value) for k, v in node.items()}
    return node


def _merge(out: dict[str, Any], key: str, value: Any, origin: str) -> None:
    if key in out:
        raise TemplateError(f"{origin}: {key} is defined twice")
    out[key] = value


class _Extensions:
    """Fn::FindInMap, Fn::Length, Fn::ToJsonString and intrinsic arguments of Ref/Fn::GetAtt, resolved."""

    def __init__(self, mappings: Mapping[str, Any], parameters: Mapping[str, str], declared: Mapping[str, Any]):
        self.mappings = mappings
        self.parameters = parameters
        self.declared = declared

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, arg),) = node.items()
            if key == "Ref" and not isinstance(arg, str):
                return {"Ref": self.string(arg)}
            if key == "Fn::GetAtt" and isinstance(arg, list) and not all(isinstance(a, str) for a in arg):
                return {"Fn::GetAtt": [self.string(a) for a in arg]}
            if key == "Fn::FindInMap":
                return self.find_in_map(arg)
            if key == "Fn::Length":
                return self.length(arg)
            if key == "Fn::ToJsonString":
                inner = self.resolve(arg)
                if not isinstance(inner, dict | list):
                    raise TemplateError("Fn::ToJsonString takes an object or a list")
                return json.dumps(inner, separators=(",", ":")) if not _has_intrinsic(inner) else {key: inner}
        return {key: self.resolve(value) for key, value in node.items()}

    def string(self, node: Any) -> str:
        """A value the transform can compute: a literal, a parameter, a lookup, a Sub or Join of those."""
        value = self.resolve(node)
        if isinstance(value, str | int | float):
            return str(value)
        if isinstance(value, dict) and len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" and arg in self.parameters:
                return str(self.parameters[arg])
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
                values = {name: self.string(v) for name, v in variables.items()}

                def replace(match: re.Match[str]) -> str:
                    name = match.group(1)
                    if name in values:
                        return values[name]
                    if name in self.parameters and name in self.declared:
                        return str(self.parameters[name])
                    raise TemplateError(f"cannot compute ${{{name}}} in {arg!r} before deployment")

                return re.sub(r"\$\{([^}!]+)\}", replace, text)
            if key == "Fn::Join":
                separator, items = arg
                return separator.join(self.string(item) for item in items)
        raise TemplateError(f"cannot compute {node!r} before deployment")

    def find_in_map(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) not in (3, 4):
            raise TemplateError(
                f"Fn::FindInMap takes [MapName, TopLevelKey, SecondLevelKey(, {{DefaultValue}})]: {arg!r}"
            )
        name, top, second = (self.string(a) for a in arg[:3])
        default = arg[3].get("DefaultValue") if len(arg) == 4 and isinstance(arg[3], dict) else None
        try:
            return self.resolve(copy.deepcopy(self.mappings[name][top][second]))
        except KeyError:
            if default is not None:
                return self.resolve(default)
            raise TemplateError(f"Fn::FindInMap: no {name}/{top}/{second} in Mappings") from None

    def length(self, arg: Any) -> Any:
        value = self.resolve(arg)
        if isinstance(value, list):
            return len(value)
        if isinstance(value, dict) and set(value) == {"Ref"}:
            name = value["Ref"]
            if self.declared.get(name, {}).get("Type") == "CommaDelimitedList" and name in self.parameters:
                return len(str(self.parameters[name]).split(","))
        raise TemplateError(f"Fn::Length needs a list: {arg!r}")


def _has_intrinsic(node: Any) -> bool:
    if isinstance(node, list):
        return any(_has_intrinsic(item) for item in node)
    if isinstance(node, dict):
        if len(node) == 1 and (next(iter(node)) == "Ref" or next(iter(node)).startswith("Fn::")):
            return True
        return any(_has_intrinsic(v) for v in node.values())
    return False


def _default_parameters(template: Mapping[str, Any], overrides: Mapping[str, str] | None) -> dict[str, str]:
    parameters = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    parameters.update(overrides or {})
    return parameters


def load(template: Path = TEMPLATE, overrides: dict[str, str] | None = None) -> Stack:
    """Translate the SAM template and pick out what the runner wires: functions, schedules, queue mappings."""
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    raw = yaml_parse(template.read_text())
    parameters = _default_parameters(raw, overrides)
    sam = expand(raw, parameters)
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
    resources = cfn["Resources"]
    stack = Stack(
        resources=resources,
        parameters=parameters,
        functions={},
        schedules=[],
        queue_mappings=[],
        mappings=cfn.get("Mappings", {}),
        conditions=cfn.get("Conditions", {}),
    )

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
                input=json.loads(
                    target["Input"] if isinstance(target["Input"], str) else stack.resolve(target["Input"])
                ),
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


def check_against_sam_cli(raw: dict[str, Any]) -> list[str]:
    """Differences between `expand` and SAM CLI's own expansion (run in the tools virtualenv, which has SAM CLI):
    the logical IDs and types of the resources, and the names of the outputs and conditions.

    SAM CLI also resolves parameters to their defaults and Fn::Sub locally, so values are not compared.
    """
    from samcli.lib.cfn_language_extensions.sam_integration import expand_language_extensions

    theirs = expand_language_extensions(copy.deepcopy(raw), {}, enabled=True).expanded_template
    ours = expand(raw, _default_parameters(raw, None))
    problems = []
    types_of = {
        name: {k: v.get("Type") for k, v in t.get("Resources", {}).items()}
        for name, t in (("sam", theirs), ("ours", ours))
    }
    if types_of["sam"] != types_of["ours"]:
        problems.append(f"resources differ: SAM CLI {types_of['sam']}, ctns.stack {types_of['ours']}")
    for section in ("Outputs", "Conditions"):
        if sorted(theirs.get(section, {})) != sorted(ours.get(section, {})):
            problems.append(
                f"{section} differ: SAM CLI {sorted(theirs.get(section, {}))}, ctns.stack {sorted(ours.get(section, {}))}"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ctns.stack", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    expand_command = commands.add_parser("expand", help="print the template with its language extensions expanded")
    expand_command.add_argument("template", nargs="?", type=Path, default=TEMPLATE)
    check_command = commands.add_parser(
        "check-sam-cli", help="compare the expansion with SAM CLI's (needs SAM CLI importable)"
    )
    check_command.add_argument("template", nargs="?", type=Path, default=TEMPLATE)
    arguments = parser.parse_args(argv)
    raw = yaml_parse(arguments.template.read_text())
    if arguments.command == "check-sam-cli":
        problems = check_against_sam_cli(raw)
        for problem in problems:
            print(problem, file=sys.stderr)
        if not problems:
            print(f"{arguments.template}: ctns.stack expands the language extensions as SAM CLI does")
        return 1 if problems else 0
    json.dump(expand(raw, _default_parameters(raw, None)), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
