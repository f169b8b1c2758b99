"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from batchforge import __version__
from batchforge.server import errors
from batchforge.server.routers import (
    compute_envs,
    credentials,
    data_links,
    info,
    labels,
    orgs,
    participants,
    pipeline_schemas,
    pipeline_secrets,
    pipelines,
    platforms,
    policy,
    roles,
    teams,
    tokens,
    trace,
    users,
    workflows,
)
from batchforge.services.context import AppContext
from batchforge.web import install as install_web_ui


def create_app(ctx: AppContext) -> FastAPI:
    """An app serving ``ctx``.  OpenAPI at ``/openapi.json``; Bearer-token auth."""
    app = FastAPI(
        title="batchforge",
        version=__version__,
        description="Seqera-compatible API for running Nextflow pipelines on AWS Batch.",
        docs_url="/docs",
        redoc_url=None,
    )
    app.state.ctx = ctx
    errors.install(app)
    app.include_router(info.router)
    app.include_router(credentials.router)
    app.include_router(compute_envs.router)
    app.include_router(labels.router)
    app.include_router(platforms.router)
    app.include_router(policy.router)
    app.include_router(data_links.router)
    app.include_router(pipeline_secrets.router)
    app.include_router(pipelines.router)
    app.include_router(pipeline_schemas.router)
    app.include_router(workflows.router)
    app.include_router(workflows.launch_router)
    app.include_router(tokens.router)
    app.include_router(users.router)
    app.include_router(orgs.router)
    app.include_router(teams.router)
    app.include_router(participants.router)
    app.include_router(roles.router)
    app.include_router(trace.router)
    install_web_ui(app)
    return app
