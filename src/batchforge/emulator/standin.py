"""The ``nextflow`` stand-in on an executing head job's PATH.  It is **not Nextflow**.

It runs no pipeline code.  It checks what Nextflow 24.10 checks before running (arguments, run
name, config, profiles, resume, S3 work dir -- with Nextflow's own error texts), then makes the
AWS calls Nextflow's ``awsbatch`` executor makes, with the head job's credentials (the job
role), each checked against that role's IAM policies and recorded in the emulator's call log.

Commands (interfaces.md section 2):

- ``nextflow fs cp SRC DST``: one file, an ``s3://`` URI or a local path on either side;
- ``nextflow secrets set NAME VALUE``: into ``$NXF_HOME/secrets/store.json`` (mode 0600);
- ``nextflow run PIPELINE [-r REV] -name NAME -c FILE [-params-file FILE] [-profile P,Q]
  [-resume [SESSION_ID]] [-latest] [-stub-run] [-main-script F] [-entry NAME] [-w DIR]
  [-bucket-dir DIR] [--param value ...]``.

Knobs, read from the params (``-params-file`` or ``--name value``):

- ``standin_exit_status`` (int, default 0): the exit status of ``nextflow run``;
- ``standin_tasks`` (int, default 1): how many task jobs to submit (process ``STANDIN``);
- ``standin_task_seconds`` (float, default 0): each task job stays RUNNING that long in the
  emulator (or until TerminateJob): handed to it as ``BATCHFORGE_STANDIN_TASK_SECONDS``.

Every command's first line of output, and the first line of ``.nextflow.log``, is
:data:`LABEL`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import NoReturn

LABEL = "batchforge nextflow stand-in \u2014 not Nextflow"
VERSION = "24.10.5"


class Abort(Exception):
    """Nextflow's AbortOperationException: message to stderr, exit status 1."""


def say(text: str) -> None:
    print(text, flush=True)


def fail(message: str) -> NoReturn:
    raise Abort(message)


def split_s3(uri: str) -> tuple[str, str]:
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


def aws_error_text(error: Exception) -> str:
    """An AWS SDK error as Nextflow (AWS SDK for Java v1) prints it."""
    from botocore.exceptions import ClientError

    if isinstance(error, ClientError):
        info = error.response.get("Error", {})
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        service = _java_service_name(error.operation_name)
        return (
            f"{info.get('Message', '')} (Service: {service}; Status Code: {status}; "
            f"Error Code: {info.get('Code', '')}; Request ID: standin)"
        )
    return str(error)


def _java_service_name(operation: str) -> str:
    """The service name the AWS SDK for Java prints in an error ("Service: AWSBatch")."""
    import botocore.session

    session = botocore.session.get_session()
    for service, name in (("batch", "AWSBatch"), ("s3", "Amazon S3"), ("logs", "AWSLogs")):
        if operation in session.get_service_model(service).operation_names:
            return name
    return operation


def fs_cp(args: list[str]) -> None:
    """``nextflow fs cp SRC DST``."""
    from batchforge.emulator.standin_aws import Aws

    if len(args) != 2:
        fail("Missing source and target paths -- usage: nextflow fs cp <source> <target>")
    src, dst = args
    aws = Aws(os.environ.get("AWS_DEFAULT_REGION", "us-east-1"))
    s3 = aws.client("s3")
    try:
        if src.startswith("s3://"):
            bucket, key = split_s3(src)
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        else:
            body = Path(src).read_bytes()
        if dst.startswith("s3://"):
            bucket, key = split_s3(dst)
            s3.put_object(Bucket=bucket, Key=key, Body=body)
        else:
            Path(dst).write_bytes(body)
    except FileNotFoundError:
        fail(f"No such file or directory: {src}")
    except Exception as error:
        fail(f"ERROR ~ Cannot copy {src} to {dst} -- {aws_error_text(error)}")


def secrets_set(args: list[str]) -> None:
    """``nextflow secrets set NAME VALUE`` into the local secrets store."""
    if len(args) != 2:
        fail("Missing secret name and value -- usage: nextflow secrets set <name> <value>")
    name, value = args
    home = Path(os.environ.get("NXF_HOME") or Path.home() / ".nextflow")
    store = home / "secrets" / "store.json"
    store.parent.mkdir(parents=True, exist_ok=True)
    entries = json.loads(store.read_text()) if store.exists() else []
    entries = [e for e in entries if e.get("name") != name] + [{"name": name, "value": value}]
    store.write_text(json.dumps(entries))
    store.chmod(0o600)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    say(LABEL)
    try:
        if not args or args[0] in ("-h", "-help", "--help", "help"):
            say("Usage: nextflow [run|fs cp|secrets set] ... (stand-in subset)")
            return 0
        if args[0] in ("-v", "-version", "--version", "info"):
            say(f"stand-in for nextflow version {VERSION} (not Nextflow)")
            return 0
        if args[0] == "fs" and args[1:2] == ["cp"]:
            fs_cp(args[2:])
            return 0
        if args[0] == "secrets" and args[1:2] == ["set"]:
            secrets_set(args[2:])
            return 0
        if args[0] == "run":
            from batchforge.emulator.standin_run import run

            return run(args[1:])
        fail(
            f"Unknown command: {' '.join(args[:2])} -- the batchforge stand-in implements "
            "`run`, `fs cp` and `secrets set` only"
        )
    except Abort as error:
        print(str(error), file=sys.stderr, flush=True)
        _append_log(str(error))
        return 1


def _append_log(text: str) -> None:
    log = Path(".nextflow.log")
    if log.exists():
        with log.open("a") as out:
            out.write(text + "\n")


if __name__ == "__main__":
    # Run as ``python -m``, this file is ``__main__``; the modules it imports (standin_run,
    # standin_trace) raise ``batchforge.emulator.standin.Abort``, a different class from this
    # copy's.  The package's own main catches theirs, so an abort is a message, not a traceback.
    from batchforge.emulator import standin

    sys.exit(standin.main())
