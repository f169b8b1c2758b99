"""``runs dump -i RUN -o FILE.tar.gz|.tar.xz``: a run's details and logs in one archive, as
``tw runs dump`` makes it (service-info.json, workflow.json, workflow-load.json,
workflow-launch.json, workflow-metrics.json, workflow-tasks.json, nextflow.log and, with
``--add-task-logs``, ``tasks/{taskId}/.command.{out,err,log}``)."""

from __future__ import annotations

import io
import json
import tarfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from batchforge.cli.common import fail

if TYPE_CHECKING:
    from batchforge.client import BatchforgeClient

FORMATS = {".tar.gz": "w:gz", ".tar.xz": "w:xz"}
TASK_FILES = (".command.out", ".command.err", ".command.log")


def mode_of(path: Path) -> str:
    """The tarfile write mode for ``path``'s suffix; refused unless .tar.gz or .tar.xz."""
    for suffix, mode in FORMATS.items():
        if path.name.endswith(suffix):
            return mode
    raise fail("Unknown file format. Only 'tar.xz' and 'tar.gz' formats are supported.")


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=2, default=str).encode()


def _optional(fetch: Any) -> Any:
    """``fetch()``, or None when the server has no such data (4xx)."""
    from batchforge.client.api import ApiError

    try:
        return fetch()
    except ApiError as error:
        if 400 <= error.status < 500:
            return None
        raise


def dump(
    client: BatchforgeClient,
    run_id: str,
    target: Path,
    task_logs: bool,
    only_failed: bool,
    progress: Any,
) -> int:
    """Write the archive; the number of entries."""
    mode = mode_of(target)
    described = client.describe_workflow(run_id)  # a missing run fails before any file
    entries = 0
    with tarfile.open(target, mode) as tar:  # type: ignore[call-overload]
        sections: list[tuple[str, Any]] = [
            ("service-info.json", lambda: client.service_info().model_dump(mode="json")),
            ("workflow.json", lambda: described.model_dump(mode="json")),
            ("workflow-load.json", lambda: client.workflow_progress(run_id)),
            (
                "workflow-launch.json",
                lambda: client.describe_workflow_launch(run_id).model_dump(mode="json"),
            ),
            ("workflow-metrics.json", lambda: client.workflow_metrics(run_id)),
            ("workflow-tasks.json", lambda: list(client.iter_workflow_tasks(run_id))),
        ]
        tasks: list[dict[str, Any]] = []
        for name, fetch in sections:
            progress(f"- {name}")
            value = _optional(fetch)
            if value is None:
                progress("  no data, skipped")
                continue
            if name == "workflow-tasks.json":
                tasks = value
            _add(tar, name, _json(value))
            entries += 1
        progress("- nextflow.log")
        log = io.BytesIO()
        if _optional(lambda: client.download_workflow_file(run_id, log)) is not None:
            _add(tar, "nextflow.log", log.getvalue())
            entries += 1
        else:
            progress("  no data, skipped")
        if task_logs:
            for task in tasks:
                if only_failed and task.get("status") != "FAILED":
                    continue
                task_id = task.get("taskId")
                for file_name in TASK_FILES:
                    sink = io.BytesIO()
                    fetched = _optional(
                        lambda t=task_id, f=file_name, s=sink: client.download_workflow_task_file(
                            run_id, int(t), f, s
                        )
                    )
                    if fetched is not None:
                        _add(tar, f"tasks/{task_id}/{file_name}", sink.getvalue())
                        entries += 1
    return entries
