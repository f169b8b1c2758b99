"""`batchforge data-links …` against a live server over HTTP and the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from batchforge.cli.main import app
from batchforge.explorer import limits
from batchforge.local_aws import LocalAws
from tests.cli.conftest import LiveServer
from tests.explorer.conftest import make_bucket
from tests.factories import keys_credentials


def invoke(server: LiveServer, *args: str):  # type: ignore[no-untyped-def]
    base = ["--url", server.url, "--token", server.token]
    return CliRunner().invoke(app, [*base, *args])


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("BATCHFORGE_URL", "BATCHFORGE_TOKEN", "TOWER_API_ENDPOINT", "TOWER_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BATCHFORGE_DATA_DIR", str(tmp_path / "cli-data"))


def test_add_browse_upload_download_update_delete(
    live_server: LiveServer, local_aws: LocalAws, tmp_path: Path
) -> None:
    from batchforge.client import BatchforgeClient

    with BatchforgeClient(live_server.url, live_server.token) as client:
        client.create_credentials(keys_credentials("lab"))
    bucket = make_bucket(local_aws)
    local_aws.boto_client("s3").put_object(Bucket=bucket, Key="proj/readme.txt", Body=b"hi")

    added = invoke(
        live_server, "data-links", "add", "-n", "proj", "-u", f"s3://{bucket}/proj", "-c", "lab"
    )
    assert added.exit_code == 0, added.output
    assert "VALID" in added.output

    listed = json.loads(invoke(live_server, "-o", "json", "data-links", "list").output)
    names = {link["name"]: link for link in listed["dataLinks"]}
    assert {"proj", bucket} <= set(names)
    link_id = names["proj"]["id"]

    source = tmp_path / "local" / "results"
    (source / "deep").mkdir(parents=True)
    (source / "a.txt").write_text("A")
    (source / "deep" / "b.bin").write_bytes(b"B" * (limits.PRESIGNED_PART_BYTES + 5))
    uploaded = invoke(live_server, "data-links", "upload", "-n", "proj", "-o", "in", str(source))
    assert uploaded.exit_code == 0, uploaded.output
    streamed = invoke(
        live_server, "data-links", "upload", "-i", link_id, "--via-server", str(source / "a.txt")
    )
    assert streamed.exit_code == 0, streamed.output
    s3 = local_aws.boto_client("s3")
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == [
        "proj/a.txt",
        "proj/in/results/a.txt",
        "proj/in/results/deep/b.bin",
        "proj/readme.txt",
    ]

    browsed = invoke(live_server, "data-links", "browse", "-n", "proj", "-p", "in/results")
    assert browsed.exit_code == 0, browsed.output
    assert "deep/" in browsed.output and "a.txt" in browsed.output
    paged = json.loads(
        invoke(
            live_server, "-o", "json", "data-links", "browse", "-i", link_id, "--page-size", "1"
        ).output
    )
    assert len(paged["objects"]) == 1 and paged["nextPageToken"]

    out = tmp_path / "down"
    got = invoke(live_server, "data-links", "download", "-i", link_id, "-o", str(out), "in/results")
    assert got.exit_code == 0, got.output
    assert (out / "results" / "a.txt").read_text() == "A"
    assert (out / "results" / "deep" / "b.bin").stat().st_size == limits.PRESIGNED_PART_BYTES + 5

    hidden = invoke(live_server, "data-links", "update", "-i", link_id, "-n", "project", "--hide")
    assert hidden.exit_code == 0, hidden.output
    assert "project" not in invoke(live_server, "data-links", "list").output
    assert invoke(live_server, "data-links", "delete", "-i", link_id).exit_code == 0


def test_errors_are_one_line_with_a_hint(
    live_server: LiveServer, local_aws: LocalAws, tmp_path: Path
) -> None:
    missing = invoke(live_server, "data-links", "browse", "-n", "no-such-link")
    assert missing.exit_code == 1
    assert "No data link named 'no-such-link'" in missing.output
    assert "Traceback" not in missing.output

    bad = invoke(live_server, "data-links", "browse", "-i", "v1-user-nothing", "-p", "a/../b")
    assert bad.exit_code == 1 and "Traceback" not in bad.output

    many = tmp_path / "many"
    many.mkdir()
    for index in range(limits.UPLOAD_BATCH_MAX_FILES + 1):
        (many / f"{index}.txt").write_text("x")
    too_many = invoke(live_server, "data-links", "upload", "-i", "v1-user-x", str(many))
    assert too_many.exit_code == 1
    assert "301 files given: at most 300" in too_many.output
