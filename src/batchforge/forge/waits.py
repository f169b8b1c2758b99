"""Polling with a deadline, for AWS resources that change state asynchronously."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from batchforge.errors import AwsError, BatchforgeError

T = TypeVar("T")


class WaitTimeout(BatchforgeError):
    code = "aws-wait-timeout"
    status = 504


@dataclass(frozen=True)
class Backoff:
    """When a failed Forge attempt (a disposal, a rollback) is tried again, and when to stop.

    Attempt ``n`` failed → the next starts after ``min(cap, base * 2**(n-1))`` seconds, scaled
    by a random factor in [0.5, 1] (jitter: replicas retrying together spread out).  After
    ``max_attempts`` failures the work stops in a visible final state until the user retries.
    The defaults give up after about 10-20 minutes.
    """

    base: float = 10.0
    cap: float = 600.0
    max_attempts: int = 8

    def delay(self, failed_attempts: int) -> float:
        """Seconds to wait after the ``failed_attempts``-th failure (1-based)."""
        raw = min(self.cap, self.base * 2 ** max(0, failed_attempts - 1))
        return raw * random.uniform(0.5, 1.0)


@dataclass
class Pacing:
    """How Forge waits: poll interval, a deadline per wait, and retry of eventual-consistency
    errors.  Tests shorten the interval; production keeps AWS-friendly values."""

    interval: float = 5.0
    timeout: float = 1800.0
    retry_interval: float = 3.0
    retry_timeout: float = 120.0
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    backoff: Backoff = field(default_factory=Backoff)

    def until(self, what: str, probe: Callable[[], T | None]) -> T:
        """Call ``probe`` until it returns something other than None."""
        deadline = time.monotonic() + self.timeout
        while True:
            result = probe()
            if result is not None:
                return result
            if time.monotonic() >= deadline:
                raise WaitTimeout(f"Timed out after {self.timeout:.0f} s waiting for {what}.")
            self.sleep(self.interval)

    def retrying(self, action: Callable[[], T], transient: Callable[[AwsError], bool]) -> T:
        """Run ``action``, retrying AWS errors that ``transient`` says will go away
        (eventual consistency), with jittered backoff, until ``retry_timeout``."""
        deadline = time.monotonic() + self.retry_timeout
        delay = self.retry_interval
        while True:
            try:
                return action()
            except AwsError as error:
                if not transient(error) or time.monotonic() >= deadline:
                    raise
            self.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 30.0)
