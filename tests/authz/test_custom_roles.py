"""Custom roles, as Seqera's ``/roles`` (real HTTP, SQLite and PostgreSQL).

Org ``cr-…`` with workspace ``ws``: Olga owns the organization (she manages its roles);
Max is an organization member and an ``admin`` participant of ``ws``; Rita participates
with the custom role ``pipeline-reader`` (``pipeline:read`` and ``launch:read`` only).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from batchforge.db import models
from batchforge.services import accounts
from batchforge.services.authz import ROLES, Permission, predefined_permissions
from batchforge.services.context import AppContext
from tests.authz.conftest import TIMEOUT, Caller, new_caller

READER: dict[str, Any] = {
    "name": "pipeline-reader",
    "description": "Reads pipelines",
    "permissions": ["pipeline:read", "launch:read"],
}


@dataclass
class Org:
    org_id: int
    ws: int
    olga: Caller
    max: Caller

    def roles(self, caller: Caller | None = None, **params: Any) -> httpx.Response:
        return (caller or self.olga).request(
            "GET", "/roles", workspace=False, params={"orgId": self.org_id, **params}
        )

    def call(
        self, method: str, path: str, caller: Caller | None = None, **kwargs: Any
    ) -> httpx.Response:
        params = {"orgId": self.org_id, **kwargs.pop("params", {})}
        return (caller or self.olga).request(method, path, workspace=False, params=params, **kwargs)


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json() if response.content else None


def _error(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    if field is not None:
        assert body.get("field") == field, body
    return body


@pytest.fixture
def org(app_ctx: AppContext, server: str, http: httpx.Client) -> Iterator[Org]:
    name = f"cr-{uuid.uuid4().hex[:6]}"
    ws = accounts.create_workspace(app_ctx, name, "ws", None)
    olga = new_caller(app_ctx, http, ws, "owner", "olga")
    max_ = new_caller(app_ctx, http, ws, "admin", "max")
    with app_ctx.db.transaction() as session:
        org_id = session.get(models.Workspace, ws).org_id  # type: ignore[union-attr]
        member = session.scalars(
            select(models.OrgMember).where(
                models.OrgMember.org_id == org_id, models.OrgMember.user_id == olga.user_id
            )
        ).one()
        member.role = "owner"
    yield Org(org_id, ws, olga, max_)


def _participant(org: Org, user_prefix: str = "rita") -> int:
    """The participant id of the member whose user name starts with ``user_prefix``."""
    listed = _ok(
        org.olga.request(
            "GET", f"/orgs/{org.org_id}/workspaces/{org.ws}/participants", workspace=False
        )
    )["participants"]
    user = next(p for p in listed if (p.get("userName") or "").startswith(user_prefix))
    return int(user["participantId"])


def _rita(app_ctx: AppContext, org: Org, role: str = "pipeline-reader") -> Caller:
    """Rita joins ``ws`` (as launch) and is given ``role`` through the API by Olga."""
    rita = new_caller(app_ctx, org.olga.http, org.ws, "launch", "rita")
    path = f"/orgs/{org.org_id}/workspaces/{org.ws}/participants/{_participant(org)}/role"
    _ok(org.olga.request("PUT", path, workspace=False, json={"role": role}), 204)
    return rita


def test_create_list_describe_validate_update_delete(org: Org) -> None:
    created = _ok(org.call("POST", "/roles", json=READER), 201)
    assert created == READER
    listed = _ok(org.roles())
    assert listed["totalSize"] == 7
    names = [(r["name"], r["isPredefined"]) for r in listed["roles"]]
    assert names == [(role, True) for role in ROLES] + [("pipeline-reader", False)]
    assert all(r["description"] for r in listed["roles"])
    assert [r["name"] for r in _ok(org.roles(type="custom"))["roles"]] == ["pipeline-reader"]
    assert len(_ok(org.roles(type="predefined"))["roles"]) == 6
    assert [r["name"] for r in _ok(org.roles(name="READER"))["roles"]] == ["pipeline-reader"]
    page = _ok(org.roles(max=2, offset=5))
    assert [r["name"] for r in page["roles"]] == ["view", "pipeline-reader"]
    assert page["totalSize"] == 7
    _error(org.roles(type="other"), 400, "type")

    role = _ok(org.call("GET", "/roles/pipeline-reader"))["role"]
    assert role == {**READER, "isPredefined": False}
    view = _ok(org.call("GET", "/roles/view"))["role"]
    assert view["isPredefined"] is True
    assert set(view["permissions"]) == {str(p) for p in predefined_permissions("view")}
    assert "launch:read" not in view["permissions"] and "pipeline:read" in view["permissions"]
    _error(org.call("GET", "/roles/nope"), 404)

    permissions = _ok(org.call("GET", "/roles/permissions"))["permissions"]
    assert {p["name"] for p in permissions} == {str(p) for p in Permission}
    assert {"name": "pipeline:read", "category": "pipeline"} in permissions

    _ok(org.call("GET", "/roles/validate", params={"name": "free-name"}), 204)
    _error(org.call("GET", "/roles/validate", params={"name": "Pipeline-Reader"}), 409, "name")
    _error(org.call("GET", "/roles/validate", params={"name": "Owner"}), 400, "name")

    body = {**READER, "description": "Reads and writes pipelines"}
    body["permissions"] = ["pipeline:read", "pipeline:write"]
    _ok(org.call("PUT", "/roles/pipeline-reader", json=body), 204)
    role = _ok(org.call("GET", "/roles/pipeline-reader"))["role"]
    assert role["description"] == "Reads and writes pipelines"
    assert role["permissions"] == ["pipeline:read", "pipeline:write"]
    _ok(org.call("PUT", "/roles/pipeline-reader", json={**body, "name": "pipe-rw"}), 204)
    _error(org.call("GET", "/roles/pipeline-reader"), 404)
    _error(org.call("PUT", "/roles/view", json=body), 400, "roleName")
    _error(org.call("DELETE", "/roles/admin"), 400, "roleName")

    _ok(org.call("DELETE", "/roles/pipe-rw"), 204)
    _error(org.call("DELETE", "/roles/pipe-rw"), 404)
    assert _ok(org.roles(type="custom"))["roles"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "owner", "description": "x"}, "name"),
        ({"name": "VIEW", "description": "x"}, "name"),
        ({"name": "bad name!", "description": "x"}, "name"),
        ({"name": "-dash", "description": "x"}, "name"),
        ({"name": "a" * 41, "description": "x"}, "name"),
        ({"description": "x"}, "name"),
        ({"name": "ok-name", "description": "x", "permissions": ["pipeline:read", "nope"]}, None),
    ],
)
def test_bad_names_and_permissions_are_400_naming_the_field(
    org: Org, body: dict[str, Any], field: str | None
) -> None:
    answer = _error(org.call("POST", "/roles", json=body), 400, field or "permissions[1]")
    assert answer["message"]


def test_duplicate_name_is_409(org: Org) -> None:
    _ok(org.call("POST", "/roles", json=READER), 201)
    _error(org.call("POST", "/roles", json={**READER, "name": "PIPELINE-reader"}), 409, "name")


def test_only_owners_manage_roles(app_ctx: AppContext, org: Org, http: httpx.Client) -> None:
    _error(org.call("POST", "/roles", org.max, json=READER), 403, "orgId")
    _ok(org.call("POST", "/roles", json=READER), 201)
    _error(org.call("PUT", "/roles/pipeline-reader", org.max, json=READER), 403, "orgId")
    _error(org.call("DELETE", "/roles/pipeline-reader", org.max), 403, "orgId")
    _error(org.call("GET", "/roles/validate", org.max, params={"name": "x1"}), 403)
    # A member reads them; a user of another organization does not see this one.
    assert len(_ok(org.roles(org.max))["roles"]) == 7
    stranger = new_caller(app_ctx, http, None, None, "stranger")
    _error(org.roles(stranger), 404, "orgId")
    _error(org.call("POST", "/roles", stranger, json=READER), 404, "orgId")


def test_custom_role_grants_exactly_its_permissions(app_ctx: AppContext, org: Org) -> None:
    _ok(org.call("POST", "/roles", json=READER), 201)
    rita = _rita(app_ctx, org)
    me = _ok(rita.request("GET", f"/user/{rita.user_id}/workspaces", workspace=False))
    entry = next(o for o in me["orgsAndWorkspaces"] if o.get("workspaceId") == org.ws)
    assert entry["roles"] == ["pipeline-reader"]
    _ok(rita.request("GET", "/pipelines"))
    denied = _error(rita.request("POST", "/compute-envs", json={"computeEnv": {}}), 403)
    assert "compute_environment:write" in denied["message"]
    assert "pipeline-reader" in denied["message"]
    _error(rita.request("GET", "/compute-envs"), 403)
    _error(rita.request("POST", "/labels", json={"name": "nope"}), 403)

    # The role loses pipeline:read: from the next request on, Rita cannot list pipelines.
    changed = {**READER, "permissions": ["launch:read"]}
    _ok(org.call("PUT", "/roles/pipeline-reader", json=changed), 204)
    _error(rita.request("GET", "/pipelines"), 403)
    # ... and gets it back just as fast.
    _ok(org.call("PUT", "/roles/pipeline-reader", json=READER), 204)
    _ok(rita.request("GET", "/pipelines"))

    # A role held cannot be deleted: 409 naming where.
    held = _error(org.call("DELETE", "/roles/pipeline-reader"), 409, "roleName")
    assert "workspace 'ws'" in held["message"] and "rita" in held["message"]


def test_team_and_direct_roles_combine_by_union(app_ctx: AppContext, org: Org) -> None:
    """Rita: ``view`` directly, and a team holding ``labeller`` (label:write only): she
    reads as a viewer and writes labels; neither role alone allows both."""
    labeller = {"name": "labeller", "description": "Writes labels", "permissions": ["label:write"]}
    _ok(org.call("POST", "/roles", json=labeller), 201)
    rita = new_caller(app_ctx, org.olga.http, org.ws, "view", "rita")
    _error(rita.request("POST", "/labels", json={"name": "l1"}), 403)
    with app_ctx.db.transaction() as session:
        member_id = accounts.ensure_org_member(session, org.org_id, rita.user_id)
        team = models.Team(org_id=org.org_id, name="labellers", description="")
        session.add(team)
        session.flush()
        session.add(models.TeamMember(team_id=team.id, member_id=member_id))
        session.add(models.WorkspaceParticipant(workspace_id=org.ws, team_id=team.id, role="view"))
        session.flush()
        team_id = team.id
    listed = _ok(
        org.olga.request(
            "GET", f"/orgs/{org.org_id}/workspaces/{org.ws}/participants", workspace=False
        )
    )["participants"]
    team_participant = next(p for p in listed if p.get("teamId") == team_id)["participantId"]
    path = f"/orgs/{org.org_id}/workspaces/{org.ws}/participants/{team_participant}/role"
    _ok(org.olga.request("PUT", path, workspace=False, json={"role": "labeller"}), 204)
    _ok(rita.request("POST", "/labels", json={"name": "l1"}))
    _ok(rita.request("GET", "/pipelines"))
    _ok(rita.request("GET", "/compute-envs"))
    _error(rita.request("POST", "/pipelines", json={"name": "p"}), 403)


def test_participant_roles_checked_and_not_escalated(app_ctx: AppContext, org: Org) -> None:
    new_caller(app_ctx, org.olga.http, org.ws, "launch", "rita")
    path = f"/orgs/{org.org_id}/workspaces/{org.ws}/participants/{_participant(org)}/role"
    _error(org.olga.request("PUT", path, workspace=False, json={"role": "ghost"}), 400, "role")
    # Predefined roles in any case (tw sends what it is given).
    _ok(org.olga.request("PUT", path, workspace=False, json={"role": "MAINTAIN"}), 204)
    # A custom role's name in another case is that role, stored by its name.
    _ok(org.call("POST", "/roles", json=READER), 201)
    _ok(org.olga.request("PUT", path, workspace=False, json={"role": "Pipeline-Reader"}), 204)
    listed = _ok(
        org.olga.request(
            "GET", f"/orgs/{org.org_id}/workspaces/{org.ws}/participants", workspace=False
        )
    )["participants"]
    assert {p["userName"][:4]: p["wspRole"] for p in listed if p.get("userName")}["rita"] == (
        "pipeline-reader"
    )
    # An admin may not give a role holding what only an owner has (workspace:admin).
    mighty = {"name": "mighty", "description": "x", "permissions": ["workspace:admin"]}
    _ok(org.call("POST", "/roles", json=mighty), 201)
    denied = _error(org.max.request("PUT", path, workspace=False, json={"role": "mighty"}), 403)
    assert "workspace:admin" in denied["message"]
    _ok(org.max.request("PUT", path, workspace=False, json={"role": "pipeline-reader"}), 204)


def test_web_ui_offers_custom_roles_and_applies_them(
    app_ctx: AppContext, org: Org, server: str
) -> None:
    """The workspace settings page lists the organization's custom roles in its role
    pickers; a participant with a custom role sees the pages it allows and gets 403 on the
    others."""
    from tests.server.hostile_ui import sign_in

    _ok(org.call("POST", "/roles", json=READER), 201)
    rita = _rita(app_ctx, org)
    with (
        httpx.Client(base_url=server, timeout=TIMEOUT, headers={"Origin": server}) as olga,
        httpx.Client(base_url=server, timeout=TIMEOUT, headers={"Origin": server}) as ritas,
    ):
        sign_in(olga, org.olga.token)
        page = olga.get("/ui/workspace", params={"workspaceId": org.ws})
        assert page.status_code == 200, page.text[:300]
        assert '<option value="pipeline-reader" selected>' in page.text
        assert '<option value="pipeline-reader">' in page.text  # the add form's picker
        sign_in(ritas, rita.token)
        assert ritas.get("/ui/pipelines", params={"workspaceId": org.ws}).status_code == 200
        denied = ritas.get("/ui/compute-envs", params={"workspaceId": org.ws})
        assert denied.status_code == 403
        assert "compute_environment:read" in denied.text


def test_web_ui_role_pickers_offer_only_roles_the_viewer_may_give(
    app_ctx: AppContext, org: Org, server: str
) -> None:
    """The pickers follow the rule the API enforces (participants._grantable): Max, an
    ``admin``, is not offered ``owner`` nor a custom role holding ``workspace:admin`` (the
    API answers 403 to both), but is offered ``pipeline-reader``; Olga, the owner, all."""
    from tests.server.hostile_ui import sign_in

    _ok(org.call("POST", "/roles", json=READER), 201)
    mighty = {"name": "mighty", "description": "x", "permissions": ["workspace:admin"]}
    _ok(org.call("POST", "/roles", json=mighty), 201)
    offered: dict[str, set[str]] = {}
    for name, caller in (("olga", org.olga), ("max", org.max)):
        with httpx.Client(base_url=server, timeout=TIMEOUT, headers={"Origin": server}) as ui:
            sign_in(ui, caller.token)
            page = ui.get("/ui/workspace", params={"workspaceId": org.ws})
            assert page.status_code == 200, page.text[:300]
            offered[name] = {
                role
                for role in [*ROLES, "pipeline-reader", "mighty"]
                if f'<option value="{role}"' in page.text
            }
    assert offered["olga"] == {*ROLES, "pipeline-reader", "mighty"}
    assert offered["max"] == {*ROLES, "pipeline-reader"} - {"owner"}
