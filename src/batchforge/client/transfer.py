"""Streamed downloads through the API, shared by the data-link and run-file client methods.

A download is one GET whose body is written chunk by chunk, never held whole.  Into a file it
goes through ``<target>.part`` and, after a broken connection, resumes where it stopped with an
HTTP ``Range`` request (the server answers 206; a 416 means everything was already written).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import httpx

if TYPE_CHECKING:
    from batchforge.client.api import ApiError

CHUNK = 1024 * 1024
RETRIES = 3
TRANSIENT_STATUS = {0, 429, 500, 502, 503, 504}


class Retryable(Exception):
    """A transfer failure worth another attempt."""


def backoff(attempt: int) -> None:
    time.sleep(min(8.0, 0.5 * 2**attempt))


def as_api_error(cause: BaseException) -> ApiError:
    """``cause`` as the client's error (an :class:`ApiError` stays as it is)."""
    from batchforge.client.api import ApiError

    if isinstance(cause, ApiError):
        return cause
    return ApiError(
        f"The transfer failed after {RETRIES + 1} attempts: {type(cause).__name__}.",
        code="unreachable",
        status=0,
        hint="Check the network and the server, then run the command again.",
    )


def download_into(
    http: httpx.Client, url: str, params: dict[str, Any], sink: BinaryIO, offset: int = 0
) -> int:
    """One attempt: stream ``url`` into ``sink``; from byte ``offset`` (the bytes before it are
    in ``sink`` already) when it is not 0.  Returns the bytes written by this attempt.

    Raises :class:`Retryable` for a broken connection or a transient status, and the server's
    error (:class:`ApiError`) otherwise.
    """
    from batchforge.client.api import _error_from

    headers = {"Range": f"bytes={offset}-"} if offset else {}
    written = 0
    try:
        with http.stream("GET", url, params=params, headers=headers) as response:
            if offset and response.status_code == 416:
                return 0  # everything was written before the connection broke
            if response.status_code >= 400:
                response.read()
                error = _error_from(response)
                raise Retryable(error) if response.status_code in TRANSIENT_STATUS else error
            if offset and response.status_code != 206:  # the server sent it all again
                sink.seek(0)
                sink.truncate()
            for chunk in response.iter_bytes(CHUNK):
                sink.write(chunk)
                written += len(chunk)
    except httpx.HTTPError as exc:
        raise Retryable(exc) from None
    return written


def download_file(http: httpx.Client, url: str, params: dict[str, Any], target: Path) -> int:
    """Stream ``url`` into ``target`` (via ``target.part``), resuming with a Range request
    after a broken connection; returns the file's size.  ``target`` appears only complete."""
    partial = target.with_name(target.name + ".part")
    partial.parent.mkdir(parents=True, exist_ok=True)
    with partial.open("wb") as sink:
        for attempt in range(RETRIES + 1):
            try:
                download_into(http, url, params, sink, sink.tell())
                break
            except Retryable as retry:
                if attempt == RETRIES:
                    raise as_api_error(retry.args[0]) from None
                backoff(attempt)
    partial.replace(target)
    return target.stat().st_size
