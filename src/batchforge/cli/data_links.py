"""``batchforge data-links``: list, add, update, delete, browse, download and upload (flags
after Seqera's ``tw data-links``).  A link is named by ``-i/--id``, ``-n/--name`` or
``--uri``; ``-w`` may follow the subcommand, as ``tw`` places it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from batchforge.cli.common import OutputFormat, emit_json, emit_table, fail, say
from batchforge.cli.launch_opts import WorkspaceOpt
from batchforge.cli.launch_opts import scoped as state

if TYPE_CHECKING:
    from batchforge.client import BatchforgeClient
    from batchforge.schemas.data_links import DataLinkDto

app = typer.Typer(help="Browse and transfer data in S3 buckets (data links).", no_args_is_help=True)

LinkId = Annotated[str | None, typer.Option("--id", "-i", help="Data-link id.")]
LinkName = Annotated[str | None, typer.Option("--name", "-n", help="Data-link name.")]
LinkUri = Annotated[str | None, typer.Option("--uri", help="Data-link URI (s3://bucket).")]
Credentials = Annotated[
    str | None, typer.Option("--credentials", "-c", help="Credentials name or id.")
]
WORKERS = 4


def _credentials_id(client: BatchforgeClient, credentials: str | None) -> str | None:
    return client.find_credentials(credentials).id if credentials else None


def _link(
    client: BatchforgeClient,
    link_id: str | None,
    name: str | None,
    credentials: str | None,
    uri: str | None = None,
) -> DataLinkDto:
    if link_id:
        return client.describe_data_link(link_id)
    if name:
        return client.find_data_link(name, _credentials_id(client, credentials))
    if uri:
        found = client.list_data_links(_credentials_id(client, credentials), None, "all")
        matches = [link for link in found.dataLinks if link.resourceRef == uri.rstrip("/")]
        if len(matches) == 1:
            return matches[0]
        if matches:
            ids = ", ".join(link.id for link in matches)
            raise fail(f"Several data links have the URI {uri}: {ids}.", "Name one with --id.")
        raise fail(f"No data link with the URI {uri}.")
    raise fail("Name the data link with --id, --name or --uri.", code=2)


def _size(value: int) -> str:
    size = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(value)


@app.command("list")
def list_links(
    ctx: typer.Context,
    workspace: WorkspaceOpt = None,
    credentials: Credentials = None,
    search: Annotated[str | None, typer.Option("--search", "-s", help="Name, region:X")] = None,
    starts_with: Annotated[
        str | None, typer.Option("--name", "-n", help="Names starting with this word.")
    ] = None,
    region: Annotated[str | None, typer.Option("--region", "-r", help="Only this region.")] = None,
    providers: Annotated[
        str | None, typer.Option("--providers", "-p", help="aws,azure,google")
    ] = None,
    uri: Annotated[str | None, typer.Option("--uri", "-u", help="URIs starting so.")] = None,
    visibility: Annotated[
        str, typer.Option("--visibility", help="visible, hidden or all")
    ] = "visible",
    wait: Annotated[
        bool, typer.Option("--wait", help="Accepted as tw (links are listed at once).")
    ] = False,
    max_results: Annotated[int | None, typer.Option("--max")] = None,
    offset: Annotated[int | None, typer.Option("--offset")] = None,
    page: Annotated[int | None, typer.Option("--page", min=1)] = None,
) -> None:
    """List data links (buckets of the workspace's credentials, and custom links)."""
    st = state(ctx, workspace)
    if page is not None:
        if offset is not None:
            raise fail("Use either --page or --offset, not both.")
        offset = (page - 1) * (max_results or 100)
    words = [w for w in (search, starts_with, f"region:{region}" if region else None) if w]
    wanted = {p.strip().lower() for p in (providers or "").split(",") if p.strip()}
    with st.client() as client:
        cid = _credentials_id(client, credentials)
        text = " ".join(words) or None
        found = client.list_data_links(cid, text, visibility, max_results, offset)
    if starts_with:
        found.dataLinks = [x for x in found.dataLinks if x.name.startswith(starts_with)]
    if wanted:
        found.dataLinks = [x for x in found.dataLinks if (x.provider or "aws") in wanted]
    if uri:
        found.dataLinks = [x for x in found.dataLinks if x.resourceRef.startswith(uri)]
    if starts_with or wanted or uri:
        found.totalSize = len(found.dataLinks)
    if st.structured:
        emit_json(found.model_dump(mode="json"))
        return
    emit_table(
        f"Data links ({found.totalSize})",
        ["ID", "Name", "Resource", "Region", "Credentials", "Status", "Source"],
        [
            [
                link.id,
                link.name + (" (hidden)" if link.hidden else ""),
                link.resourceRef,
                link.region,
                ", ".join(c.name for c in link.credentials),
                link.status if not link.message else f"{link.status}: {link.message}",
                link.creationSource,
            ]
            for link in found.dataLinks
        ],
    )


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="Data-link name.")],
    uri: Annotated[str, typer.Option("--uri", "-u", help="s3://bucket[/prefix]")],
    credentials: Annotated[str, typer.Option("--credentials", "-c", help="Name or id.")],
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    provider: Annotated[str, typer.Option("--provider", "-p")] = "aws",
    region: Annotated[str | None, typer.Option("--region", help="Default: looked up")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Add a custom data link to a bucket or a prefix (checked against AWS)."""
    from batchforge.schemas.data_links import DataLinkCreateRequest

    st = state(ctx, workspace)
    with st.client() as client:
        body = DataLinkCreateRequest(
            name=name,
            resourceRef=uri,
            description=description,
            provider=provider,
            region=region,
            credentialsId=_credentials_id(client, credentials),
        )
        link = client.create_data_link(body)
    _report(st.output, link, f"Data link '{link.name}' added (id {link.id})")


def _report(output: OutputFormat, link: DataLinkDto, done: str) -> None:
    if output.structured:
        emit_json({"dataLink": link.model_dump(mode="json")})
        return
    say(f"{done}: {link.status}{' - ' + link.message if link.message else ''}.")


@app.command("update")
def update(
    ctx: typer.Context,
    link_id: Annotated[str, typer.Option("--id", "-i", help="Data-link id.")],
    name: Annotated[str | None, typer.Option("--name", "-n", help="New name.")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    credentials: Credentials = None,
    hidden: Annotated[bool | None, typer.Option("--hide/--show", help="Hide or show.")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Rename, describe, change credentials, or hide/show a data link."""
    from batchforge.schemas.data_links import DataLinkUpdateRequest

    st = state(ctx, workspace)
    with st.client() as client:
        body = DataLinkUpdateRequest(
            name=name,
            description=description,
            credentialsId=_credentials_id(client, credentials),
            hidden=hidden,
        )
        link = client.update_data_link(link_id, body)
    _report(st.output, link, f"Data link '{link.name}' updated")


@app.command("delete")
def delete(
    ctx: typer.Context,
    workspace: WorkspaceOpt = None,
    link_id: LinkId = None,
    name: LinkName = None,
    uri: LinkUri = None,
) -> None:
    """Delete a custom data link (its data stays in S3)."""
    with state(ctx, workspace).client() as client:
        link = _link(client, link_id, name, None, uri)
        client.delete_data_link(link.id)
    say(f"Data link '{link.id}' deleted.")


@app.command("refresh")
def refresh(
    ctx: typer.Context,
    credentials: Credentials = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """List the credentials' buckets again (all the workspace's credentials by default)."""
    st = state(ctx, workspace)
    with st.client() as client:
        result = client.refresh_data_links(_credentials_id(client, credentials))
    if st.structured:
        emit_json(result.model_dump(mode="json"))
        return
    for item in result.refreshed:
        say(f"{item.credentialsId}: {item.status}, {item.buckets} bucket(s). {item.message or ''}")


@app.command("browse")
def browse(
    ctx: typer.Context,
    workspace: WorkspaceOpt = None,
    link_id: LinkId = None,
    name: LinkName = None,
    uri: LinkUri = None,
    credentials: Credentials = None,
    path: Annotated[str, typer.Option("--path", "-p", help="Folder to list.")] = "",
    search: Annotated[str | None, typer.Option("--filter", "-f", help="Name prefix.")] = None,
    token: Annotated[str | None, typer.Option("--token", "-t", help="Next-page token.")] = None,
    page_size: Annotated[int | None, typer.Option("--page-size", help="1-1000")] = None,
    page: Annotated[
        int | None, typer.Option("--page", min=1, help="Page number (follows the tokens).")
    ] = None,
) -> None:
    """List one page of a folder: sub-folders and files (size, last modified)."""
    st = state(ctx, workspace)
    with st.client() as client:
        link = _link(client, link_id, name, credentials, uri)
        cid = _credentials_id(client, credentials)
        for _ in range((page or 1) - 1):  # tw's --page: follow the next-page tokens
            token = client.browse_data_link(
                link.id, path, search=search, token=token, page_size=page_size, credentials_id=cid
            ).nextPageToken
            if not token:
                raise fail(f"There is no page {page}.")
        listing = client.browse_data_link(
            link.id, path, search=search, token=token, page_size=page_size, credentials_id=cid
        )
    if st.structured:
        emit_json(listing.model_dump(mode="json"))
        return
    emit_table(
        f"{link.resourceRef}/{path.strip('/')}".rstrip("/"),
        ["Type", "Name", "Size", "Last modified"],
        [
            [
                item.type,
                item.name + ("/" if item.type == "FOLDER" else ""),
                _size(item.size) if item.type == "FILE" else "",
                item.lastModified.isoformat(timespec="seconds") if item.lastModified else "",
            ]
            for item in listing.objects
        ],
    )
    if listing.nextPageToken:
        say(f"More: --token {listing.nextPageToken}")


def _run_all(jobs: list[Callable[[], Any]]) -> list[BaseException]:
    """Run ``jobs`` a few at a time; the errors, in order."""
    from concurrent.futures import ThreadPoolExecutor

    def attempt(job: Callable[[], Any]) -> BaseException | None:
        try:
            job()
        except Exception as error:  # reported after the others finished
            return error
        return None

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return [error for error in pool.map(attempt, jobs) if error is not None]


@app.command("download")
def download(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(help="Files or folders in the data link.")],
    link_id: LinkId = None,
    name: LinkName = None,
    credentials: Credentials = None,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "--output", "-o", help="Local folder.")
    ] = Path("."),
    workspace: WorkspaceOpt = None,
) -> None:
    """Download files and folders (streamed, resumed after a broken connection)."""
    from batchforge.explorer.paths import safe_local_path
    from batchforge.explorer.script import local_name

    with state(ctx, workspace).client() as client:
        link = _link(client, link_id, name, credentials)
        cid = _credentials_id(client, credentials)
        plan: list[tuple[str, str]] = []
        for selected in paths:
            for item in client.data_link_tree(link.id, [selected.strip("/")], cid):
                plan.append((item.path, local_name(selected.strip("/"), item.path)))
        unsafe = [remote for remote, local in plan if not safe_local_path(local)]
        jobs = [
            _download_job(client, link.id, remote, output_dir / local)
            for remote, local in plan
            if safe_local_path(local)
        ]
        errors = _run_all(jobs)
    for remote in unsafe:
        say(f"Skipped '{remote!r}': not a safe local file name.")
    if errors:
        raise fail(f"{len(errors)} of {len(jobs)} download(s) failed: {errors[0]}")
    say(f"Downloaded {len(jobs)} file(s) to {output_dir}.")


