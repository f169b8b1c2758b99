"""IAM-style glob patterns: ``*`` (any run of characters, also empty) and ``?`` (one character).

A :class:`Glob` is a sequence of tokens: literal one-character strings, :data:`ANY`,
:data:`ONE`, or their colon-free forms :data:`ANY_NC` / :data:`ONE_NC` (a wildcard that stays
inside one ARN segment; :mod:`.arnglob` decides where each applies).  Keeping literals and
wildcards apart lets a policy variable such as ``${*}`` stand for a *literal* asterisk.  Besides
matching a concrete string, globs can be compared as sets of strings:

* ``a.contains(b)`` -- every string matched by ``b`` is matched by ``a`` (``L(b) ⊆ L(a)``);
* ``a.overlaps(b)`` -- some string is matched by both (``L(a) ∩ L(b) ≠ ∅``);
* ``covered(small, union, inside)`` -- every string of ``small`` is matched by one of several
  globs (or lies outside an ``inside`` group): Allow entries that cover a pattern together.

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
ANY_NC = "\x00+"
"""Token: any run of characters without a colon (a ``*`` that stays inside one ARN segment)."""
ONE_NC = "\x00."
"""Token: exactly one character that is not a colon (a ``?`` inside one ARN segment)."""

_WILDCARDS = (ANY, ONE, ANY_NC, ONE_NC)
_STARS = (ANY, ANY_NC)
_NO_COLON = (ANY_NC, ONE_NC)


def tokenize(text: str) -> tuple[str, ...]:
    """Split a glob written with ``*``/``?`` into tokens (every ``*``/``?`` is a wildcard)."""
    return tuple(ANY if ch == "*" else ONE if ch == "?" else ch for ch in text)


def literal_tokens(text: str) -> tuple[str, ...]:
    """Tokens standing for ``text`` literally (no character is a wildcard)."""
    return tuple(text)


def segment_tokens(text: str) -> tuple[str, ...]:
    """Tokens of a glob whose wildcards never match a colon (``*`` -> ANY_NC, ``?`` -> ONE_NC)."""
    return tuple(ANY_NC if ch == "*" else ONE_NC if ch == "?" else ch for ch in text)


def _simplify(tokens: Iterable[str]) -> tuple[str, ...]:
    """Collapse runs of stars: ``**`` matches what ``*`` does; a colon-free star next to an
    unrestricted one adds nothing."""
    out: list[str] = []
    for tok in tokens:
        if tok in _STARS and out and out[-1] in _STARS:
            if tok == ANY:
                out[-1] = ANY
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
        return "".join(_SHOWN.get(t, t) for t in self.tokens)

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


_SHOWN = {ANY: "*", ONE: "?", ANY_NC: "*", ONE_NC: "?"}
_REGEX = {ANY: ".*", ONE: ".", ANY_NC: "[^:]*", ONE_NC: "[^:]"}


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
    return "".join(_REGEX.get(t) or re.escape(t) for t in tokens)


def _closure(tokens: tuple[str, ...], states: Iterable[int]) -> frozenset[int]:
    """Epsilon closure of NFA states: a ``*`` at position k may match nothing, reaching k+1."""
    out: set[int] = set()
    stack = list(states)
    while stack:
        k = stack.pop()
        if k in out:
            continue
        out.add(k)
        if k < len(tokens) and tokens[k] in _STARS:
            stack.append(k + 1)
    return frozenset(out)


def _accepts(tok: str, ch: str | None) -> bool:
    """Whether a one-character token (or a star, for one more character) accepts ``ch``.

    ``ch=None`` stands for a character appearing in no literal -- never a colon, because the
    alphabet always lists the colon when a colon-free wildcard is involved.
    """
    if tok in (ANY, ONE):
        return True
    if tok in _NO_COLON:
        return ch != ":"
    return tok == ch


def _step(tokens: tuple[str, ...], states: frozenset[int], ch: str | None) -> frozenset[int]:
    """NFA step on one character; ``ch=None`` stands for a character appearing in no literal."""
    nxt: list[int] = []
    for k in states:
        if k >= len(tokens):
            continue
        tok = tokens[k]
        if not _accepts(tok, ch):
            continue
        nxt.append(k if tok in _STARS else k + 1)
    return _closure(tokens, nxt)


_STAR_MARK = "\ue000"
_ONE_MARK = "\ue001"
_STAR_NC_MARK = "\ue002"
_ONE_NC_MARK = "\ue003"
_MARKS = (_STAR_MARK, _ONE_MARK, _STAR_NC_MARK, _ONE_NC_MARK)
_MARK_OF = {ANY: _STAR_MARK, ONE: _ONE_MARK, ANY_NC: _STAR_NC_MARK, ONE_NC: _ONE_NC_MARK}
_SYMBOLIC = {
    # what each wildcard of the bigger glob may absorb of the smaller one's (marked) tokens
    ANY: ".*",
    ONE: f"[^{_STAR_MARK}{_STAR_NC_MARK}]",
    ANY_NC: f"[^:{_STAR_MARK}{_ONE_MARK}]*",
    ONE_NC: f"[^:{_STAR_MARK}{_ONE_MARK}{_STAR_NC_MARK}]",
}


def _canonical(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """Reorder each run of wildcards of one family as ``?...?*`` (``*?`` and ``?*`` match the
    same strings); a run mixing colon-free and unrestricted wildcards is left as it is."""
    out: list[str] = []
    run: list[str] = []
    for tok in (*tokens, ""):
        if tok in _WILDCARDS:
            run.append(tok)
            continue
        same_family = all(t in _NO_COLON for t in run) or not any(t in _NO_COLON for t in run)
        out.extend(sorted(run, key=lambda t: t in _STARS) if same_family else run)
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
    if any(m in big + small for m in _MARKS):
        return _contains(big, small)
    regex = re.compile(_to_regex(big), re.DOTALL)
    for star, one in (("", "x"), ("\x01", "\x01"), ("\x01\x01", "/")):
        witness = "".join(star if t in _STARS else one if t in (ONE, ONE_NC) else t for t in small)
        if regex.fullmatch(witness) is None:
            return False
    big_c, small_c = _canonical(big), _canonical(small)
    symbolic = "".join(_SYMBOLIC.get(t) or re.escape(t) for t in big_c)
    marked = "".join(_MARK_OF.get(t, t) for t in small_c)
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
    literals = {t for t in big + small if t not in _WILDCARDS}
    if any(t in _NO_COLON for t in big + small):
        literals.add(":")
    alphabet: list[str | None] = sorted(literals)
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
            chars = [ch for ch in alphabet if _accepts(tok, ch)]
            if tok in _STARS:
                succ.append((i + 1, states))
                succ.extend((i, _step(big, states, ch)) for ch in chars)
            else:
                succ.extend((i + 1, _step(big, states, ch)) for ch in chars)
        for pair in succ:
            if pair not in seen:
                seen.add(pair)
                stack.append(pair)
    return True


def _compatible(a: str, b: str) -> bool:
    """Whether one character can satisfy both one-character tokens (or stars) ``a`` and ``b``."""
    if a in _WILDCARDS and b in _WILDCARDS:
        return True  # any character other than a colon satisfies every wildcard
    if a in _WILDCARDS:
        return _accepts(a, b)
    if b in _WILDCARDS:
        return _accepts(b, a)
    return a == b


@lru_cache(maxsize=8192)
def _overlaps(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether some string matches both globs: search over pairs of positions.

    From (i, j) a star may match nothing (skip it), or one character may be read by both
    sides: a star stays where it is, any other token advances; the character must satisfy both.
    """
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
        if ta in _STARS:
            stack.append((i + 1, j))
        if tb in _STARS:
            stack.append((i, j + 1))
        if ta is None or tb is None or not _compatible(ta, tb):
            continue
        a_star, b_star = ta in _STARS, tb in _STARS
        if a_star and b_star:
            continue  # both stay: reading a character changes nothing
        stack.append((i if a_star else i + 1, j if b_star else j + 1))
    return False


