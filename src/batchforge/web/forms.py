"""Form state for the UI: what the user typed, and errors placed next to their fields.

Services raise :class:`~batchforge.errors.BatchforgeError` whose ``field`` is an API path
(``computeEnv.config.forge.maxCpus``, ``credentials.keys.accessKey``, ``launch.paramsText``).
:meth:`FormState.fail` maps that path to a form field (the last path segment, without list
indexes, or a per-form alias) and keeps the message; an error naming no field of the form is
shown above it.  Secret fields are never kept: they come back empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from batchforge.errors import BatchforgeError
from batchforge.schemas.text import INT64_MAX, INT64_MIN
from batchforge.web.session import CSRF_FIELD

_INDEX = re.compile(r"\[\d+\]")


def form_field(
    api_field: str | None, known: Iterable[str], aliases: Mapping[str, str] | None = None
) -> str | None:
    """The form field an API error field refers to, or None (a form-level error)."""
    if not api_field:
        return None
    names = set(known)
    aliases = aliases or {}
    path = _INDEX.sub("", api_field)
    for candidate in (path, *_suffixes(path)):
        if candidate in aliases:
            return aliases[candidate]
        if candidate in names:
            return candidate
    return None


def _suffixes(path: str) -> list[str]:
    parts = path.split(".")
    return [".".join(parts[i:]) for i in range(1, len(parts))]


@dataclass
class FormState:
    """Values (a string, or a list for multi-valued fields) and errors of one form."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    hint: str | None = None

    @classmethod
    def from_form(
        cls, form: FormData, *, multi: Iterable[str] = (), secret: Iterable[str] = ()
    ) -> FormState:
        """The submitted values, minus the CSRF token and ``secret`` fields."""
        skip = {CSRF_FIELD, *secret}
        lists = set(multi)
        values: dict[str, Any] = {}
        for key in form:
            if key in skip:
                continue
            if key in lists:
                values[key] = [str(v) for v in form.getlist(key) if str(v).strip()]
            else:
                raw = form.get(key)
                values[key] = raw if isinstance(raw, str) else ""
        for key in lists:
            values.setdefault(key, [])
        return cls(values=values)

    def get(self, name: str, default: str = "") -> str:
        value = self.values.get(name)
        return value.strip() if isinstance(value, str) else default

    def raw(self, name: str) -> str:
        """The value exactly as typed (scripts, configs: whitespace matters)."""
        value = self.values.get(name)
        return value if isinstance(value, str) else ""

    def many(self, name: str) -> list[str]:
        value = self.values.get(name)
        if isinstance(value, list):
            return value
        return [value] if isinstance(value, str) and value else []

    def checked(self, name: str) -> bool:
        return self.get(name) in ("on", "true", "1", "yes")

    def optional(self, name: str) -> str | None:
        return self.get(name) or None

    def number(self, name: str, label: str) -> int | None:
        """The field as an integer (None when empty); a field error when it is not one."""
        text = self.get(name)
        if not text:
            return None
        try:
            number = int(text)
        except ValueError:
            self.errors[name] = f"{label} must be a whole number."
            return None
        if not INT64_MIN <= number <= INT64_MAX:  # the API's rule (batchforge.schemas.text)
            self.errors[name] = f"{label} is too large."
            return None
        return number

    def words(self, name: str) -> list[str]:
        """A comma- or space-separated field as a list."""
        return [w for w in re.split(r"[,\s]+", self.get(name)) if w]

    @property
    def ok(self) -> bool:
        return not self.errors and self.error is None

    def fail(
        self,
        problem: BatchforgeError,
        known: Iterable[str],
        aliases: Mapping[str, str] | None = None,
    ) -> None:
        """Place ``problem`` next to its field (or above the form)."""
        name = form_field(problem.field, known, aliases)
        if name is not None:
            self.errors[name] = _without_field_prefix(problem.message, problem.field)
            self.hint = problem.hint
        else:
            self.error = problem.message
            self.hint = problem.hint


def _without_field_prefix(message: str, api_field: str | None) -> str:
    """``computeEnv.config.forge.maxCpus: must be at least 1.`` → ``Must be at least 1.``
    (the field is named by the label next to the message)."""
    for prefix in (f"{api_field}:", f"{api_field} "):
        if api_field and message.startswith(prefix):
            rest = message[len(prefix) :].strip()
            return rest[:1].upper() + rest[1:]
    return message


def fail_validation(
    state: FormState,
    problem: Exception,
    known: Iterable[str],
    aliases: Mapping[str, str] | None = None,
) -> None:
    """Place each problem of a pydantic ``ValidationError`` next to its field."""
    from pydantic import ValidationError

    if not isinstance(problem, ValidationError):
        raise problem
    for item in problem.errors():
        path = ".".join(str(part) for part in item.get("loc", ()))
        name = form_field(path, known, aliases)
        message = str(item.get("msg", "invalid value"))
        message = message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")
        if name is not None:
            state.errors.setdefault(name, message)
        else:
            state.error = state.error or f"{path}: {message}"
