"""Paths inside a data link, and ``s3://`` references.

A *path* is what a client names: relative to the link's root, ``/``-separated, no leading
``/``, no ``.`` or ``..`` segment, no empty segment, no control character.  A directory path
may end with one ``/``.  Every path is checked here before it becomes an S3 key, so a client
cannot reach outside a link that points at a prefix, and a download script cannot write
outside its directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from batchforge.errors import InvalidInput

MAX_KEY_BYTES = 1024
BUCKET_PATTERN = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def path_problem(path: str) -> str | None:
    """Why ``path`` is not an acceptable relative path, or None when it is."""
    if _CONTROL.search(path):
        return "contains a control character"
    if path.startswith("/"):
        return "is absolute (starts with '/'); give a path relative to the data link"
    body = path[:-1] if path.endswith("/") else path
    if not body:
        return None
    for segment in body.split("/"):
        if segment in ("", ".", ".."):
            shown = "an empty segment ('//')" if segment == "" else f"a '{segment}' segment"
            return f"contains {shown}"
    if len(path.encode()) > MAX_KEY_BYTES:
        return f"is longer than {MAX_KEY_BYTES} bytes"
    return None


def clean_path(path: str | None, field: str, *, required: bool = False) -> str:
    """``path`` checked and without its trailing ``/`` ('' for the link's root).

    Raises :class:`InvalidInput` naming ``field`` and the problem.
    """
    path = path or ""
    problem = path_problem(path)
    if problem:
        raise InvalidInput(f"{field} {problem}.", field=field)
    cleaned = path[:-1] if path.endswith("/") else path
    if required and not cleaned:
        raise InvalidInput(f"{field} is required.", field=field)
    return cleaned


def clean_name(name: str | None, field: str) -> str:
    """A file name for an upload: a non-empty relative path that does not end with ``/``."""
    if not name or name.endswith("/"):
        raise InvalidInput(f"{field} must name a file.", field=field)
    return clean_path(name, field, required=True)


def join(*parts: str) -> str:
    """Non-empty parts joined with ``/``."""
    return "/".join(part.strip("/") for part in parts if part.strip("/"))


@dataclass(frozen=True)
class S3Location:
    """A bucket and a key prefix ('' or ending with ``/``)."""

    bucket: str
    prefix: str = ""

    @property
    def ref(self) -> str:
        """The ``s3://bucket[/prefix]`` form, without a trailing ``/``."""
        return f"s3://{self.bucket}" + (f"/{self.prefix.rstrip('/')}" if self.prefix else "")

    def key(self, path: str) -> str:
        """The object key of a (clean) file path."""
        return self.prefix + path

    def dir_prefix(self, path: str) -> str:
        """The key prefix of a (clean) directory path: '' or ending with ``/``."""
        return self.prefix + (path + "/" if path else "")

    def relative(self, key: str) -> str:
        """A key of this location relative to its prefix."""
        return key[len(self.prefix) :] if key.startswith(self.prefix) else key

    def arn(self, key: str | None = None) -> str:
        """The IAM resource ARN of the bucket, or of one object."""
        return f"arn:aws:s3:::{self.bucket}" + (f"/{key}" if key is not None else "")


def parse_resource_ref(ref: str, field: str = "resourceRef") -> S3Location:
    """``s3://bucket`` or ``s3://bucket/prefix[/]`` as an :class:`S3Location`."""
    text = (ref or "").strip()
    if not text.lower().startswith("s3://"):
        raise InvalidInput(
            f"{field} must start with s3:// (e.g. s3://my-bucket/data).", field=field
        )
    bucket, _, prefix = text[5:].partition("/")
    if not BUCKET_PATTERN.match(bucket) or ".." in bucket:
        raise InvalidInput(
            f"{field}: '{bucket}' is not a valid S3 bucket name (3-63 lowercase letters, digits, "
            "'.' and '-').",
            field=field,
        )
    cleaned = clean_path(prefix, field)
    return S3Location(bucket, cleaned + "/" if cleaned else "")


def safe_local_path(relative: str) -> bool:
    """True when a key relative to a download root can be written under that root as is."""
    return bool(relative) and not relative.endswith("/") and path_problem(relative) is None
