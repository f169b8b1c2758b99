"""Who may do what in a workspace: the one place that decides (Seqera's role matrix as data).

The matrix is ``/work/shared/reference/seqera-workspace-roles.md`` (Seqera's documented
workspace roles), row by row: a permission (``compute_environment:read`` …) → the roles that
hold it.  :func:`allowed` reads it; :func:`require` applies it to a caller
(:class:`~batchforge.services.context.Principal`, whose ``roles`` are the effective workspace
roles); :func:`needs` is the FastAPI dependency every API route declares (the web UI's is
``batchforge.web.core.viewer_needs``).

A workspace the caller is not in answers 404 — the same answer as a workspace that does not
exist — so neither its existence nor its resources leak; a member whose role lacks the
permission gets 403 naming the permission.

Shared workspaces (Seqera's ``visibility: SHARED``): an organization's owners and members —
not its collaborators — may, from a workspace of that organization they act in, list the
pipelines of its other SHARED workspaces and read their launch (:data:`SHARED_PERMISSIONS`),
so as to launch them *in their own workspace*, with its compute environments and its
``workflow:execute`` (:func:`shared_sources`, :func:`require_source`, :func:`needs_source`).
Nothing else of a shared workspace is theirs: changing or deleting its pipelines, its runs,
compute environments, credentials and the rest stay its participants' (404 to others).
Beyond batchforge: Seqera also lends the shared workspace's compute environment to such a
launch; batchforge never runs in one workspace with another workspace's credentials, so the
launch read from another workspace carries no compute environment or work directory
(``services/pipelines.py``).  Background work (trackers, the forge, the trace
receiver's run tokens) does not pass through here.
"""

from collections.abc import Callable, Iterable, Mapping
from enum import StrEnum
from typing import Annotated

from fastapi import Query

from batchforge.errors import Forbidden, NotFound
from batchforge.services.context import Principal

ROLES: tuple[str, ...] = ("owner", "admin", "maintain", "launch", "connect", "view")
"""Workspace participant roles, highest first (the matrix's column order)."""


class Permission(StrEnum):
    """Seqera's workspace permissions, named exactly as its documentation's table."""

    ACTION_READ = "action:read"
    ACTION_EXECUTE = "action:execute"
    ACTION_WRITE = "action:write"
    ACTION_DELETE = "action:delete"
    ACTION_LABEL_WRITE = "action_label:write"
    COMPUTE_ENVIRONMENT_READ = "compute_environment:read"
    COMPUTE_ENVIRONMENT_WRITE = "compute_environment:write"
    COMPUTE_ENVIRONMENT_DELETE = "compute_environment:delete"
    CONTAINER_READ = "container:read"
    CREDENTIALS_READ = "credentials:read"
    CREDENTIALS_WRITE = "credentials:write"
    CREDENTIALS_DELETE = "credentials:delete"
    CREDENTIALS_ENCRYPTED_READ = "credentials_encrypted:read"
    DATA_LINK_READ = "data_link:read"
    DATA_LINK_WRITE = "data_link:write"
    DATA_LINK_DELETE = "data_link:delete"
    DATA_LINK_ADMIN = "data_link:admin"
    DATA_LINK_OBJECT_READ = "data_link_object:read"
    DATA_LINK_OBJECT_WRITE = "data_link_object:write"
    DATA_LINK_OBJECT_DELETE = "data_link_object:delete"
    DATASET_READ = "dataset:read"
    DATASET_WRITE = "dataset:write"
    DATASET_DELETE = "dataset:delete"
    DATASET_ADMIN = "dataset:admin"
    DATASET_LABEL_WRITE = "dataset_label:write"
    LABEL_READ = "label:read"
    LABEL_WRITE = "label:write"
    LABEL_DELETE = "label:delete"
    LAUNCH_READ = "launch:read"
    LINEAGE_READ = "lineage:read"
    PIPELINE_READ = "pipeline:read"
    PIPELINE_WRITE = "pipeline:write"
    PIPELINE_DELETE = "pipeline:delete"
    PIPELINE_LABEL_WRITE = "pipeline_label:write"
    PIPELINE_SECRETS_READ = "pipeline_secrets:read"
    PIPELINE_SECRETS_WRITE = "pipeline_secrets:write"
    PIPELINE_SECRETS_DELETE = "pipeline_secrets:delete"
    PLATFORM_READ = "platform:read"
    STUDIO_READ = "studio:read"
    STUDIO_EXECUTE = "studio:execute"
    STUDIO_WRITE = "studio:write"
    STUDIO_DELETE = "studio:delete"
    STUDIO_ADMIN = "studio:admin"
    STUDIO_LABEL_WRITE = "studio_label:write"
    STUDIO_SESSION_READ = "studio_session:read"
    STUDIO_SESSION_EXECUTE = "studio_session:execute"
    WORKFLOW_READ = "workflow:read"
    WORKFLOW_EXECUTE = "workflow:execute"
    WORKFLOW_WRITE = "workflow:write"
    WORKFLOW_DELETE = "workflow:delete"
    WORKFLOW_LABEL_WRITE = "workflow_label:write"
    WORKFLOW_QUICK_EXECUTE = "workflow_quick:execute"
    WORKFLOW_STAR_READ = "workflow_star:read"
    WORKFLOW_STAR_WRITE = "workflow_star:write"
    WORKFLOW_STAR_DELETE = "workflow_star:delete"
    WORKSPACE_READ = "workspace:read"
    WORKSPACE_WRITE = "workspace:write"
    WORKSPACE_DELETE = "workspace:delete"
    WORKSPACE_ADMIN = "workspace:admin"
    WORKSPACE_LINEAGE_READ = "workspace_lineage:read"
    WORKSPACE_LINEAGE_WRITE = "workspace_lineage:write"
    WORKSPACE_SELF_DELETE = "workspace_self:delete"
    WORKSPACE_STUDIO_READ = "workspace_studio:read"
    WORKSPACE_STUDIO_WRITE = "workspace_studio:write"


