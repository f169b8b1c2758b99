"""Content types, previewable kinds, HTTP ranges and ``Content-Disposition``.

Previews are served from the API's own origin, so what a browser may render is narrowed:
text of any kind (HTML and SVG included) is served as ``text/plain``, and only raster image
formats recognised by their magic bytes are served as images.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

PreviewKind = Literal["text", "csv", "tsv", "json", "image"]

_EXTRA_TYPES = {
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".tab": "text/tab-separated-values",
    ".json": "application/json",
    ".ndjson": "application/x-ndjson",
    ".md": "text/markdown",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".nf": "text/plain",
    ".config": "text/plain",
    ".log": "text/plain",
    ".fa": "text/plain",
    ".fasta": "text/plain",
    ".fastq": "text/plain",
    ".fq": "text/plain",
    ".vcf": "text/plain",
    ".sam": "text/plain",
    ".bed": "text/plain",
    ".gff": "text/plain",
    ".gtf": "text/plain",
    ".gz": "application/gzip",
    ".bam": "application/octet-stream",
}
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
)
_TEXT_SAMPLE = 8192

SAFE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox",
    "Cache-Control": "private, no-store",
}
"""Response headers for content served from the API's own origin (bucket objects, run
files): never let a browser run or sniff what a bucket holds."""


def guess_mime(name: str) -> str:
    """The MIME type a file name suggests; ``application/octet-stream`` when unknown."""
    lowered = name.lower()
    dot = lowered.rfind(".")
    if dot >= 0 and lowered[dot:] in _EXTRA_TYPES:
        return _EXTRA_TYPES[lowered[dot:]]
    guessed, _ = mimetypes.guess_type(lowered, strict=False)
    return guessed or "application/octet-stream"


def image_type(head: bytes) -> str | None:
    """The raster image type announced by the first bytes, or None."""
    for magic, mime in _IMAGE_MAGIC:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def looks_like_text(head: bytes) -> bool:
    """UTF-8 (or ASCII) without NUL bytes in the first 8 KiB; a multi-byte character cut at
    the end of the sample is accepted."""
    sample = head[:_TEXT_SAMPLE]
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start >= len(sample) - 3 and error.reason == "unexpected end of data"
    return True


@dataclass(frozen=True)
class Detected:
    """How a previewed object is served: its kind and the Content-Type to send."""

    kind: PreviewKind
    media_type: str


def detect_preview(name: str, head: bytes) -> Detected | None:
    """The preview of an object named ``name`` starting with ``head``; None for binary data."""
    image = image_type(head)
    if image:
        return Detected("image", image)
    if not looks_like_text(head):
        return None
    mime = guess_mime(name)
    kind: PreviewKind = "text"
    if mime == "text/csv":
        kind = "csv"
    elif mime == "text/tab-separated-values":
        kind = "tsv"
    elif mime in ("application/json", "application/x-ndjson"):
        kind = "json"
    media = "application/json" if kind == "json" else "text/plain"
    return Detected(kind, f"{media}; charset=utf-8")


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None) -> str | None:
    """A single ``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` range to pass to S3, else None.

    Malformed or multi-range headers are ignored (the whole object is sent), as RFC 9110
    allows.  A range past the end is passed on: S3 answers 416.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip().replace(" ", ""))
    if not match:
        return None
    start, end = match.groups()
    if not start and not end:
        return None
    if start and end and int(end) < int(start):
        return None
    if not start and int(end) == 0:
        return None
    return f"bytes={start}-{end}"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """``attachment``/``inline`` with an ASCII fallback name and the RFC 5987 UTF-8 name."""
    base = filename.rsplit("/", 1)[-1] or "download"
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in base)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(base, safe='')}"
