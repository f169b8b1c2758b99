"""Writing: presigned multipart uploads (Seqera's flow), uploads streamed through the server,
folders, deletion, and the limits."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import httpx
import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.explorer import limits
from batchforge.services.context import AppContext
from tests.cli.conftest import LiveServer
from tests.explorer.conftest import Seeded


def _multipart_uploads(seeded: Seeded) -> list[str]:
    answer = seeded.s3.list_multipart_uploads(Bucket=seeded.bucket)
    return [upload["Key"] for upload in answer.get("Uploads", [])]


def test_presigned_multipart_upload_is_invisible_until_finished(
    api: BatchforgeClient, seeded: Seeded
) -> None:
    body = os.urandom(limits.PRESIGNED_PART_BYTES + 1000)  # two parts
    started = api.request(
        "POST",
        f"/data-links/{seeded.link_id}/upload/in/here",
        json={"fileName": "big.bin", "contentLength": len(body)},
    ).json()
    assert len(started["uploadUrls"]) == 2
    assert started["partSize"] == limits.PRESIGNED_PART_BYTES
    tags = []
    with httpx.Client(timeout=120) as s3:
        for number, url in enumerate(started["uploadUrls"], start=1):
            chunk = body[(number - 1) * started["partSize"] : number * started["partSize"]]
            put = s3.put(url, content=chunk)
            assert put.status_code == 200
            tags.append({"partNumber": number, "eTag": put.headers["etag"]})
    assert "in/here/big.bin" not in seeded.keys("in/")  # no partial object

    finish = f"/data-links/{seeded.link_id}/upload/finish/in/here"
    done = api.request(
        "POST", finish, json={"fileName": "big.bin", "uploadId": started["uploadId"], "tags": tags}
    ).json()
    assert done["completed"] is True and done["parts"] == 2
    assert seeded.get("in/here/big.bin") == body


def test_finish_with_error_aborts_and_bad_finishes_are_400(
    api: BatchforgeClient, seeded: Seeded
) -> None:
    start = f"/data-links/{seeded.link_id}/upload"
    started = api.request("POST", start, json={"fileName": "x.txt", "contentLength": 5}).json()
    finish = f"/data-links/{seeded.link_id}/upload/finish"
    body = {"fileName": "x.txt", "uploadId": started["uploadId"]}
    with pytest.raises(ApiError) as nothing:  # no part was uploaded
        api.request("POST", finish, json=body)
    assert nothing.value.status == 400
    with pytest.raises(ApiError) as bad_tag:
        api.request("POST", finish, json={**body, "tags": [{"partNumber": 1, "eTag": '"00"'}]})
    assert bad_tag.value.status == 400 and "InvalidPart" in bad_tag.value.message

    aborted = api.request("POST", finish, json={**body, "withError": True}).json()
    assert aborted["aborted"] is True
    assert "x.txt" not in _multipart_uploads(seeded)
    assert seeded.keys("x.txt") == []
    link = api.describe_data_link(seeded.link_id)
    assert {e.action: e.status for e in link.extras}["s3:AbortMultipartUpload"] == "granted"


def test_upload_limits_are_checked_before_aws(
    api: BatchforgeClient, seeded: Seeded, app_ctx: AppContext
) -> None:
    start = f"/data-links/{seeded.link_id}/upload"
    mark = app_ctx.recorder.count()
    for body, field in (
        ({"fileName": "f", "contentLength": limits.MAX_OBJECT_BYTES + 1}, "contentLength"),
        ({"fileName": "f", "contentLength": -1}, "contentLength"),
        ({"fileName": "../f", "contentLength": 1}, "fileName"),
        ({"fileName": "dir/", "contentLength": 1}, "fileName"),
        ({"fileName": "a\rb", "contentLength": 1}, "fileName"),
    ):
        with pytest.raises(ApiError) as caught:
            api.request("POST", start, json=body)
        assert caught.value.status == 400 and caught.value.field == field, body
    assert app_ctx.recorder.count() == mark


def test_client_uploads_with_presigned_parts_and_retries(
    api: BatchforgeClient, seeded: Seeded, tmp_path: Path
) -> None:
    source = tmp_path / "sample.fastq"
    source.write_bytes(os.urandom(limits.PRESIGNED_PART_BYTES * 2 + 7))
    assert api.upload_data_link_file(seeded.link_id, "up", source) == source.stat().st_size
    assert seeded.get("up/sample.fastq") == source.read_bytes()


def test_streamed_upload_goes_multipart_and_small_ones_are_one_put(
    api: BatchforgeClient, seeded: Seeded, app_ctx: AppContext, tmp_path: Path
) -> None:
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(limits.STREAM_PART_BYTES + 123))
    mark = app_ctx.recorder.count()
    api.upload_data_link_file(seeded.link_id, "st", big, via_server=True)
    assert seeded.get("st/big.bin") == big.read_bytes()
    assert [c.name for c in app_ctx.recorder.since(mark)] == [
        "s3:CreateMultipartUpload",
        "s3:UploadPart",
        "s3:UploadPart",
        "s3:CompleteMultipartUpload",
    ]
    small = tmp_path / "small.txt"
    small.write_text("tiny")
    mark = app_ctx.recorder.count()
    api.upload_data_link_file(seeded.link_id, "st", small, via_server=True)
    assert [c.name for c in app_ctx.recorder.since(mark)] == ["s3:PutObject"]
    assert seeded.get("st/small.txt") == b"tiny"


def test_a_broken_streamed_upload_leaves_no_object_and_is_aborted(
    live_server: LiveServer, seeded: Seeded
) -> None:
    """The client sends one part and goes away: the part reached S3, the upload is aborted,
    nothing is visible."""
    path = f"/data-links/{seeded.link_id}/content/fail/broken.bin"
    size = limits.STREAM_PART_BYTES * 2
    host, port = live_server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as conn:
        conn.sendall(
            f"PUT {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {size}\r\n"
            f"Authorization: Bearer {live_server.token}\r\n\r\n".encode()
        )
        conn.sendall(os.urandom(limits.STREAM_PART_BYTES + 1000))
        recorder = live_server.ctx.recorder
        deadline = time.monotonic() + 120
        while "s3:UploadPart" not in recorder.names() and time.monotonic() < deadline:
            time.sleep(0.05)
    deadline = time.monotonic() + 120
    while "s3:AbortMultipartUpload" not in recorder.names() and time.monotonic() < deadline:
        time.sleep(0.05)
    names = recorder.names()
    assert "s3:UploadPart" in names and "s3:AbortMultipartUpload" in names
    assert "s3:CompleteMultipartUpload" not in names
    assert seeded.keys("fail/") == []
    assert _multipart_uploads(seeded) == []


def test_folders_and_deletion(api: BatchforgeClient, seeded: Seeded) -> None:
    assert api.create_data_link_folder(seeded.link_id, "new/folder") == "new/folder/"
    assert seeded.keys("new/") == ["new/folder/"]
    for key in ("del/a.txt", "del/sub/b.txt", "keep.txt", "other.txt"):
        seeded.put(key)
    result = api.delete_data_link_content(seeded.link_id, files=["other.txt"], dirs=["del", "new"])
    assert result.deletionFailures == []
    assert seeded.keys() == ["keep.txt"]
    link = api.describe_data_link(seeded.link_id)
    assert {e.action: e.status for e in link.extras}["s3:DeleteObject"] == "granted"
    with pytest.raises(ApiError) as root:
        api.delete_data_link_content(seeded.link_id, dirs=[""])
    assert root.value.status == 400 and root.value.field == "dirs[0]"
    with pytest.raises(ApiError) as escape:
        api.delete_data_link_content(seeded.link_id, files=["../keep.txt"])
    assert escape.value.status == 400


def test_a_folder_named_finish_is_still_an_upload_target(
    api: BatchforgeClient, seeded: Seeded
) -> None:
    """The spec's /upload/{dirPath} and /upload/finish overlap: the body tells them apart."""
    link = f"/data-links/{seeded.link_id}"
    started = api.request(
        "POST", f"{link}/upload/finish", json={"fileName": "a.txt", "contentLength": 3}
    ).json()
    with httpx.Client(timeout=120) as s3:
        etag = s3.put(started["uploadUrls"][0], content=b"abc").headers["etag"]
    api.request(
        "POST",
        f"{link}/upload/finish/finish",
        json={
            "fileName": "a.txt",
            "uploadId": started["uploadId"],
            "tags": [{"partNumber": 1, "eTag": etag}],
        },
    )
    assert seeded.get("finish/a.txt") == b"abc"
