"""One data link's content: browse, tree, preview, download, folders and deletion.

A :class:`LinkTarget` is an S3 client bound to the bucket's region, plus the link's bucket
and key prefix.  Every path it receives is a *clean* relative path (see :mod:`.paths`); keys
never leave the link's prefix.

AWS call budget: a browse page is one ``ListObjectsV2``; a preview is one ranged
``GetObject``; a download is one ``GetObject`` whose body is streamed, never held whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from batchforge.aws.s3 import Presigner, iter_body, read_body
from batchforge.aws.session import AwsClient
from batchforge.errors import AwsAccessDenied, AwsError, InvalidInput, NotFound
from batchforge.explorer import limits
from batchforge.explorer.content import (
    Detected,
    content_disposition,
    detect_preview,
    guess_mime,
)
from batchforge.explorer.paths import S3Location, path_problem
from batchforge.explorer.permissions import denied_hint, explain

ItemType = Literal["FOLDER", "FILE"]
NOT_FOUND_CODES = {"NoSuchKey", "NotFound", "404"}


class RangeNotSatisfiable(InvalidInput):
    """The requested byte range starts past the end of the object (HTTP 416)."""

    code = "range-not-satisfiable"
    status = 416


@dataclass(frozen=True)
class Item:
    name: str
    type: ItemType
    size: int = 0
    last_modified: datetime | None = None
    mime_type: str | None = None


@dataclass(frozen=True)
class Page:
    items: list[Item]
    next_token: str | None
    """S3's own continuation token (the service seals it before handing it out)."""


@dataclass(frozen=True)
class Preview:
    data: bytes
    detected: Detected
    size: int


@dataclass
class Download:
    """An open object: status 200 or 206, response headers, and the body's chunks."""

    status: int
    headers: dict[str, str]
    chunks: Iterator[bytes]


@dataclass(frozen=True)
class Failure:
    path: str
    type: ItemType
    message: str


