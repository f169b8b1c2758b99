"""Assembling a process: data dir, encryption key, database schema, AWS environment.

Used by ``batchforge server`` and by the tests, so both run exactly the same start-up.
"""

from __future__ import annotations

import logging
import os

from batchforge.aws.recorder import CallRecorder, log_call
from batchforge.aws.session import AwsEnvironment, EventHook
from batchforge.crypto import SecretBox, load_or_create_key
from batchforge.db import migrate
from batchforge.db.engine import Database
from batchforge.local_aws import EMULATOR_KEYS
from batchforge.services import key_check
from batchforge.services.context import AppContext
from batchforge.settings import Settings

# botocore and urllib3 log request and response bodies at DEBUG: secret values would reach
# the log.  Whatever the root level, they never log below INFO in a batchforge process.
QUIET_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")


def silence_wire_logs() -> None:
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO or logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)


def prepare_data_dir(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(settings.data_dir, 0o700)


def build_context(
    settings: Settings,
    *,
    emulator_url: str | None = None,
    recorder: CallRecorder | None = None,
    event_hooks: list[EventHook] | None = None,
    run_migrations: bool = True,
) -> AppContext:
    """An :class:`AppContext` for ``settings``; the schema is upgraded first.

    ``emulator_url`` is the embedded emulator's URL in local mode; in that mode the server's
    own identity is the emulator's default one.  Under the start-up lock shared by every
    replica (:func:`batchforge.db.migrate.startup_lock`), the schema is upgraded and the
    encryption key checked (:mod:`batchforge.services.key_check`): a key that is not the
    installation's raises :class:`ConfigurationError` before any background work exists.
    """
    prepare_data_dir(settings)
    silence_wire_logs()
    from batchforge.iam.explain import install as install_access_denied_explainer

    install_access_denied_explainer()  # every AccessDenied names the permission to add
    key_text = settings.encryption_key.get_secret_value() if settings.encryption_key else None
    box = SecretBox(load_or_create_key(settings.data_dir, key_text))
    url = settings.effective_database_url
    db = Database(url)
    try:
        with migrate.startup_lock(url):
            if run_migrations:
                migrate.upgrade(url, lock=False)
            key_check.verify(db, box)
    except BaseException:
        db.dispose()
        raise
    recorder = recorder or CallRecorder()
    if settings.trace_aws:
        logging.getLogger("batchforge.aws").setLevel(logging.INFO)
        recorder.listeners.append(log_call)
    local = settings.aws_mode == "local"
    aws = AwsEnvironment(
        endpoint_url=emulator_url if local else settings.aws_endpoint_url,
        default_region=settings.default_region,
        recorder=recorder,
        event_hooks=list(event_hooks or []),
        default_keys=EMULATOR_KEYS if local else None,
    )
    return AppContext(settings=settings, db=db, box=box, aws=aws, recorder=recorder)
