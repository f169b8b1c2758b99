"""Reading what the nf-tower plugin sends (pure functions, no database).

The rules, from the plugin's source (``reference/nextflow-trace-protocol.md`` §3):

- every body carries ``instant`` (client epoch millis); a missing one counts as "now";
- a task entry is a *full snapshot* of one ``TraceRecord``; ``nativeId`` may be a number or a
  string (stored as a string); dates are ISO-8601 with or without seconds (Java omits ``:ss``
  when zero) or epoch millis; ``exit`` is ``2147483647`` while unknown;
- unknown fields are kept (in the task's ``data``) and never refused;
- strings are limited as the plugin itself truncates them (``tower-schema.properties``);
  a string over that limit, a wrong type in a known field, a missing or non-integer
  ``taskId`` or an unknown ``status`` makes *that task* malformed: it is reported
  (:class:`Problem`) and the other tasks of the request are still stored;
- NUL characters and lone UTF-16 surrogates inside strings are replaced by U+FFFD, never
  refused: the current plugin aborts the run on any non-2xx answer to a progress, and neither
  SQLite nor PostgreSQL text can hold them.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

MAX_TASKS = 100
UNKNOWN_EXIT = 2147483647
REPLACEMENT = "\ufffd"
# Any string without a limit of its own (configText included).
GENERIC_STRING_LIMIT = 1_048_576
MAX_DEPTH = 32

# Status order: a task's status never goes back (NEW → SUBMITTED → RUNNING → final).
STATUS_RANK = {
    "NEW": 0,
    "SUBMITTED": 1,
    "RUNNING": 2,
    "COMPLETED": 3,
    "FAILED": 3,
    "ABORTED": 3,
    "CACHED": 3,
}
# The progress counter each task status counts in (Seqera's TraceProgressData fields).
COUNTER = {
    "NEW": "pending",
    "SUBMITTED": "submitted",
    "RUNNING": "running",
    "COMPLETED": "succeeded",
    "FAILED": "failed",
    "CACHED": "cached",
    "ABORTED": "aborted",
}
COUNTERS = ("pending", "submitted", "running", "succeeded", "failed", "cached", "aborted")

# Known task fields: kind, and for strings the plugin's own limit (tower-schema.properties).
_INTS = frozenset(
    {
        "exit", "attempt", "cpus", "numSpotInterruptions", "duration", "realtime", "time",
        "rss", "vmem", "peakRss", "peakVmem", "rchar", "wchar", "readBytes", "writeBytes",
        "memory", "disk", "syscr", "syscw", "volCtxt", "invCtxt", "accelerator",
    }
)  # fmt: skip
_FLOATS = ("pcpu", "pmem", "cost")
_DATES = ("submit", "start", "complete")
TASK_STRING_LIMITS = {
    "hash": 34,
    "process": 255,
    "name": 255,
    "tag": 255,
    "container": 255,
    "workdir": 512,
    "script": 10240,
    "env": 2048,
    "machineType": 25,
    "cloudZone": 25,
    "priceModel": 15,
    "nativeId": 100,
}
WORKFLOW_STRING_LIMITS = {
    "id": 16,
    "runName": 80,
    "sessionId": 36,
    "commitId": 40,
    "projectName": 100,
    "errorMessage": 255,
    "operationId": 110,
}

_SURROGATE = re.compile("[\ud800-\udfff]")
_DATE = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
)


class Malformed(ValueError):
    """One value is not what the protocol says; ``field`` names it."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class Problem:
    """A task entry that was not stored, and why."""

    index: int
    task_id: Any
    message: str


@dataclass
class TaskSnapshot:
    """One task entry, checked: columns the read API uses, and ``data`` (every field)."""

    task_id: int
    status: str
    process: str
    name: str
    tag: str | None
    hash: str | None
    native_id: str | None
    exit: int | None
    attempt: int | None
    cpus: int | None
    memory: int | None
    duration: int | None
    realtime: int | None
    submit: datetime | None
    start: datetime | None
    complete: datetime | None
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def rank(self) -> int:
        return STATUS_RANK[self.status]


def now_millis() -> int:
    return int(time.time() * 1000)


def instant_of(body: dict[str, Any]) -> int:
    """The body's ``instant`` (epoch millis), or now when absent or not a number."""
    value = body.get("instant")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return int(value)
    return now_millis()


def clean_text(value: str) -> str:
    """``value`` with NUL and lone surrogates replaced by U+FFFD."""
    if "\x00" in value:
        value = value.replace("\x00", REPLACEMENT)
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = _SURROGATE.sub(REPLACEMENT, value)
    return value


