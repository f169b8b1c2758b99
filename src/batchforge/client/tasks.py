"""Client methods for what a run's Nextflow trace tells: progress, tasks, metrics, task logs
and task files (Seqera's ``/workflow/{id}/progress|tasks|task|metrics|log|download``).

The JSON comes back as the API answered it, Seqera's shapes (``ProgressData``,
``ListTasksResponse``, ``Task``, ``WorkflowMetrics``), so that ``-o json`` and scripts see
every field the server sends; the task log is a typed :class:`LogPage`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

import httpx

from batchforge.client.transfer import Retryable, as_api_error, download_into
from batchforge.schemas.workflows import LogPage, WorkflowLogResponse


def _path(workflow_id: str, *rest: object) -> str:
    return "/".join(["", "workflow", quote(workflow_id, safe=""), *(str(r) for r in rest)])


class TasksClientMixin:
    """Mixed into :class:`batchforge.client.BatchforgeClient` (uses its ``request``, and its
    ``_http`` and ``workspace_id`` to stream task files)."""

    if TYPE_CHECKING:
        _http: httpx.Client
        workspace_id: int | None

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError

    def workflow_progress(self, workflow_id: str) -> dict[str, Any]:
        """The run's ``ProgressData``: ``workflowProgress`` (counts, CPU and memory load),
        ``processesProgress`` (one per process) and ``totalProcesses``."""
        response = self.request("GET", _path(workflow_id, "progress"))
        return dict(response.json().get("progress") or {})

    def list_workflow_tasks(
        self,
        workflow_id: str,
        *,
        max_results: int = 100,
        offset: int = 0,
        sort_by: str | None = None,
        sort_dir: str | None = None,
        search: str | None = None,
    ) -> dict[str, Any]:
        """One page of the run's tasks: ``{"tasks": [{"task": Task}], "total": N}``."""
        params = {
            "max": max_results,
            "offset": offset,
            "sortBy": sort_by,
            "sortDir": sort_dir,
            "search": search,
        }
        response = self.request("GET", _path(workflow_id, "tasks"), params=params)
        return dict(response.json())

    def iter_workflow_tasks(
        self, workflow_id: str, page_size: int = 100, **filters: Any
    ) -> Iterator[dict[str, Any]]:
        """Every task (``Task`` JSON) of the run matching ``filters``, page after page."""
        offset = 0
        while True:
            page = self.list_workflow_tasks(
                workflow_id, max_results=page_size, offset=offset, **filters
            )
            items = [item.get("task") or {} for item in page.get("tasks") or []]
            yield from items
            offset += len(items)
            if not items or offset >= int(page.get("total") or 0):
                return

    def describe_workflow_task(self, workflow_id: str, task_id: int) -> dict[str, Any]:
        """One task (``Task`` JSON)."""
        response = self.request("GET", _path(workflow_id, "task", int(task_id)))
        return dict(response.json().get("task") or {})

    def workflow_metrics(self, workflow_id: str) -> list[dict[str, Any]]:
        """``WorkflowMetrics`` per process (``cpu``, ``mem``, ``time``, ``reads``… as
        ``ResourceData`` quartiles); empty until the run has completed."""
        response = self.request("GET", _path(workflow_id, "metrics"))
        return list(response.json().get("metrics") or [])

    def workflow_task_log(
        self, workflow_id: str, task_id: int, next_token: str | None = None
    ) -> LogPage:
        """A page of the task's log (its Batch job's CloudWatch stream)."""
        response = self.request(
            "GET", _path(workflow_id, "log", int(task_id)), params={"next": next_token}
        )
        return WorkflowLogResponse.model_validate(response.json()).log

    def download_workflow_task_file(
        self, workflow_id: str, task_id: int, file_name: str, sink: BinaryIO
    ) -> int:
        """Stream a file of the task's work directory (``.command.out``, ``.command.err``,
        ``.command.log``) into ``sink``; returns the bytes written."""
        params: dict[str, Any] = {"fileName": file_name}
        if self.workspace_id is not None:
            params["workspaceId"] = self.workspace_id
        try:
            return download_into(
                self._http, _path(workflow_id, "download", int(task_id)), params, sink
            )
        except Retryable as failure:
            raise as_api_error(failure.args[0]) from None
