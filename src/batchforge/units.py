"""Values in human units, one place for the web UI and the CLI: times, durations, sizes."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def format_time(value: datetime | str | None) -> str:
    """``2024-05-01 12:03:04 UTC``; an empty string for None.  An ISO-8601 string (as Nextflow
    sends task times, with or without seconds) is read first; one that is not stays as is."""
    if value is None:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def format_duration(milliseconds: int | float | None) -> str:
    """``1h 2m``, ``3m 4s`` or ``5.2s``."""
    if milliseconds is None:
        return ""
    seconds = milliseconds / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes}m" if hours else f"{minutes}m {secs}s"


def format_size(size: int | float | None) -> str:
    """Bytes as ``812 B``, ``1.2 KB``, ``3.4 MB`` (powers of 1024)."""
    if size is None:
        return ""
    if size < 1024:
        return f"{int(size)} B"
    exponent = min(int(math.log(size, 1024)), 5)
    return f"{size / 1024**exponent:.1f} {'BKMGTP'[exponent]}B".replace("BB", "B")
