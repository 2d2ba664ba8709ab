"""Read access to `simulators/schemas/clicktime-models.json`: endpoints, models, enums.

The simulator takes field names, query names, enum values and the verbose-only flags from this file, so a
request the real API would not understand is refused here too. Nothing in this module knows about HTTP.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schemas" / "clicktime-models.json"

# Request bodies the endpoints name but the schema file does not carry as a model. The spec's
# TaskAssociationModel has a single property, the task to link.
EXTRA_REQUEST_MODELS: dict[str, dict[str, dict[str, Any]]] = {
    "Post.TaskAssociationModel_Root": {"TaskID": {"type": "string"}},
}


@dataclass(frozen=True)
class QueryParam:
    type: str  # string | boolean | number | integer
    multi: bool


@dataclass(frozen=True)
class Endpoint:
    path: str  # as in the schema, e.g. "/Timesheets/{Timesheets-id}/Actions"
    methods: tuple[str, ...]
    query: tuple[str, ...]
    operations: dict[str, dict[str, Any]]

    def params(self, method: str) -> dict[str, QueryParam]:
        typed = self.operations.get(method, {}).get("query_params", {})
        out = {}
        for name in self.query:
            spec = typed.get(name, {})
            # A name in the URL template without typed details is a plain, repeatable string filter.
            out[name] = QueryParam(spec.get("type", "string"), bool(spec.get("multi", name not in typed)))
        return out

    def response(self, method: str) -> str:
        return str(self.operations.get(method, {}).get("response", ""))

    def request_body(self, method: str) -> str:
        return str(self.operations.get(method, {}).get("request_body", ""))

    @property
    def is_paged(self) -> bool:
        """Lists of models are paged; lists of bare ID strings are not ("Pagination is not supported")."""
        return self.response("GET").startswith("ResponseBodyListGet.")


def normalize(path: str) -> str:
    """Path template with parameter names erased, for matching ours against the schema's."""
    return re.sub(r"\{[^}]+\}", "{}", path).lower()


class Schema:
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data
        self._endpoints = {normalize(e["path"]): e for e in data["endpoints"]}
        self._request_models: dict[str, dict[str, dict[str, Any]]] = dict(EXTRA_REQUEST_MODELS)
        for model in data["models"].values():
            self._index_classes(model)
            for variant in model.get("variants", {}).values():
                self._index_classes(variant)

    def _index_classes(self, model: dict[str, Any]) -> None:
        for op, cls in model.get("kiota_classes", {}).items():
            if op in {"post", "patch", "put"}:
                self._request_models[cls] = model[op]

    def endpoint(self, path: str) -> Endpoint:
        raw = self._endpoints.get(normalize(path))
        if raw is None:
            raise KeyError(f"no endpoint {path} in the ClickTime schema")
        return Endpoint(raw["path"], tuple(raw["methods"]), tuple(raw["query"]), raw["operations"])

    def request_fields(self, kiota_class: str) -> dict[str, dict[str, Any]]:
        return self._request_models[kiota_class]

    def get_fields(self, model: str, variant: str | None = None) -> dict[str, dict[str, Any]]:
        spec = self._data["models"][model]
        if variant:
            spec = spec["variants"][variant]
        fields: dict[str, dict[str, Any]] = spec["get"]
        return fields

    def enum(self, name: str) -> tuple[str, ...]:
        """Wire values of an enum, by its schema key or by one of the friendly `enum_aliases`."""
        key = self._data["enum_aliases"].get(name, name)
        return tuple(self._data["enums"][key]["values"])


@cache
def schema() -> Schema:
    return Schema(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
