"""What every UI route shares: the signed-in viewer, CSRF-checked forms, redirects, and a
route class that turns errors into HTML pages (the API's handlers answer JSON).

Routes are sync functions (FastAPI runs them in its thread pool, as the API's are): they call
the services, which use the database and AWS.  Dependencies that read the request body are
async.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response

from batchforge.errors import BatchforgeError
from batchforge.schemas import text
from batchforge.schemas.accounts import OrgAndWorkspaceDto
from batchforge.services import authz
from batchforge.services import workspaces as workspace_service
from batchforge.services.context import AppContext, Principal
from batchforge.web import render
from batchforge.web import session as web_session
from batchforge.web.session import CsrfRejected, SignInRequired, WebSession

log = logging.getLogger("batchforge.web")


@dataclass(frozen=True)
class Viewer:
    """The signed-in user, the workspace the UI acts in, and the session."""

    principal: Principal
    workspace_id: int
    session: WebSession
    workspaces: list[OrgAndWorkspaceDto] = field(default_factory=list)
    """The viewer's organizations and workspaces (the header's switcher)."""

    @property
    def workspace(self) -> OrgAndWorkspaceDto | None:
        """The entry of the workspace the UI acts in."""
        return next((w for w in self.workspaces if w.workspaceId == self.workspace_id), None)

    @property
    def user_name(self) -> str:
        return self.principal.user_name

    @property
    def csrf(self) -> str:
        return self.session.csrf


def app_ctx(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


def current_viewer(request: Request) -> Viewer:
    """The signed-in viewer; :class:`SignInRequired` otherwise (the route redirects)."""
    ctx = app_ctx(request)
    found = web_session.read(ctx, request)
    if found is None or not found.signed_in:
        raise SignInRequired()
    principal = web_session.principal(ctx, found)
    listed = workspace_service.user_workspaces(ctx, principal, principal.user_id)
    viewer = Viewer(principal, chosen_workspace(request, principal), found, listed)
    request.state.viewer = viewer
    return viewer


WORKSPACE_COOKIE = "bf_workspace"
"""The workspace chosen with the header's switcher (a preference: roles are checked anyway)."""


def id_number(text: str) -> int | None:
    """A form's or URL's numeric id: ASCII digits that fit a database id, else None."""
    if text.isascii() and text.isdigit() and len(text) < 19:
        return int(text)
    return None


def chosen_workspace(request: Request, principal: Principal) -> int:
    """The workspace the UI acts in: the URL's ``workspaceId`` (authz answers 404 for one the
    viewer is not in), else the switcher's choice while the viewer is still in it, else the
    viewer's default workspace."""
    given = id_number(request.query_params.get("workspaceId", ""))
    if given is not None:
        return given
    kept = id_number(request.cookies.get(WORKSPACE_COOKIE, ""))
    if kept is not None and kept in principal.roles:
        return kept
    return authz.acting_workspace(principal, None)


