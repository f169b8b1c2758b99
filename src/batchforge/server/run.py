"""``batchforge server``: start-up, the embedded emulator, uvicorn, clean shutdown."""

from __future__ import annotations

import logging
from collections.abc import Callable

from batchforge.settings import Settings

log = logging.getLogger("batchforge.server")


def serve(settings: Settings, say: Callable[[str], None] = print) -> None:
    """Run the API server until interrupted; stops the embedded emulator on the way out."""
    from batchforge import local_aws
    from batchforge.runtime import prepare_data_dir

    prepare_data_dir(settings)
    emulator = None
    if settings.aws_mode == "local":
        # The emulator boots while this process imports the app and migrates the database.
        emulator = local_aws.spawn(
            settings.local_aws_port, log_file=settings.data_dir / "local-aws.log", execution=True
        )
    try:
        import uvicorn

        from batchforge.runtime import build_context
        from batchforge.server.app import create_app
        from batchforge.services.accounts import bootstrap_admin
        from batchforge.services.forge_runner import ForgeWorker
        from batchforge.services.run_tracker import RunTracker

        ctx = build_context(settings, emulator_url=emulator.url if emulator else None)
        if emulator is not None:
            emulator.ready()
            say(f"Local AWS emulator listening on {emulator.url} (no real AWS account is used)")
            say(local_aws.STANDIN_NOTICE)
        boot = bootstrap_admin(ctx)
        if boot.token:
            say(f"Created admin user. API token (shown once): {boot.token}")
            say(f"The token is also saved to {boot.token_file} (mode 0600)")
        else:
            say(f"Admin token file: {boot.token_file}")
        say(f"Database: {_describe_db(settings)}")
        say(f"batchforge API on {settings.effective_public_url} (OpenAPI: /openapi.json)")
        app = create_app(ctx)
        worker = ForgeWorker(ctx)
        app.state.forge_worker = worker
        worker.start()
        tracker = RunTracker(ctx)
        app.state.run_tracker = tracker
        tracker.start()
        try:
            uvicorn.run(
                app, host=settings.host, port=settings.port, log_level="warning", access_log=False
            )
        finally:
            tracker.stop()
            worker.stop()
    finally:
        if emulator is not None:
            emulator.stop()
            say("Local AWS emulator stopped")


def _describe_db(settings: Settings) -> str:
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"  # no password in the output