def _union_start(globs: tuple[tuple[str, ...], ...]) -> frozenset[tuple[int, int]]:
    return frozenset((g, k) for g, toks in enumerate(globs) for k in _closure(toks, [0]))


def _union_step(
    globs: tuple[tuple[str, ...], ...], states: frozenset[tuple[int, int]], ch: str | None
) -> frozenset[tuple[int, int]]:
    out: set[tuple[int, int]] = set()
    for g, k in states:
        toks = globs[g]
        if k < len(toks) and _accepts(toks[k], ch):
            out.update((g, j) for j in _closure(toks, [k if toks[k] in _STARS else k + 1]))
    return frozenset(out)


def _union_accepts(globs: tuple[tuple[str, ...], ...], states: frozenset[tuple[int, int]]) -> bool:
    return any(k == len(globs[g]) for g, k in states)


def covered(small: Glob, union: Iterable[Glob], inside: Iterable[Iterable[Glob]] = ()) -> bool:
    """Whether every string of ``small`` is matched by some glob of ``union`` -- or lies outside
    one of the ``inside`` groups.

    Put differently: no string is in ``small``, in every ``inside`` group (each a union of
    globs) and in no glob of ``union``.  The evaluator uses it for a pattern covered only by
    several Resource entries together, a ``NotResource`` entry standing for "outside this
    group".  Exact: a search over (position in ``small``, state sets of the other automata).
    """
    return _covered(
        small.tokens,
        tuple(g.tokens for g in union),
        tuple(tuple(g.tokens for g in group) for group in inside),
    )


@lru_cache(maxsize=2048)
def _covered(
    small: tuple[str, ...],
    union: tuple[tuple[str, ...], ...],
    inside: tuple[tuple[tuple[str, ...], ...], ...],
) -> bool:
    every = (
        small + tuple(t for g in union for t in g) + tuple(t for u in inside for g in u for t in g)
    )
    literals = {t for t in every if t not in _WILDCARDS}
    if any(t in _NO_COLON for t in every):
        literals.add(":")
    alphabet: list[str | None] = [*sorted(literals), None]
    start = (0, _union_start(union), tuple(_union_start(u) for u in inside))
    seen = {start}
    stack = [start]
    while stack:
        i, states, groups = stack.pop()
        if any(not g for g in groups):
            continue  # outside an inside-group from here on: covered
        if (
            i == len(small)
            and not _union_accepts(union, states)
            and all(_union_accepts(u, g) for u, g in zip(inside, groups, strict=True))
        ):
            return False
        if i == len(small):
            continue
        tok = small[i]
        nexts: list[tuple[int, frozenset[tuple[int, int]], tuple[frozenset[tuple[int, int]], ...]]]
        nexts = [(i + 1, states, groups)] if tok in _STARS else []
        for ch in alphabet:
            if not _accepts(tok, ch):
                continue
            moved = (
                _union_step(union, states, ch),
                tuple(_union_step(u, g, ch) for u, g in zip(inside, groups, strict=True)),
            )
            nexts.append((i if tok in _STARS else i + 1, *moved))
        for item in nexts:
            if item not in seen:
                seen.add(item)
                stack.append(item)
    return True
