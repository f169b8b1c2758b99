"""A process-wide token bucket for SubmitJob (AWS Batch: 50 SubmitJob calls/s per account).

One bucket per (endpoint, access key, region).  Several server replicas share an account's
limit without coordinating: botocore's adaptive retry absorbs the rare throttle that follows.
"""

from __future__ import annotations

import threading
import time

from batchforge.aws.session import AwsSession


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up.  Thread-safe."""

    def __init__(self, rate: float, burst: float | None = None):
        self.rate = rate
        self.burst = burst if burst is not None else rate
        self._tokens = self.burst
        self._stamp = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take a token, sleeping until one is free; the seconds slept."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            self._tokens -= 1
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            time.sleep(wait)
        return wait


_buckets: dict[tuple[str | None, str | None, str], TokenBucket] = {}
_lock = threading.Lock()


def submit_bucket(aws: AwsSession, rate: float) -> TokenBucket:
    key = (aws.env.endpoint_url, aws.auth.access_key, aws.region)
    with _lock:
        bucket = _buckets.get(key)
        if bucket is None or bucket.rate != rate:
            bucket = _buckets[key] = TokenBucket(rate)
        return bucket