# The table, one row per permission, one letter per role in ROLES order:
# owner admin maintain launch connect view ("Y" holds it, "-" does not).
_TABLE = """
action:read                 YYYY--
action:execute              YYYY--
action:write                YYY---
action:delete               YYY---
action_label:write          YY----
compute_environment:read    YYYYYY
compute_environment:write   YY----
compute_environment:delete  YY----
container:read              YYYYYY
credentials:read            YYYYYY
credentials:write           YY----
credentials:delete          YY----
credentials_encrypted:read  YYYY--
data_link:read              YYYYYY
data_link:write             YYY---
data_link:delete            YYY---
data_link:admin             YYY---
data_link_object:read       YYYYYY
data_link_object:write      YYY---
data_link_object:delete     YYY---
dataset:read                YYYYYY
dataset:write               YYYY--
dataset:delete              YYY---
dataset:admin               YYY---
dataset_label:write         YYY---
label:read                  YYYYYY
label:write                 YYY---
label:delete                YYY---
launch:read                 YYYY--
lineage:read                YYYYYY
pipeline:read               YYYYYY
pipeline:write              YYY---
pipeline:delete             YYY---
pipeline_label:write        YY----
pipeline_secrets:read       YYYYYY
pipeline_secrets:write      YYY---
pipeline_secrets:delete     YYY---
platform:read               YYYYYY
studio:read                 YYYYYY
studio:execute              YYY---
studio:write                YYY---
studio:delete               YYY---
studio:admin                YY----
studio_label:write          YYY---
studio_session:read         YYYYY-
studio_session:execute      YYYYY-
workflow:read               YYYYYY
workflow:execute            YYYY--
workflow:write              YYYY--
workflow:delete             YYYY--
workflow_label:write        YYY---
workflow_quick:execute      YYY---
workflow_star:read          YYYYYY
workflow_star:write         YYYYYY
workflow_star:delete        YYYYYY
workspace:read              YYYYYY
workspace:write             YY----
workspace:delete            Y-----
workspace:admin             Y-----
workspace_lineage:read      YYYY--
workspace_lineage:write     YY----
workspace_self:delete       YYYYYY
workspace_studio:read       YYYY--
workspace_studio:write      YY----
"""


def _parse(table: str) -> dict[Permission, frozenset[str]]:
    matrix: dict[Permission, frozenset[str]] = {}
    for line in table.strip().splitlines():
        name, marks = line.split()
        assert len(marks) == len(ROLES), line
        matrix[Permission(name)] = frozenset(
            role for role, mark in zip(ROLES, marks, strict=True) if mark == "Y"
        )
    assert set(matrix) == set(Permission), "every permission has a row"
    return matrix


