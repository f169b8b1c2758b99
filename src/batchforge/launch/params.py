"""Pipeline parameters given as JSON or YAML text (``paramsText``)."""

from __future__ import annotations

import json
from typing import Any

import yaml

from batchforge.errors import InvalidInput


def load_json(text: str, field: str) -> Any:
    """``text`` parsed as JSON, or :class:`InvalidInput` naming ``field`` with the line and
    column of the first error."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"{field}: invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}.",
            field=field,
        ) from None


def parse_params(text: str | None, field: str = "launch.paramsText") -> dict[str, Any]:
    """The parameters as a mapping; an empty text is ``{}``.

    JSON is tried first when the text looks like JSON (starts with ``{``), YAML otherwise.
    Invalid text raises :class:`InvalidInput` naming ``field`` with the line and column.
    """
    if text is None or not text.strip():
        return {}
    if text.lstrip().startswith("{"):
        value = load_json(text, field)
    else:
        try:
            value = yaml.safe_load(text)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            problem = error.problem or error.context or "syntax error"
            raise InvalidInput(f"{field}: invalid YAML{where}: {problem}.", field=field) from None
        except yaml.YAMLError as error:
            raise InvalidInput(f"{field}: invalid YAML: {error}.", field=field) from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(
            f"{field}: parameters must be a mapping of names to values, "
            f"not a {type(value).__name__}.",
            field=field,
        )
    return value
