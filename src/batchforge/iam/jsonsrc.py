"""A small JSON parser that keeps source positions, for pointing at mistakes in pasted policies.

Python's :mod:`json` says *that* a document is broken but not *why* in words a user can act on,
and it forgets where values were.  This parser keeps the offset of every value and key (so
findings can name line and column), keeps duplicate keys instead of silently dropping them,
limits nesting depth, and turns syntax errors into a message plus a hint such as "missing comma
between array items".  It accepts exactly RFC 8259 JSON.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 32
"""Deeper nesting is refused (an IAM policy needs at most 5 levels)."""

_TOKEN = re.compile(
    r"""
    (?P<string>"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")
  | (?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?(?![0-9A-Za-z_.]))
  | (?P<punct>[{}\[\]:,])
  | (?P<word>(?:true|false|null)(?![0-9A-Za-z_]))
    """,
    re.VERBOSE,
)
_WS = re.compile(r"[ \t\n\r]*")
_BAREWORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$.:/*-]*")
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_SMART_QUOTES = "\u201c\u201d\u201e\u201f\u2018\u2019\u201a\u201b\u00ab\u00bb\u2033\u2032"


@dataclass
class Node:
    """A JSON value with its source span.  ``value`` holds, per ``kind``:

    ``object`` -- list of ``(key Node, value Node)`` pairs in source order, duplicates kept;
    ``array`` -- list of Nodes; scalars -- the Python value.
    """

    kind: str
    value: Any
    start: int
    end: int = 0
    children: list[Any] = field(default_factory=list)

    def to_python(self) -> Any:
        """Plain Python value; for a duplicated key the last one wins (as in :mod:`json`)."""
        if self.kind == "object":
            return {k.value: v.to_python() for k, v in self.value}
        if self.kind == "array":
            return [v.to_python() for v in self.value]
        return self.value

    def get(self, key: str) -> Node | None:
        """The value of ``key`` in an object node (last duplicate), or None."""
        if self.kind != "object":
            return None
        found = None
        for k, v in self.value:
            if k.value == key:
                found = v
        return found


class JsonSyntaxError(Exception):
    """A syntax error at ``offset`` with a human ``message`` and an actionable ``hint``."""

    def __init__(self, message: str, offset: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


class SourceMap:
    """Converts character offsets to 1-based (line, column)."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer(r"\r\n|\n|\r", text)]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset) - 1
        return line + 1, offset - self._starts[line] + 1


@dataclass
class _Tok:
    kind: str  # string, number, word, one of {}[]:, , or eof
    text: str
    start: int
    end: int