def _download_job(
    client: BatchforgeClient, link_id: str, remote: str, target: Path
) -> Callable[[], int]:
    return lambda: client.download_data_link_file(link_id, remote, target)


@app.command("upload")
def upload(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Local files or folders.")],
    link_id: LinkId = None,
    name: LinkName = None,
    credentials: Credentials = None,
    target_dir: Annotated[
        str, typer.Option("--output-dir", "--output", "-o", help="Folder in the link.")
    ] = "",
    via_server: Annotated[
        bool, typer.Option("--via-server", help="Stream through the server, not straight to S3.")
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Upload files and folders (multipart, parts retried; at most 300 files at once)."""
    from batchforge.explorer.limits import UPLOAD_BATCH_MAX_FILES

    files = _local_files(paths)
    if len(files) > UPLOAD_BATCH_MAX_FILES:
        raise fail(
            f"{len(files)} files given: at most {UPLOAD_BATCH_MAX_FILES} can be uploaded at once.",
            "Upload in several batches, or pack the files into an archive.",
        )
    with state(ctx, workspace).client() as client:
        link = _link(client, link_id, name, credentials)
        base = target_dir.strip("/")
        jobs = [
            _upload_job(
                client, link.id, "/".join(p for p in (base, folder) if p), source, via_server
            )
            for source, folder in files
        ]
        errors = _run_all(jobs)
    if errors:
        raise fail(f"{len(errors)} of {len(jobs)} upload(s) failed: {errors[0]}")
    say(f"Uploaded {len(jobs)} file(s) to {link.resourceRef}/{target_dir.strip('/')}".rstrip("/"))


def _join(*parts: str) -> str:
    return "/".join(part for part in parts if part)


def _local_files(paths: list[Path]) -> list[tuple[Path, str]]:
    """(file, folder in the link) for each file given or found under a folder given."""
    found: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            for item in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = item.relative_to(path.parent).parent.as_posix()
                found.append((item, relative))
        elif path.is_file():
            found.append((path, ""))
        else:
            raise fail(f"'{path}' is not a file or folder.")
    return found


def _upload_job(
    client: BatchforgeClient, link_id: str, folder: str, source: Path, via_server: bool
) -> Callable[[], int]:
    return lambda: client.upload_data_link_file(link_id, folder, source, via_server=via_server)
