"""Colon-free wildcards and union coverage in :mod:`batchforge.iam.glob`, against brute force.

The pattern path of ``policy check`` reads a required resource's wildcards as colon-free names
and a policy ARN's first five segments one by one (issue #15; IAM User Guide, "IAM JSON policy
elements: Resource": wildcards are used within the segments separated by colons).  The
automata for containment, overlap and union coverage must agree with plain enumeration of
every string up to a length longer than any counterexample of these short globs.
"""

from __future__ import annotations

import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from batchforge.iam.glob import ANY, ANY_NC, ONE, ONE_NC, Glob, covered

STRINGS = ["".join(p) for n in range(7) for p in itertools.product("a:c", repeat=n)]
_TOKENS = st.sampled_from(["a", ":", ANY, ONE, ANY_NC, ONE_NC])
globs = st.lists(_TOKENS, max_size=4).map(Glob)
_REGEX = {ANY: ".*", ONE: ".", ANY_NC: "[^:]*", ONE_NC: "[^:]"}


def brute(glob: Glob) -> frozenset[str]:
    """Strings of :data:`STRINGS` the glob matches, by a regex built independently."""
    body = "".join(_REGEX.get(t) or re.escape(t) for t in glob.tokens)
    rx = re.compile(body, re.DOTALL)
    return frozenset(s for s in STRINGS if rx.fullmatch(s))


def test_examples() -> None:
    """A colon-free star cannot span a colon; an unrestricted one can."""
    seg = Glob([*"arn:", ANY_NC, *":q/", ANY])
    assert seg.matches("arn:x:q/a:b")
    assert not seg.matches("arn:x:y:q/a")
    assert Glob.parse("arn:*:q/*").contains(seg)
    assert not seg.contains(Glob.parse("arn:*:q/*"))
    assert not Glob([*"arn:", ANY_NC, *":q/", ANY]).overlaps(Glob.parse("arn:x:y:q/*"))


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(big=globs, small=globs)
def test_contains_and_overlaps_agree_with_brute_force(big: Glob, small: Glob) -> None:
    b, s = brute(big), brute(small)
    assert big.contains(small) == (s <= b)
    assert big.overlaps(small) == bool(b & s)
    assert all(big.matches(x) == (x in b) for x in STRINGS[:200])


@settings(max_examples=300, derandomize=True, deadline=None, database=None)
@given(
    small=globs,
    union=st.lists(globs, max_size=3),
    inside=st.lists(st.lists(globs, min_size=1, max_size=2), max_size=2),
)
def test_union_coverage_agrees_with_brute_force(
    small: Glob, union: list[Glob], inside: list[list[Glob]]
) -> None:
    allowed = frozenset().union(*(brute(g) for g in union))
    uncovered = brute(small) - allowed
    for group in inside:
        uncovered &= frozenset().union(*(brute(g) for g in group))
    assert covered(small, union, inside) == (not uncovered)