class _Parser:
    def __init__(self, text: str, smap: SourceMap) -> None:
        self.text = text
        self.smap = smap
        self.pos = 0

    def where(self, offset: int) -> str:
        line, col = self.smap.position(offset)
        return f"line {line}, column {col}"

    def token(self) -> _Tok:
        self.pos = _WS.match(self.text, self.pos).end()  # type: ignore[union-attr]
        if self.pos >= len(self.text):
            return _Tok("eof", "", self.pos, self.pos)
        m = _TOKEN.match(self.text, self.pos)
        if m is None:
            raise self._bad_char(self.pos)
        kind = m.lastgroup or ""
        tok = _Tok(m.group() if kind == "punct" else kind, m.group(), m.start(), m.end())
        self.pos = m.end()
        return tok

    def _bad_char(self, pos: int) -> JsonSyntaxError:
        ch = self.text[pos]
        if ch == '"':
            return _string_error(self.text, pos)
        if ch in _SMART_QUOTES:
            return JsonSyntaxError(
                f"Typographic quote {ch!r} (U+{ord(ch):04X}) instead of a JSON double quote",
                pos,
                'Replace curly quotes with straight double quotes (") -- word processors and '
                "chat tools often convert them.",
            )
        if ch == "'":
            return JsonSyntaxError(
                "Single-quoted string", pos, 'JSON strings must use double quotes (").'
            )
        if self.text.startswith(("//", "/*"), pos):
            return JsonSyntaxError("Comment in JSON", pos, "JSON does not allow comments.")
        word = _BAREWORD.match(self.text, pos)
        if word:
            hint = "Strings (also keys) must be in double quotes"
            lower = {"True": "true", "False": "false", "None": "null", "NULL": "null"}
            if word.group() in lower:
                hint = f"JSON spells it {lower[word.group()]}"
            return JsonSyntaxError(f"Unquoted text {word.group()[:40]!r}", pos, hint + ".")
        if ch.isdigit() or ch in "+-.":
            return JsonSyntaxError("Invalid number", pos, "Numbers are written like 12 or 1.5.")
        return JsonSyntaxError(f"Unexpected character {ch!r} (U+{ord(ch):04X})", pos, None)

    def value(self, tok: _Tok, depth: int) -> Node:
        if tok.kind == "{":
            return self._object(tok, depth + 1)
        if tok.kind == "[":
            return self._array(tok, depth + 1)
        if tok.kind == "string":
            return Node("string", _decode_string(tok.text), tok.start, tok.end)
        if tok.kind == "number":
            num = float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
            return Node("number", num, tok.start, tok.end)
        if tok.kind == "word":
            return Node(
                "bool" if tok.text != "null" else "null",
                {"true": True, "false": False, "null": None}[tok.text],
                tok.start,
                tok.end,
            )
        raise self._expected_value(tok)

    def _expected_value(self, tok: _Tok) -> JsonSyntaxError:
        if tok.kind == "eof":
            return JsonSyntaxError(
                "Unexpected end of input: a value is missing",
                tok.start,
                "The text is cut short; check that it was pasted completely.",
            )
        if tok.kind in "]}":
            return JsonSyntaxError(
                f"Expected a value, found {tok.kind!r}",
                tok.start,
                "Trailing comma: remove the ',' before the closing bracket.",
            )
        return JsonSyntaxError(f"Expected a value, found {tok.text!r}", tok.start, None)

    def _check_depth(self, tok: _Tok, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise JsonSyntaxError(
                f"Nesting deeper than {MAX_DEPTH} levels",
                tok.start,
                "An IAM policy never needs more than a few levels of nesting.",
            )

    def _object(self, open_tok: _Tok, depth: int) -> Node:
        self._check_depth(open_tok, depth)
        node = Node("object", [], open_tok.start)
        tok = self.token()
        if tok.kind == "}":
            node.end = tok.end
            return node
        while True:
            if tok.kind != "string":
                raise self._bad_key(tok, open_tok, bool(node.value))
            key = Node("string", _decode_string(tok.text), tok.start, tok.end)
            colon = self.token()
            if colon.kind != ":":
                raise JsonSyntaxError(
                    f"Expected ':' after the key {key.value!r}",
                    colon.start,
                    "Missing colon between a key and its value.",
                )
            node.value.append((key, self.value(self.token(), depth)))
            tok = self.token()
            if tok.kind == "}":
                node.end = tok.end
                return node
            if tok.kind != ",":
                raise self._bad_separator(tok, open_tok, "}", node.value[-1][1], "object members")
            tok = self.token()

    def _bad_key(self, tok: _Tok, open_tok: _Tok, after_comma: bool) -> JsonSyntaxError:
        if tok.kind == "}" and after_comma:
            return JsonSyntaxError(
                "Trailing comma in an object",
                tok.start,
                "Remove the ',' after the last member.",
            )
        if tok.kind == "eof":
            return self._unclosed(open_tok, "}", tok)
        return JsonSyntaxError(
            f"Expected a key in double quotes, found {tok.text or tok.kind!r}",
            tok.start,
            'Object keys must be strings, like "Effect".',
        )

    def _array(self, open_tok: _Tok, depth: int) -> Node:
        self._check_depth(open_tok, depth)
        node = Node("array", [], open_tok.start)
        tok = self.token()
        if tok.kind == "]":
            node.end = tok.end
            return node
        while True:
            if tok.kind == "]":
                raise JsonSyntaxError(
                    "Trailing comma in an array",
                    tok.start,
                    "Remove the ',' after the last item.",
                )
            if tok.kind == "eof":
                raise self._unclosed(open_tok, "]", tok)
            node.value.append(self.value(tok, depth))
            tok = self.token()
            if tok.kind == "]":
                node.end = tok.end
                return node
            if tok.kind != ",":
                raise self._bad_separator(tok, open_tok, "]", node.value[-1], "array items")
            tok = self.token()

    def _bad_separator(
        self, tok: _Tok, open_tok: _Tok, closer: str, prev: Node, what: str
    ) -> JsonSyntaxError:
        if tok.kind == "eof":
            return self._unclosed(open_tok, closer, tok)
        if tok.kind in ("string", "number", "word", "{", "["):
            return JsonSyntaxError(
                f"Expected ',' or '{closer}' after the previous value, found the start of "
                "another value",
                tok.start,
                f"Missing comma between {what}: add ',' after the value ending at "
                f"{self.where(prev.end - 1)}.",
            )
        if tok.kind in "]}":
            return JsonSyntaxError(
                f"Mismatched bracket: {open_tok.kind!r} opened at {self.where(open_tok.start)} "
                f"is closed by {tok.kind!r}",
                tok.start,
                f"Close it with {closer!r}, or check for a missing opening bracket.",
            )
        return JsonSyntaxError(f"Expected ',' or '{closer}', found {tok.text!r}", tok.start, None)

    def _unclosed(self, open_tok: _Tok, closer: str, tok: _Tok) -> JsonSyntaxError:
        return JsonSyntaxError(
            f"Unexpected end of input: {open_tok.kind!r} opened at {self.where(open_tok.start)} "
            "is never closed",
            tok.start,
            f"Add the missing {closer!r} (or check the text was pasted completely).",
        )


def _string_error(text: str, pos: int) -> JsonSyntaxError:
    """Explain why the string starting at ``pos`` did not tokenize."""
    i = pos + 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            break
        if ch == "\\":
            nxt = text[i + 1 : i + 2]
            if nxt == "u":
                if not re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
                    return JsonSyntaxError(
                        "Invalid \\u escape", i, "Use \\u followed by 4 hex digits."
                    )
                i += 6
                continue
            if nxt not in _ESCAPES:
                return JsonSyntaxError(
                    f"Invalid escape '\\{nxt}' in a string",
                    i,
                    'Only \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX are allowed; write \\\\ for a '
                    "backslash.",
                )
            i += 2
            continue
        if ch in "\r\n":
            return JsonSyntaxError(
                "Line break inside a string",
                i,
                "A string is not closed on its line: add the closing '\"' (or write \\n).",
            )
        if ord(ch) < 0x20:
            return JsonSyntaxError(
                f"Control character U+{ord(ch):04X} inside a string", i, "Remove it."
            )
        i += 1
    return JsonSyntaxError("Unterminated string", pos, "Add the closing double quote.")


def _decode_string(literal: str) -> str:
    body = literal[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt == "u":
            code = int(body[i + 2 : i + 6], 16)
            low = _low_surrogate(body, i + 6) if 0xD800 <= code <= 0xDBFF else None
            if low is not None:  # a UTF-16 surrogate pair stands for one character
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                i += 6
            out.append(chr(code))
            i += 6
        else:
            out.append(_ESCAPES[nxt])
            i += 2
    return "".join(out)


def _low_surrogate(body: str, i: int) -> int | None:
    if body[i : i + 2] != "\\u":
        return None
    code = int(body[i + 2 : i + 6], 16)
    return code if 0xDC00 <= code <= 0xDFFF else None


@dataclass
class Document:
    """Parse result: the top-level values (one, or several separated by commas)."""

    values: list[Node]
    smap: SourceMap

    @property
    def is_sequence(self) -> bool:
        return len(self.values) > 1


def parse_json(text: str, *, allow_sequence: bool = False) -> Document:
    """Parse ``text``; raise :class:`JsonSyntaxError` with offset and hint on bad input.

    With ``allow_sequence`` several values separated by commas (``{...}, {...}`` -- statements
    copied from documentation) are accepted and returned in order.
    """
    smap = SourceMap(text)
    parser = _Parser(text, smap)
    values = [parser.value(parser.token(), 0)]
    while True:
        tok = parser.token()
        if tok.kind == "eof":
            return Document(values, smap)
        if tok.kind == "," and allow_sequence:
            values.append(parser.value(parser.token(), 0))
            continue
        raise JsonSyntaxError(
            f"Extra text after the end of the JSON value: {tok.text or tok.kind!r}",
            tok.start,
            "Only one JSON document is allowed: look for a stray closing bracket or a second "
            "policy pasted after the first.",
        )
