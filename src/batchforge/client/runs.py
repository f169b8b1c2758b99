"""Client methods for pipelines and runs (workflows)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

import httpx

from batchforge.client.transfer import Retryable, as_api_error, download_file, download_into
from batchforge.schemas.pipelines import (
    CreatePipelineResponse,
    DescribeLaunchResponse,
    LaunchDbDto,
    ListPipelinesResponse,
    PipelineDbDto,
)
from batchforge.schemas.run_files import ListRunFilesResponse
from batchforge.schemas.workflows import (
    DescribeWorkflowLaunchResponse,
    DescribeWorkflowResponse,
    ListWorkflowsResponse,
    LogPage,
    WorkflowLaunchResponse,
    WorkflowLogResponse,
)

# Fields of a WorkflowLaunchResponse that describe the run, not what to launch.
_RESPONSE_ONLY = ("computeEnv", "pipelineId", "resumeDir", "resumeCommitId", "id", "dateCreated")


class RunsClientMixin:
    """Mixed into :class:`batchforge.client.BatchforgeClient` (uses its ``request``, and its
    ``_http`` and ``workspace_id`` to stream run files)."""

    if TYPE_CHECKING:
        _http: httpx.Client
        workspace_id: int | None

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError

    # --- pipelines -----------------------------------------------------------------------

    def create_pipeline(
        self,
        name: str,
        launch: dict[str, Any],
        description: str | None = None,
        label_ids: list[int] | None = None,
    ) -> PipelineDbDto:
        body = {"name": name, "description": description, "launch": launch}
        body["labelIds"] = label_ids or []
        response = self.request("POST", "/pipelines", json=body)
        return CreatePipelineResponse.model_validate(response.json()).pipeline

    def list_pipelines(self, search: str | None = None) -> list[PipelineDbDto]:
        response = self.request("GET", "/pipelines", params={"search": search, "max": 100})
        return ListPipelinesResponse.model_validate(response.json()).pipelines

    def describe_pipeline(self, pipeline_id: int) -> PipelineDbDto:
        response = self.request("GET", f"/pipelines/{pipeline_id}")
        return CreatePipelineResponse.model_validate(response.json()).pipeline

    def describe_pipeline_launch(self, pipeline_id: int) -> LaunchDbDto:
        response = self.request("GET", f"/pipelines/{pipeline_id}/launch")
        return DescribeLaunchResponse.model_validate(response.json()).launch

    def update_pipeline(self, pipeline_id: int, **fields: Any) -> PipelineDbDto:
        response = self.request("PUT", f"/pipelines/{pipeline_id}", json=fields)
        return CreatePipelineResponse.model_validate(response.json()).pipeline

    def delete_pipeline(self, pipeline_id: int) -> None:
        self.request("DELETE", f"/pipelines/{pipeline_id}")

    def launch_pipeline(self, pipeline_id: int, overrides: dict[str, Any] | None = None) -> str:
        body = {"launch": overrides or {}}
        response = self.request("POST", f"/pipelines/{pipeline_id}/launch", json=body)
        return str(response.json()["workflowId"])

    def find_pipeline(self, name_or_id: str) -> PipelineDbDto | None:
        for item in self.list_pipelines():
            if name_or_id in (str(item.pipelineId), item.name):
                return item
        return None

    # --- runs ----------------------------------------------------------------------------

    def launch_workflow(self, launch: dict[str, Any]) -> str:
        response = self.request("POST", "/workflow/launch", json={"launch": launch})
        return str(response.json()["workflowId"])

    def describe_workflow_launch(self, workflow_id: str) -> WorkflowLaunchResponse:
        """The launch a run was made with (Seqera's DescribeWorkflowLaunch)."""
        response = self.request("GET", f"/workflow/{workflow_id}/launch")
        return DescribeWorkflowLaunchResponse.model_validate(response.json()).launch

    def relaunch_workflow(
        self,
        workflow_id: str,
        resume: bool = True,
        run_name: str | None = None,
        **overrides: Any,
    ) -> str:
        """Launch a run again with its launch (as ``tw runs relaunch``); the new run's id.

        Resuming keeps the session id and the work directory (where the task cache is) and
        refuses a ``workDir`` override; without resume the run gets a new session.  The run
        name is a new generated one unless ``run_name`` is given."""
        if resume and overrides.get("workDir"):
            raise ValueError(
                "The work directory cannot change when resuming; relaunch without resume."
            )
        launch = self.describe_workflow_launch(workflow_id)
        body = launch.model_dump(mode="json", exclude_none=True, exclude=set(_RESPONSE_ONLY))
        body["resume"] = resume
        body["runName"] = run_name
        if resume:
            body["sessionId"] = launch.sessionId
            body["workDir"] = launch.resumeDir or launch.workDir
        else:
            body.pop("sessionId", None)
        body.update(overrides)
        return self.launch_workflow({k: v for k, v in body.items() if v is not None})

    def list_workflows(
        self,
        status: str | None = None,
        search: str | None = None,
        max_results: int = 50,
        after: str | None = None,
    ) -> ListWorkflowsResponse:
        params = {"status": status, "search": search, "max": max_results, "after": after}
        response = self.request("GET", "/workflow", params=params)
        return ListWorkflowsResponse.model_validate(response.json())

    def describe_workflow(self, workflow_id: str) -> DescribeWorkflowResponse:
        response = self.request("GET", f"/workflow/{workflow_id}")
        return DescribeWorkflowResponse.model_validate(response.json())

    def cancel_workflow(self, workflow_id: str, force: bool = False) -> None:
        params = {"force": "true" if force else None}
        self.request("POST", f"/workflow/{workflow_id}/cancel", json={}, params=params)

    def delete_workflow(self, workflow_id: str, force: bool = False) -> None:
        params = {"force": "true" if force else None}
        self.request("DELETE", f"/workflow/{workflow_id}", params=params)

    def workflow_log(self, workflow_id: str, next_token: str | None = None) -> LogPage:
        response = self.request("GET", f"/workflow/{workflow_id}/log", params={"next": next_token})
        return WorkflowLogResponse.model_validate(response.json()).log

    def iter_workflow_log(self, workflow_id: str) -> Iterator[LogPage]:
        """Pages until the stream has no new line (one pass; callers loop to follow)."""
        token = None
        while True:
            page = self.workflow_log(workflow_id, token)
            yield page
            if not page.entries or page.forwardToken == token:
                return
            token = page.forwardToken

    # --- run files -----------------------------------------------------------------------

    def list_workflow_files(self, workflow_id: str) -> ListRunFilesResponse:
        """The files of the run's folder in its work directory (batchforge extension)."""
        response = self.request("GET", f"/workflow/{quote(workflow_id, safe='')}/files")
        return ListRunFilesResponse.model_validate(response.json())

    def _file_request(self, workflow_id: str, file_name: str | None) -> tuple[str, dict[str, Any]]:
        params: dict[str, Any] = {"fileName": file_name} if file_name else {}
        if self.workspace_id is not None:
            params["workspaceId"] = self.workspace_id
        return f"/workflow/{quote(workflow_id, safe='')}/download", params

    def download_workflow_file(
        self, workflow_id: str, sink: BinaryIO, file_name: str | None = None
    ) -> int:
        """Stream a run file (default: the Nextflow log) into ``sink``, e.g. standard output;
        returns the bytes written.  One attempt: a stream already written cannot be resumed."""
        url, params = self._file_request(workflow_id, file_name)
        try:
            return download_into(self._http, url, params, sink)
        except Retryable as failure:
            raise as_api_error(failure.args[0]) from None

    def save_workflow_file(
        self, workflow_id: str, target: Path, file_name: str | None = None
    ) -> int:
        """Download a run file (default: the Nextflow log) into ``target``, resuming after a
        broken connection; returns its size."""
        url, params = self._file_request(workflow_id, file_name)
        return download_file(self._http, url, params, target)
