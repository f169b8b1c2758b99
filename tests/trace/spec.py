"""Validate API answers against the Seqera OpenAPI spec's schemas (jsonschema).

The spec is OpenAPI 3.0: ``nullable: true`` is turned into JSON Schema's ``null`` type, and
``format`` is not checked beyond what jsonschema does by default (not at all).  Schemas keep
``additionalProperties`` open, as in the spec.  One generator artifact is relaxed: Java's
``Map<String, Object>`` (e.g. ``Workflow.params``) is written as
``additionalProperties: {type: object}``, yet its values are any JSON (Seqera answers
``{"greeting": "hi"}`` too).
"""

from __future__ import annotations

import functools
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.conftest import SHARED

SPEC = SHARED / "reference" / "seqera-api-cloud.yaml"


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable(value) for key, value in node.items()}
    if node.get("additionalProperties") == {"type": "object"}:
        node["additionalProperties"] = {}
    if node.pop("nullable", False):
        return {"anyOf": [node, {"type": "null"}]}
    return node


@functools.cache
def _registry() -> tuple[Registry, dict[str, Any]]:
    spec = _nullable(yaml.safe_load(SPEC.read_text()))
    resource = Resource(contents=spec, specification=DRAFT202012)
    return Registry().with_resource("spec.yaml", resource), spec


def validate(schema_name: str, instance: Any) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``instance`` fits ``schema_name``."""
    registry, _ = _registry()
    validator = Draft202012Validator(
        {"$ref": f"spec.yaml#/components/schemas/{schema_name}"}, registry=registry
    )
    validator.validate(instance)
