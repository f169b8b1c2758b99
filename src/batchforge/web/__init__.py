"""The web UI: server-rendered pages over the same services as the REST API.

Pages live under ``/ui/`` (the overview at ``/``) so they never collide with the API's
Seqera paths; static files under ``/ui/static``.  Jinja2 templates render HTML; a small
script (``static/app.js``, no build step, no third-party code) adds live updates, copy
buttons and conveniences, and every page works without it.  Sign-in takes an API token and
keeps a sealed session cookie (:mod:`batchforge.web.session`); the API's Bearer auth is
untouched: the cookie authenticates UI routes only.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from batchforge.web.render import STATIC_DIR, STATIC_PREFIX


def install(app: FastAPI) -> None:
    """Mount the UI's routes and static files on ``app``."""
    from batchforge.web.routes import ROUTERS

    # The static mount first: the UI's catch-all "not found" route would shadow it.
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="ui-static")
    for router in ROUTERS:
        app.include_router(router)
