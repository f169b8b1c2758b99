"""``/trace``: the receiver of Nextflow's nf-tower plugin (Seqera's Trace API).

Authentication: ``Bearer`` or nf-tower's ``Basic base64("@token:<token>")``, with a user's
API token or the run's own token (``services/run_tokens.py``).  Bodies are read leniently
(:mod:`batchforge.runs.trace_parse`); what is stored and when is decided in
:mod:`batchforge.services.trace`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from batchforge.errors import InvalidInput
from batchforge.schemas.trace import (
    TraceBeginResponse,
    TraceCompleteResponse,
    TraceCreateResponse,
    TraceHeartbeatResponse,
    TraceProgressResponse,
)
from batchforge.server.deps import AnyPrincipal, Ctx
from batchforge.services import trace

router = APIRouter(prefix="/trace", tags=["trace"])

JsonBody = Annotated[dict[str, Any], Body(description="The plugin's request (see the spec).")]
WorkspaceParam = Annotated[int | None, Query(description="Workspace numeric identifier")]
_OPTS: dict[str, Any] = {"response_model_exclude_none": True}


@router.post("/create", response_model=TraceCreateResponse, **_OPTS)
def create(
    ctx: Ctx, principal: AnyPrincipal, body: JsonBody, workspaceId: WorkspaceParam = None
) -> dict[str, Any]:
    """The run this Nextflow execution reports as: the launched run (``workflowId``), or a
    new one in the caller's workspace for a run launched elsewhere (``workflowId`` null)."""
    return trace.create(ctx, principal, workspaceId, body)


@router.put("/{workflowId}/begin", response_model=TraceBeginResponse, **_OPTS)
def begin(
    ctx: Ctx,
    principal: AnyPrincipal,
    workflowId: str,
    body: JsonBody,
    workspaceId: WorkspaceParam = None,
) -> dict[str, Any]:
    return trace.begin(ctx, principal, workflowId, workspaceId, body)


@router.put("/{workflowId}/progress", response_model=TraceProgressResponse, **_OPTS)
def progress(
    ctx: Ctx,
    principal: AnyPrincipal,
    workflowId: str,
    body: JsonBody,
    workspaceId: WorkspaceParam = None,
) -> dict[str, Any]:
    """Up to 100 task snapshots and the progress snapshot.  Malformed task entries: 400
    naming them, the others stored."""
    done = trace.progress(ctx, principal, workflowId, workspaceId, body)
    if done.problems:
        stored = done.inserted + done.updated + done.ignored
        raise InvalidInput(
            f"{len(done.problems)} task(s) malformed and not stored ({stored} stored): "
            + "; ".join(p.message for p in done.problems[:5]),
            field="tasks",
        )
    return {"status": "OK", "workflowId": workflowId}


@router.put("/{workflowId}/heartbeat", response_model=TraceHeartbeatResponse, **_OPTS)
def heartbeat(
    ctx: Ctx,
    principal: AnyPrincipal,
    workflowId: str,
    body: JsonBody,
    workspaceId: WorkspaceParam = None,
) -> dict[str, Any]:
    return trace.heartbeat(ctx, principal, workflowId, workspaceId, body)


@router.put("/{workflowId}/complete", response_model=TraceCompleteResponse, **_OPTS)
def complete(
    ctx: Ctx,
    principal: AnyPrincipal,
    workflowId: str,
    body: JsonBody,
    workspaceId: WorkspaceParam = None,
) -> dict[str, Any]:
    return trace.complete(ctx, principal, workflowId, workspaceId, body)