MATRIX: dict[Permission, frozenset[str]] = _parse(_TABLE)
"""Permission → the workspace roles that hold it."""


def permission(name: Permission | str) -> Permission:
    """``name`` as a :class:`Permission`; :class:`ValueError` for a name not in the matrix."""
    try:
        return Permission(name)
    except ValueError:
        raise ValueError(f"unknown permission {name!r}") from None


def allowed(role: str, permission_name: Permission | str) -> bool:
    """Does a predefined workspace ``role`` hold ``permission_name``?  (Any other role name
    holds nothing here: a custom role's permissions are :func:`role_permissions`'.)"""
    return role in MATRIX[permission(permission_name)]


PREDEFINED_DESCRIPTIONS: dict[str, str] = {
    "owner": "Full permissions on every resource of the workspace, including deleting it.",
    "admin": "Full permissions on the workspace's resources and participants.",
    "maintain": "Uses and manages all resources, but cannot create credentials or compute "
    "environments.",
    "launch": "Uses existing resources and launches pipelines; modifies nothing.",
    "connect": "Reads the workspace and connects to Studios sessions.",
    "view": "Reads the workspace's resources only.",
}
"""The six predefined roles, as ``GET /roles`` describes them."""

ALL_PERMISSIONS: frozenset[Permission] = frozenset(Permission)


def predefined_permissions(role: str) -> frozenset[Permission]:
    """The permissions of a predefined ``role`` (the matrix's column); empty for any other."""
    return frozenset(wanted for wanted, roles in MATRIX.items() if role in roles)


def known_permissions(names: Iterable[str]) -> frozenset[Permission]:
    """The names of ``names`` that are permissions (a stored name this version does not know
    grants nothing)."""
    return frozenset(Permission(name) for name in names if name in _NAMES)


_NAMES = frozenset(str(wanted) for wanted in Permission)


def role_permissions(
    roles: Iterable[str], custom: Mapping[str, frozenset[Permission]]
) -> frozenset[Permission]:
    """The union of the permissions of ``roles``: a predefined role's from the matrix, a
    custom one's from ``custom`` (name → permissions); an unknown name adds nothing."""
    held: set[Permission] = set()
    for role in roles:
        held |= predefined_permissions(role) if role in ROLES else custom.get(role, frozenset())
    return frozenset(held)


def holds(principal: Principal, workspace_id: int, permission_name: Permission | str) -> bool:
    """Does ``principal`` hold ``permission_name`` in ``workspace_id``?  From its resolved
    ``permissions`` (custom roles included); a principal built without them (a run token)
    falls back to its predefined role."""
    wanted = permission(permission_name)
    granted = principal.permissions.get(workspace_id)
    if granted is not None:
        return wanted in granted
    role = principal.roles.get(workspace_id)
    return role is not None and allowed(role, wanted)


def require(principal: Principal, workspace_id: int, permission_name: Permission | str) -> None:
    """Let ``principal`` act in ``workspace_id`` with ``permission_name``, or raise.

    :class:`NotFound` when the caller is not in the workspace (a workspace that does not exist
    answers the same); :class:`Forbidden` when its role lacks the permission.
    """
    wanted = permission(permission_name)
    role = principal.roles.get(workspace_id)
    if role is None:
        raise NotFound(
            f"Workspace {workspace_id} not found.",
            field="workspaceId",
            hint="Use a workspace you are a participant of (GET /user-info lists the default).",
        )
    if not holds(principal, workspace_id, wanted):
        raise Forbidden(
            f"Your role '{role}' in workspace {workspace_id} does not allow '{wanted}'.",
            hint="Ask an owner or admin of the workspace for a role that allows it.",
        )


def acting_workspace(principal: Principal, workspace_id: int | None) -> int:
    """The workspace a request acts in: the given one, or the caller's default one."""
    if workspace_id is not None:
        return workspace_id
    if principal.default_workspace_id is None:
        raise Forbidden(
            "You are not a participant of any workspace.",
            hint="Ask an organization owner to add you to a workspace.",
        )
    return principal.default_workspace_id


SHARED_PERMISSIONS: frozenset[Permission] = frozenset(
    {Permission.PIPELINE_READ, Permission.LAUNCH_READ}
)
"""What an organization member holds on the pipelines of the organization's SHARED
workspaces it does not participate in, from a workspace of the organization it acts in."""


