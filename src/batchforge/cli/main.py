"""Entry point: global options and command groups."""

from __future__ import annotations

import os
import sys
from typing import Annotated

# Plain help text: Rich-rendered help doubles `batchforge --help` start-up (~0.15 s).
# TYPER_USE_RICH=1 brings it back.  Must be set before typer is imported.
os.environ.setdefault("TYPER_USE_RICH", "0")

import typer

from batchforge.cli import (
    compute_envs,
    credentials,
    data_links,
    info,
    labels,
    launch,
    members,
    orgs,
    participants,
    pipeline_schemas,
    pipelines,
    policy,
    runs,
    secrets,
    server,
    teams,
    tokens,
    users,
    workspaces,
)
from batchforge.cli.common import OutputFormat, State

app = typer.Typer(
    name="batchforge",
    help="Run Nextflow pipelines on AWS Batch: a self-hosted, Seqera-compatible control plane.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(credentials.app, name="credentials")
app.add_typer(data_links.app, name="data-links")
app.add_typer(compute_envs.app, name="compute-envs")
app.add_typer(policy.app, name="policy")
app.add_typer(pipelines.app, name="pipelines")
app.add_typer(pipeline_schemas.app, name="pipeline-schemas")
app.add_typer(runs.app, name="runs")
app.add_typer(secrets.app, name="secrets")
app.add_typer(users.app, name="users")
app.add_typer(orgs.app, name="orgs")
app.add_typer(orgs.app, name="organizations", help="Organizations (tw's name for orgs).")
app.add_typer(workspaces.app, name="workspaces")
app.add_typer(members.app, name="members")
app.add_typer(members.collaborators_app, name="collaborators")
app.add_typer(teams.app, name="teams")
app.add_typer(participants.app, name="participants")
app.add_typer(tokens.app, name="tokens")
app.add_typer(labels.app, name="labels")
launch.register(app)
server.register(app)
info.register(app)


@app.callback()
def main(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            "-u",
            help="API URL [env: BATCHFORGE_URL, TOWER_API_ENDPOINT]",
            show_default=False,
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            "--access-token",
            "--token",
            "-t",
            help="API token [env: BATCHFORGE_TOKEN, TOWER_ACCESS_TOKEN]",
            show_default=False,
        ),
    ] = None,
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Workspace id or Organization/Workspace [env: TOWER_WORKSPACE_ID] "
            "(default: yours)",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        OutputFormat,
        typer.Option(
            "--output",
            "-o",
            help="Output format (console is the table) [env: TOWER_CLI_OUTPUT_FORMAT]",
            envvar="TOWER_CLI_OUTPUT_FORMAT",
        ),
    ] = OutputFormat.table,
    insecure: Annotated[
        bool,
        typer.Option(
            "--insecure",
            help="Accepted for tw scripts (tw refuses http:// without it; batchforge takes "
            "the URL as given).",
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Accepted for tw scripts (no effect).")
    ] = False,
) -> None:
    ctx.obj = State(url=url, token=token, workspace=workspace, output=output)


def run() -> None:
    """Console-script entry: user-facing errors print as one message, exit 1; no traceback."""
    from batchforge.cli.common import run_app

    sys.exit(run_app(app))