def keep_workspace(request: Request, response: Response, workspace_id: int) -> Response:
    """Remember ``workspace_id`` as the viewer's choice (the switcher's cookie)."""
    response.set_cookie(
        WORKSPACE_COOKIE,
        str(workspace_id),
        max_age=365 * 24 * 3600,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


def keep_url_workspace(request: Request, response: Response) -> Response:
    """A page opened with a ``workspaceId`` the viewer is in makes it the chosen workspace,
    so the page's forms (posted without it) act in the workspace the page showed."""
    viewer = getattr(request.state, "viewer", None)
    if (
        viewer is not None
        and request.method == "GET"
        and response.status_code < 400
        and "workspaceId" in request.query_params
        and viewer.workspace_id in viewer.principal.roles
        and request.cookies.get(WORKSPACE_COOKIE) != str(viewer.workspace_id)
    ):
        keep_workspace(request, response, viewer.workspace_id)
    return response


async def checked_form(request: Request) -> FormData:
    """The POSTed form, once its CSRF token matched the session's (403 otherwise)."""
    web_session.check_same_origin(request)
    found = web_session.read(app_ctx(request), request)
    form = await request.form()
    given = form.get(web_session.CSRF_FIELD)
    token = given if isinstance(given, str) else request.headers.get(web_session.CSRF_HEADER)
    web_session.check_csrf(found, token)
    # The API's input rules (batchforge.schemas.text): a 400 naming the field, before any use.
    text.check_fields((key, value) for key, value in form.multi_items() if isinstance(value, str))
    return form


def checked_header(request: Request) -> None:
    """For script calls without a form body: the CSRF token in ``X-CSRF-Token``."""
    web_session.check_same_origin(request)
    found = web_session.read(app_ctx(request), request)
    web_session.check_csrf(found, request.headers.get(web_session.CSRF_HEADER))


CurrentViewer = Annotated[Viewer, Depends(current_viewer)]


def viewer_needs(permission: authz.Permission) -> Callable[..., Viewer]:
    """The UI's dependency for a page or form that needs ``permission`` in the viewer's
    workspace (:mod:`batchforge.services.authz` decides; 403/404 become error pages).  Use as
    ``viewer: Annotated[Viewer, Depends(viewer_needs(Permission.X))]``."""

    def authorised_viewer(viewer: CurrentViewer) -> Viewer:
        authz.require(viewer.principal, viewer.workspace_id, permission)
        return viewer

    authorised_viewer.permission = permission  # type: ignore[attr-defined]
    return authorised_viewer


CheckedForm = Annotated[FormData, Depends(checked_form)]


def redirect(url: str) -> RedirectResponse:
    """303 See Other: after a POST the browser GETs ``url``."""
    return RedirectResponse(url, status_code=303)


def redirect_with(request: Request, url: str, text: str, kind: str = "success") -> Response:
    """Redirect and show ``text`` once on the next page."""
    response = redirect(url)
    web_session.set_flash(app_ctx(request), response, text, kind)
    return response


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return "/"  # browsers drop tabs and newlines: "/\t/evil.example" is "//evil.example"
    return target


def _sign_in_redirect(request: Request) -> Response:
    wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.method != "GET" or request.headers.get("x-requested-with") == "fetch":
        wanted = "/"
    if request.headers.get("x-requested-with") == "fetch":
        return Response("Signed out", status_code=401, headers=render.PAGE_HEADERS)
    return redirect(f"/ui/sign-in?next={quote(wanted, safe='')}")


def error_page(
    request: Request, status: int, title: str, message: str, hint: str | None = None
) -> Response:
    """The HTML error page (or a short text for the UI's script calls)."""
    if request.headers.get("x-requested-with") == "fetch":
        return Response(message, status_code=status, headers=render.PAGE_HEADERS)
    return render.page(
        request, "error.html", status=status, title=title, message=message, hint=hint
    )


class WebRoute(APIRoute):
    """An APIRoute whose errors become pages: sign-in redirects, 403 for a bad CSRF token,
    the error's own status and message for a :class:`BatchforgeError`, 500 otherwise."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return keep_url_workspace(request, await handler(request))
            except SignInRequired:
                return _sign_in_redirect(request)
            except CsrfRejected as problem:
                return error_page(request, 403, "Request refused", problem.message, problem.hint)
            except BatchforgeError as problem:
                title = "Not found" if problem.status == 404 else "Something went wrong"
                return error_page(request, problem.status, title, problem.message, problem.hint)
            except RequestValidationError:
                return error_page(request, 400, "Bad request", "The address is not valid.")
            except Exception as problem:
                incident = uuid.uuid4().hex[:12]
                log.error("web UI error (incident %s)", incident, exc_info=problem)
                return error_page(
                    request,
                    500,
                    "Internal error",
                    f"Internal error (incident {incident}); the server log has details.",
                )

        return guarded
