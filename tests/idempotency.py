"""AWS's idempotency tokens as AWS honours them: for a while, not forever.

The emulator ignores FSx's ``ClientRequestToken`` altogether (a second CreateFileSystem with the
same token makes a second file system).  AWS honours it -- "If a file system with the
specified client request token exists and the parameters match, CreateFileSystem returns the
description of the existing file system" (Amazon FSx API Reference, CreateFileSystem) -- but
idempotency tokens are a retry aid with a limited lifetime, not a lookup: EC2's "Ensuring
idempotency in Amazon EC2 API requests" (Amazon EC2 Developer Guide) gives client tokens a
validity window, and the FSx reference promises no lifetime at all.  A resume after a crash may
come hours later, so Forge must find what an earlier attempt made by its name or Name tag
(``Handler.find``), never by replaying the token.

:class:`TokenWindow` makes the emulator honour the FSx token for ``window`` seconds after its
first use and forget it afterwards; ``window=0`` is a resume after the window has passed.
EFS's ``CreationToken`` needs no layer: it is an attribute of the file system that AWS checks
for as long as the file system exists ("Otherwise, this operation returns a
FileSystemAlreadyExists error", Amazon EFS API Reference, CreateFileSystem), which the
emulator does too.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from tests.awsrules import FakeHttp


class TokenWindow:
    """Install with ``env.event_hooks.extend(TokenWindow(seconds).hooks())``."""

    def __init__(self, window: float):
        self.window = window
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, dict[str, Any]]] = {}

    def hooks(self) -> list[tuple[str, Callable[..., Any]]]:
        return [
            ("before-call.fsx.CreateFileSystem", self._before),
            ("after-call.fsx.CreateFileSystem", self._after),
        ]

    @staticmethod
    def _token(params: Any) -> str | None:
        body = params.get("body") if isinstance(params, dict) else None
        if isinstance(body, bytes):
            body = body.decode()
        try:
            return json.loads(body or "{}").get("ClientRequestToken")
        except ValueError:
            return None

    def _before(self, params: Any, context: Any = None, **_: Any) -> Any:
        token = self._token(params)
        if token is None:
            return None
        if context is not None:
            context["idempotency_token"] = token
        with self._lock:
            seen = self._seen.get(token)
        if seen is None or time.monotonic() - seen[0] > self.window:
            return None  # never used, or its window has passed: a new create
        return FakeHttp(200), {
            "FileSystem": seen[1],
            "ResponseMetadata": {"HTTPStatusCode": 200, "RetryAttempts": 0},
        }

    def _after(self, parsed: Any, context: Any = None, **_: Any) -> None:
        token = (context or {}).get("idempotency_token")
        system = parsed.get("FileSystem") if isinstance(parsed, dict) else None
        if token and system:
            with self._lock:
                self._seen.setdefault(token, (time.monotonic(), system))
