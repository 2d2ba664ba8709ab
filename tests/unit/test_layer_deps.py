"""The DepsLayer ships exactly its pinned list: complete, and nothing the python3.13 Lambda runtime already has.

The layer is `pip install --no-deps -r layers/deps/requirements.txt` (layers/deps/Makefile), so nothing
outside the list arrives with it: every requirement of every listed package, and every third-party import
of the core and the handlers, must be met by the list or by the runtime (layers/deps/runtime-provided.txt).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DEPS = ROOT / "layers" / "deps"
# What the python3.13 runtime ships and the layer must not (issue 12: a second botocore was 55 % of the layer).
SHIPPED_BY_THE_RUNTIME = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
# The Lambda runtime the layer is built for: requirements' markers are read for it, not for this machine.
LAMBDA = default_environment() | {
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
}


def _lines(path: Path) -> list[str]:
    return [line.split("#", 1)[0].strip() for line in path.read_text().splitlines() if line.split("#", 1)[0].strip()]


def pinned() -> dict[str, str]:
    pins = {}
    for line in _lines(DEPS / "requirements.txt"):
        requirement = Requirement(line)
        (specifier,) = list(requirement.specifier)
        assert specifier.operator == "==", f"{line}: the layer pins exact versions"
        assert not requirement.extras, f"{line}: with --no-deps an extra brings nothing; list its packages instead"
        pins[canonicalize_name(requirement.name)] = specifier.version
    return pins


def runtime_provided() -> set[str]:
    return {canonicalize_name(line) for line in _lines(DEPS / "runtime-provided.txt")}


def _needs(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate(LAMBDA | {"extra": extra}) for extra in extras | {""})


def test_the_layer_ships_nothing_the_runtime_has():
    pins = pinned()
    assert SHIPPED_BY_THE_RUNTIME <= runtime_provided()
    assert not set(pins) & runtime_provided(), "the runtime already has these"


def test_the_pinned_list_is_complete_under_its_packages_own_requirements():
    pins, runtime = pinned(), runtime_provided()
    extras = _extras_used()
    missing = {}
    for name in pins:
        distribution = metadata.distribution(name)
        for text in distribution.requires or []:
            requirement = Requirement(text)
            needed = canonicalize_name(requirement.name)
            if _needs(requirement, extras.get(name, set())) and needed not in pins and needed not in runtime:
                missing.setdefault(name, []).append(text)
    assert not missing, f"requirements the layer would not meet: {missing}"


def test_the_virtualenv_runs_what_the_layer_ships():
    """The Makefile installs the virtualenv with requirements.txt as constraints: tests run the shipped versions."""
    installed = {name: metadata.version(name) for name in pinned()}
    assert installed == pinned()


def test_every_runtime_dependency_of_the_project_is_in_the_layer_or_the_runtime():
    pins, runtime = pinned(), runtime_provided()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for text in project["dependencies"]:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        if name in runtime:
            continue
        assert name in pins, f"{text} is a runtime dependency of the project but not in the layer"
        assert requirement.specifier.contains(pins[name]), f"{text} and the layer's {name}=={pins[name]} disagree"


def _third_party_imports(paths: list[Path]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top != "ctsync":
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_import_of_the_core_and_the_handlers_is_met_by_the_layer_or_the_runtime():
    sources = sorted((ROOT / "layers" / "core" / "ctsync").rglob("*.py")) + sorted(ROOT.glob("functions/*/*.py"))
    imports = _third_party_imports(sources)
    assert {"aws_lambda_powertools", "pydantic", "requests", "boto3"} <= set(imports)  # the scan sees them
    providers = metadata.packages_distributions()
    available = set(pinned()) | runtime_provided()
    unmet = {
        module: sorted(where)
        for module, where in imports.items()
        if not {canonicalize_name(d) for d in providers.get(module, [])} & available
    }
    assert not unmet, f"imported but neither in the layer nor in the runtime: {unmet}"


def _extras_used() -> dict[str, set[str]]:
    """Extras the project asks for (aws-lambda-powertools[tracer]): their packages must be pinned too."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {
        canonicalize_name(Requirement(text).name): set(Requirement(text).extras)
        for text in project["dependencies"]
        if Requirement(text).extras
    }


def test_the_tracer_extra_is_shipped_without_its_botocore():
    pins = pinned()
    assert "aws-xray-sdk" in pins and "wrapt" in pins
    xray = [Requirement(r) for r in metadata.distribution("aws-xray-sdk").requires or []]
    assert "botocore" in {canonicalize_name(r.name) for r in xray}  # met by the runtime's botocore
    assert "botocore" not in pins


@pytest.mark.parametrize("layer", ["DepsLayer", "CoreLayer"])
def test_both_layers_are_built_by_their_makefile(layer):
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_Loader)
    resource = template["Resources"][layer]
    assert resource["Metadata"]["BuildMethod"] == "makefile"
    makefile = ROOT / resource["Properties"]["ContentUri"] / "Makefile"
    assert re.search(rf"^build-{layer}:", makefile.read_text(), re.MULTILINE)


class _Loader(yaml.SafeLoader):
    """Reads the template's short-form intrinsics (!Ref, !Sub, ...) as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
