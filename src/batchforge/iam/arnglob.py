"""Resource ARNs as globs, segment by segment, the way IAM reads them.

One place decides how a ``Resource``/``NotResource`` value of a policy, and a *required resource
pattern* of the catalog, become :class:`~batchforge.iam.glob.Glob` s (IAM User Guide, "IAM JSON
policy elements: Resource" and "Policy variables"):

* a policy ARN has six colon-separated parts ``arn:partition:service:region:account:resource``
  and each of the first five is matched on its own: a wildcard there never spans a colon (as
  the ARN condition operators check "each of the six colon-delimited components separately").
  A ``*`` that is the last character written "can expand to match beyond the colon
  boundaries": an ARN written with fewer than six parts (``arn:aws:batch:*``) is one glob whose
  trailing ``*`` covers the remaining parts.  In the resource part, ``*`` matches anything;
* a wildcard in the **resource type** (``arn:aws:batch:*:*:*/TowerForge-*``) is not a wildcard:
  AWS does not allow one there, so it only matches the literal character (i.e. no real ARN);
  services whose ARNs have no resource type (S3 bucket names) are not affected;
* **policy variables** are replaced only in the resource part, after the fifth colon; before
  it they are left as written (and so match no real ARN); a replaced value is literal text;
* ARN matching is case-sensitive: ``arn:aws:BATCH:...`` never matches ``arn:aws:batch:...``;
* a *required resource pattern* stands for ARNs whose wildcards are filled with names without
  colons (region, account, queue, role, key...), so ``*`` there never spans a colon;
  ``"*"`` alone is the resource of an action without resource types -- the literal ``*``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache

from batchforge.iam.glob import ANY, ONE, Glob, literal_tokens, segment_tokens

Resolver = Callable[[str], str | None]
"""Policy variable body (``aws:username``) -> its value, or None when it has none."""

VARIABLE = re.compile(r"\$\{([^}]*)\}")
_TYPED = re.compile(r"[A-Za-z0-9-]+[/:]")


def _pieces(text: str) -> Iterator[tuple[bool, str]]:
    """(is a variable, text) pieces of ``text``; a variable piece keeps its ``${...}``."""
    pos = 0
    for m in VARIABLE.finditer(text):
        if m.start() > pos:
            yield False, text[pos : m.start()]
        yield True, m.group(0)
        pos = m.end()
    if pos < len(text):
        yield False, text[pos:]


def split_arn(text: str) -> list[str] | None:
    """The six parts of an ARN (colons inside ``${...}`` do not count), or None."""
    if not text.startswith("arn:") and not text.lower().startswith("arn:"):
        return None
    masked = VARIABLE.sub(lambda m: "x" * len(m.group(0)), text)
    cuts = [i for i, ch in enumerate(masked) if ch == ":"][:5]
    if len(cuts) < 5:
        return None
    bounds = [-1, *cuts, len(text)]
    return [text[bounds[k] + 1 : bounds[k + 1]] for k in range(6)]


@lru_cache(maxsize=512)
def typed_service(service: str) -> bool:
    """Whether every ARN of ``service`` starts its resource part with a resource type."""
    try:
        from batchforge.iam.actions import dataset

        formats = dataset().resource_arn_formats(service)
    except Exception:  # no dataset: no resource-type rule
        return False
    parts = [p for f in formats.values() if (p := split_arn(f)) is not None]
    return bool(parts) and all(_TYPED.match(p[5]) for p in parts)


def wildcard_type_end(service: str, resource: str) -> int:
    """End of the resource-type prefix of ``resource`` when it holds a wildcard, else 0."""
    cut = min((i for i in (resource.find("/"), resource.find(":")) if i >= 0), default=-1)
    if cut <= 0 or not any(ch in "*?" for ch in resource[:cut]):
        return 0
    return cut if typed_service(service) else 0


def _segment(text: str) -> list[str]:
    """Tokens of one of the first five segments of a policy ARN."""
    out: list[str] = []
    for is_var, piece in _pieces(text):
        if is_var:
            out.extend(literal_tokens(piece))
            continue
        out.extend(segment_tokens(piece))
    return out


def _resource(text: str, resolve: Resolver | None) -> list[str] | None:
    out: list[str] = []
    for is_var, piece in _pieces(text):
        if not is_var:
            out.extend(ANY if ch == "*" else ONE if ch == "?" else ch for ch in piece)
        elif resolve is None:
            out.extend(literal_tokens(piece))
        else:
            value = resolve(piece[2:-1])
            if value is None:
                return None
            out.extend(literal_tokens(value))
    return out


def policy_glob(text: str, resolve: Resolver | None = None) -> Glob | None:
    """A Resource value of a policy as a glob; None when a variable in it has no value.

    ``resolve`` replaces policy variables (only in the resource part); without it they are
    literal text.
    """
    if resolve is None:
        return _policy_glob_cached(text)
    return _build(text, resolve)


@lru_cache(maxsize=4096)
def _policy_glob_cached(text: str) -> Glob:
    glob = _build(text, None)
    assert glob is not None
    return glob


def _build(text: str, resolve: Resolver | None) -> Glob | None:
    parts = split_arn(text)
    if parts is None:
        # "*" or not a six-part ARN: every * may span anything; variables stay as written
        tokens: list[str] = []
        for is_var, piece in _pieces(text):
            tokens.extend(literal_tokens(piece) if is_var else Glob.parse(piece).tokens)
        return Glob(tokens)
    tokens = []
    for segment in parts[:5]:
        tokens.extend(_segment(segment))
        tokens.append(":")
    resource = parts[5]
    cut = wildcard_type_end(parts[2], resource)
    tokens.extend(literal_tokens(resource[:cut]))
    rest = _resource(resource[cut:], resolve)
    if rest is None:
        return None
    return Glob([*tokens, *rest])


@lru_cache(maxsize=4096)
def request_glob(text: str) -> Glob:
    """A required resource pattern: its wildcards stand for names without colons; ``*``
    alone is the literal resource of an action without resource types."""
    if text == "*":
        return Glob.literal("*")
    return Glob(segment_tokens(text))


def variables_before_resource(text: str) -> list[str]:
    """Policy variables written before the fifth colon (AWS does not replace them there)."""
    parts = split_arn(text)
    if parts is None:
        return [m.group(0) for m in VARIABLE.finditer(text)] if text.startswith("arn") else []
    return [m.group(0) for seg in parts[:5] for m in VARIABLE.finditer(seg)]


def upper_case_parts(text: str) -> list[str]:
    """Names of the parts ``arn``, partition, service, region written with upper case."""
    parts = split_arn(text)
    if parts is None:
        return []
    names = ("arn", "partition", "service", "region")
    return [n for n, p in zip(names, parts, strict=False) if p != p.lower()]
