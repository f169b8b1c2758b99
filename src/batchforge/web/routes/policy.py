"""The policy tool: paste an IAM policy, choose features (and optionally a scope), see what
is missing and every finding with its line and column.  Offline: no AWS call."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from batchforge.errors import BatchforgeError
from batchforge.iam.catalog_model import FEATURES, MODES
from batchforge.schemas.policy import CheckPolicyRequest
from batchforge.services import policies
from batchforge.web import render
from batchforge.web.core import CheckedForm, CurrentViewer, WebRoute
from batchforge.web.forms import FormState, fail_validation

router = APIRouter(prefix="/ui/policy", route_class=WebRoute, include_in_schema=False)

FIELDS = ("policy", "features", "mode", "account", "region", "workDir", "dataBuckets")
ALIASES = {"work_dir": "workDir", "data_buckets": "dataBuckets"}


def headline(report: dict[str, Any]) -> tuple[str, str]:
    """(tone, text) of the check's outcome, as ``batchforge policy check`` words it."""
    if not report["usable"]:
        return "bad", "Unreadable: the policy could not be parsed."
    missing = report["summary"]["requiredMissing"]
    if missing:
        return "bad", f"Failed: {missing} required permission{'s' if missing != 1 else ''} missing."
    if not report["valid"]:
        return "bad", "Failed: the policy has errors IAM would reject."
    return "ok", "Passed: every required permission is allowed."


def _page(
    request: Request, form: FormState, report: dict[str, Any] | None, status: int = 200
) -> Response:
    missing = [p for p in (report or {}).get("permissions", []) if p["decision"] != "ALLOWED"]
    return render.page(
        request,
        "policy.html",
        status=status,
        title="Policy check",
        section="policy",
        form=form,
        features=FEATURES,
        modes=MODES,
        report=report,
        verdict=headline(report) if report else None,
        missing=missing,
    )


@router.get("")
def policy_form(request: Request, viewer: CurrentViewer) -> Response:
    return _page(request, FormState(values={"mode": "forge", "features": []}), None)


@router.post("")
def check(request: Request, viewer: CurrentViewer, form: CheckedForm) -> Response:
    state = FormState.from_form(form, multi=("features",))
    if not state.raw("policy").strip():
        state.errors["policy"] = "Paste a policy document (JSON)."
        return _page(request, state, None, 400)
    try:
        body = CheckPolicyRequest(
            policy=state.raw("policy"),
            features=state.many("features"),
            mode=state.optional("mode"),
            account=state.optional("account"),
            region=state.optional("region"),
            workDir=state.optional("workDir"),
            dataBuckets=state.words("dataBuckets"),
        )
        report = policies.check(body)
    except ValidationError as problem:
        fail_validation(state, problem, FIELDS, ALIASES)
        return _page(request, state, None, 400)
    except BatchforgeError as problem:
        state.fail(problem, FIELDS, ALIASES)
        return _page(request, state, None, problem.status)
    return _page(request, state, report)
