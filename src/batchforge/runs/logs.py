"""Head-job logs from CloudWatch Logs, paged with tokens.

A page starts at ``token`` (None: the start of the stream) and answers the lines after it
and the token of the next page.  At the end of the stream CloudWatch answers the same token
again with no lines: following with the returned token never repeats a line.  A stream that
does not exist yet is "not yet" (``pending``), not an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from batchforge.aws.session import AwsClient
from batchforge.errors import AwsError

DEFAULT_LOG_GROUP = "/aws/batch/job"
MAX_EVENTS = 10_000


@dataclass
class Page:
    lines: list[str] = field(default_factory=list)
    token: str | None = None
    exists: bool = True


def read_page(
    logs: AwsClient, group: str, stream: str, token: str | None, limit: int = MAX_EVENTS
) -> Page:
    """One page of the stream after ``token``; ``exists`` is False while there is no stream."""
    kwargs: dict[str, object] = {
        "logGroupName": group,
        "logStreamName": stream,
        "startFromHead": True,
        "limit": max(1, min(limit, MAX_EVENTS)),
    }
    if token:
        kwargs["nextToken"] = token
    try:
        answer = logs.get_log_events(**kwargs)
    except AwsError as error:
        if error.aws_code == "ResourceNotFoundException":
            return Page(token=token, exists=False)
        raise
    lines = [event.get("message", "") for event in answer.get("events", [])]
    return Page(lines=lines, token=answer.get("nextForwardToken") or token)