def clean(value: Any, where: str, limit: int = GENERIC_STRING_LIMIT, depth: int = 0) -> Any:
    """A JSON value with every string cleaned (:func:`clean_text`) and checked against
    ``limit``; :class:`Malformed` for a string too long or nesting deeper than 32."""
    if depth > MAX_DEPTH:
        raise Malformed(where, f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, str):
        if len(value) > limit:
            raise Malformed(where, f"longer than {limit} characters ({len(value)})")
        return clean_text(value)
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, dict):
        return {
            clean_text(str(k)): clean(v, f"{where}.{k}", GENERIC_STRING_LIMIT, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [clean(v, f"{where}[]", GENERIC_STRING_LIMIT, depth + 1) for v in value]
    return value


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 date-time (seconds and zone optional; no zone means UTC) or epoch millis;
    ``None`` for null.  :class:`ValueError` for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, UTC)
    if not isinstance(value, str):
        raise ValueError("not a date-time")
    match = _DATE.match(value.strip())
    if not match:
        raise ValueError(f"not an ISO-8601 date-time: {value[:40]!r}")
    day, hour, minute, second, fraction, zone = match.groups()
    text = f"{day}T{hour}:{minute}:{second or '00'}{(fraction or '')[:7]}"
    if zone and zone != "Z":
        zone = zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
        text += zone
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """A stored date-time as the API writes it (UTC, with seconds and milliseconds)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Malformed(name, "must be a number")
    if isinstance(value, float) and not value.is_integer():
        raise Malformed(name, "must be an integer")
    return int(value)


def _checked_field(key: str, value: Any, dates: dict[str, datetime | None]) -> Any:
    if key in _INTS:
        return _int(value, key)
    if key in _FLOATS:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise Malformed(key, "must be a number")
        return value
    if key in _DATES:
        try:
            dates[key] = parse_time(value)
        except ValueError as error:
            raise Malformed(key, str(error)) from None
        return iso(dates[key])
    if key == "nativeId" and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(int(value))
    limit = TASK_STRING_LIMITS.get(key)
    if limit is not None and value is not None and not isinstance(value, str):
        raise Malformed(key, "must be a string")
    return clean(value, key, limit or GENERIC_STRING_LIMIT)


def parse_task(raw: Any) -> TaskSnapshot:
    """One entry of a progress's ``tasks``; :class:`Malformed` naming the field when wrong."""
    if not isinstance(raw, dict):
        raise Malformed("tasks[]", "must be an object")
    task_id = raw.get("taskId")
    if isinstance(task_id, str) and task_id.isdigit():
        task_id = int(task_id)
    if isinstance(task_id, bool) or not isinstance(task_id, int) or task_id < 0:
        raise Malformed("taskId", "required, a non-negative integer")
    status = raw.get("status")
    if status not in STATUS_RANK:
        raise Malformed("status", f"must be one of {', '.join(STATUS_RANK)}")
    data: dict[str, Any] = {}
    dates: dict[str, datetime | None] = {}
    for key, value in raw.items():
        key = str(key)
        if key == "tag" and value is not None and not isinstance(value, str):
            continue  # the plugin drops a non-string tag too
        if key == "module" and isinstance(value, str):
            value = [value]
        data[clean_text(key)] = _checked_field(key, value, dates)
    data["taskId"], data["status"] = task_id, status
    exit_code = data.get("exit")
    return TaskSnapshot(
        task_id=task_id,
        status=status,
        process=data.get("process") or "",
        name=data.get("name") or "",
        tag=data.get("tag"),
        hash=data.get("hash"),
        native_id=data.get("nativeId"),
        exit=None if exit_code == UNKNOWN_EXIT else exit_code,
        attempt=data.get("attempt"),
        cpus=data.get("cpus"),
        memory=data.get("memory"),
        duration=data.get("duration"),
        realtime=data.get("realtime"),
        submit=dates.get("submit"),
        start=dates.get("start"),
        complete=dates.get("complete"),
        data=data,
    )


def parse_tasks(raw: Any) -> tuple[list[TaskSnapshot], list[Problem]]:
    """The well-formed tasks of a progress (the last snapshot of each ``taskId`` when one
    repeats within the request) and the problems of the others."""
    if raw is None:
        return [], []
    if not isinstance(raw, list):
        raise Malformed("tasks", "must be an array")
    if len(raw) > MAX_TASKS:
        raise Malformed("tasks", f"at most {MAX_TASKS} tasks per request ({len(raw)} sent)")
    tasks: dict[int, TaskSnapshot] = {}
    problems = []
    for index, entry in enumerate(raw):
        try:
            task = parse_task(entry)
        except Malformed as error:
            task_id = entry.get("taskId") if isinstance(entry, dict) else None
            problems.append(Problem(index, task_id, f"tasks[{index}].{error}"))
            continue
        before = tasks.get(task.task_id)
        if before is None or task.rank >= before.rank:
            tasks[task.task_id] = task
    return list(tasks.values()), problems


def parse_progress(raw: Any) -> dict[str, Any] | None:
    """A TraceProgressData snapshot, cleaned; ``None`` when absent."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise Malformed("progress", "must be an object")
    progress = clean(raw, "progress")
    processes = progress.get("processes")
    if processes is not None and not isinstance(processes, list):
        raise Malformed("progress.processes", "must be an array")
    return progress  # type: ignore[no-any-return]


def parse_workflow(raw: Any) -> dict[str, Any]:
    """The Workflow metadata of begin/complete, cleaned and checked against the plugin's
    string limits; ``params`` is kept apart by the caller."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise Malformed("workflow", "must be an object")
    workflow: dict[str, Any] = {}
    for key, value in raw.items():
        limit = WORKFLOW_STRING_LIMITS.get(str(key), GENERIC_STRING_LIMIT)
        if limit != GENERIC_STRING_LIMIT and value is not None and not isinstance(value, str):
            raise Malformed(f"workflow.{key}", "must be a string")
        workflow[clean_text(str(key))] = clean(value, f"workflow.{key}", limit)
    for key in ("start", "complete"):
        try:
            workflow[key] = iso(parse_time(workflow.get(key)))
        except ValueError as error:
            raise Malformed(f"workflow.{key}", str(error)) from None
    for key in ("duration", "exitStatus"):
        workflow[key] = _int(workflow.get(key), f"workflow.{key}")
    return workflow


def int_of(mapping: dict[str, Any] | None, key: str) -> int:
    """``mapping[key]`` as an int (0 when absent or not a number)."""
    value = (mapping or {}).get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return 0