@dataclass
class LinkTarget:
    """The S3 side of one data link."""

    s3: AwsClient
    presigner: Presigner
    location: S3Location
    name: str

    @property
    def bucket(self) -> str:
        return self.location.bucket

    # --- errors ---------------------------------------------------------------------------

    def fail(self, error: AwsError, path: str | None = None, key: str | None = None) -> Exception:
        """The error to show for a failed call on ``path`` (or the link itself)."""
        return failure(error, self.location, self.name, path, key)

    # --- browse ---------------------------------------------------------------------------

    def browse(self, path: str, search: str, page_size: int, token: str | None) -> Page:
        """One page of folders and files directly under ``path`` whose names start with
        ``search``: exactly one ListObjectsV2 call."""
        base = self.location.dir_prefix(path)
        kwargs: dict[str, Any] = {
            "Bucket": self.bucket,
            "Prefix": base + search,
            "Delimiter": "/",
            "MaxKeys": page_size,
        }
        if token:
            kwargs["ContinuationToken"] = token
        try:
            answer = self.s3.list_objects_v2(**kwargs)
        except AwsError as error:
            raise self.fail(error) from None
        folders = [
            Item(prefix["Prefix"][len(base) :].rstrip("/"), "FOLDER")
            for prefix in answer.get("CommonPrefixes", [])
        ]
        files = [
            Item(
                obj["Key"][len(base) :],
                "FILE",
                int(obj.get("Size", 0)),
                obj.get("LastModified"),
                guess_mime(obj["Key"]),
            )
            for obj in answer.get("Contents", [])
            if obj["Key"] != base  # the marker object of a folder made empty
        ]
        next_token = answer.get("NextContinuationToken") if answer.get("IsTruncated") else None
        return Page(folders + files, next_token)

    def tree(self, paths: list[str]) -> list[tuple[str, int]]:
        """Every file under each of ``paths`` (a file path names itself), as (path, size)
        relative to the link; at most TREE_MAX_ITEMS in all."""
        found: list[tuple[str, int]] = []
        for path in paths:
            listed = False
            for key, size in self.keys_under(self.location.dir_prefix(path)):
                listed = True
                if not key.endswith("/"):
                    found.append((self.location.relative(key), size))
                if len(found) > limits.TREE_MAX_ITEMS:
                    raise InvalidInput(
                        f"More than {limits.TREE_MAX_ITEMS} files under the given paths; "
                        "name fewer or smaller folders.",
                        field="paths",
                    )
            if not listed and path:  # not a folder: a file, or a 404
                found.append((path, self.head(path)["ContentLength"]))
        return found

    def keys_under(self, prefix: str) -> Iterator[tuple[str, int]]:
        """(key, size) of every object whose key starts with ``prefix``, page by page."""
        try:
            for page in self.s3.paginate("list_objects_v2", Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    yield obj["Key"], int(obj.get("Size", 0))
        except AwsError as error:
            raise self.fail(error) from None

    # --- read -----------------------------------------------------------------------------

    def head(self, path: str) -> dict[str, Any]:
        key = self.location.key(path)
        try:
            return self.s3.head_object(Bucket=self.bucket, Key=key)  # type: ignore[no-any-return]
        except AwsError as error:
            raise self.fail(error, path, key) from None

    def preview(self, path: str) -> Preview:
        """The content of a text, CSV/TSV, JSON or image file of at most PREVIEW_MAX_BYTES,
        read with one ranged GET (whose Content-Range tells the object's size)."""
        key = self.location.key(path)
        limit = limits.PREVIEW_MAX_BYTES
        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{limit - 1}")
        except AwsError as error:
            if error.aws_code == "InvalidRange":  # bytes=0-… is unsatisfiable only when empty
                return Preview(b"", Detected("text", "text/plain; charset=utf-8"), 0)
            raise self.fail(error, path, key) from None
        total = _total_size(answer)
        if total > limit:
            answer["Body"].close()
            raise InvalidInput(
                f"'{path}' is {total:,} bytes: previews are limited to {limit // limits.MiB} MB.",
                field="filePath",
                hint="Download the file instead.",
            )
        data = read_body(answer["Body"], limit)
        detected = detect_preview(path, data[:8192])
        if detected is None:
            raise InvalidInput(
                f"'{path}' is binary data: only text, CSV/TSV, JSON and images (PNG, JPEG, GIF, "
                "WebP, BMP) can be previewed.",
                field="filePath",
                hint="Download the file instead.",
            )
        return Preview(data, detected, total)

    def open(self, path: str, byte_range: str | None) -> Download:
        """Start streaming a file (a range of it when ``byte_range`` is given)."""
        key = self.location.key(path)
        try:
            return open_object(self.s3, self.bucket, key, byte_range, path)
        except AwsError as error:
            raise self.fail(error, path, key) from None

    def download_url(self, path: str, preview: bool) -> tuple[str, str]:
        """A presigned GET URL of a file that exists (one HeadObject: a missing file is a 404
        now, not a dead URL later), and its MIME type."""
        self.head(path)
        return self.presigned_get(path, inline=preview), guess_mime(path)

    def presigned_get(self, path: str, *, inline: bool = False) -> str:
        """A presigned GET URL (no AWS call); ``inline`` asks the browser to show it."""
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": self.location.key(path),
            "ResponseContentDisposition": content_disposition(path, inline=inline),
        }
        if inline:
            params["ResponseContentType"] = guess_mime(path)
        return self.presigner.url("get_object", params, limits.PRESIGNED_URL_SECONDS)

    # --- write ----------------------------------------------------------------------------

    def make_folder(self, path: str) -> str:
        """An empty ``path/`` marker object, so an empty folder shows; returns its key."""
        key = self.location.dir_prefix(path)
        try:
            self.s3.put_object(Bucket=self.bucket, Key=key, Body=b"")
        except AwsError as error:
            raise self.fail(error, None, key) from None
        return key

    def delete(self, files: list[str], dirs: list[str]) -> list[Failure]:
        """Delete files, and folders with everything under them (DeleteObjects, 1,000 keys a
        call, while listing).  Needs the extra ``s3:DeleteObject``; when AWS denies every key,
        :class:`AwsAccessDenied` says so."""
        failures: list[Failure] = []
        deleted = 0
        if files:
            keys = [self.location.key(path) for path in files]
            deleted += self._delete_batches(iter(keys), "FILE", failures)
        for path in dirs:
            listed = (key for key, _ in self.keys_under(self.location.dir_prefix(path)))
            deleted += self._delete_batches(listed, "FOLDER", failures)
        denied = [failure for failure in failures if failure.message.startswith("AccessDenied")]
        if failures and deleted == 0 and len(denied) == len(failures):
            raise AwsAccessDenied(
                f"AWS s3:DeleteObjects failed: AccessDenied for all {len(failures)} item(s).",
                service="s3",
                operation="DeleteObjects",
                aws_code="AccessDenied",
                hint=denied_hint("DeleteObjects", self.location.arn(self.location.prefix + "*")),
            )
        return failures

    def _delete_batches(self, keys: Iterator[str], kind: ItemType, out: list[Failure]) -> int:
        deleted = 0
        batch: list[str] = []
        for key in keys:
            batch.append(key)
            if len(batch) == 1000:
                deleted += self._delete_batch(batch, kind, out)
                batch = []
        if batch:
            deleted += self._delete_batch(batch, kind, out)
        return deleted

    def _delete_batch(self, keys: list[str], kind: ItemType, out: list[Failure]) -> int:
        try:
            answer = self.s3.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
            )
        except AwsError as error:
            raise self.fail(error, None, keys[0]) from None
        errors = answer.get("Errors", [])
        for item in errors:
            code = item.get("Code", "Error")
            message = f"{code}: {item.get('Message', '')}".rstrip(": ")
            if code == "AccessDenied":
                message += ". " + denied_hint("DeleteObjects", self.location.arn(item["Key"]))
            out.append(Failure(self.location.relative(item["Key"]), kind, message))
        return len(keys) - len(errors)