def shared_sources(principal: Principal, workspace_id: int) -> list[int]:
    """The SHARED workspaces whose pipelines the caller, acting in ``workspace_id``, may list
    and launch: those of the same organization, other than ``workspace_id`` (none for a
    collaborator: ``principal.shared`` holds only its member organizations' ones)."""
    org_id = principal.workspace_orgs.get(workspace_id)
    if org_id is None:
        return []
    return sorted(
        shared
        for shared in principal.shared
        if shared != workspace_id and principal.workspace_orgs.get(shared) == org_id
    )


def require_source(
    principal: Principal,
    workspace_id: int,
    source_workspace_id: int | None,
    permission_name: Permission | str,
) -> int | None:
    """Seqera's ``sourceWorkspaceId``: the workspace a shared pipeline is read from, for a
    caller acting in ``workspace_id`` (already authorised there).  None when it is absent or
    ``workspace_id`` itself; the source when :func:`shared_sources` has it and the permission
    is one of :data:`SHARED_PERMISSIONS`; otherwise :class:`NotFound` (a private workspace's
    pipelines do not exist for a non-participant) or :class:`Forbidden` (a shared pipeline
    may be read and launched from elsewhere, never changed)."""
    if source_workspace_id is None or source_workspace_id == workspace_id:
        return None
    wanted = permission(permission_name)
    if source_workspace_id not in shared_sources(principal, workspace_id):
        raise NotFound(
            f"Workspace {source_workspace_id} not found.",
            field="sourceWorkspaceId",
            hint="Give a SHARED workspace of the organization of the workspace you act in.",
        )
    if wanted not in SHARED_PERMISSIONS:
        raise Forbidden(
            f"Pipelines of shared workspace {source_workspace_id} may be read and launched "
            f"from workspace {workspace_id}, not '{wanted}'.",
            field="sourceWorkspaceId",
            hint="Ask a participant of the shared workspace to change it.",
        )
    return source_workspace_id


WorkspaceQuery = Annotated[int | None, Query(description="Workspace numeric identifier")]
SourceQuery = Annotated[
    int | None, Query(description="The SHARED workspace a pipeline is read from")
]


def needs(permission_name: Permission | str) -> Callable[..., int]:
    """The FastAPI dependency of a route that needs ``permission_name`` in its workspace.

    It authenticates the caller (a personal token; run tokens are refused), takes the
    workspace from ``?workspaceId`` (or the caller's default one), applies :func:`require`
    and returns the workspace id.  Use it as
    ``workspace_id: Annotated[int, Depends(needs(Permission.PIPELINE_READ))]``.
    An unknown permission name fails at import time, not at request time.  (This module
    evaluates annotations eagerly — no ``from __future__ import annotations`` — so FastAPI
    sees the real types of the dependency defined here.)
    """
    from fastapi import Depends

    from batchforge.server.deps import get_principal

    wanted = permission(permission_name)

    def authorised_workspace(
        principal: Annotated[Principal, Depends(get_principal)],
        workspaceId: WorkspaceQuery = None,
    ) -> int:
        workspace_id = acting_workspace(principal, workspaceId)
        require(principal, workspace_id, wanted)
        return workspace_id

    authorised_workspace.permission = wanted  # type: ignore[attr-defined]
    authorised_workspace.__name__ = f"needs_{wanted.replace(':', '_')}"
    return authorised_workspace


def needs_source(permission_name: Permission | str) -> Callable[..., int | None]:
    """The FastAPI dependency of a route that may act on a shared pipeline
    (``?sourceWorkspaceId``): :func:`require_source` for the acting workspace; returns the
    source workspace id, or None.  The route still declares :func:`needs` for the workspace
    it acts in (its one declared ``permission``); this one's is ``source_permission``."""
    from fastapi import Depends

    from batchforge.server.deps import get_principal

    wanted = permission(permission_name)

    def source_workspace(
        principal: Annotated[Principal, Depends(get_principal)],
        workspaceId: WorkspaceQuery = None,
        sourceWorkspaceId: SourceQuery = None,
    ) -> int | None:
        workspace_id = acting_workspace(principal, workspaceId)
        return require_source(principal, workspace_id, sourceWorkspaceId, wanted)

    source_workspace.source_permission = wanted  # type: ignore[attr-defined]
    source_workspace.__name__ = f"source_{wanted.replace(':', '_')}"
    return source_workspace
