"""``batchforge server``: start-up, the embedded emulator, uvicorn, clean shutdown.

Stopping: SIGINT and SIGTERM (what a service manager sends) both stop uvicorn gracefully, then
the background workers and the embedded emulator; uvicorn re-raises the signal it caught once
it is done, and :func:`serve` turns SIGTERM into :class:`Terminated` so the emulator is
stopped on the way out instead of the process dying at once.  The emulator also gets SIGTERM
from the kernel if this process dies without cleaning up (``kill -9``; see
:func:`batchforge.local_aws.spawn`).

The admin token made on first start goes to its 0600 file; it is printed only when standard
output is a terminal, never into a log file or a service manager's journal.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from batchforge.settings import Settings

log = logging.getLogger("batchforge.server")


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: stop like Ctrl-C (a KeyboardInterrupt, so every ``finally`` runs)."""


def stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    """A SIGTERM handler: raise :class:`Terminated` in the main thread."""
    raise Terminated


def serve(
    settings: Settings, say: Callable[[str], None] = print, terminal: bool | None = None
) -> None:
    """Run the API server until interrupted (SIGINT or SIGTERM); stops the embedded emulator
    on the way out.  ``terminal``: whether ``say`` writes to a terminal (default: whether
    standard output is one); only then is a new admin token printed."""
    from batchforge import local_aws
    from batchforge.runtime import prepare_data_dir

    if terminal is None:
        terminal = sys.stdout.isatty()
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop_on_sigterm) if in_main else None
    prepare_data_dir(settings)
    emulator = None
    try:
        if settings.aws_mode == "local":
            # The emulator boots while this process imports the app and migrates the database.
            emulator = local_aws.spawn(
                settings.local_aws_port,
                log_file=settings.data_dir / "local-aws.log",
                execution=True,
            )
        _serve(settings, say, terminal, emulator)
    finally:
        if emulator is not None:
            emulator.stop()
            say("Local AWS emulator stopped")
        if in_main:
            signal.signal(signal.SIGTERM, previous)


def _serve(
    settings: Settings, say: Callable[[str], None], terminal: bool, emulator: object | None
) -> None:
    import uvicorn

    from batchforge import local_aws
    from batchforge.db.migrate import startup_lock
    from batchforge.runtime import build_context
    from batchforge.server.app import create_app
    from batchforge.services.accounts import bootstrap_admin
    from batchforge.services.forge_runner import ForgeWorker
    from batchforge.services.run_tracker import RunTracker

    assert emulator is None or isinstance(emulator, local_aws.LocalAws)
    ctx = build_context(settings, emulator_url=emulator.url if emulator else None)
    if emulator is not None:
        emulator.ready()
        say(f"Local AWS emulator listening on {emulator.url} (no real AWS account is used)")
        say(local_aws.STANDIN_NOTICE)
    with startup_lock(settings.effective_database_url):  # one first admin across replicas
        boot = bootstrap_admin(ctx)
    _announce_token(say, terminal, boot.token, str(boot.token_file))
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
        ctx.db.dispose()


def _announce_token(
    say: Callable[[str], None], terminal: bool, token: str | None, token_file: str
) -> None:
    if token is None:
        say(f"Admin token file: {token_file}")
        return
    if terminal:
        say(f"Created admin user. API token (shown once): {token}")
        say(f"The token is also saved to {token_file} (mode 0600)")
    else:  # a log file or a journal: the token stays in its file
        say(f"Created admin user. Its API token is in {token_file} (mode 0600)")


def _describe_db(settings: Settings) -> str:
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        return url
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"  # no password in the output
