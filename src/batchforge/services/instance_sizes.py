"""EC2 instance type sizes, cached in memory per (region, name pattern).

Instance type sizes never change, so one ``ec2:DescribeInstanceTypes`` per pattern and region
is enough for a long time (:data:`TTL_SECONDS`); the RUNNABLE explainer and the cost
estimator share this cache.  A refusal (``ec2:DescribeInstanceTypes`` is in the seed's
optional ``OptionalEC2MetadataDescribe`` section) is remembered for a short while, so a
tracker cycle asks at most once.
"""

from __future__ import annotations

import threading
import time

from batchforge.aws import pricing
from batchforge.aws.session import AwsSession
from batchforge.errors import AwsError
from batchforge.runs.stuck import InstanceSize

TTL_SECONDS = 24 * 3600
REFUSED_TTL_SECONDS = 600

_lock = threading.Lock()
_cache: dict[tuple[str, str], tuple[float, list[InstanceSize] | None]] = {}
calls = 0
"""DescribeInstanceTypes calls made through this cache (read by tests and benchmarks)."""


def clear() -> None:
    global calls
    with _lock:
        _cache.clear()
        calls = 0


def catalog(aws: AwsSession, region: str, patterns: list[str]) -> dict[str, InstanceSize] | None:
    """The sizes of every type matching ``patterns`` in ``region`` (name → size), at most one
    AWS call for the patterns not cached.  None when AWS refused the call."""
    global calls
    now = time.monotonic()
    with _lock:
        cached = {p: _cache.get((region, p)) for p in patterns}
    missing = [p for p, hit in cached.items() if hit is None or hit[0] < now]
    if missing:
        try:
            with _lock:
                calls += 1
            found = pricing.instance_sizes(aws, missing, region)
        except AwsError:
            with _lock:
                for pattern in missing:
                    _cache[(region, pattern)] = (now + REFUSED_TTL_SECONDS, None)
            return None
        with _lock:
            for pattern in missing:
                matching = [s for s in found if _matches(s.name, pattern)]
                _cache[(region, pattern)] = (now + TTL_SECONDS, matching)
                cached[pattern] = (0.0, matching)
    result: dict[str, InstanceSize] = {}
    for pattern in patterns:
        entry = cached.get(pattern)
        if entry is None or entry[1] is None:
            return None
        result.update((s.name, s) for s in entry[1])
    return result


def _matches(name: str, pattern: str) -> bool:
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern
