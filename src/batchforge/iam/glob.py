"""IAM-style glob patterns: ``*`` (any run of characters, also empty) and ``?`` (one character).

A :class:`Glob` is a sequence of tokens: literal one-character strings, :data:`ANY` or
:data:`ONE`.  Keeping literals and wildcards apart lets a policy variable such as ``${*}`` stand
for a *literal* asterisk.  Besides matching a concrete string, two globs can be compared as sets
of strings:

* ``a.contains(b)`` -- every string matched by ``b`` is matched by ``a`` (``L(b) ⊆ L(a)``);
* ``a.overlaps(b)`` -- some string is matched by both (``L(a) ∩ L(b) ≠ ∅``).

The evaluator uses them to decide whether a *required resource pattern* such as
``arn:aws:batch:*:*:job-queue/TowerForge-*`` is wholly covered by an Allow and untouched by a
Deny.  Fast paths cover the shapes seen in practice (``*``, a literal, ``prefix*``); the general
case runs a small automaton construction whose cost is bounded by the pattern lengths.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

ANY = "\x00*"
"""Token: any run of characters (``*``)."""
ONE = "\x00?"
"""Token: exactly one character (``?``)."""

_WILDCARDS = (ANY, ONE)


def tokenize(text: str) -> tuple[str, ...]:
    """Split a glob written with ``*``/``?`` into tokens (every ``*``/``?`` is a wildcard)."""
    return tuple(ANY if ch == "*" else ONE if ch == "?" else ch for ch in text)


def literal_tokens(text: str) -> tuple[str, ...]:
    """Tokens standing for ``text`` literally (no character is a wildcard)."""
    return tuple(text)


def _simplify(tokens: Iterable[str]) -> tuple[str, ...]:
    """Collapse runs of ``*`` (``**`` matches the same strings as ``*``)."""
    out: list[str] = []
    for tok in tokens:
        if tok == ANY and out and out[-1] == ANY:
            continue
        out.append(tok)
    return tuple(out)


class Glob:
    """A compiled glob.  Immutable; equality and hashing follow the token sequence."""

    __slots__ = ("_regex", "ignore_case", "kind", "prefix", "tokens")

    def __init__(self, tokens: Iterable[str], *, ignore_case: bool = False) -> None:
        toks = _simplify(tokens)
        if ignore_case:
            toks = tuple(t if t in _WILDCARDS else t.lower() for t in toks)
        self.tokens: tuple[str, ...] = toks
        self.ignore_case = ignore_case
        self.kind, self.prefix = _classify(toks)
        self._regex: re.Pattern[str] | None = None

    @classmethod
    def parse(cls, text: str, *, ignore_case: bool = False) -> Glob:
        """Compile ``text`` where every ``*`` and ``?`` is a wildcard."""
        return _parse_cached(text, ignore_case)

    @classmethod
    def literal(cls, text: str) -> Glob:
        """A glob matching exactly ``text`` (its ``*`` and ``?`` are ordinary characters)."""
        return _literal_cached(text)

    def __repr__(self) -> str:
        return f"Glob({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Glob) and other.tokens == self.tokens

    def __hash__(self) -> int:
        return hash(self.tokens)

    @property
    def text(self) -> str:
        """The pattern written back with ``*``/``?`` (a literal ``*`` is shown as ``*`` too)."""
        return "".join("*" if t == ANY else "?" if t == ONE else t for t in self.tokens)

    @property
    def has_wildcards(self) -> bool:
        return self.kind != "literal"

    def matches(self, value: str) -> bool:
        """Whether the concrete string ``value`` is matched."""
        if self.ignore_case:
            value = value.lower()
        if self.kind == "all":
            return True
        if self.kind == "literal":
            return value == self.prefix
        if self.kind == "prefix":
            return value.startswith(self.prefix)
        if self._regex is None:
            self._regex = re.compile(_to_regex(self.tokens), re.DOTALL)
        return self._regex.fullmatch(value) is not None

    def contains(self, other: Glob) -> bool:
        """Whether every string ``other`` matches is also matched by ``self``."""
        if self.kind == "all":
            return True
        if self.kind == "literal":
            return other.kind == "literal" and other.prefix == self.prefix
        if self.kind == "prefix":
            head = other.tokens[: len(self.prefix)]
            if len(head) < len(self.prefix) or any(t in _WILDCARDS for t in head):
                return False
            return "".join(head) == self.prefix
        if other.kind == "literal":
            return self.matches(other.prefix)
        return _contains_shortcut(self.tokens, other.tokens)

    def overlaps(self, other: Glob) -> bool:
        """Whether at least one string is matched by both globs."""
        if self.kind == "all" or other.kind == "all":
            return True
        if other.kind == "literal":
            return self.matches(other.prefix)
        if self.kind == "literal":
            return other.matches(self.prefix)
        if self.kind == "prefix" and other.kind == "prefix":
            return self.prefix.startswith(other.prefix) or other.prefix.startswith(self.prefix)
        return _overlaps(self.tokens, other.tokens)


@lru_cache(maxsize=4096)
def _parse_cached(text: str, ignore_case: bool) -> Glob:
    return Glob(tokenize(text), ignore_case=ignore_case)


@lru_cache(maxsize=4096)
def _literal_cached(text: str) -> Glob:
    return Glob(literal_tokens(text))


def _classify(tokens: tuple[str, ...]) -> tuple[str, str]:
    """Return (kind, literal prefix): kind is ``all``, ``literal``, ``prefix`` or ``general``."""
    if tokens == (ANY,):
        return "all", ""
    wild = [i for i, t in enumerate(tokens) if t in _WILDCARDS]
    if not wild:
        return "literal", "".join(tokens)
    if wild == [len(tokens) - 1] and tokens[-1] == ANY:
        return "prefix", "".join(tokens[:-1])
    return "general", ""


def _to_regex(tokens: tuple[str, ...]) -> str:
    return "".join(".*" if t == ANY else "." if t == ONE else re.escape(t) for t in tokens)


def _closure(tokens: tuple[str, ...], states: Iterable[int]) -> frozenset[int]:
    """Epsilon closure of NFA states: a ``*`` at position k may match nothing, reaching k+1."""
    out: set[int] = set()
    stack = list(states)
    while stack:
        k = stack.pop()
        if k in out:
            continue
        out.add(k)
        if k < len(tokens) and tokens[k] == ANY:
            stack.append(k + 1)
    return frozenset(out)


def _step(tokens: tuple[str, ...], states: frozenset[int], ch: str | None) -> frozenset[int]:
    """NFA step on one character; ``ch=None`` stands for a character appearing in no literal."""
    nxt: list[int] = []
    for k in states:
        if k >= len(tokens):
            continue
        tok = tokens[k]
        if tok == ANY:
            nxt.append(k)
        elif tok in (ONE, ch):
            nxt.append(k + 1)
    return _closure(tokens, nxt)


_STAR_MARK = "\ue000"
_ONE_MARK = "\ue001"


def _canonical(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Reorder each run of wildcards as ``?...?*`` (``*?`` and ``?*`` match the same strings)."""
    out: list[str] = []
    run: list[str] = []
    for tok in (*tokens, ""):
        if tok in _WILDCARDS:
            run.append(tok)
            continue
        out.extend(sorted(run, key=lambda t: t == ANY))
        run = []
        if tok:
            out.append(tok)
    return _simplify(out)


