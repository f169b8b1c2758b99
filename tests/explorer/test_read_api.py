"""Reading: previews (one ranged GET, type detected, 10 MB limit), streamed downloads with
HTTP Range, presigned URLs and the download script."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.explorer import limits
from batchforge.services.context import AppContext
from tests.explorer.conftest import Seeded

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_previews_detect_the_kind_with_one_ranged_get(
    api: BatchforgeClient, seeded: Seeded, app_ctx: AppContext
) -> None:
    seeded.put("p/table.csv", "a,b\n1,2\n")
    seeded.put("p/table.tsv", "a\tb\n")
    seeded.put("p/data.json", json.dumps({"k": [1, 2]}))
    seeded.put("p/notes.md", "# héllo")
    seeded.put("p/page.html", "<script>alert(1)</script>")
    seeded.put("p/picture", PNG)  # no extension: the magic bytes tell
    seeded.put("p/empty.txt", b"")
    expected = {
        "table.csv": ("csv", "text/plain"),
        "table.tsv": ("tsv", "text/plain"),
        "data.json": ("json", "application/json"),
        "notes.md": ("text", "text/plain"),
        "page.html": ("text", "text/plain"),  # never rendered as HTML from our origin
        "picture": ("image", "image/png"),
        "empty.txt": ("text", "text/plain"),
    }
    for name, (kind, media) in expected.items():
        mark = app_ctx.recorder.count()
        data, got_kind, content_type = api.preview_data_link_file(seeded.link_id, f"p/{name}")
        assert (got_kind, content_type.split(";")[0]) == (kind, media), name
        assert data == seeded.get(f"p/{name}")
        calls = app_ctx.recorder.since(mark)
        assert [c.name for c in calls] == ["s3:GetObject"]
        assert calls[0].params["Range"] == f"bytes=0-{limits.PREVIEW_MAX_BYTES - 1}"

    response = api.request("GET", f"/data-links/{seeded.link_id}/preview/p/page.html")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]


def test_previews_refuse_binary_large_and_missing_files(
    api: BatchforgeClient, seeded: Seeded
) -> None:
    seeded.put("b/blob.bin", b"\x00\x01\x02" * 100)
    seeded.put("b/big.txt", b"x" * (limits.PREVIEW_MAX_BYTES + 1))
    with pytest.raises(ApiError) as binary:
        api.preview_data_link_file(seeded.link_id, "b/blob.bin")
    assert binary.value.status == 400 and "binary" in binary.value.message
    with pytest.raises(ApiError) as big:
        api.preview_data_link_file(seeded.link_id, "b/big.txt")
    assert big.value.status == 400
    assert "10,485,761 bytes" in big.value.message and "10 MB" in big.value.message
    with pytest.raises(ApiError) as missing:
        api.preview_data_link_file(seeded.link_id, "b/none.txt")
    assert missing.value.status == 404


def test_download_streams_the_file_and_honours_ranges(
    api: BatchforgeClient, seeded: Seeded, tmp_path: Path
) -> None:
    body = bytes(range(256)) * 10_000  # 2.56 MB: several chunks
    seeded.put("d/data.bin", body)
    url = f"/data-links/{seeded.link_id}/download/d/data.bin"

    whole = api.request("GET", url)
    assert whole.status_code == 200 and whole.content == body
    assert whole.headers["content-length"] == str(len(body))
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.headers["content-disposition"].startswith('attachment; filename="data.bin"')

    part = api._http.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == body[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(body)}"
    tail = api._http.get(url, headers={"Range": "bytes=-10"})
    assert tail.status_code == 206 and tail.content == body[-10:]
    beyond = api._http.get(url, headers={"Range": f"bytes={len(body) + 5}-"})
    assert beyond.status_code == 416 and beyond.json()["code"] == "range-not-satisfiable"

    target = tmp_path / "out" / "data.bin"
    assert api.download_data_link_file(seeded.link_id, "d/data.bin", target) == len(body)
    assert target.read_bytes() == body


def test_download_url_is_presigned_and_checked(api: BatchforgeClient, seeded: Seeded) -> None:
    seeded.put("u/report.txt", "hello")
    answer = api.data_link_download_url(seeded.link_id, "u/report.txt")
    assert answer.resolvedPath == "u/report.txt" and answer.resolvedMimeType == "text/plain"
    fetched = httpx.get(
        answer.url, timeout=120
    )  # no batchforge token: the URL carries the signature
    assert fetched.status_code == 200 and fetched.content == b"hello"
    assert "attachment" in fetched.headers["content-disposition"]
    inline = api.data_link_download_url(seeded.link_id, "u/report.txt", preview=True)
    assert "inline" in httpx.get(inline.url, timeout=120).headers["content-disposition"]
    with pytest.raises(ApiError) as missing:
        api.data_link_download_url(seeded.link_id, "u/absent.txt")
    assert missing.value.status == 404


def test_download_script_fetches_the_selection(
    api: BatchforgeClient, seeded: Seeded, tmp_path: Path
) -> None:
    seeded.put("s/run1/a.txt", "A")
    seeded.put("s/run1/sub/b.txt", "B")
    seeded.put("s/single.txt", "S")
    seeded.put("s/run1/../../escape.txt", "never written")  # a legal S3 key
    text = api.data_link_download_script(seeded.link_id, dirs=["s/run1"], files=["s/single.txt"])
    assert text.startswith("#!/bin/sh")
    assert "1 file(s) left out" in text
    script = tmp_path / "get.sh"
    script.write_text(text)
    work = tmp_path / "work"
    work.mkdir()
    subprocess.run(["sh", str(script)], cwd=work, check=True, capture_output=True, timeout=60)
    written = sorted(str(p.relative_to(work)) for p in work.rglob("*") if p.is_file())
    assert written == ["run1/a.txt", "run1/sub/b.txt", "single.txt"]
    assert (work / "run1" / "sub" / "b.txt").read_text() == "B"
    assert not (tmp_path / "escape.txt").exists()
