"""``batchforge credentials``: add, list, view, update, delete and validate AWS credentials.

The secret key is never taken from the command line: it comes from standard input
(``--secret-key-stdin``), the environment (``AWS_SECRET_ACCESS_KEY``), an AWS profile
(``--profile``), or a hidden prompt.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from batchforge.cli.common import emit_json, emit_table, fail, say, state

if TYPE_CHECKING:
    from batchforge.schemas.credentials import CredentialsOut

app = typer.Typer(help="Manage cloud credentials (AWS).", no_args_is_help=True)
add_app = typer.Typer(help="Add credentials.", no_args_is_help=True)
app.add_typer(add_app, name="add")

SecretStdin = Annotated[
    bool, typer.Option("--secret-key-stdin", help="Read the secret key from standard input.")
]
Profile = Annotated[
    str | None,
    typer.Option("--profile", help="Take access key and secret key from this AWS profile."),
]


def _keys_from_sources(
    access_key: str | None, secret_stdin: bool, profile: str | None, required: bool
) -> tuple[str | None, str | None]:
    """(access key, secret key) from the allowed sources, in order of precedence."""
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


@add_app.command("aws")
def add_aws(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", "-n", help="Credentials name.")],
    access_key: Annotated[str | None, typer.Option("--access-key", "-a")] = None,
    secret_stdin: SecretStdin = False,
    profile: Profile = None,
    assume_role_arn: Annotated[
        str | None, typer.Option("--assume-role-arn", "-r", help="IAM role to assume.")
    ] = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
    use_external_id: Annotated[
        bool, typer.Option("--use-external-id", help="Let batchforge generate the external id.")
    ] = False,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
) -> None:
    """Add AWS credentials: keys, or keys plus a role to assume.  Validated before saving."""
    from batchforge.schemas.credentials import AwsKeysIn, CredentialsIn

    role_only = assume_role_arn is not None and access_key is None and not (secret_stdin or profile)
    access, secret = _keys_from_sources(access_key, secret_stdin, profile, not role_only)
    keys = AwsKeysIn(
        mode="role" if role_only else "keys",
        accessKey=access,
        secretKey=secret,
        assumeRoleArn=assume_role_arn,
        externalId=external_id,
    )
    body = CredentialsIn(name=name, provider="aws", description=description, keys=keys)
    st = state(ctx)
    with st.client() as client:
        new_id = client.create_credentials(body, use_external_id=use_external_id)
    if st.structured:
        emit_json({"credentialsId": new_id, "name": name})
    else:
        say(f"AWS credentials '{name}' added and validated (id {new_id}).")


@app.command("list")
def list_credentials(ctx: typer.Context) -> None:
    """List the workspace's credentials."""
    st = state(ctx)
    with st.client() as client:
        items = client.list_credentials()
    if st.structured:
        emit_json({"credentials": [item.model_dump(mode="json") for item in items]})
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
    ctx: typer.Context, credentials: Annotated[str, typer.Argument(help="Name or id.")]
) -> None:
    """Show one credentials entry (never the secret key)."""
    st = state(ctx)
    with st.client() as client:
        item = client.describe_credentials(client.find_credentials(credentials).id)
    if st.structured:
        emit_json({"credentials": item.model_dump(mode="json")})
        return
    for label, value in zip(
        ["ID", "Name", "Provider", "Mode", "Access key", "Role", "Status", "Last validated"],
        _row(item),
        strict=True,
    ):
        say(f"{label:>15}: {'' if value is None else value}")
    if item.message:
        say(f"{'Message':>15}: {item.message}")


@app.command("update")
def update(
    ctx: typer.Context,
    credentials: Annotated[str, typer.Argument(help="Name or id.")],
    name: Annotated[str | None, typer.Option("--name", "-n", help="New name.")] = None,
    description: Annotated[str | None, typer.Option("--description", "-d")] = None,
    access_key: Annotated[str | None, typer.Option("--access-key", "-a")] = None,
    secret_stdin: SecretStdin = False,
    profile: Profile = None,
    assume_role_arn: Annotated[str | None, typer.Option("--assume-role-arn", "-r")] = None,
    external_id: Annotated[str | None, typer.Option("--external-id")] = None,
) -> None:
    """Rename, describe, or change keys (changed keys are validated first)."""
    from batchforge.schemas.credentials import AwsKeysIn, CredentialsUpdateIn

    keys = None
    if access_key or secret_stdin or profile or assume_role_arn or external_id:
        access, secret = _keys_from_sources(access_key, secret_stdin, profile, False)
        keys = AwsKeysIn(
            accessKey=access,
            secretKey=secret,
            assumeRoleArn=assume_role_arn,
            externalId=external_id,
            mode=None,
        )
    body = CredentialsUpdateIn(name=name, description=description, keys=keys)
    with state(ctx).client() as client:
        target = client.find_credentials(credentials)
        client.update_credentials(target.id, body)
    say(f"Credentials '{name or target.name}' updated.")


@app.command("delete")
def delete(
    ctx: typer.Context, credentials: Annotated[str, typer.Argument(help="Name or id.")]
) -> None:
    """Delete credentials."""
    with state(ctx).client() as client:
        target = client.find_credentials(credentials)
        client.delete_credentials(target.id)
    say(f"Credentials '{target.name}' deleted.")


@app.command("validate")
def validate(
    ctx: typer.Context, credentials: Annotated[str, typer.Argument(help="Name or id.")]
) -> None:
    """Check the credentials against AWS now (exit 1 when AWS rejects them)."""
    st = state(ctx)
    with st.client() as client:
        target = client.find_credentials(credentials)
        result = client.validate_credentials(target.id)
    if st.structured:
        emit_json(result.model_dump(mode="json"))
    elif result.status == "AVAILABLE":
        say(f"Credentials '{target.name}' are valid: AWS identity {result.identityArn}.")
    else:
        say(f"Credentials '{target.name}' are {result.status}: {result.message}")
    if result.status != "AVAILABLE" or result.transientError:
        raise typer.Exit(1)
