"""``batchforge info``: the server, its API version and whether the token works (``tw info``).

Exit 0 when the server answers, speaks at least the API version this CLI follows and accepts
the token; 1 otherwise (as ``tw info``).
"""

from __future__ import annotations

from typing import Any

import typer

from batchforge.cli.common import emit_json, say, state

MIN_API_VERSION = "1.187.0"
"""The oldest Seqera API version whose requests this CLI sends."""


def _version(text: str | None) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in str(text).split("-")[0].split("."))
    except ValueError:
        return None


def register(app: typer.Typer) -> None:
    app.command("info")(info)


def info(ctx: typer.Context) -> None:
    """Show system info and health status (exit 1 when a check fails)."""
    from importlib.metadata import PackageNotFoundError, version

    from batchforge.client import ApiError, BatchforgeClient

    st = state(ctx)
    try:
        cli_version = version("batchforge")
    except PackageNotFoundError:  # pragma: no cover - run from a source tree
        cli_version = "unknown"
    url = st.resolved_url()
    connection = versions = credentials = -1
    server_version = api_version = user_name = None
    with BatchforgeClient(url, st.resolved_token()) as client:
        try:
            service = client.service_info()
            connection = 1
            server_version, api_version = service.version, service.apiVersion
            ours, theirs = _version(MIN_API_VERSION), _version(api_version)
            versions = 1 if theirs is not None and ours is not None and theirs >= ours else 0
        except ApiError:
            connection = 0
        if connection == 1:
            try:
                user_name = client.user_info().user.userName
                credentials = 1
            except ApiError as error:
                credentials = 0 if error.status in (401, 403) else -1
    opts: dict[str, Any] = {
        "cliApiVersion": MIN_API_VERSION,
        "cliVersion": cli_version,
        "towerApiVersion": api_version,
        "towerApiEndpoint": url,
        "towerVersion": server_version,
        "userName": user_name,
    }
    checks = {
        "connectionCheck": connection,
        "versionCheck": versions,
        "credentialsCheck": credentials,
    }
    if st.structured:
        emit_json({**checks, "opts": opts})
    else:
        words = {1: "OK", 0: "FAILED", -1: "SKIPPED"}
        say("Details")
        for label, key in (
            ("API endpoint", "towerApiEndpoint"),
            ("API version", "towerApiVersion"),
            ("Server version", "towerVersion"),
            ("CLI version", "cliVersion"),
            ("CLI minimum API version", "cliApiVersion"),
            ("Authenticated user", "userName"),
        ):
            say(f"  {label:<40} {opts[key] or 'UNDEFINED'}")
        say("System health status")
        say(f"  {'Remote API server connection check':<40} {words[connection]}")
        say(f"  {'API version check':<40} " + ("WARNING" if versions == 0 else words[versions]))
        say(f"  {'Authentication API credential token':<40} {words[credentials]}")
        if connection == 0:
            say(f"API URL {url} is not available (check --url / TOWER_API_ENDPOINT).")
        if credentials == 0:
            say("Review that your access token is valid and active.")
    if connection + versions + credentials != 3:
        raise typer.Exit(1)
