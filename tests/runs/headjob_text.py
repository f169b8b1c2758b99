"""Reading a submitted head job the way the container will: its environment, its bootstrap
script (base64 in ``BATCHFORGE_BOOT``), the launch files it fetches from S3, and the command
line the launcher image's ENTRYPOINT really runs.

The ENTRYPOINT of ``nextflow/nextflow:24.10.5`` is ``docker/entry.sh`` (nextflow-io/nextflow at
tag v24.10.5)::

    cli=''; for x in "$@"; do cli+="'$x' "; done
    ...
    exec bash -c "$cli"

— each argument wrapped in single quotes, *not escaped*, then run by ``bash -c``.
:func:`entry_sh_cli` builds the same text so tests can run it with a real ``bash``.
"""

from __future__ import annotations

import base64
import re
import shlex
from typing import Any

from batchforge.launch.headjob import BOOT_ENV
from batchforge.local_aws import LocalAws


def env_of(request: dict[str, Any]) -> dict[str, str]:
    """The head job's environment variables (containerOverrides.environment)."""
    return {e["name"]: e["value"] for e in request["containerOverrides"]["environment"]}


def boot_script(request: dict[str, Any]) -> str:
    """The bootstrap script the head job runs (decoded from ``BATCHFORGE_BOOT``)."""
    return base64.b64decode(env_of(request)[BOOT_ENV]).decode()


def fetched(request: dict[str, Any]) -> dict[str, str]:
    """Local name -> S3 URI of every launch file the bootstrap fetches."""
    found = re.findall(r"^fetch (\S+) (\S+)$", boot_script(request), re.MULTILINE)
    return {name: shlex.split(uri)[0] for uri, name in found}


def read_s3(aws: LocalAws, uri: str) -> str:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return aws.boto_client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()


def launch_files(aws: LocalAws, request: dict[str, Any]) -> dict[str, str]:
    """The launch files the head job will fetch, read from the emulator's S3 (what the launch
    service uploaded): local name -> text."""
    return {name: read_s3(aws, uri) for name, uri in fetched(request).items()}


def entry_sh_cli(args: list[str]) -> str:
    """What docker/entry.sh (v24.10.5) hands to ``bash -c``: each argument as ``'x' ``."""
    return "".join(f"'{arg}' " for arg in args)
