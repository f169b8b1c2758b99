"""The Data Explorer's limits, in one place (the API, the CLI and the docs quote them)."""

from __future__ import annotations

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB

PAGE_SIZE_DEFAULT = 1000
"""Items per browse page when the client gives none: one ListObjectsV2 call."""
PAGE_SIZE_MAX = 1000
"""ListObjectsV2 returns at most 1,000 keys per call; a page is exactly one call."""

PREVIEW_MAX_BYTES = 10 * MiB
"""Largest object that can be previewed (read with one ranged GET)."""

TREE_MAX_ITEMS = 10_000
"""Most files one ``browse-tree`` or download script may name."""

UPLOAD_BATCH_MAX_FILES = 300
"""Most files one upload command (CLI, UI) sends at once."""
MAX_OBJECT_BYTES = 5 * TiB
"""S3's largest object."""
MIN_PART_BYTES = 5 * MiB
"""S3's smallest multipart part (except the last one)."""
MAX_PARTS = 10_000
"""S3's most parts per multipart upload."""
PRESIGNED_PART_BYTES = 8 * MiB
"""Default part size of a presigned multipart upload (grows for files over ~78 GiB)."""
STREAM_PART_BYTES = 8 * MiB
"""Part size of an upload streamed through the server (grown to fit MAX_PARTS when the length
is known); one upload holds at most two parts in memory.  Uploads of unknown length (chunked)
are limited to MAX_PARTS such parts (~78 GiB)."""

DOWNLOAD_CHUNK_BYTES = 1 * MiB
"""Chunk size of a download streamed through the server."""

PRESIGNED_URL_SECONDS = 3600
"""Lifetime of presigned download and upload URLs."""
