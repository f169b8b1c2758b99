"""Uploads: presigned multipart uploads (Seqera's ``/upload`` + ``/upload/finish``) and
uploads streamed through the server.

Invariant: an upload becomes visible only when it is complete.  A multipart upload shows no
object until ``CompleteMultipartUpload``; a failed one is aborted when
``s3:AbortMultipartUpload`` is granted (an extra), and otherwise stays invisible until a
lifecycle rule removes its parts — the error then says so.  CreateMultipartUpload, UploadPart
and CompleteMultipartUpload need only ``s3:PutObject``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import anyio

from batchforge.errors import AwsError, BatchforgeError, InvalidInput
from batchforge.explorer import limits
from batchforge.explorer.content import guess_mime
from batchforge.explorer.target import LinkTarget

log = logging.getLogger("batchforge.explorer")
T = TypeVar("T")

COMPLETE_INPUT_ERRORS = {
    "InvalidPart",
    "InvalidPartOrder",
    "NoSuchUpload",
    "EntityTooSmall",
    "MalformedXML",
}


@dataclass(frozen=True)
class PartPlan:
    part_size: int
    parts: int


def plan_parts(size: int, base: int = limits.PRESIGNED_PART_BYTES) -> PartPlan:
    """Part size and count for ``size`` bytes: ``base`` parts, grown (in whole MiB) when
    ``size`` needs more than MAX_PARTS of them."""
    if size < 0:
        raise InvalidInput("contentLength must be 0 or more.", field="contentLength")
    if size > limits.MAX_OBJECT_BYTES:
        raise InvalidInput(
            f"contentLength {size:,} is over S3's largest object (5 TiB).", field="contentLength"
        )
    needed = math.ceil(size / limits.MAX_PARTS / limits.MiB) * limits.MiB
    part_size = max(base, needed)
    return PartPlan(part_size, max(1, math.ceil(size / part_size)))


@dataclass(frozen=True)
class PresignedUpload:
    key: str
    upload_id: str
    urls: list[str]
    part_size: int


def start_presigned(
    target: LinkTarget, path: str, size: int, content_type: str | None
) -> PresignedUpload:
    """Start a multipart upload of ``size`` bytes to ``path``; one presigned UploadPart URL
    per part (part ``n`` is bytes ``(n-1)*part_size`` up to ``n*part_size``)."""
    plan = plan_parts(size)
    key = target.location.key(path)
    try:
        created = target.s3.create_multipart_upload(
            Bucket=target.bucket, Key=key, ContentType=content_type or guess_mime(path)
        )
    except AwsError as error:
        raise target.fail(error, None, key) from None
    upload_id = created["UploadId"]
    urls = [
        target.presigner.url(
            "upload_part",
            {"Bucket": target.bucket, "Key": key, "UploadId": upload_id, "PartNumber": number},
            limits.PRESIGNED_URL_SECONDS,
        )
        for number in range(1, plan.parts + 1)
    ]
    return PresignedUpload(key, upload_id, urls, plan.part_size)


def abort(target: LinkTarget, key: str, upload_id: str) -> str | None:
    """Abort a multipart upload; None when done, else why not (AccessDenied: the extra
    ``s3:AbortMultipartUpload`` is not granted)."""
    try:
        target.s3.abort_multipart_upload(Bucket=target.bucket, Key=key, UploadId=upload_id)
    except AwsError as error:
        if error.aws_code == "NoSuchUpload":
            return None
        explained = target.fail(error, None, key)
        return str(explained)
    return None


def _checked_parts(tags: list[tuple[str | None, int | None]]) -> list[dict[str, Any]]:
    parts: dict[int, str] = {}
    for index, (etag, number) in enumerate(tags):
        field = f"tags[{index}]"
        if not etag:
            raise InvalidInput(f"{field}.eTag is required.", field=f"{field}.eTag")
        if number is None or not 1 <= number <= limits.MAX_PARTS:
            raise InvalidInput(
                f"{field}.partNumber must be 1-{limits.MAX_PARTS}.", field=f"{field}.partNumber"
            )
        if number in parts:
            raise InvalidInput(f"{field}: part {number} is listed twice.", field=field)
        parts[number] = etag
    return [{"ETag": parts[number], "PartNumber": number} for number in sorted(parts)]


def _uploaded_parts(target: LinkTarget, key: str, upload_id: str) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for page in target.s3.paginate("list_parts", Bucket=target.bucket, Key=key, UploadId=upload_id):
        parts.extend(
            {"ETag": part["ETag"], "PartNumber": part["PartNumber"]}
            for part in page.get("Parts", [])
        )
    return parts


def finish_presigned(
    target: LinkTarget,
    path: str,
    upload_id: str,
    tags: list[tuple[str | None, int | None]],
    with_error: bool,
) -> dict[str, Any]:
    """Complete the upload (the parts named by ``tags``, or else the parts S3 has), or abort
    it when the client reports an error.  Returns what was done."""
    key = target.location.key(path)
    if with_error:
        problem = abort(target, key, upload_id)
        return {"aborted": problem is None, **({"message": problem} if problem else {})}
    try:
        parts = _checked_parts(tags) if tags else _uploaded_parts(target, key, upload_id)
        if not parts:
            raise InvalidInput("No part was uploaded: nothing to complete.", field="tags")
        target.s3.complete_multipart_upload(
            Bucket=target.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except AwsError as error:
        if error.aws_code in COMPLETE_INPUT_ERRORS:
            raise InvalidInput(
                f"S3 refused to complete the upload of '{path}': {error.aws_code}: "
                f"{error.aws_message or ''}".rstrip(": "),
                field="uploadId" if error.aws_code == "NoSuchUpload" else "tags",
            ) from None
        raise target.fail(error, None, key) from None
    return {"completed": True, "parts": len(parts)}


async def _call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    return await anyio.to_thread.run_sync(lambda: function(*args, **kwargs))


async def _settle(task: asyncio.Task[Any] | None) -> None:
    """Wait for an in-flight part to end, whatever its outcome (an abort must come after)."""
    if task is None:
        return
    with anyio.CancelScope(shield=True), contextlib.suppress(BaseException):
        await task  # its failure is not the one being reported


@dataclass
class StreamedUpload:
    """An upload streamed through the server, part by part: while one part goes to S3 the
    next one is read from the client, so at most two parts are in memory."""

    target: LinkTarget
    path: str
    content_type: str | None
    part_size: int
    upload_id: str | None = None
    size: int = 0

    @property
    def key(self) -> str:
        return self.target.location.key(self.path)

    async def run(self, chunks: AsyncIterator[bytes]) -> dict[str, Any]:
        parts: list[dict[str, Any]] = []
        pending: asyncio.Task[dict[str, Any]] | None = None
        buffer = bytearray()
        try:
            async for chunk in chunks:
                self.size += len(chunk)
                buffer += chunk
                while len(buffer) >= self.part_size:
                    if pending is not None:
                        parts.append(await pending)
                    body = bytes(memoryview(buffer)[: self.part_size])
                    del buffer[: self.part_size]
                    number = len(parts) + 1
                    await self._start(number)
                    pending = asyncio.ensure_future(self._part(number, body))
            if pending is not None:
                parts.append(await pending)
                pending = None
            if self.upload_id is None:
                await self._put(bytes(buffer))
                return {"size": self.size, "parts": 0}
            if buffer:
                parts.append(await self._part(len(parts) + 1, bytes(buffer)))
            await self._complete(parts)
        except BaseException as error:
            await _settle(pending)
            await self._abandon(error)
            raise
        return {"size": self.size, "parts": len(parts)}

    async def _put(self, body: bytes) -> None:
        kwargs = {"Bucket": self.target.bucket, "Key": self.key, "Body": body}
        try:
            await _call(self.target.s3.put_object, **kwargs, ContentType=self._type())
        except AwsError as error:
            raise self.target.fail(error, None, self.key) from None

    async def _start(self, number: int) -> None:
        """Check the part count; create the multipart upload before the first part."""
        if number > limits.MAX_PARTS:
            raise InvalidInput(
                f"The upload is over {limits.MAX_PARTS:,} parts of {self.part_size:,} bytes; "
                "send a Content-Length so larger parts are used.",
                field="Content-Length",
            )
        if self.upload_id is not None:
            return
        try:
            created = await _call(
                self.target.s3.create_multipart_upload,
                Bucket=self.target.bucket,
                Key=self.key,
                ContentType=self._type(),
            )
        except AwsError as error:
            raise self.target.fail(error, None, self.key) from None
        self.upload_id = created["UploadId"]

    async def _part(self, number: int, body: bytes) -> dict[str, Any]:
        try:
            answer = await _call(
                self.target.s3.upload_part,
                Bucket=self.target.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                PartNumber=number,
                Body=body,
            )
        except AwsError as error:
            raise self.target.fail(error, None, self.key) from None
        return {"ETag": answer["ETag"], "PartNumber": number}

    async def _complete(self, parts: list[dict[str, Any]]) -> None:
        try:
            await _call(
                self.target.s3.complete_multipart_upload,
                Bucket=self.target.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": parts},
            )
        except AwsError as error:
            raise self.target.fail(error, None, self.key) from None

    async def _abandon(self, error: BaseException) -> None:
        """Abort the multipart upload after a failure (even when the request is cancelled);
        when that is denied, say so in the error's hint."""
        if self.upload_id is None:
            return
        upload_id, self.upload_id = self.upload_id, None
        with anyio.CancelScope(shield=True):
            problem = await _call(abort, self.target, self.key, upload_id)
        if problem is None:
            return
        log.warning("upload of %s not aborted: %s", self.key, problem)
        if isinstance(error, BatchforgeError):
            note = "The failed upload was not aborted: " + problem
            error.hint = f"{error.hint} {note}" if error.hint else note

    def _type(self) -> str:
        return self.content_type or guess_mime(self.path)


def stream_part_size(length: int | None) -> int:
    """The part size of a streamed upload of ``length`` bytes (None: unknown)."""
    if length is None:
        return limits.STREAM_PART_BYTES
    return plan_parts(length, limits.STREAM_PART_BYTES).part_size