def open_object(
    s3: AwsClient, bucket: str, key: str, byte_range: str | None, name: str
) -> Download:
    """One ``GetObject`` whose body is streamed, never held whole: status 200, or 206 with
    ``Content-Range`` for a ``byte_range``; headers for an attachment called ``name``.

    Raises :class:`RangeNotSatisfiable` for a range past the end, and the :class:`AwsError`
    of any other failure (``NoSuchKey``, ``NoSuchBucket``, AccessDenied...) for the caller
    to word.
    """
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if byte_range:
        kwargs["Range"] = byte_range
    try:
        answer = s3.get_object(**kwargs)
    except AwsError as error:
        if error.aws_code == "InvalidRange":
            raise RangeNotSatisfiable(
                f"The range {byte_range} starts past the end of '{name}'.", field="Range"
            ) from None
        raise
    headers = {
        "Content-Length": str(answer.get("ContentLength", 0)),
        "Content-Type": guess_mime(name),
        "Content-Disposition": content_disposition(name),
        "Accept-Ranges": "bytes",
    }
    if answer.get("ETag"):
        headers["ETag"] = answer["ETag"]
    if answer.get("LastModified"):
        headers["Last-Modified"] = _http_date(answer["LastModified"])
    status = 200
    if answer.get("ContentRange"):
        status = 206
        headers["Content-Range"] = answer["ContentRange"]
    return Download(status, headers, iter_body(answer["Body"], limits.DOWNLOAD_CHUNK_BYTES))


def failure(
    error: AwsError,
    location: S3Location,
    link_name: str,
    path: str | None = None,
    key: str | None = None,
) -> Exception:
    """The error to show for a failed call on ``path`` of a link (or on the link itself):
    404 for a missing file or bucket, AccessDenied with the permission to add."""
    if error.aws_code in NOT_FOUND_CODES and path is not None:
        return NotFound(f"'{path}' was not found in data link '{link_name}'.")
    if error.aws_code == "NoSuchBucket":
        return NotFound(
            f"Bucket '{location.bucket}' of data link '{link_name}' does not exist.",
            hint="Delete the data link, or refresh the data-link cache.",
        )
    return explain(error, location.bucket, key)


def _total_size(answer: dict[str, Any]) -> int:
    content_range = str(answer.get("ContentRange") or "")
    if "/" in content_range:
        total = content_range.rsplit("/", 1)[1]
        if total.isdigit():
            return int(total)
    return int(answer.get("ContentLength", 0))


def _http_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def check_search(search: str | None) -> str:
    """A browse filter: a name prefix, checked like a path."""
    search = search or ""
    problem = path_problem(search)
    if problem:
        raise InvalidInput(f"search {problem}.", field="search")
    return search
