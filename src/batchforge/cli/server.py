"""``batchforge server`` and ``batchforge local-aws``."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("server")(server)
    app.command("local-aws")(local_aws)


def server(
    host: Annotated[str | None, typer.Option(help="Bind address [env: BATCHFORGE_HOST]")] = None,
    port: Annotated[int | None, typer.Option(help="Port [env: BATCHFORGE_PORT]")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Data directory [env: BATCHFORGE_DATA_DIR]")
    ] = None,
    aws_mode: Annotated[
        str | None, typer.Option(help="local (embedded emulator) or aws [env: BATCHFORGE_AWS_MODE]")
    ] = None,
    trace_aws: Annotated[
        bool, typer.Option("--trace-aws", help="Log every AWS call (secrets redacted).")
    ] = False,
) -> None:
    """Run the API server (and the embedded AWS emulator unless real AWS is configured)."""
    import logging

    from pydantic import ValidationError

    from batchforge.server.run import serve
    from batchforge.settings import Settings

    overrides = {
        key: value
        for key, value in {
            "host": host,
            "port": port,
            "data_dir": data_dir,
            "aws_mode": aws_mode,
        }.items()
        if value is not None
    }
    if trace_aws:
        overrides["trace_aws"] = True
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        typer.echo(f"Error: setting {field}: {first['msg']}", err=True)
        raise typer.Exit(2) from None
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        serve(settings, say=typer.echo)


def local_aws(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1")] = 4566,
    execution: Annotated[
        bool,
        typer.Option(help="Run head jobs' commands through the Nextflow stand-in."),
    ] = True,
) -> None:
    """Run the local AWS emulator alone, until interrupted (SIGINT or SIGTERM)."""
    import signal
    import time

    from batchforge import local_aws as emulator
    from batchforge.server.run import stop_on_sigterm

    signal.signal(signal.SIGTERM, stop_on_sigterm)
    # Ctrl-C stops it even when started from a shell that ignores SIGINT for background jobs
    # (a non-interactive script's `&`): Python keeps an inherited SIG_IGN otherwise.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    running = emulator.start(port, execution=execution)
    typer.echo(f"Local AWS emulator listening on {running.url}")
    if execution:
        typer.echo(emulator.STANDIN_NOTICE)
    typer.echo(f"Work-dir bucket: s3://{emulator.WORK_BUCKET}")
    typer.echo(
        "Point a server at it: BATCHFORGE_AWS_MODE=aws "
        f"BATCHFORGE_AWS_ENDPOINT_URL={running.url} batchforge server"
    )
    try:
        while running.is_running():
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        running.stop()
        typer.echo("Local AWS emulator stopped")
