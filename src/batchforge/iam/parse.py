"""Parse an identity policy pasted by a user into statements plus located findings.

``parse_policy`` never raises for bad input: every problem becomes a :class:`Finding` with a
stable code, a line/column where there is one, and a hint.  When the text is not usable at all
(empty, binary, too large, not JSON) ``ParseResult.policy`` is None.  A bare statement, or a
list of statements, is recognised, reported and wrapped into a policy so that it can still be
evaluated.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from batchforge.iam.grammar import StatementReader
from batchforge.iam.jsonsrc import JsonSyntaxError, Node, SourceMap, parse_json
from batchforge.iam.model import Finding, Policy, Severity

MAX_INPUT_CHARS = 1_000_000
"""Refuse larger input: the largest IAM policy is a few kilobytes."""
MANAGED_POLICY_LIMIT = 6_144
INLINE_USER_POLICY_LIMIT = 2_048
INLINE_GROUP_POLICY_LIMIT = 5_120
INLINE_ROLE_POLICY_LIMIT = 10_240
MAX_FINDINGS = 200
_ALLOWED_CONTROL = "\t\n\r"
_SMART = {"\u201c", "\u201d", "\u2018", "\u2019", "\u201e", "\u201a", "\u00ab", "\u00bb"}
_STATEMENT_KEYS = {
    "sid",
    "effect",
    "action",
    "notaction",
    "resource",
    "notresource",
    "condition",
    "principal",
    "notprincipal",
}
_POLICY_KEYS = ("Version", "Id", "Statement")
KNOWN_VERSIONS = ("2012-10-17", "2008-10-17")


@dataclass
class ParseResult:
    """Outcome of :func:`parse_policy`.  ``policy`` is None when nothing could be evaluated."""

    policy: Policy | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.policy is not None


def parse_policy(source: str | bytes, *, validate_actions: bool = True) -> ParseResult:
    """Decode, parse and validate an identity policy.

    ``validate_actions`` checks every action against the IAM dataset (did-you-mean included);
    turn it off to avoid loading the dataset when only the structure matters.
    """
    findings: list[Finding] = []
    text = _decode(source, findings)
    if text is None:
        return ParseResult(None, findings)
    smap = SourceMap(text)
    findings.extend(_character_findings(text, smap))
    try:
        doc = parse_json(text, allow_sequence=True)
    except JsonSyntaxError as exc:
        line, col = smap.position(exc.offset)
        findings[:] = [f for f in findings if (f.line, f.column) != (line, col)]
        findings.append(Finding(Severity.ERROR, "json-syntax", exc.message, exc.hint, line, col))
        return ParseResult(None, findings)
    findings.extend(_duplicate_keys(doc.values, smap))
    policy = _build_policy(doc.values, smap, findings, validate_actions)
    if policy is not None:
        findings.extend(size_findings(policy.compact_size))
    return ParseResult(policy, _cap(findings))


def _cap(findings: list[Finding]) -> list[Finding]:
    if len(findings) <= MAX_FINDINGS:
        return findings
    rest = len(findings) - MAX_FINDINGS
    return [
        *findings[:MAX_FINDINGS],
        Finding(Severity.WARNING, "too-many-findings", f"{rest} more findings not shown."),
    ]


def _decode(source: str | bytes, findings: list[Finding]) -> str | None:
    """Bytes or text to text; None (with a finding) for empty, binary or oversized input."""
    size = len(source)
    if size > MAX_INPUT_CHARS:
        findings.append(
            Finding(
                Severity.ERROR,
                "input-too-large",
                f"The input is {size:,} {'bytes' if isinstance(source, bytes) else 'characters'}; "
                f"refusing more than {MAX_INPUT_CHARS:,}.",
                f"An IAM managed policy holds at most {MANAGED_POLICY_LIMIT:,} characters; is this "
                "the right file?",
            )
        )
        return None
    text = _bytes_to_text(source, findings) if isinstance(source, bytes) else source
    if text is None:
        return None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        findings.append(_binary_finding("it contains NUL characters"))
        return None
    if not text.strip():
        findings.append(
            Finding(
                Severity.ERROR,
                "empty-input",
                "The policy is empty.",
                "Paste the policy JSON, or give a file that contains it.",
            )
        )
        return None
    return text


def _bytes_to_text(raw: bytes, findings: list[Finding]) -> str | None:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            findings.append(_binary_finding("it is not valid UTF-16"))
            return None
    if b"\x00" in raw:
        findings.append(_binary_finding("it contains NUL bytes"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        findings.append(_binary_finding(f"byte {exc.start} is not valid UTF-8"))
        return None


def _binary_finding(why: str) -> Finding:
    return Finding(
        Severity.ERROR,
        "binary-input",
        f"The input is not text: {why}.",
        "Give the policy as a UTF-8 JSON text file.",
    )


def _character_findings(text: str, smap: SourceMap) -> Iterator[Finding]:
    """IAM accepts only tab, LF, CR and U+0020..U+00FF in a policy document."""
    count = 0
    for offset, ch in enumerate(text):
        if (" " <= ch <= "\u00ff" and ch != "\x7f") or ch in _ALLOWED_CONTROL:
            continue
        count += 1
        if count > 10:
            yield Finding(
                Severity.ERROR,
                "invalid-character",
                "More characters outside Latin-1 follow (not listed).",
            )
            return
        line, col = smap.position(offset)
        hint = (
            "Typographic (curly) quotes come from word processors or chat tools: replace "
            "them with straight quotes."
            if ch in _SMART
            else "IAM only accepts printable Latin-1 characters (U+0020..U+00FF), tab and line "
            "breaks: remove or replace it."
        )
        yield Finding(
            Severity.ERROR,
            "invalid-character",
            f"Character {ch!r} (U+{ord(ch):04X}) is not allowed in an IAM policy.",
            hint,
            line,
            col,
        )


def _duplicate_keys(values: list[Node], smap: SourceMap) -> Iterator[Finding]:
    stack = list(values)
    while stack:
        node = stack.pop()
        if node.kind == "array":
            stack.extend(node.value)
        if node.kind != "object":
            continue
        seen: dict[str, Node] = {}
        for key, value in node.value:
            first = seen.get(key.value)
            if first is not None:
                line, col = smap.position(key.start)
                fl, fc = smap.position(first.start)
                yield Finding(
                    Severity.ERROR,
                    "duplicate-key",
                    f"Duplicate key {key.value!r} (first at line {fl}, column {fc}).",
                    "Only one of them would be used: merge the values into one key.",
                    line,
                    col,
                )
            seen[key.value] = key
            stack.append(value)


def _build_policy(
    values: list[Node], smap: SourceMap, findings: list[Finding], validate_actions: bool
) -> Policy | None:
    reader = StatementReader(smap, findings, validate_actions)
    if len(values) > 1 or values[0].kind == "array":
        items = values if len(values) > 1 else values[0].value
        return _from_statement_list(items, reader, findings, smap, len(values) > 1)
    top = values[0]
    if top.kind != "object":
        line, col = smap.position(top.start)
        findings.append(
            Finding(
                Severity.ERROR,
                "wrong-type",
                f"Expected a JSON object (a policy), found {_kind(top)}.",
                'A policy looks like {"Version": "2012-10-17", "Statement": [...]}.',
                line,
                col,
            )
        )
        return None
    keys = {k.value.lower() for k, _ in top.value}
    if keys & {"statement", "version"} or not keys & _STATEMENT_KEYS:
        return _from_policy_object(top, reader, findings, smap)
    line, col = smap.position(top.start)
    findings.append(
        Finding(
            Severity.ERROR,
            "bare-statement",
            "This is a single statement, not a policy document; it was evaluated as if wrapped in "
            "a policy.",
            'Wrap it: {"Version": "2012-10-17", "Statement": [ <this statement> ]}.',
            line,
            col,
        )
    )
    statement = reader.read(top, 0, "Statement[0]")
    return _finish([statement] if statement else [], "2012-10-17", "statement", reader)


def _from_statement_list(
    items: list[Node],
    reader: StatementReader,
    findings: list[Finding],
    smap: SourceMap,
    bare_sequence: bool,
) -> Policy | None:
    where = items[0] if items else None
    line, col = smap.position(where.start) if where else (1, 1)
    what = "statements separated by commas" if bare_sequence else "a JSON list of statements"
    findings.append(
        Finding(
            Severity.ERROR,
            "statement-list",
            f"This is {what}, not a policy document; it was evaluated as if wrapped in a policy.",
            'Wrap them: {"Version": "2012-10-17", "Statement": [ ... ]}.',
            line,
            col,
        )
    )
    statements = [
        s
        for i, node in enumerate(items)
        if (s := reader.read(node, i, f"Statement[{i}]")) is not None
    ]
    if not items:
        return None
    return _finish(statements, "2012-10-17", "statements", reader)


def _from_policy_object(
    top: Node, reader: StatementReader, findings: list[Finding], smap: SourceMap
) -> Policy | None:
    elements = reader.elements(top, _POLICY_KEYS, "")
    version = _read_version(elements.get("Version"), top, findings, smap)
    body = elements.get("Statement")
    if body is None:
        line, col = smap.position(top.start)
        findings.append(
            Finding(
                Severity.ERROR,
                "missing-statement",
                "The policy has no Statement element.",
                'Add "Statement": [ ... ] with at least one statement.',
                line,
                col,
            )
        )
        return _finish([], version, "policy", reader)
    if body.kind == "object":
        items, paths = [body], ["Statement"]
    elif body.kind == "array":
        items, paths = body.value, [f"Statement[{i}]" for i in range(len(body.value))]
        if not items:
            reader.error(body, "empty-statement", "The Statement list is empty.", None, "Statement")
    else:
        reader.error(
            body,
            "wrong-type",
            f"Statement must be an object or a list, found {_kind(body)}.",
            None,
            "Statement",
        )
        return _finish([], version, "policy", reader)
    statements = [
        s
        for i, (node, path) in enumerate(zip(items, paths, strict=True))
        if (s := reader.read(node, i, path)) is not None
    ]
    return _finish(statements, version, "policy", reader, top)


def _read_version(
    node: Node | None, top: Node, findings: list[Finding], smap: SourceMap
) -> str | None:
    if node is None:
        line, col = smap.position(top.start)
        findings.append(
            Finding(
                Severity.WARNING,
                "missing-version",
                "The policy has no Version; IAM then uses 2008-10-17, where "
                "policy variables such as ${aws:username} are not replaced.",
                'Add "Version": "2012-10-17".',
                line,
                col,
            )
        )
        return None
    line, col = smap.position(node.start)
    if node.kind != "string" or node.value not in KNOWN_VERSIONS:
        findings.append(
            Finding(
                Severity.ERROR,
                "invalid-version",
                f'Version must be "2012-10-17", found {json.dumps(node.value)}.',
                "The Version is a fixed date string, not today's date.",
                line,
                col,
                "Version",
            )
        )
        return None
    if node.value == "2008-10-17":
        findings.append(
            Finding(
                Severity.WARNING,
                "old-version",
                "Version 2008-10-17 does not support policy variables.",
                'Use "Version": "2012-10-17".',
                line,
                col,
                "Version",
            )
        )
    return str(node.value)


def _finish(
    statements: list,
    version: str | None,
    shape: str,
    reader: StatementReader,
    top: Node | None = None,
) -> Policy:
    reader.check_sids(statements)
    document = (
        top.to_python()
        if top is not None
        else {"Version": version or "2012-10-17", "Statement": reader.documents}
    )
    compact = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    return Policy(
        statements=statements,
        version=version,
        shape=shape,
        document=document,
        compact_size=len(compact),
    )


def size_findings(size: int) -> list[Finding]:
    """IAM quota findings for a policy of ``size`` characters (whitespace not counted)."""
    if size > MANAGED_POLICY_LIMIT:
        return [
            Finding(
                Severity.ERROR,
                "policy-too-large",
                f"The policy has {size:,} characters without whitespace; a managed policy holds at "
                f"most {MANAGED_POLICY_LIMIT:,}.",
                "Split it into several managed policies (batchforge policy generate --split).",
            )
        ]
    if size > INLINE_USER_POLICY_LIMIT:
        return [
            Finding(
                Severity.SUGGESTION,
                "too-large-for-inline-user-policy",
                f"The policy has {size:,} characters without whitespace: too large for an inline "
                f"user policy ({INLINE_USER_POLICY_LIMIT:,}); fine as a managed policy "
                f"({MANAGED_POLICY_LIMIT:,}).",
                "Create it as a customer managed policy and attach it to the user or role.",
            )
        ]
    return []


def _kind(node: Node) -> str:
    return {
        "object": "an object",
        "array": "a list",
        "string": "a string",
        "number": "a number",
        "bool": "a boolean",
        "null": "null",
    }[node.kind]


def iter_json_blocks(text: str) -> Iterator[tuple[int, str]]:
    """Yield ``(line, text)`` of each top-level ``{...}`` block in a prose document.

    Used to pull example policies out of documentation: a block starts at a line beginning with
    ``{`` and ends where its braces balance (strings are skipped), unless the line ends with a
    comma and the next one opens another object (statements listed one after the other).
    Blocks need not be valid JSON.
    """
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        if not lines[i].lstrip().startswith("{"):
            i += 1
            continue
        j = _block_end(lines, i)
        yield i + 1, "".join(lines[i : j + 1])
        i = j + 1


def _block_end(lines: list[str], start: int) -> int:
    depth, in_str, escaped = 0, False, False
    for j in range(start, len(lines)):
        for ch in lines[j]:
            if in_str:
                escaped, in_str = (False, True) if escaped else (ch == "\\", ch != '"')
            elif ch == '"':
                in_str = True
            elif ch in "{[":
                depth += 1
            elif ch in "}]":
                depth -= 1
        more = j + 1 < len(lines) and lines[j + 1].lstrip().startswith("{")
        if depth <= 0 and not (lines[j].rstrip().endswith(",") and more):
            return j
    return len(lines) - 1
