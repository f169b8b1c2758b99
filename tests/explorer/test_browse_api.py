"""Browsing: folders and files, one ListObjectsV2 per page, sealed continuation tokens,
prefix search, links to a prefix, and bad paths."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from batchforge.client import ApiError, BatchforgeClient
from batchforge.services.context import AppContext
from tests.explorer.conftest import Seeded


def test_folders_and_files_with_size_and_date(api: BatchforgeClient, seeded: Seeded) -> None:
    seeded.put("reads/s1.fastq", "ACGT")
    seeded.put("reads/deep/s2.fastq", "AC")
    seeded.put("summary.csv", "a,b\n1,2\n")
    seeded.put("empty/", b"")  # a folder marker

    root = api.browse_data_link(seeded.link_id)
    assert root.originalPath == ""
    assert [(i.name, i.type) for i in root.objects] == [
        ("empty", "FOLDER"),
        ("reads", "FOLDER"),
        ("summary.csv", "FILE"),
    ]
    csv = root.objects[2]
    assert csv.size == 8 and csv.mimeType == "text/csv" and csv.lastModified is not None

    reads = api.browse_data_link(seeded.link_id, "reads/")
    assert [(i.name, i.type, i.size) for i in reads.objects] == [
        ("deep", "FOLDER", 0),
        ("s1.fastq", "FILE", 4),
    ]
    assert api.browse_data_link(seeded.link_id, "empty").objects == []  # marker not shown


def test_pages_follow_the_token_one_call_each(
    api: BatchforgeClient, seeded: Seeded, app_ctx: AppContext
) -> None:
    keys = [f"many/f{index:03d}.txt" for index in range(25)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(seeded.put, keys))
    names: list[str] = []
    token = None
    pages = 0
    while True:
        mark = app_ctx.recorder.count()
        page = api.browse_data_link(seeded.link_id, "many", token=token, page_size=10)
        assert [c.name for c in app_ctx.recorder.since(mark)] == ["s3:ListObjectsV2"]
        assert len(page.objects) <= 10
        names += [item.name for item in page.objects]
        pages += 1
        token = page.nextPageToken
        if token is None:
            break
    assert pages == 3
    assert names == [key.split("/")[1] for key in keys]
    # MaxKeys is the page size: the emulator saw exactly what was asked.
    assert app_ctx.recorder.since(0)[-1].params["MaxKeys"] == 10


def test_search_is_a_name_prefix(api: BatchforgeClient, seeded: Seeded) -> None:
    for key in ("s/alpha.txt", "s/alpine/x", "s/beta.txt"):
        seeded.put(key)
    found = api.browse_data_link(seeded.link_id, "s", search="alp")
    assert [(i.name, i.type) for i in found.objects] == [
        ("alpine", "FOLDER"),
        ("alpha.txt", "FILE"),
    ]


def test_a_token_is_bound_to_its_listing_and_cannot_be_forged(
    api: BatchforgeClient, seeded: Seeded, app_ctx: AppContext
) -> None:
    for index in range(3):
        seeded.put(f"t/{index}.txt")
    token = api.browse_data_link(seeded.link_id, "t", page_size=1).nextPageToken
    assert token
    mark = app_ctx.recorder.count()
    for path, bad in (("other", token), ("t", token[:-4] + "AAAA"), ("t", "garbage")):
        with pytest.raises(ApiError) as caught:
            api.browse_data_link(seeded.link_id, path, token=bad, page_size=1)
        assert caught.value.status == 400 and caught.value.field == "nextPageToken"
    assert app_ctx.recorder.count() == mark  # refused before any AWS call


def test_link_to_a_prefix_never_reaches_outside_it(
    api: BatchforgeClient, seeded: Seeded, custom_link: Callable[..., str]
) -> None:
    seeded.put("project/a/result.txt", "inside")
    seeded.put("secret.txt", "outside")
    link_id = custom_link("project")
    assert [i.name for i in api.browse_data_link(link_id).objects] == ["a"]
    assert [i.name for i in api.browse_data_link(link_id, "a").objects] == ["result.txt"]
    data, _, _ = api.preview_data_link_file(link_id, "a/result.txt")
    assert data == b"inside"
    with pytest.raises(ApiError) as caught:
        api.preview_data_link_file(link_id, "../secret.txt")
    assert caught.value.status == 400


BAD_PATHS = [
    ("a/../b", "'..' segment"),
    ("..", "'..' segment"),
    ("a/./b", "'.' segment"),
    ("a//b", "empty segment"),
    ("a/b\nc", "control character"),
    ("a/\x00", "NUL character"),  # refused by the input guard before the route
    ("a/\x7f", "control character"),
    ("/etc", "absolute"),
]


def test_bad_paths_and_page_sizes_are_400_naming_the_problem(
    api: BatchforgeClient, seeded: Seeded, app_ctx: AppContext
) -> None:
    mark = app_ctx.recorder.count()
    for path, problem in BAD_PATHS:
        with pytest.raises(ApiError) as caught:
            api.browse_data_link(seeded.link_id, path)  # sent as is: dot segments encoded
        assert caught.value.status == 400, path
        assert problem in caught.value.message and caught.value.field == "path", path
    for size in (0, 1001, -1):
        with pytest.raises(ApiError) as caught:
            api.browse_data_link(seeded.link_id, page_size=size)
        assert caught.value.status == 400 and caught.value.field == "pageSize"
    with pytest.raises(ApiError) as caught:
        api.browse_data_link(seeded.link_id, search="../x")
    assert caught.value.field == "search"
    assert app_ctx.recorder.count() == mark  # refused before any AWS call


def test_unknown_link_is_404(api: BatchforgeClient, credentials_id: str) -> None:
    with pytest.raises(ApiError) as caught:
        api.browse_data_link("v1-user-doesnotexist")
    assert caught.value.status == 404


def test_tree_lists_every_file_under_the_paths(api: BatchforgeClient, seeded: Seeded) -> None:
    for key in ("tree/a.txt", "tree/sub/b.txt", "tree/sub/", "single.txt", "elsewhere/c", "void/"):
        seeded.put(key, "12")
    items = api.data_link_tree(seeded.link_id, ["tree", "single.txt"])
    assert sorted((i.path, i.size) for i in items) == [
        ("single.txt", 2),
        ("tree/a.txt", 2),
        ("tree/sub/b.txt", 2),
    ]
    assert api.data_link_tree(seeded.link_id, ["void/"]) == []  # an empty folder: its marker
    with pytest.raises(ApiError) as caught:
        api.data_link_tree(seeded.link_id, ["nothing-here"])
    assert caught.value.status == 404
