"""The AWS call recorder: one record per API call, whatever its outcome.

Hooked into each client's botocore event system (``provide-client-params`` to start,
``after-call`` / ``after-call-error`` to finish), so it sees exactly what the product sends —
retries included (``attempts``).  Parameters are redacted before they are stored: a secret
never reaches a record, a log line or a test failure message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("batchforge.aws")

REDACTED = "***"
_SENSITIVE_WORDS = ("secret", "password", "sessiontoken", "privatekey", "credentials")
# Keys that look sensitive but only identify a secret (Secrets Manager's SecretId: a name or
# ARN); kept so recorded calls can be mapped to the IAM resources they touch.
_IDENTIFIERS = frozenset({"secretid"})


def redact(value: Any, key: str = "") -> Any:
    """A copy of ``value`` with every value under a sensitive-looking key replaced."""
    lowered = key.lower()
    sensitive = lowered not in _IDENTIFIERS and any(w in lowered for w in _SENSITIVE_WORDS)
    if sensitive and not isinstance(value, dict | list):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, key) for v in value]
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


@dataclass
class AwsCall:
    """One AWS API call as the product made it."""

    service: str
    operation: str
    region: str
    params: dict[str, Any]
    started: float
    duration_s: float = 0.0
    outcome: str = "pending"  # "ok", an AWS error code, or an exception class name
    http_status: int | None = None
    attempts: int = 1

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


Listener = Callable[[AwsCall], None]


@dataclass
class CallRecorder:
    """Keeps the calls it sees (up to ``limit``) and tells listeners as each one ends."""

    limit: int = 100_000
    calls: list[AwsCall] = field(default_factory=list)
    listeners: list[Listener] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def attach(self, client: Any) -> None:
        """Record every call ``client`` makes."""
        events = client.meta.events
        region = client.meta.region_name or ""
        events.register("provide-client-params.*.*", self._make_start(region))
        events.register("after-call.*.*", self._on_after_call)
        events.register("after-call-error.*.*", self._on_after_call_error)

    def _make_start(self, region: str) -> Callable[..., None]:
        def start(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            context["batchforge_call"] = AwsCall(
                service=model.service_model.service_name,
                operation=model.name,
                region=region,
                params=redact(params),
                started=time.perf_counter(),
            )

        return start

    def _on_after_call(
        self, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        error = parsed.get("Error", {}) if isinstance(parsed, dict) else {}
        outcome = error.get("Code") or "ok"
        meta = parsed.get("ResponseMetadata", {}) if isinstance(parsed, dict) else {}
        self._finish(context, str(outcome), http_response.status_code, meta.get("RetryAttempts"))

    def _on_after_call_error(self, exception: Exception, context: dict[str, Any], **_: Any) -> None:
        self._finish(context, type(exception).__name__, None, None)

    def _finish(
        self, context: dict[str, Any], outcome: str, status: int | None, retries: int | None
    ) -> None:
        call: AwsCall | None = context.pop("batchforge_call", None)
        if call is None:
            return
        call.duration_s = time.perf_counter() - call.started
        call.outcome = outcome
        call.http_status = status
        call.attempts = 1 + (retries or 0)
        with self._lock:
            if len(self.calls) < self.limit:
                self.calls.append(call)
            listeners = list(self.listeners)
        for listener in listeners:
            listener(call)

    # --- queries used by tests and benchmarks -------------------------------------------

    def names(self) -> list[str]:
        """``service:Operation`` of every recorded call, in order."""
        with self._lock:
            return [call.name for call in self.calls]

    def count(self, name: str | None = None) -> int:
        with self._lock:
            if name is None:
                return len(self.calls)
            return sum(1 for call in self.calls if call.name == name)

    def by_operation(self) -> Counter[str]:
        with self._lock:
            return Counter(call.name for call in self.calls)

    def since(self, mark: int) -> list[AwsCall]:
        """Calls recorded after ``mark`` (a previous ``count()``)."""
        with self._lock:
            return list(self.calls[mark:])

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()


def log_call(call: AwsCall) -> None:
    """A listener for ``--trace-aws``: one log line per call, parameters redacted."""
    log.info(
        "aws %s region=%s outcome=%s attempts=%d %.1fms params=%s",
        call.name,
        call.region,
        call.outcome,
        call.attempts,
        call.duration_s * 1000,
        call.params,
    )


def summarize(calls: Iterable[AwsCall]) -> dict[str, int]:
    """Calls per ``service:Operation``, sorted by name."""
    return dict(sorted(Counter(call.name for call in calls).items()))
