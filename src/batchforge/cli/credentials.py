"""``batchforge credentials``: add, list, view, update, delete and validate AWS credentials.

The subcommands and options are ``tw credentials``'s (``add aws -n NAME -a KEY``, ``update aws
-i ID``, ``delete -n NAME``, ``--mode keys|role``, ``--generate-external-id``, ``-w``).  The
secret key is best not given on the command line: standard input (``--secret-key-stdin``), the
environment (``AWS_SECRET_ACCESS_KEY``), an AWS profile (``--profile``) or a hidden prompt.
``-s/--secret-key VALUE`` (tw's) is accepted with a warning.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from batchforge.cli.common import emit_json, emit_table, fail, pick, say
from batchforge.cli.tw_infra import (
    FallbackGroup,
    IdOpt,
    NameOpt,
    Overwrite,
    WorkspaceOpt,
    emit,
    in_workspace,
    secret_on_command_line,
    workspace_ref_text,
)

if TYPE_CHECKING:
    from batchforge.client import BatchforgeClient
    from batchforge.schemas.credentials import AwsKeysIn, CredentialsOut

app = typer.Typer(help="Manage cloud credentials (AWS).", no_args_is_help=True)
add_app = typer.Typer(help="Add credentials.", no_args_is_help=True)
update_app = typer.Typer(
    cls=FallbackGroup,
    help="Update credentials: update aws -i ID|-n NAME ... (or update NAME_OR_ID ...).",
    no_args_is_help=True,
)
app.add_typer(add_app, name="add")
app.add_typer(update_app, name="update")

SecretStdin = Annotated[
    bool, typer.Option("--secret-key-stdin", help="Read the secret key from standard input.")
]
SecretKey = Annotated[
    str | None,
    typer.Option(
        "--secret-key",
        "-s",
        help="Secret key (tw's; it lands in shell history: prefer --secret-key-stdin).",
        show_default=False,
    ),
]
Profile = Annotated[
    str | None,
    typer.Option("--profile", help="Take access key and secret key from this AWS profile."),
]
AccessKey = Annotated[str | None, typer.Option("--access-key", "-a", show_default=False)]
RoleArn = Annotated[
    str | None,
    typer.Option("--assume-role-arn", "-r", help="IAM role to assume.", show_default=False),
]
Mode = Annotated[
    str | None,
    typer.Option("--mode", help="keys (access key + secret key) or role (IAM role only)."),
]
GenerateExternalId = Annotated[
    bool,
    typer.Option(
        "--generate-external-id",
        "--use-external-id",
        help="Let batchforge generate the external id for the role.",
    ),
]
Target = Annotated[str | None, typer.Argument(help="Name or id (or -i/-n).", show_default=False)]
SECRET_INSTEAD = "--secret-key-stdin, AWS_SECRET_ACCESS_KEY or --profile"


def _keys_from_sources(
    access_key: str | None,
    secret_key: str | None,
    secret_stdin: bool,
    profile: str | None,
    required: bool,
) -> tuple[str | None, str | None]:
    """(access key, secret key) from the allowed sources, in order of precedence."""
    if secret_key is not None:
        secret_on_command_line("-s/--secret-key", SECRET_INSTEAD)
        if not secret_key:
            raise fail("--secret-key is empty.")
        return access_key, secret_key
    if profile:
        import botocore.session
        from botocore.exceptions import ProfileNotFound

        try:
            creds = botocore.session.Session(profile=profile).get_credentials()
        except ProfileNotFound:
            raise fail(f"AWS profile '{profile}' not found.") from None
        if creds is None:
            raise fail(f"AWS profile '{profile}' has no keys.")
        frozen = creds.get_frozen_credentials()
        return access_key or frozen.access_key, frozen.secret_key
    if secret_stdin:
        secret = sys.stdin.readline().strip()
        if not secret:
            raise fail("No secret key on standard input.")
        return access_key, secret
    env_secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if env_secret and (access_key is None or access_key == os.environ.get("AWS_ACCESS_KEY_ID")):
        return access_key or os.environ.get("AWS_ACCESS_KEY_ID"), env_secret
    if not required:
        return access_key, None
    if access_key is None:
        raise fail(
            "No access key: give --access-key, --profile, or set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY."
        )
    if not sys.stdin.isatty():
        raise fail("No secret key: use --secret-key-stdin, --profile or AWS_SECRET_ACCESS_KEY.")
    return access_key, typer.prompt("AWS secret key", hide_input=True)


def _mode(mode: str | None) -> str | None:
    if mode is None:
        return None
    if mode.strip().lower() not in ("keys", "role"):
        raise fail(f"Invalid AWS credential mode '{mode}'. Allowed values: 'keys', 'role'.")
    return mode.strip().lower()


def _aws_keys(
    *,
    mode: str | None,
    access_key: str | None,
    secret_key: str | None,
    secret_stdin: bool,
    profile: str | None,
    assume_role_arn: str | None,
    external_id: str | None,
    generate_external_id: bool,
    adding: bool,
) -> tuple[AwsKeysIn | None, bool]:
    """The keys to send and whether batchforge generates the external id (tw's rules:
    ``--mode=role`` takes a role and no keys, ``--generate-external-id`` a role)."""
    from batchforge.schemas.credentials import AwsKeysIn

    chosen = _mode(mode)
    keys_given = bool(access_key or secret_key or secret_stdin or profile)
    if chosen == "role":
        if keys_given:
            raise fail(
                "Options '--access-key' and '--secret-key' cannot be used with '--mode=role'. "
                "Role mode uses IAM role assumption without static credentials."
            )
        if not assume_role_arn:
            raise fail("Option '--assume-role-arn' is required when using '--mode=role'.")
    if generate_external_id and chosen != "role" and not assume_role_arn:
        raise fail("Option '--generate-external-id' requires '--assume-role-arn' to be specified.")
    if not adding and not (keys_given or assume_role_arn or external_id or chosen):
        return None, False
    role_only = chosen == "role" or (
        chosen is None and assume_role_arn is not None and not keys_given
    )
    if role_only:
        access = secret = None
    else:
        access, secret = _keys_from_sources(
            access_key, secret_key, secret_stdin, profile, required=adding
        )
    keys = AwsKeysIn(
        mode="role" if role_only else ("keys" if adding or chosen else None),
        accessKey=access,
        secretKey=secret,
        assumeRoleArn=assume_role_arn,
        externalId=external_id,
    )
    return keys, chosen == "role" or (generate_external_id and assume_role_arn is not None)


def _find(client: BatchforgeClient, target: str | None, id_: str | None, name: str | None):
    """The credentials named by ``-i``, ``-n`` or the positional argument."""
    return client.find_credentials(pick(target, id_, name, "credentials"))


@add_app.command("aws")
def add_aws(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="Credentials name.")],
    access_key: AccessKey = None,
    secret_key: SecretKey = None,
    secret_stdin: SecretStdin = False,
    profile: Profile = None,
    assume_role_arn: RoleArn = None,
    mode: Mode = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    generate_external_id: GenerateExternalId = False,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    overwrite: Overwrite = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Add AWS credentials: keys, keys plus a role to assume, or a role alone (--mode=role).
    Validated before saving."""
    from batchforge.schemas.credentials import CredentialsIn

    keys, use_external_id = _aws_keys(
        mode=mode,
        access_key=access_key,
        secret_key=secret_key,
        secret_stdin=secret_stdin,
        profile=profile,
        assume_role_arn=assume_role_arn,
        external_id=external_id,
        generate_external_id=generate_external_id,
        adding=True,
    )
    assert keys is not None
    body = CredentialsIn(name=name, provider="aws", description=description, keys=keys)
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        if overwrite:
            for item in client.list_credentials():
                if item.name == name:
                    client.delete_credentials(item.id)
        new_id = client.create_credentials(body, use_external_id=use_external_id)
        made = client.describe_credentials(new_id)
        where = workspace_ref_text(client)
    emit(
        st,
        f"New AWS credentials '{name} ({new_id})' added and validated at {where} workspace."
        + (f"\nExternal id: {made.keys.externalId}" if made.keys.externalId else ""),
        {
            "credentialsId": new_id,
            "id": new_id,
            "provider": "AWS",
            "name": name,
            "workspaceRef": where,
            "externalId": made.keys.externalId,
        },
    )


