"""The trace parser alone: what the plugin's payloads may contain (trace_parse.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from batchforge.runs import trace_parse as parse
from tests.trace import payloads as p


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-05T08:01Z", datetime(2026, 12, 5, 8, 1, tzinfo=UTC)),  # Java omits :00
        ("2026-12-05T08:01:02Z", datetime(2026, 12, 5, 8, 1, 2, tzinfo=UTC)),
        ("2026-12-05T10:01:02.558+02:00", datetime(2026, 12, 5, 8, 1, 2, 558000, tzinfo=UTC)),
        ("2026-12-05T09:01+0100", datetime(2026, 12, 5, 8, 1, tzinfo=UTC)),
        ("2026-12-05T08:01:02", datetime(2026, 12, 5, 8, 1, 2, tzinfo=UTC)),  # no zone: UTC
        (1_796_457_662_000, datetime(2026, 12, 5, 8, 1, 2, tzinfo=UTC)),  # epoch millis
        (None, None),
    ],
)
def test_dates_with_or_without_seconds(text, expected):
    assert parse.parse_time(text) == expected


def test_dates_that_are_not_dates_are_refused():
    for value in ("yesterday", "2026-13-05T08:01Z", True, {"a": 1}):
        with pytest.raises(ValueError):
            parse.parse_time(value)


def test_nul_and_lone_surrogates_are_replaced_not_refused():
    task = parse.parse_task(p.task(1, "NEW", tag="a\x00b", script="x\ud800y", odd={"k": "\x00"}))
    assert task.tag == "a\ufffdb" and task.data["script"] == "x\ufffdy"
    assert task.data["odd"] == {"k": "\ufffd"}
    assert parse.clean_text("what? yes?") == "what? yes?"


def test_a_task_repeated_in_one_request_keeps_its_most_advanced_snapshot():
    tasks, problems = parse.parse_tasks(
        [p.task(1, "RUNNING"), p.task(1, "SUBMITTED"), p.task(1, "COMPLETED"), p.task(2, "NEW")]
    )
    assert not problems
    assert {t.task_id: t.status for t in tasks} == {1: "COMPLETED", 2: "NEW"}


def test_task_fields_of_the_wrong_type_or_too_long_name_the_field():
    cases = {
        "cpus": p.task(1, "NEW", cpus="four"),
        "nativeId": p.task(1, "NEW", nativeId="j" * 101),
        "taskId": {**p.task(1, "NEW"), "taskId": -3},
        "status": p.task(1, "PAUSED"),
        "submit": p.task(1, "NEW", submit="soon"),
    }
    for field, entry in cases.items():
        with pytest.raises(parse.Malformed) as caught:
            parse.parse_task(entry)
        assert caught.value.field == field


def test_exit_unknown_and_native_id_number():
    task = parse.parse_task(p.task(5, "RUNNING", nativeId=42))
    assert task.exit is None and task.native_id == "42"
    assert task.data["exit"] == parse.UNKNOWN_EXIT  # served as the plugin sent it
