"""Pure parts of the explorer: paths, content detection, ranges, part plans, scripts, hints."""

from __future__ import annotations

import pytest

from batchforge.errors import AwsAccessDenied, InvalidInput
from batchforge.explorer import limits
from batchforge.explorer.content import (
    content_disposition,
    detect_preview,
    looks_like_text,
    parse_range,
)
from batchforge.explorer.paths import (
    S3Location,
    clean_path,
    parse_resource_ref,
    path_problem,
    safe_local_path,
)
from batchforge.explorer.permissions import explain
from batchforge.explorer.script import local_name, render
from batchforge.explorer.uploads import plan_parts, stream_part_size


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("", True),
        ("a/b.txt", True),
        ("a/b/", True),
        ("with space/é.txt", True),
        ("..a/b..", True),  # dots inside names are fine
        ("a/../b", False),
        ("./a", False),
        ("a//b", False),
        ("/a", False),
        ("a\tb", False),
        ("a\x7fb", False),
        ("x" * 1025, False),
    ],
)
def test_path_rules(path: str, ok: bool) -> None:
    assert (path_problem(path) is None) is ok


def test_clean_path_and_locations() -> None:
    assert clean_path("a/b/", "path") == "a/b"
    with pytest.raises(InvalidInput) as caught:
        clean_path("", "filePath", required=True)
    assert caught.value.field == "filePath"
    location = parse_resource_ref("s3://my-bucket/runs/2024/")
    assert location == S3Location("my-bucket", "runs/2024/")
    assert location.ref == "s3://my-bucket/runs/2024"
    assert location.key("x.txt") == "runs/2024/x.txt"
    assert location.dir_prefix("") == "runs/2024/" and location.dir_prefix("d") == "runs/2024/d/"
    assert parse_resource_ref("S3://bucket.name").prefix == ""
    for bad in ("s3://", "s3://ab", "s3://UPPER", "s3://a..b", "http://x", "s3://b/x/../y"):
        with pytest.raises(InvalidInput):
            parse_resource_ref(bad)


def test_safe_local_paths_and_script_names() -> None:
    assert safe_local_path("run1/a.txt")
    assert not safe_local_path("../a") and not safe_local_path("a/") and not safe_local_path("")
    assert local_name("results/run1", "results/run1/x/y.txt") == "run1/x/y.txt"
    assert local_name("top", "top/a") == "top/a"
    assert local_name("d/file.txt", "d/file.txt") == "file.txt"


def test_script_quotes_everything_and_leaves_out_unsafe_names() -> None:
    text = render(
        "it's", "s3://b", [("a b/it's $(x).txt", "https://s3/u?a=1&b=2"), ("../x", "https://u")]
    )
    assert "fetch 'https://s3/u?a=1&b=2' 'a b/it'\"'\"'s $(x).txt'" in text
    assert "1 file(s) left out" in text and "'../x'" not in text
    assert text.count("\nfetch ") == 1


def test_detection() -> None:
    assert detect_preview("x.csv", b"a,b\n").kind == "csv"  # type: ignore[union-attr]
    assert detect_preview("x.TSV", b"a\tb\n").kind == "tsv"  # type: ignore[union-attr]
    assert detect_preview("x.json", b"{}").media_type.startswith("application/json")  # type: ignore[union-attr]
    assert detect_preview("x.svg", b"<svg/>").media_type.startswith("text/plain")  # type: ignore[union-attr]
    assert detect_preview("x.jpg", b"\xff\xd8\xff\xe0").kind == "image"  # type: ignore[union-attr]
    assert detect_preview("x.txt", b"\x00\x01") is None
    assert looks_like_text("é".encode() * 4096 + "é".encode()[:1])  # cut character at the end
    assert not looks_like_text(b"\xff\xfe\xfd")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", "bytes=0-99"),
        ("bytes=100-", "bytes=100-"),
        ("bytes=-5", "bytes=-5"),
        ("bytes = 1 - 2", "bytes=1-2"),
        ("bytes=5-1", None),
        ("bytes=0-1,5-9", None),
        ("items=0-1", None),
        ("bytes=-", None),
        ("bytes=-0", None),
        (None, None),
    ],
)
def test_range_parsing(header: str | None, expected: str | None) -> None:
    assert parse_range(header) == expected


def test_content_disposition_is_ascii_safe() -> None:
    value = content_disposition('dir/ré"sumé.pdf')
    assert value.startswith('attachment; filename="r__sum_.pdf"')
    assert "filename*=UTF-8''r%C3%A9%22sum%C3%A9.pdf" in value


def test_part_plans() -> None:
    assert plan_parts(0) == plan_parts(1)
    assert plan_parts(0).parts == 1
    assert plan_parts(limits.PRESIGNED_PART_BYTES + 1).parts == 2
    huge = plan_parts(limits.MAX_OBJECT_BYTES)
    assert huge.parts <= limits.MAX_PARTS and huge.part_size % limits.MiB == 0
    assert stream_part_size(None) == limits.STREAM_PART_BYTES
    assert stream_part_size(limits.TiB) * limits.MAX_PARTS >= limits.TiB
    for bad in (-1, limits.MAX_OBJECT_BYTES + 1):
        with pytest.raises(InvalidInput):
            plan_parts(bad)


def test_access_denied_hints_name_the_iam_action_and_resource() -> None:
    def denied(operation: str) -> AwsAccessDenied:
        return AwsAccessDenied("denied", service="s3", operation=operation, aws_code="AccessDenied")

    assert "s3:ListBucket on arn:aws:s3:::b " in (explain(denied("ListObjectsV2"), "b").hint or "")
    hint = explain(denied("GetObject"), "b", "k/x").hint or ""
    assert "s3:GetObject on arn:aws:s3:::b/k/x" in hint and "optional" not in hint
    delete_hint = explain(denied("DeleteObjects"), "b", "k").hint or ""
    assert "s3:DeleteObject" in delete_hint and "optional" in delete_hint
