"""Policy parsing: located JSON errors, grammar findings, odd input, fuzzing."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batchforge.iam.jsonsrc import MAX_DEPTH, JsonSyntaxError, parse_json
from batchforge.iam.model import Finding, Severity
from batchforge.iam.parse import MAX_INPUT_CHARS, ParseResult, parse_policy
from tests.iam.seed import seed_block_with, seed_full_policy_text


def codes(result: ParseResult) -> list[str]:
    return [f.code for f in result.findings]


def only(result: ParseResult, code: str) -> Finding:
    found = [f for f in result.findings if f.code == code]
    assert len(found) == 1, result.findings
    return found[0]


def policy(*statements: dict, version: str | None = "2012-10-17") -> str:
    doc: dict = {"Statement": list(statements)}
    if version:
        doc = {"Version": version, **doc}
    return json.dumps(doc, indent=2, ensure_ascii=False)


GOOD = {"Sid": "A", "Effect": "Allow", "Action": "batch:SubmitJob", "Resource": "*"}


def test_seed_full_policy_parses_cleanly() -> None:
    result = parse_policy(seed_full_policy_text())
    assert result.policy is not None
    assert len(result.policy.statements) == 14
    assert [f.severity for f in result.findings] == [Severity.SUGGESTION]  # inline-size note
    assert result.policy.compact_size == 3547


def test_seed_broken_iam_statement_gets_line_column_and_hint() -> None:
    text = seed_block_with("IAMRoleAndProfileManagement")
    result = parse_policy(text)
    assert result.policy is None
    finding = only(result, "json-syntax")
    assert finding.severity is Severity.ERROR
    assert (finding.line, finding.column) == (23, 1)
    assert text.splitlines()[22].startswith('"arn:aws:iam::<ACCOUNT_ID>:instance-profile')
    assert finding.hint is not None
    assert "missing comma between array items" in finding.hint.lower()
    assert "line 22, column 45" in finding.hint


@pytest.mark.parametrize(
    ("text", "line", "column", "hint_part"),
    [
        ('{"Version": "2012-10-17",}', 1, 26, "Remove the ','"),
        ('{"a": [1, 2,]}', 1, 13, "Trailing comma"),
        ('{"a": 1\n "b": 2}', 2, 2, "Missing comma between object members"),
        ('{"a" 1}', 1, 6, "Missing colon"),
        ("{'a': 1}", 1, 2, "double quotes"),
        ('{"a": True}', 1, 7, "JSON spells it true"),
        ('{"a": "x\ny"}', 1, 9, "not closed on its line"),
        ('{"a": [1}', 1, 9, "Close it with ']'"),
        ('{"a": 1}}', 1, 9, "stray closing bracket"),
        ('{"a": 1', 1, 8, "Add the missing '}'"),
        ('{"a": 1 // note\n}', 1, 9, None),
        ('{"a": "\\q"}', 1, 8, "write \\\\ for a backslash"),
        ("{\u201cVersion\u201d: 1}", 1, 2, "straight"),
    ],
)
def test_json_errors_are_located(text: str, line: int, column: int, hint_part: str | None) -> None:
    result = parse_policy(text)
    assert result.policy is None
    finding = next(f for f in result.findings if f.code == "json-syntax")
    assert (finding.line, finding.column) == (line, column), finding
    if hint_part:
        assert hint_part in (finding.hint or "") + finding.message


def test_duplicate_keys_are_reported_with_both_locations() -> None:
    text = (
        '{"Version": "2012-10-17",\n "Statement": [{"Effect": "Allow", "Action": "s3:*",\n'
        '  "Action": "ec2:*", "Resource": "*"}]}'
    )
    finding = only(parse_policy(text), "duplicate-key")
    assert (finding.line, finding.column) == (3, 3)
    assert "first at line 2, column 36" in finding.message


def test_smart_quotes_inside_strings_are_located() -> None:
    text = policy({**GOOD, "Sid": "Say\u201chi\u201d"})
    result = parse_policy(text)
    found = [f for f in result.findings if f.code == "invalid-character"]
    assert len(found) == 2
    assert found[0].line == 5
    assert "curly" in (found[0].hint or "").lower()


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ("", "empty-input"),
        ("   \n\t ", "empty-input"),
        (b"\x00\x01\x02binary", "binary-input"),
        (b"\xc3\x28 not utf8", "binary-input"),
        ("x" * (MAX_INPUT_CHARS + 1), "input-too-large"),
        ("[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5), "json-syntax"),
        ("42", "wrong-type"),
        ('"a string"', "wrong-type"),
    ],
)
def test_unusable_input_is_a_finding(source: str | bytes, code: str) -> None:
    result = parse_policy(source)
    assert result.policy is None
    assert code in codes(result)
    assert all(f.severity is Severity.ERROR for f in result.findings)


def test_utf8_bom_and_utf16_are_accepted() -> None:
    text = policy(GOOD)
    assert parse_policy(b"\xef\xbb\xbf" + text.encode()).policy is not None
    assert parse_policy(text.encode("utf-16")).policy is not None


def test_bare_statement_is_recognised_and_evaluated() -> None:
    result = parse_policy(json.dumps(GOOD))
    assert result.policy is not None
    assert result.policy.shape == "statement"
    assert result.policy.statements[0].actions == ("batch:SubmitJob",)
    assert only(result, "bare-statement").severity is Severity.ERROR


def test_statement_lists_and_comma_separated_statements_are_recognised() -> None:
    as_list = parse_policy(json.dumps([GOOD, {**GOOD, "Sid": "B"}]))
    assert as_list.policy is not None and as_list.policy.shape == "statements"
    pasted = parse_policy(seed_block_with("S3CheckBucketWorkDirectory"))
    assert pasted.policy is not None
    assert [s.sid for s in pasted.policy.statements] == [
        "S3CheckBucketWorkDirectory",
        "S3ReadOnlyNextflowLogFiles",
        "S3ReadWriteBucketsForStudiosDataExplorer",
    ]
    assert "statement-list" in codes(pasted)


@pytest.mark.parametrize(
    ("statement", "code"),
    [
        ({**GOOD, "Effect": "Permit"}, "invalid-effect"),
        ({k: v for k, v in GOOD.items() if k != "Effect"}, "missing-effect"),
        ({k: v for k, v in GOOD.items() if k != "Action"}, "missing-action"),
        ({k: v for k, v in GOOD.items() if k != "Resource"}, "missing-resource"),
        ({**GOOD, "NotAction": "s3:*"}, "action-and-notaction"),
        ({**GOOD, "NotResource": "*"}, "resource-and-notresource"),
        ({**GOOD, "Principal": {"AWS": "*"}}, "principal-in-identity-policy"),
        ({**GOOD, "Sid": "has spaces"}, "invalid-sid"),
        ({**GOOD, "Colour": "red"}, "unknown-element"),
        ({**GOOD, "Action": "batch:SubmitJobs"}, "unknown-action"),
        ({**GOOD, "Action": "bacth:SubmitJob"}, "unknown-service"),
        ({**GOOD, "Action": "batch:Nothing*"}, "action-matches-nothing"),
        ({**GOOD, "Action": "SubmitJob"}, "invalid-action"),
        ({**GOOD, "Action": ["batch:SubmitJob", 3]}, "wrong-type"),
        ({**GOOD, "Action": []}, "empty-list"),
        ({**GOOD, "Resource": "arn:aws:batch:job-queue/x"}, "invalid-arn"),
        ({**GOOD, "Resource": "arn:aws:iam::<ACCOUNT_ID>:role/x"}, "invalid-arn"),
        (
            {**GOOD, "Condition": {"StringEqual": {"aws:username": "a"}}},
            "unknown-condition-operator",
        ),
        ({**GOOD, "Condition": {"StringEquals": "a"}}, "invalid-condition"),
        ({**GOOD, "Condition": {"StringEquals": {"aws:username": []}}}, "invalid-condition"),
        (
            {**GOOD, "Condition": {"NullIfExists": {"aws:username": "true"}}},
            "unknown-condition-operator",
        ),
    ],
)
def test_grammar_findings(statement: dict, code: str) -> None:
    result = parse_policy(policy(statement))
    assert result.policy is not None
    finding = only(result, code)
    assert finding.severity is Severity.ERROR
    assert finding.line is not None


def test_unknown_action_suggests_the_right_one() -> None:
    finding = only(parse_policy(policy({**GOOD, "Action": "batch:SubmitJobs"})), "unknown-action")
    assert "batch:SubmitJob" in (finding.hint or "")
    finding = only(
        parse_policy(policy({**GOOD, "Action": "ec2:DescribeLaunchTemplate"})), "unknown-action"
    )
    assert "ec2:DescribeLaunchTemplates" in (finding.hint or "")


def test_duplicate_sids_and_versions() -> None:
    result = parse_policy(policy(GOOD, GOOD))
    assert "duplicate-sid" in codes(result)
    assert "missing-version" in codes(parse_policy(policy(GOOD, version=None)))
    assert "invalid-version" in codes(parse_policy(policy(GOOD, version="2024-01-01")))
    assert "old-version" in codes(parse_policy(policy(GOOD, version="2008-10-17")))


def test_element_case_is_reported_but_read() -> None:
    result = parse_policy(policy({"effect": "Allow", "action": "s3:*", "resource": "*"}))
    assert codes(result).count("element-case") == 3
    assert result.policy is not None
    assert result.policy.statements[0].actions == ("s3:*",)


def test_sizes_against_iam_quotas() -> None:
    many = [f"arn:aws:s3:::bucket-{i:04d}/*" for i in range(250)]
    big = parse_policy(policy({**GOOD, "Resource": many}))
    assert only(big, "policy-too-large").severity is Severity.ERROR
    mid = parse_policy(policy({**GOOD, "Resource": many[:70]}))
    assert "too-large-for-inline-user-policy" in codes(mid)
    assert "policy-too-large" not in codes(mid)


def test_condition_values_of_other_json_types_become_strings() -> None:
    result = parse_policy(
        policy(
            {
                **GOOD,
                "Condition": {
                    "Bool": {"aws:SecureTransport": True},
                    "NumericLessThan": {"s3:max-keys": 10},
                },
            }
        )
    )
    assert result.policy is not None
    values = [c.values for c in result.policy.statements[0].conditions]
    assert values == [("true",), ("10",)]


# -- the located JSON parser agrees with the json module --------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=json_values, indent=st.sampled_from([None, 1, 4]))
def test_json_parser_round_trips(value: object, indent: int | None) -> None:
    text = json.dumps(value, indent=indent)
    assert parse_json(text).values[0].to_python() == json.loads(text)


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=string.printable + "\u201c\u00e9", max_size=40))
def test_json_parser_accepts_exactly_what_json_accepts(text: str) -> None:
    try:
        expected = json.loads(text)
    except ValueError:
        expected = ValueError
    try:
        got = parse_json(text).values[0].to_python()
    except JsonSyntaxError as exc:
        assert 0 <= exc.offset <= len(text)
        got = ValueError
    if expected is not ValueError and got is ValueError:
        assert (
            text.strip() in ("NaN", "Infinity", "-Infinity") or "NaN" in text or "Infinity" in text
        )
    else:
        assert got == expected or (expected is ValueError and got is ValueError)


# -- fuzzing: anything in, a structured result out --------------------------------------------


def _check_result(result: ParseResult) -> None:
    assert isinstance(result, ParseResult)
    assert all(isinstance(f, Finding) for f in result.findings)
    if result.policy is None:
        assert any(f.severity is Severity.ERROR for f in result.findings)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200))
def test_fuzz_bytes(data: bytes) -> None:
    _check_result(parse_policy(data))


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=200))
def test_fuzz_text(text: str) -> None:
    _check_result(parse_policy(text))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_mutated_seed_policy(data: st.DataObject) -> None:
    """Random edits of a real policy: never an exception, and valid JSON stays usable."""
    text = seed_full_policy_text()
    for _ in range(data.draw(st.integers(1, 3))):
        pos = data.draw(st.integers(0, len(text)))
        edit = data.draw(st.sampled_from(["delete", "insert"]))
        if edit == "delete":
            text = text[:pos] + text[pos + 1 :]
        else:
            char = data.draw(st.sampled_from(list('{}[],:"\\ a\u2019*\n')))
            text = text[:pos] + char + text[pos:]
    result = parse_policy(text)
    _check_result(result)
    try:
        decoded = json.loads(text)
    except ValueError:
        return
    if isinstance(decoded, dict):
        assert result.policy is not None
