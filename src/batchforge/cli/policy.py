"""``batchforge policy``: generate least-privilege IAM policies and check pasted ones, offline;
check stored credentials live (``preflight``, through the server).

``generate`` and ``check`` call neither AWS nor the server.  The IAM modules (and the IAM
dataset they load) are imported inside the command functions, so importing this module -- and
starting the CLI -- stays cheap.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from batchforge.cli.common import OutputFormat, emit_json, fail, state

if TYPE_CHECKING:
    from batchforge.iam.checker import Report
    from batchforge.iam.generator import GeneratedPolicy
    from batchforge.iam.scope import Scope

app = typer.Typer(
    help="Generate least-privilege IAM policies for batchforge and check existing ones "
    "(offline), or check stored credentials live (preflight).",
    no_args_is_help=True,
)

EXIT_UNREADABLE = 2

Features = Annotated[
    list[str] | None,
    typer.Option(
        "--features",
        "-f",
        help="Features, comma-separated or repeated: launch, forge, manual, "
        "logs, work-dir, data-explorer, iam-roles, ssm-ami, ec2-describe, fsx, efs, secrets, "
        "preflight, cost; aliases s3, all. Default: all (or the mode's).",
        show_default=False,
    ),
]
Mode = Annotated[
    str | None,
    typer.Option(
        "--mode",
        help="Compute environment mode: forge or manual (adds its default features).",
        show_default=False,
    ),
]
Exclude = Annotated[
    list[str] | None,
    typer.Option("--exclude", help="Features to leave out (repeatable).", show_default=False),
]
Account = Annotated[
    str | None, typer.Option("--account", help="AWS account id (12 digits).", show_default=False)
]
Region = Annotated[
    str | None, typer.Option("--region", help="AWS region, e.g. eu-west-1.", show_default=False)
]
WorkDir = Annotated[
    str | None,
    typer.Option(
        "--work-dir", help="Nextflow work directory, s3://bucket/path.", show_default=False
    ),
]
DataBucket = Annotated[
    list[str] | None,
    typer.Option(
        "--data-bucket", help="Bucket for Data Explorer/Studios (repeatable).", show_default=False
    ),
]
Tag = Annotated[
    list[str] | None,
    typer.Option(
        "--tag",
        help="KEY=VALUE resource tag required on Batch job resources (repeatable).",
        show_default=False,
    ),
]
Queue = Annotated[
    list[str] | None,
    typer.Option(
        "--queue", help="Existing job queue name, manual mode (repeatable).", show_default=False
    ),
]
Prefix = Annotated[str, typer.Option("--prefix", help="Name prefix of Forge resources.")]
SecretsPrefix = Annotated[
    str, typer.Option("--secrets-prefix", help="Name prefix of pipeline secrets.")
]
LogGroup = Annotated[str, typer.Option("--log-group", help="CloudWatch log group of jobs.")]
Output = Annotated[
    OutputFormat | None,
    typer.Option(
        "--output", "-o", help="Output format (default: the global -o).", show_default=False
    ),
]


def _scope(
    account: str | None,
    region: str | None,
    work_dir: str | None,
    data_bucket: list[str] | None,
    tag: list[str] | None,
    queue: list[str] | None,
    prefix: str,
    secrets_prefix: str,
    log_group: str,
) -> Scope:
    from batchforge.iam.scope import Scope, parse_tags

    return Scope(
        account=account,
        region=region,
        work_dir=work_dir,
        data_buckets=tuple(data_bucket or ()),
        tags=parse_tags(tag or ()),
        queues=tuple(queue or ()),
        prefix=prefix,
        secrets_prefix=secrets_prefix,
        log_group=log_group,
    )


def _features(
    features: list[str] | None,
    mode: str | None,
    exclude: list[str] | None,
    extra: tuple[str, ...] = (),
) -> tuple[str, ...]:
    from batchforge.iam.catalog_model import resolve_features

    return resolve_features([*(features or ()), *extra], mode=mode, exclude=exclude or ())


def _output(ctx: typer.Context, output: OutputFormat | None) -> OutputFormat:
    return output or state(ctx).output


@app.command()
def generate(
    ctx: typer.Context,
    features: Features = None,
    mode: Mode = None,
    exclude: Exclude = None,
    efs: Annotated[bool, typer.Option("--efs", help="Add the efs feature.")] = False,
    fsx: Annotated[bool, typer.Option("--fsx", help="Add the fsx feature.")] = False,
    secrets: Annotated[bool, typer.Option("--secrets", help="Add pipeline secrets.")] = False,
    data_explorer: Annotated[
        bool, typer.Option("--data-explorer", help="Add Data Explorer/Studios bucket access.")
    ] = False,
    create_roles: Annotated[
        bool | None,
        typer.Option(
            "--create-roles/--no-create-roles",
            help="Forge creates its IAM roles (iam-roles feature; on by default in forge mode).",
            show_default=False,
        ),
    ] = None,
    account: Account = None,
    region: Region = None,
    work_dir: WorkDir = None,
    data_bucket: DataBucket = None,
    tag: Tag = None,
    queue: Queue = None,
    prefix: Prefix = "TowerForge-",
    secrets_prefix: SecretsPrefix = "tower-",
    log_group: LogGroup = "/aws/batch/job",
    extras: Annotated[
        bool, typer.Option("--extras", help="Add optional permissions beyond the seed's policy.")
    ] = False,
    dependents: Annotated[
        bool | None,
        typer.Option(
            "--dependents/--no-dependents",
            help="Add dependent actions the seed lacks (default: "
            "only in the least-privilege layout).",
            show_default=False,
        ),
    ] = None,
    split: Annotated[
        bool,
        typer.Option(
            "--split/--no-split", help="Split into several managed policies when too large."
        ),
    ] = True,
    output: Output = None,
) -> None:
    """Print a least-privilege policy for the chosen features and scope.

    Without any scoping it is the seed's quick-start policy (only the chosen features'
    statements); with --account/--region/--work-dir/--data-bucket/--tag/--queue it is the
    restricted version.
    """
    added = tuple(
        name
        for name, on in (
            ("efs", efs),
            ("fsx", fsx),
            ("secrets", secrets),
            ("data-explorer", data_explorer),
            ("iam-roles", create_roles is True),
        )
        if on
    )
    if create_roles is False:
        exclude = [*(exclude or ()), "iam-roles"]
    try:
        from batchforge.iam.generator import generate_policy

        chosen = _features(features, mode, exclude, added)
        scope = _scope(
            account, region, work_dir, data_bucket, tag, queue, prefix, secrets_prefix, log_group
        )
        result = generate_policy(chosen, scope, dependents=dependents, extras=extras, split=split)
    except Exception as error:  # every failure must print as a message, never a traceback
        raise _failure(error) from None
    if _output(ctx, output).structured:
        typer.echo(result.to_json())
        for note in result.notes:
            typer.echo(f"Note: {note}", err=True)
        return
    _print_generated(result)


def _print_generated(result: GeneratedPolicy) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for n, (doc, size) in enumerate(zip(result.documents, result.sizes, strict=True), start=1):
        title = f"Policy {n} of {len(result.documents)}" if result.split else "Policy"
        table = Table(
            title=f"{title} ({result.layout} layout, {size:,} characters)",
            title_justify="left",
            show_lines=True,
        )
        table.add_column("Sid", no_wrap=True)
        for column in ("Actions", "Resources", "Condition"):
            table.add_column(column, overflow="fold")
        for st in doc["Statement"]:
            table.add_row(
                st["Sid"],
                _lines(st["Action"]),
                _lines(st["Resource"]),
                _condition_text(st.get("Condition")),
            )
        console.print(table)
    console.print(f"Features: {', '.join(result.features)}")
    for note in result.notes:
        console.print(f"Note: {note}", markup=False)
    console.print("Use -o json for the policy document.")


def _lines(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "\n".join(value)


def _condition_text(condition: dict | None) -> str:
    if not condition:
        return ""
    parts = []
    for op, body in condition.items():
        for key, values in body.items():
            shown = values if isinstance(values, str) else ", ".join(values)
            parts.append(f"{op} {key} = {shown}")
    return "\n".join(parts)


@app.command()
def check(
    ctx: typer.Context,
    file: Annotated[
        str, typer.Argument(help="Policy JSON file, or - for standard input.", show_default=False)
    ],
    features: Features = None,
    mode: Mode = None,
    exclude: Exclude = None,
    account: Account = None,
    region: Region = None,
    work_dir: WorkDir = None,
    data_bucket: DataBucket = None,
    tag: Tag = None,
    queue: Queue = None,
    prefix: Prefix = "TowerForge-",
    secrets_prefix: SecretsPrefix = "tower-",
    log_group: LogGroup = "/aws/batch/job",
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every permission checked.")
    ] = False,
    output: Output = None,
) -> None:
    """Check a policy offline: is every permission the features need allowed?

    Exit code 0 when it is, 1 when a required permission is missing or the policy has errors
    IAM would reject, 2 when the input cannot be read as a policy.
    """
    try:
        source = _read_source(file)
        from batchforge.iam.checker import check_policy

        chosen = _features(features, mode, exclude)
        scope = _scope(
            account, region, work_dir, data_bucket, tag, queue, prefix, secrets_prefix, log_group
        )
        report = check_policy(source, chosen, scope)
    except Exception as error:  # every failure must print as a message, never a traceback
        raise _failure(error) from None
    if _output(ctx, output).structured:
        emit_json(report.to_dict(), _output(ctx, output))
    else:
        _print_report(report, verbose)
    raise typer.Exit(report.exit_code)


def _read_source(file: str) -> bytes:
    if file == "-":
        return (
            sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
        )
    path = Path(file)
    if not path.is_file():
        raise FileNotFoundError(f"No such file: {file}")
    return path.read_bytes()


def _failure(error: Exception) -> typer.Exit:
    from batchforge.errors import BatchforgeError

    if isinstance(error, BatchforgeError):
        return fail(error.message, error.hint, EXIT_UNREADABLE)
    if isinstance(error, OSError):
        return fail(str(error), None, EXIT_UNREADABLE)
    return fail(
        f"internal error: {type(error).__name__}: {error}",
        "Please report this as a batchforge bug.",
        3,
    )


def _print_report(report: Report, verbose: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from batchforge.iam.report import format_finding, headline

    console = Console()
    ok = report.exit_code == 0
    console.print(f"[{'green' if ok else 'red'}]{headline(report)}[/]")
    text = report.render_text()
    body = text.split("\n", 1)[1] if "\n" in text else ""
    if not verbose:
        console.print(body, markup=False, highlight=False)
        return
    for line in body.split("\n\n")[0].splitlines():
        console.print(line, markup=False, highlight=False)
    table = Table(title="Permissions", title_justify="left")
    for column in ("Decision", "Feature", "Action", "Resource", "Deciding statement"):
        table.add_column(column, overflow="fold")
    for r in report.results:
        st = r.evaluation.statement or r.evaluation.near_miss
        table.add_row(
            r.evaluation.decision.value,
            r.permission.feature,
            r.permission.action,
            r.permission.resource,
            st.label if st else "",
        )
    console.print(table)
    for finding in report.findings:
        console.print(format_finding(finding), markup=False, highlight=False)


@app.command()
def preflight(
    ctx: typer.Context,
    credentials: Annotated[
        str,
        typer.Option("--credentials", "-c", help="Credentials name or id.", show_default=False),
    ],
    region: Region = None,
    features: Features = None,
    mode: Mode = None,
    exclude: Exclude = None,
    work_dir: WorkDir = None,
    data_bucket: DataBucket = None,
    tag: Tag = None,
    queue: Queue = None,
    prefix: Prefix = "TowerForge-",
    secrets_prefix: SecretsPrefix = "tower-",
    log_group: LogGroup = "/aws/batch/job",
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every permission checked.")
    ] = False,
    output: Output = None,
) -> None:
    """Check stored credentials live (through the server): may they do what the features need?

    The server asks AWS who the credentials are, then simulates or reads their policies.
    Exit code 0 when no required permission is missing (some may be unknown: see the notes),
    1 when one is.
    """
    from batchforge.iam.scope import parse_tags

    try:
        tags = dict(parse_tags(tag or ()))
    except Exception as error:  # every failure must print as a message, never a traceback
        raise _failure(error) from None
    with state(ctx).client() as client:
        target = client.find_credentials(credentials)
        report = client.preflight(
            target.id,
            region,
            features=list(features or ()),
            mode=mode,
            exclude=list(exclude or ()),
            workDir=work_dir,
            dataBuckets=list(data_bucket or ()),
            tags=tags,
            queues=list(queue or ()),
            prefix=prefix,
            secretsPrefix=secrets_prefix,
            logGroup=log_group,
        )
    if _output(ctx, output).structured:
        emit_json(report, _output(ctx, output))
    else:
        _print_preflight(report, target.name, verbose)
    raise typer.Exit(0 if report.get("ok") else 1)


def _preflight_headline(report: dict[str, Any]) -> str:
    summary = report.get("summary", {})
    if report.get("principal") is None:
        return "UNCHECKED: the credentials' identity could not be read"
    if not report.get("ok"):
        missing = summary.get("requiredMissing", 0)
        return f"FAILED: {missing} required permission{'s' if missing != 1 else ''} missing"
    if not report.get("complete"):
        return f"INCOMPLETE: {summary.get('unknown', 0)} permission(s) could not be checked"
    return "PASSED: every required permission is allowed"


def _print_preflight(report: dict[str, Any], name: str, verbose: bool) -> None:
    from rich.console import Console

    console = Console()
    colour = (
        "green"
        if report.get("ok") and report.get("complete")
        else ("yellow" if report.get("ok") else "red")
    )
    console.print(f"[{colour}]Preflight of '{name}' {_preflight_headline(report)}[/]")
    principal = report.get("principal") or {}
    summary = report.get("summary", {})
    lines = [
        f"Principal: {principal.get('callerArn', '?')} ({principal.get('type', '?')})",
        f"Region:    {report.get('region')}; features: {', '.join(report.get('features', []))}",
        f"Method:    {report.get('method')}; {report.get('awsCalls', 0)} AWS call(s)",
        f"Permissions: {summary.get('allowed', 0)} allowed, {summary.get('requiredMissing', 0)} "
        f"required missing, {summary.get('optionalMissing', 0)} optional missing, "
        f"{summary.get('unknown', 0)} unknown",
    ]
    lines += [f"BLOCKING: {m}" for m in report.get("blocking", [])]
    lines += [f"WARNING:  {m}" for m in report.get("warnings", [])]
    lines += [f"Note:     {m}" for m in report.get("notes", [])]
    if verbose:
        for p in report.get("permissions", []):
            context = ",".join(f"{k}={v}" for k, v in (p.get("context") or {}).items())
            shown = f" [{context}]" if context else ""
            lines.append(
                f"{p['verdict']:<8} {p['feature']:<13} {p['action']} on {p['resource']}{shown}"
                f" -- {p['reason']}"
            )
    for line in lines:
        console.print(line, markup=False, highlight=False)