@app.command("list")
def list_credentials(ctx: typer.Context, workspace: WorkspaceOpt = None) -> None:
    """List the workspace's credentials."""
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        items = client.list_credentials()
        where = workspace_ref_text(client) if st.structured else ""
    if st.structured:
        emit_json(
            {
                "workspaceRef": where,
                "credentials": [item.model_dump(mode="json") for item in items],
            }
        )
        return
    emit_table(
        "Credentials",
        ["ID", "Name", "Provider", "Mode", "Access key", "Role", "Status", "Last validated"],
        [_row(item) for item in items],
    )


def _row(item: CredentialsOut) -> list[object]:
    return [
        item.id,
        item.name,
        item.provider,
        item.keys.mode,
        item.keys.accessKey,
        item.keys.assumeRoleArn,
        item.status,
        item.lastValidated.isoformat(timespec="seconds") if item.lastValidated else None,
    ]


@app.command("view")
def view(
    ctx: typer.Context,
    credentials: Target = None,
    id_: IdOpt = None,
    name: NameOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Show one credentials entry (never the secret key)."""
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        item = client.describe_credentials(_find(client, credentials, id_, name).id)
    if st.structured:
        emit_json({"credentials": item.model_dump(mode="json")})
        return
    for label, value in zip(
        ["ID", "Name", "Provider", "Mode", "Access key", "Role", "Status", "Last validated"],
        _row(item),
        strict=True,
    ):
        say(f"{label:>15}: {'' if value is None else value}")
    if item.keys.externalId:
        say(f"{'External id':>15}: {item.keys.externalId}")
    if item.message:
        say(f"{'Message':>15}: {item.message}")


def _update(
    ctx: typer.Context,
    target: str,
    workspace: str | None,
    new_name: str | None,
    description: str | None,
    keys: AwsKeysIn | None,
    use_external_id: bool,
) -> None:
    from batchforge.schemas.credentials import CredentialsUpdateIn

    body = CredentialsUpdateIn(name=new_name, description=description, keys=keys)
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        found = client.find_credentials(target)
        client.update_credentials(found.id, body, use_external_id=use_external_id)
        where = workspace_ref_text(client)
    final = new_name or found.name
    emit(
        st,
        f"AWS credentials '{final}' updated at {where} workspace.",
        {"provider": "AWS", "name": final, "id": found.id, "workspaceRef": where},
    )


@update_app.command("aws")
def update_aws(
    ctx: typer.Context,
    id_: IdOpt = None,
    name: NameOpt = None,
    access_key: AccessKey = None,
    secret_key: SecretKey = None,
    secret_stdin: SecretStdin = False,
    profile: Profile = None,
    assume_role_arn: RoleArn = None,
    mode: Mode = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    generate_external_id: GenerateExternalId = False,
    new_name: Annotated[str | None, typer.Option("--new-name", help="Rename.")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Change the keys, role or mode of AWS credentials chosen by -i ID or -n NAME (changed
    keys are validated first)."""
    keys, use_external_id = _aws_keys(
        mode=mode,
        access_key=access_key,
        secret_key=secret_key,
        secret_stdin=secret_stdin,
        profile=profile,
        assume_role_arn=assume_role_arn,
        external_id=external_id,
        generate_external_id=generate_external_id,
        adding=False,
    )
    target = pick(None, id_, name, "credentials")
    _update(ctx, target, workspace, new_name, description, keys, use_external_id)


@update_app.command("_default", hidden=True)
def update_by_name(
    ctx: typer.Context,
    credentials: Annotated[str, typer.Argument(help="Name or id.")],
    name: Annotated[str | None, typer.Option("--name", "-n", help="New name.")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    access_key: AccessKey = None,
    secret_key: SecretKey = None,
    secret_stdin: SecretStdin = False,
    profile: Profile = None,
    assume_role_arn: RoleArn = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """batchforge's form: update NAME_OR_ID [--name NEW] [--description ...] [keys]."""
    keys, _ = _aws_keys(
        mode=None,
        access_key=access_key,
        secret_key=secret_key,
        secret_stdin=secret_stdin,
        profile=profile,
        assume_role_arn=assume_role_arn,
        external_id=external_id,
        generate_external_id=False,
        adding=False,
    )
    if keys is not None:
        keys.mode = None
    _update(ctx, credentials, workspace, name, description, keys, False)


@app.command("delete")
def delete(
    ctx: typer.Context,
    credentials: Target = None,
    id_: IdOpt = None,
    name: NameOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Delete credentials."""
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        target = _find(client, credentials, id_, name)
        client.delete_credentials(target.id)
        where = workspace_ref_text(client)
    emit(
        st,
        f"Credentials '{target.name}' ({target.id}) deleted at {where} workspace.",
        {"id": target.id, "workspaceRef": where},
    )


@app.command("validate")
def validate(
    ctx: typer.Context,
    credentials: Target = None,
    id_: IdOpt = None,
    name: NameOpt = None,
    workspace: WorkspaceOpt = None,
) -> None:
    """Check the credentials against AWS now (exit 1 when AWS rejects them)."""
    st = in_workspace(ctx, workspace)
    with st.client() as client:
        target = _find(client, credentials, id_, name)
        result = client.validate_credentials(target.id)
    if st.structured:
        emit_json({"id": target.id, "name": target.name, **result.model_dump(mode="json")})
    elif result.status == "AVAILABLE":
        say(f"Credentials '{target.name}' are valid: AWS identity {result.identityArn}.")
    else:
        say(f"Credentials '{target.name}' are {result.status}: {result.message}")
    if result.status != "AVAILABLE" or result.transientError:
        raise typer.Exit(1)
