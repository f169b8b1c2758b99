"""Pipeline schemas: a workspace's saved JSON Schema documents (Seqera's ``/pipeline-schemas``)
and the check of a launch's parameters against one.

In Seqera a launch's ``pipelineSchemaId`` and ``schemaName`` are metadata for the launch form.
batchforge keeps them as such (no change to what Nextflow runs), and goes one step further:
a launch with a ``pipelineSchemaId`` has its given parameters checked against the schema's
declared properties (see :func:`check_params`) before anything is recorded or made in AWS.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from jsonschema import SchemaError
from jsonschema.validators import validator_for

from batchforge.db import models
from batchforge.db.models import utcnow
from batchforge.errors import InvalidInput
from batchforge.launch.params import load_json
from batchforge.schemas.pipeline_schemas import PipelineSchemaDbDto
from batchforge.services.context import AppContext

MAX_CONTENT = 1024 * 1024
"""The largest schema document accepted, in UTF-8 bytes (nf-core's are under 100 KiB)."""

JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")


def parse_content(content: str | None, field: str = "content") -> dict[str, Any]:
    """The schema document of ``content``; a 400 naming ``field`` when it is missing, over
    :data:`MAX_CONTENT`, not JSON, not a JSON object, or not a valid JSON Schema."""
    if content is None or not content.strip():
        raise InvalidInput(f"{field}: the schema content (a JSON Schema document) is required.",
                           field=field)  # fmt: skip
    size = len(content.encode("utf-8"))
    if size > MAX_CONTENT:
        raise InvalidInput(
            f"{field}: {size:,} bytes is over the limit of {MAX_CONTENT:,} (1 MiB).", field=field
        )
    document = load_json(content, field)
    if not isinstance(document, dict):
        raise InvalidInput(
            f"{field}: a pipeline schema must be a JSON object (a JSON Schema document), "
            f"not {_json_type(document)}.",
            field=field,
        )
    try:
        validator_for(document).check_schema(document)
    except SchemaError as error:
        where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
        raise InvalidInput(
            f"{field}: not a valid JSON Schema at {where}: {error.message}", field=field
        ) from None
    return document


def create(
    ctx: AppContext, workspace_id: int, content: str | None, user: str | None = None
) -> PipelineSchemaDbDto:
    """Save a schema document in the workspace (checked by :func:`parse_content`)."""
    parse_content(content)
    assert content is not None
    row = models.PipelineSchema(
        workspace_id=workspace_id, content=content, creator_user_name=user, created_at=utcnow()
    )
    with ctx.db.transaction() as session:
        session.add(row)
        session.flush()
        return PipelineSchemaDbDto(id=row.id, content=row.content)


def find(ctx: AppContext, workspace_id: int, schema_id: int) -> str | None:
    """The content of schema ``schema_id`` of the workspace; None when it has none such."""
    with ctx.db.transaction() as session:
        row = session.get(models.PipelineSchema, schema_id)
        if row is None or row.workspace_id != workspace_id:
            return None
        return row.content


def load(
    ctx: AppContext,
    workspace_id: int,
    schema_id: int,
    field: str = "launch.pipelineSchemaId",
    also: int | None = None,
) -> dict[str, Any]:
    """The document of schema ``schema_id`` of the workspace (or of workspace ``also``: the
    SHARED workspace a launched pipeline comes from); a 400 naming ``field`` when neither has
    such a schema (as unknown label ids are)."""
    content = find(ctx, workspace_id, schema_id) if schema_id > 0 else None
    if content is None and also is not None and also != workspace_id and schema_id > 0:
        content = find(ctx, also, schema_id)
    if content is None:
        raise InvalidInput(
            f"{field}: pipeline schema {schema_id} does not exist in this workspace.", field=field
        )
    try:
        document = json.loads(content)
    except ValueError:
        document = None
    return document if isinstance(document, dict) else {}


def declared(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The parameters a schema declares, name -> property schema: its top-level
    ``properties`` and those of the ``definitions``/``$defs`` groups its ``allOf`` refers
    to (``{"$ref": "#/definitions/input_output_options"}``: nf-core's layout)."""
    found: dict[str, dict[str, Any]] = {}
    groups: list[Any] = []
    for entry in document.get("allOf") or []:
        ref = entry.get("$ref") if isinstance(entry, dict) else None
        if not isinstance(ref, str):
            if isinstance(entry, dict):
                groups.append(entry)  # an inline group
            continue
        for prefix in ("#/definitions/", "#/$defs/"):
            if ref.startswith(prefix):
                container = document.get(prefix[2:-1])
                if isinstance(container, dict):
                    groups.append(container.get(ref[len(prefix) :]))
    groups.append(document)
    for group in groups:
        properties = group.get("properties") if isinstance(group, dict) else None
        if isinstance(properties, dict):
            for name, rule in properties.items():
                if isinstance(rule, dict):
                    found.setdefault(name, rule)
    return found


def check_launch(
    ctx: AppContext,
    workspace_id: int,
    schema_id: int | None,
    params: dict[str, Any],
    prefix: str = "launch",
    also: int | None = None,
) -> None:
    """A launch's ``pipelineSchemaId`` and parameters, as launches and saved pipelines check
    them: nothing when no schema is named; else the schema must be found (:func:`load`,
    a 400 naming ``<prefix>.pipelineSchemaId``) and the parameters follow it
    (:func:`check_params`, a 400 naming ``<prefix>.paramsText.<param>``)."""
    if schema_id is None:
        return
    document = load(ctx, workspace_id, schema_id, f"{prefix}.pipelineSchemaId", also=also)
    check_params(document, params, f"{prefix}.paramsText")


def check_params(
    document: dict[str, Any], params: dict[str, Any], field: str = "launch.paramsText"
) -> None:
    """A 400 naming ``<field>.<param>`` and the rule for the first given parameter whose
    value breaks its declared ``type``, ``enum`` or ``pattern``.

    ``required`` is not enforced (parameters may come from config profiles) and parameters
    the schema does not declare are let through (nf-schema only warns about those)."""
    rules = declared(document)
    for name, value in params.items():
        rule = rules.get(str(name))
        if rule is None:
            continue
        problem = _problem(rule, value)
        if problem is not None:
            where = f"{field}.{name}"
            raise InvalidInput(f"{where}: {problem}", field=where)


def _problem(rule: dict[str, Any], value: Any) -> str | None:
    """What is wrong with ``value`` under ``rule`` (type, enum, pattern), or None."""
    shown = _shown(value)
    wanted = rule.get("type")
    types = [wanted] if isinstance(wanted, str) else wanted if isinstance(wanted, list) else []
    types = [t for t in types if t in JSON_TYPES]
    if types and not any(_is_type(value, t) for t in types):
        return (
            f"{shown} is {_json_type(value)}; the pipeline schema wants "
            f"{' or '.join(types)} (type)."
        )
    allowed = rule.get("enum")
    if isinstance(allowed, list) and not any(_same(value, option) for option in allowed):
        options = ", ".join(_shown(option) for option in allowed)
        return f"{shown} is not one of the values the pipeline schema allows: {options} (enum)."
    pattern = rule.get("pattern")
    text = _text(value)
    if isinstance(pattern, str) and text is not None:
        try:
            matched = re.search(pattern, text) is not None
        except re.error:
            matched = True  # a pattern Python cannot read is not held against the launch
        if not matched:
            return f"{shown} does not match the pipeline schema's pattern {pattern!r} (pattern)."
    return None


def _text(value: Any) -> str | None:
    """The string a value is (YAML dates count as the text they were written as)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    return None


def _is_type(value: Any, kind: str) -> bool:
    if kind == "string":
        return _text(value) is not None
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        if isinstance(value, bool):
            return False
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    return value is None


def _json_type(value: Any) -> str:
    """The JSON type of a value, with its article (for messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if _text(value) is not None:
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def _same(value: Any, option: Any) -> bool:
    """JSON equality: 1 equals 1.0, but neither equals true."""
    if isinstance(value, bool) or isinstance(option, bool):
        return isinstance(value, bool) and isinstance(option, bool) and value == option
    if isinstance(value, dt.date) and isinstance(option, str):
        return value.isoformat() == option
    return bool(type(value) is type(option) or (_number(value) and _number(option))) and (
        value == option
    )


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    """A value as the message quotes it (JSON, cut short)."""
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
