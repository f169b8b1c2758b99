"""The app's routes and the permissions they declare (``authz.needs``, ``secret_owner``,
``viewer_needs``: dependencies carrying a ``permission`` attribute)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from batchforge.services.authz import Permission


@dataclass(frozen=True)
class Served:
    """A route as the app serves it: its full path, methods, whether it is in the API's
    OpenAPI document (the UI's routes are not), and the route object."""

    path: str
    methods: frozenset[str]
    in_api: bool
    route: APIRoute

    @property
    def module(self) -> str:
        return self.route.endpoint.__module__


def _walk(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        if candidates is not None:  # FastAPI's included router
            yield from _walk(candidates())
        else:
            yield route


def served_routes(app: FastAPI) -> list[Served]:
    found = []
    for item in _walk(app.router.routes):
        route = getattr(item, "original_route", item)
        if not isinstance(route, APIRoute):
            continue
        path = getattr(item, "path", "") or route.path
        in_api = bool(getattr(item, "include_in_schema", route.include_in_schema))
        found.append(Served(path, frozenset(route.methods or ()), in_api, route))
    return found


def _calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def declared_permissions(served: Served) -> set[Permission]:
    """The permissions a route's dependencies require."""
    return {
        call.permission  # type: ignore[attr-defined]
        for call in _calls(served.route.dependant)
        if getattr(call, "permission", None) is not None
    }
