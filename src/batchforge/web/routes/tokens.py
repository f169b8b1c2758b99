"""The personal tokens page (``/ui/tokens``): your API tokens, create one (shown once, on the
answer to the form and nowhere else), delete one.  Tokens are the user's own, whatever the
workspace: the page needs a signed-in user only."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from batchforge.errors import BatchforgeError
from batchforge.schemas.tokens import CreateAccessTokenResponse
from batchforge.services import tokens as service
from batchforge.web import render
from batchforge.web.core import CheckedForm, CurrentViewer, Viewer, WebRoute, app_ctx, redirect_with
from batchforge.web.forms import FormState

router = APIRouter(prefix="/ui/tokens", route_class=WebRoute, include_in_schema=False)


def _page(
    request: Request,
    viewer: Viewer,
    form: FormState,
    *,
    created: CreateAccessTokenResponse | None = None,
    status: int = 200,
) -> Response:
    items = service.list_tokens(app_ctx(request), viewer.principal.user_id)
    return render.page(
        request,
        "tokens.html",
        status=status,
        title="Your API tokens",
        form=form,
        tokens=items,
        created=created,
    )


@router.get("")
def list_tokens(request: Request, viewer: CurrentViewer) -> Response:
    return _page(request, viewer, FormState())


@router.post("")
def create_token(request: Request, viewer: CurrentViewer, form: CheckedForm) -> Response:
    state = FormState.from_form(form)
    try:
        created = service.create(app_ctx(request), viewer.principal.user_id, state.get("name"))
    except BatchforgeError as problem:
        state.fail(problem, ("name",))
        return _page(request, viewer, state, status=problem.status)
    return _page(request, viewer, FormState(), created=created)


@router.post("/{token_id}/delete")
def delete_token(
    request: Request, token_id: int, viewer: CurrentViewer, form: CheckedForm
) -> Response:
    names = {t.id: t.name for t in service.list_tokens(app_ctx(request), viewer.principal.user_id)}
    service.delete_token(app_ctx(request), viewer.principal.user_id, token_id)
    return redirect_with(request, "/ui/tokens", f"Token '{names[token_id]}' deleted.")
