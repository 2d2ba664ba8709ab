"""The cold-import probe sees only what Lambda would: the handler's folder, the layers and the runtime's
packages. A package the layers forgot fails the import instead of being found in this virtualenv."""

from __future__ import annotations

import pytest

from ctns.bench import coldstart


def _handler(tmp_path, body):
    folder = tmp_path / "function"
    folder.mkdir()
    (folder / "app.py").write_text(body + "\ndef lambda_handler(event, context):\n    return {}\n")
    return folder / "app.py"


def test_a_handler_that_needs_only_its_layers_imports(tmp_path):
    layer = tmp_path / "layer"
    (layer / "helper").mkdir(parents=True)
    (layer / "helper" / "__init__.py").write_text("VALUE = 1\n")
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    figures = coldstart._probe(_handler(tmp_path, "import json\nimport helper"), [layer, runtime])
    assert figures["cpu_ms"] > 0 and figures["modules"] >= 1
    assert figures["layer_modules_without_pyc"] == ["helper"]  # nothing compiled it: Lambda would compile it


def test_a_package_missing_from_the_layers_fails_the_import(tmp_path):
    empty, runtime = tmp_path / "layer", tmp_path / "runtime"
    empty.mkdir()
    runtime.mkdir()
    with pytest.raises(RuntimeError, match="No module named 'pydantic'"):
        coldstart._probe(_handler(tmp_path, "import pydantic"), [empty, runtime])


def test_the_runtime_folder_holds_the_runtime_packages_and_nothing_else(tmp_path):
    runtime = coldstart.runtime_dir(tmp_path)
    names = {p.name for p in runtime.iterdir()}
    assert {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3"} <= names
    assert not names & {"pydantic", "aws_lambda_powertools", "requests", "moto"}