@lru_cache(maxsize=8192)
def _contains_shortcut(big: tuple[str, ...], small: tuple[str, ...]) -> bool:
    """Cheap sound answers first, the exact automaton only when they are inconclusive.

    * a *witness* string of ``small`` that ``big`` rejects proves non-containment;
    * a *symbolic match* -- ``big`` matching ``small`` where each ``*`` of ``small`` must fall
      inside a ``*`` of ``big`` and each ``?`` inside a ``?`` or ``*`` -- proves containment.
    """
    if _STAR_MARK in big + small or _ONE_MARK in big + small:
        return _contains(big, small)
    regex = re.compile(_to_regex(big), re.DOTALL)
    for star, one in (("", "x"), ("\x01", "\x01"), ("\x01\x01", "/")):
        witness = "".join(star if t == ANY else one if t == ONE else t for t in small)
        if regex.fullmatch(witness) is None:
            return False
    big_c, small_c = _canonical(big), _canonical(small)
    symbolic = "".join(
        ".*" if t == ANY else f"[^{_STAR_MARK}]" if t == ONE else re.escape(t) for t in big_c
    )
    marked = "".join(_STAR_MARK if t == ANY else _ONE_MARK if t == ONE else t for t in small_c)
    if re.fullmatch(symbolic, marked, re.DOTALL):
        return True
    return _contains(big, small)


@lru_cache(maxsize=8192)
def _contains(big: tuple[str, ...], small: tuple[str, ...]) -> bool:
    """``L(small) ⊆ L(big)`` by exploring (position in ``small``, subset of ``big``'s NFA).

    The alphabet is reduced to the literal characters of both globs plus one stand-in (``None``)
    for every other character: all such characters behave identically in both automata.  A
    reachable pair where ``small`` accepts but no state of ``big`` accepts is a counterexample.
    """
    alphabet: list[str | None] = sorted({t for t in big + small if t not in _WILDCARDS})
    alphabet.append(None)
    end = len(big)
    start = (0, _closure(big, [0]))
    seen = {start}
    stack = [start]
    while stack:
        i, states = stack.pop()
        if not states:
            return False  # big can no longer match anything, but small still has strings
        if i == len(small) and end not in states:
            return False
        succ: list[tuple[int, frozenset[int]]] = []
        if i < len(small):
            tok = small[i]
            if tok == ANY:
                succ.append((i + 1, states))
                succ.extend((i, _step(big, states, ch)) for ch in alphabet)
            elif tok == ONE:
                succ.extend((i + 1, _step(big, states, ch)) for ch in alphabet)
            else:
                succ.append((i + 1, _step(big, states, tok)))
        for pair in succ:
            if pair not in seen:
                seen.add(pair)
                stack.append(pair)
    return True


@lru_cache(maxsize=8192)
def _overlaps(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether some string matches both globs: search over pairs of positions."""
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(a) and j == len(b):
            return True
        ta = a[i] if i < len(a) else None
        tb = b[j] if j < len(b) else None
        if ta == ANY:
            stack.append((i + 1, j))  # a's star matches nothing more
            if tb is not None:
                stack.append((i, j + 1))  # a's star absorbs b's token (star-star is fine too)
        if tb == ANY:
            stack.append((i, j + 1))
            if ta is not None:
                stack.append((i + 1, j))
        both = ta is not None and tb is not None and ANY not in (ta, tb)
        if both and (ONE in (ta, tb) or ta == tb):
            stack.append((i + 1, j + 1))
    return False
