"""A small reader of Nextflow config files, for the stand-in (not Nextflow's Groovy parser).

It reads what batchforge's generated config and ordinary user configs use: comments, dotted
assignments (``aws.batch.jobRole = '...'``), scopes (``aws { batch { ... } }``), process
selectors (``withName: foo { ... }``, ``withLabel: bar { ... }``), ``profiles { p { ... } }``,
and literal values (single- or double-quoted strings, numbers, booleans, ``null``, lists of
literals).  Any other value (``{ task.attempt * 2.GB }``, ``2.GB``, ``"${x}"``) is kept as an
:class:`Expression`: fine where the stand-in does not need it, an error where it does.  A line
it cannot read at all (``includeConfig``, method calls, ...) is an error naming file and line:
the stand-in fails loudly rather than guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_KEY = r"[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*"
_ASSIGN = re.compile(rf"^({_KEY})\s*=\s*(.+)$", re.S)
_SCOPE = re.compile(rf"^({_KEY})\s*\{{$")
_SELECTOR = re.compile(r"^(withName|withLabel)\s*:\s*('[^']*'|\"[^\"]*\"|[\w!*?|.\-]+)\s*\{$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_STRING_ITEM = re.compile(r"\s*('(?:[^'\\]|\\.)*'|\"(?:[^\"\\$]|\\.)*\")\s*(,|$)")


class ConfigError(Exception):
    """The config cannot be read by the stand-in; the message names the file and line."""


@dataclass(frozen=True)
class Expression:
    """A value the stand-in keeps as text (Groovy code it does not evaluate)."""

    text: str


def _strip_comments(text: str) -> str:
    out: list[str] = []
    i, quote = 0, ""
    while i < len(text):
        ch = text[i]
        if quote:
            out.append(ch)
            if ch == "\\" and i + 1 < len(text):
                out.append(text[i + 1])
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            out.append(ch)
        elif text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = len(text) if end < 0 else end + 2
            out.append("\n" * text.count("\n", i, end))
            i = end
            continue
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _balance(text: str) -> int:
    depth, quote, i = 0, "", 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        i += 1
    return depth


def _unquote(token: str) -> str:
    body = token[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def literal(text: str) -> Any:
    """A literal value, or an :class:`Expression` holding the text."""
    value = text.strip().rstrip(";").strip()
    if re.fullmatch(r"'(?:[^'\\]|\\.)*'", value, re.S):
        return _unquote(value)
    if "$" not in value and re.fullmatch(r'"(?:[^"\\]|\\.)*"', value, re.S):
        return _unquote(value)
    if value in ("true", "false"):
        return value == "true"
    if value == "null":
        return None
    if _NUMBER.match(value):
        return float(value) if "." in value else int(value)
    if value.startswith("[") and value.endswith("]"):
        inner, items = value[1:-1].strip(), []
        while inner:
            match = _STRING_ITEM.match(inner)
            if not match:
                return Expression(value)
            items.append(_unquote(match.group(1)))
            inner = inner[match.end() :].strip()
        return items
    return Expression(value)


def parse(text: str, source: str = "config") -> dict[str, Any]:
    """Flat ``{"dotted.key": value}`` of one config text (selectors kept as key parts,
    e.g. ``process.withName:foo.memory``)."""
    lines = _strip_comments(text).split("\n")
    values: dict[str, Any] = {}
    scope: list[str] = []
    number = 0
    while number < len(lines):
        start = number
        line = lines[number].strip()
        number += 1
        if not line or line == ";":
            continue
        if line == "}":
            if not scope:
                raise ConfigError(f"{source}:{start + 1}: unexpected `}}`")
            scope.pop()
            continue
        selector = _SELECTOR.match(line)
        block = _SCOPE.match(line)
        if selector or block:
            if selector:
                name = selector.group(2).strip("'\"")
                scope.append(f"{selector.group(1)}:{name}")
            else:
                assert block is not None
                scope.extend(block.group(1).split("."))
            continue
        assign = _ASSIGN.match(line)
        if not assign:
            raise ConfigError(
                f"{source}:{start + 1}: the batchforge Nextflow stand-in cannot read "
                f"`{line[:80]}` (it reads assignments, scopes and literal values only)"
            )
        rhs = assign.group(2)
        while _balance(rhs) > 0 and number < len(lines):
            rhs += "\n" + lines[number]
            number += 1
        if _balance(rhs) != 0:
            raise ConfigError(f"{source}:{start + 1}: unbalanced brackets in `{line[:80]}`")
        values[".".join([*scope, assign.group(1)])] = literal(rhs)
    if scope:
        raise ConfigError(f"{source}: a `{{` block is not closed (scope {'.'.join(scope)})")
    return values


def profile_names(values: dict[str, Any]) -> set[str]:
    return {key.split(".")[1] for key in values if key.startswith("profiles.") and "." in key[9:]}


def with_profiles(values: dict[str, Any], profiles: list[str]) -> dict[str, Any]:
    """The top-level values with each selected profile's values applied in order."""
    result = {k: v for k, v in values.items() if not k.startswith("profiles.")}
    for name in profiles:
        prefix = f"profiles.{name}."
        result.update({k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix)})
    return result


def load(paths: list[Path]) -> dict[str, Any]:
    """Every file parsed and merged in order (later files win)."""
    merged: dict[str, Any] = {}
    for path in paths:
        merged.update(parse(path.read_text(), str(path)))
    return merged
