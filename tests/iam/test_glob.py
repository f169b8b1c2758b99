"""Glob matching, containment and overlap -- examples and brute-force properties."""

from __future__ import annotations

import functools
import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batchforge.iam.glob import Glob

SAMPLES = [
    "".join(chars)
    for n in range(0, 7)
    for chars in itertools.product("abc", repeat=n)  # "c" stands for any other character
]
globs = st.text(alphabet="ab*?", max_size=4)


@functools.cache
def _regex(pattern: str) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL)


def brute_match(pattern: str, value: str) -> bool:
    return _regex(pattern).fullmatch(value) is not None


@pytest.mark.parametrize(
    ("big", "small", "contains"),
    [
        ("*", "arn:aws:s3:::b/*", True),
        ("arn:aws:batch:*:*:job-queue/*", "arn:aws:batch:*:*:job-queue/TowerForge-*", True),
        ("arn:aws:batch:us-east-1:*:job-queue/*", "arn:aws:batch:*:*:job-queue/Tower*", False),
        ("arn:aws:batch:*:*:job-queue/TowerForge-*", "arn:aws:batch:*:*:job-queue/*", False),
        ("arn:aws:s3:::bucket", "arn:aws:s3:::bucket", True),
        ("arn:aws:s3:::bucket", "arn:aws:s3:::bucket*", False),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", False),
        ("a*b*c", "ab*bc", True),
        ("a*b*c", "a*c", False),
        ("*?", "?*", True),
        ("?*", "*", False),
        ("a?c", "abc", True),
    ],
)
def test_contains_examples(big: str, small: str, contains: bool) -> None:
    assert Glob.parse(big).contains(Glob.parse(small)) is contains


@pytest.mark.parametrize(
    ("a", "b", "overlaps"),
    [
        ("arn:aws:batch:*:1:job-queue/*", "arn:aws:batch:*:*:job-queue/TowerForge-*", True),
        ("arn:aws:batch:r:1:job/*", "arn:aws:batch:r:1:job-queue/*", False),
        # "*" spans colons: "arn:aws:batch:a:b:job-queue/c:job/d" matches both
        ("arn:aws:batch:*:*:job/*", "arn:aws:batch:*:*:job-queue/*", True),
        ("x*", "*y", True),
        ("a?", "?b", True),
        ("ab", "a", False),
    ],
)
def test_overlaps_examples(a: str, b: str, overlaps: bool) -> None:
    assert Glob.parse(a).overlaps(Glob.parse(b)) is overlaps
    assert Glob.parse(b).overlaps(Glob.parse(a)) is overlaps


def test_actions_match_case_insensitively_resources_do_not() -> None:
    assert Glob.parse("S3:Get*", ignore_case=True).matches("s3:getobject")
    assert not Glob.parse("arn:aws:s3:::Bucket").matches("arn:aws:s3:::bucket")


def test_literal_glob_treats_wildcards_as_characters() -> None:
    literal = Glob.literal("a*b")
    assert literal.matches("a*b")
    assert not literal.matches("axb")
    assert Glob.parse("a*").contains(literal)


@settings(max_examples=250, deadline=None)
@given(pattern=globs, value=st.text(alphabet="abc", max_size=6))
def test_matches_agrees_with_regex(pattern: str, value: str) -> None:
    assert Glob.parse(pattern).matches(value) == brute_match(pattern, value)


@settings(max_examples=300, deadline=None)
@given(big=globs, small=globs)
def test_contains_agrees_with_brute_force(big: str, small: str) -> None:
    """contains() is true exactly when no sampled string of ``small`` escapes ``big``."""
    escapes = [s for s in SAMPLES if brute_match(small, s) and not brute_match(big, s)]
    assert Glob.parse(big).contains(Glob.parse(small)) == (not escapes), escapes[:3]


@settings(max_examples=300, deadline=None)
@given(a=globs, b=globs)
def test_overlaps_agrees_with_brute_force(a: str, b: str) -> None:
    common = [s for s in SAMPLES if brute_match(a, s) and brute_match(b, s)]
    assert Glob.parse(a).overlaps(Glob.parse(b)) == bool(common)


@settings(max_examples=200, deadline=None)
@given(a=globs, b=globs)
def test_containment_implies_overlap_and_is_reflexive(a: str, b: str) -> None:
    ga, gb = Glob.parse(a), Glob.parse(b)
    assert ga.contains(ga)
    if ga.contains(gb):
        assert ga.overlaps(gb)
