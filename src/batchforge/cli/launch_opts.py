"""Launch options shared by ``launch``, ``pipelines add`` and ``pipelines update``, named as
``tw`` names them.  File options (``--params-file``, ``--config``, ``--pre-run``,
``--post-run``) take a path, or ``-`` for standard input (as ``tw``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from batchforge.cli.common import State, fail, state

if TYPE_CHECKING:
    from batchforge.client import BatchforgeClient

WorkspaceOpt = Annotated[
    str | None,
    typer.Option(
        "--workspace", "-w", help="Workspace id or Organization/Workspace (as the global -w)."
    ),
]

ParamsFile = Annotated[
    Path | None,
    typer.Option("--params-file", help="Parameters file (JSON or YAML); '-' reads standard input."),
]
ConfigFile = Annotated[
    Path | None,
    typer.Option("--config", help="Nextflow config file; '-' reads standard input."),
]
PreRun = Annotated[
    Path | None,
    typer.Option("--pre-run", help="Script run before Nextflow; '-' reads standard input."),
]
PostRun = Annotated[
    Path | None,
    typer.Option("--post-run", help="Script run after Nextflow; '-' reads standard input."),
]
ComputeEnv = Annotated[
    str | None,
    typer.Option("--compute-env", "-c", help="Compute environment name or id (default: primary)."),
]
WorkDir = Annotated[str | None, typer.Option("--work-dir", help="Work directory.")]
Profile = Annotated[
    list[str] | None,
    typer.Option("--profile", "-p", help="Config profile(s), comma-separated."),
]
CommitId = Annotated[str | None, typer.Option("--commit-id", help="Git commit to pin.")]
PullLatest = Annotated[
    bool | None, typer.Option("--pull-latest", help="Pull the latest pipeline revision.")
]
StubRun = Annotated[bool | None, typer.Option("--stub-run", help="Run the stubs.")]
MainScript = Annotated[str | None, typer.Option("--main-script", help="Main script file.")]
EntryName = Annotated[str | None, typer.Option("--entry-name", help="Workflow entry name.")]
SchemaName = Annotated[str | None, typer.Option("--schema-name", help="Pipeline schema name.")]
UserSecrets = Annotated[
    list[str] | None,
    typer.Option("--user-secrets", "--user-secret", help="Your user secret(s) for the run."),
]
WorkspaceSecrets = Annotated[
    list[str] | None,
    typer.Option(
        "--workspace-secrets", "--secret", help="Workspace pipeline secret(s) for the run."
    ),
]
Labels = Annotated[
    list[str] | None,
    typer.Option("--labels", "-l", help="Labels, comma-separated: NAME or NAME=VALUE."),
]
VersionId = Annotated[str | None, typer.Option("--version-id", help="Pipeline version id.")]
VersionName = Annotated[str | None, typer.Option("--version-name", help="Pipeline version name.")]


def scoped(ctx: typer.Context, workspace: str | None = None) -> State:
    """The global state, with the command's own ``-w`` (as ``tw`` places it) if given."""
    st = state(ctx)
    if workspace:
        st.workspace = workspace
    return st


class FileReader:
    """Reads file options; ``-`` is standard input, which can be read once only."""

    def __init__(self) -> None:
        self.stdin_by: str | None = None

    def read(self, path: Path | None, option: str) -> str | None:
        if path is None:
            return None
        if str(path) == "-":
            if self.stdin_by is not None:
                raise fail(
                    f"{option} -: standard input is already read by {self.stdin_by} -.",
                    "Only one option can read standard input; give the others a file.",
                )
            self.stdin_by = option
            return sys.stdin.read()
        try:
            return path.read_text()
        except FileNotFoundError:
            raise fail(f"{option}: no file '{path}'.") from None
        except IsADirectoryError:
            raise fail(f"{option}: '{path}' is a folder, not a file.") from None
        except UnicodeDecodeError:
            raise fail(f"{option}: '{path}' is not UTF-8 text.") from None
        except OSError as error:
            raise fail(f"{option}: cannot read '{path}': {error.strerror}.") from None


def csv(values: list[str] | None) -> list[str]:
    """Every comma-separated item of every value, stripped, empty ones dropped."""
    return [item.strip() for value in values or [] for item in value.split(",") if item.strip()]


def label_ids(client: BatchforgeClient, labels: list[str] | None) -> list[int]:
    """Ids of ``--labels`` (NAME or NAME=VALUE), created when missing (as ``tw``)."""
    from batchforge.client.labels import find_or_create, parse_labels

    try:
        specs = parse_labels(labels)
    except ValueError as error:
        raise fail(f"--labels: {error}") from None
    return find_or_create(client, specs)


def launch_fields(reader: FileReader, **given: Any) -> dict[str, Any]:
    """The WorkflowLaunchRequest fields given on the command line (None: not given)."""
    fields: dict[str, Any] = {
        "paramsText": reader.read(given.get("params_file"), "--params-file"),
        "configText": reader.read(given.get("config"), "--config"),
        "preRunScript": reader.read(given.get("pre_run"), "--pre-run"),
        "postRunScript": reader.read(given.get("post_run"), "--post-run"),
        "workDir": given.get("work_dir"),
        "revision": given.get("revision"),
        "commitId": given.get("commit_id"),
        "configProfiles": csv(given.get("profile")) or None,
        "pullLatest": given.get("pull_latest"),
        "stubRun": given.get("stub_run"),
        "mainScript": given.get("main_script"),
        "entryName": given.get("entry_name"),
        "schemaName": given.get("schema_name"),
        "userSecrets": csv(given.get("user_secrets")) or None,
        "workspaceSecrets": csv(given.get("workspace_secrets")) or None,
    }
    return {k: v for k, v in fields.items() if v is not None}


# --- paging, as tw's --page / --offset / --max ------------------------------------------------

MAX_DEFAULT = 100
Max = Annotated[
    int | None, typer.Option("--max", min=1, help=f"At most this many (default {MAX_DEFAULT}).")
]
Offset = Annotated[int | None, typer.Option("--offset", min=0, help="Skip this many.")]
Page = Annotated[int | None, typer.Option("--page", min=1, help="Page number (of --max).")]


def paging(max_results: int | None, offset: int | None, page: int | None) -> tuple[int, int]:
    """``(max, offset)`` from ``--max``, ``--offset`` or ``--page`` (exclusive, as ``tw``)."""
    size = max_results or MAX_DEFAULT
    if page is not None and offset is not None:
        raise fail("Use either --page or --offset, not both.", code=1)
    if page is not None:
        return size, (page - 1) * size
    return size, offset or 0
