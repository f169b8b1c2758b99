"""The app's routes and the permissions they declare (``authz.needs``, ``secret_owner``,
``viewer_needs``: dependencies carrying a ``permission`` attribute)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from batchforge.services.authz import Permission


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def declared_permissions(route: APIRoute) -> set[Permission]:
    """The permissions ``route``'s dependencies require."""
    return {
        call.permission  # type: ignore[attr-defined]
        for call in _calls(route.dependant)
        if getattr(call, "permission", None) is not None
    }


def api_routes(app: FastAPI) -> list[APIRoute]:
    """The API's routes (the web UI's are left out of the OpenAPI document)."""
    return [r for r in app.routes if isinstance(r, APIRoute) and r.include_in_schema]


def ui_routes(app: FastAPI) -> list[APIRoute]:
    return [r for r in app.routes if isinstance(r, APIRoute) and not r.include_in_schema]
